"""Cancelling an order."""

from django.utils.translation import gettext as _

from orders import services
from staff import forms as staff_forms
from staff.views.actions._base import OrderActionView


class OrderCancelView(OrderActionView):
    """Cancel an order (reason required), after a confirmation page."""

    action = "cancel"
    form_class = staff_forms.CancelForm
    confirm_template = "staff/order_cancel.html"
    http_method_names = ["get", "post"]

    def perform(self, order, data):
        services.cancel_order(self.request.user, order, reason=data["reason"])
        return _("Order %(number)s is cancelled.") % {"number": order.number}
