"""Confirming a submitted order after the call, marking it invalid, logging a call."""

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

from orders import services
from staff import calling
from staff import forms as staff_forms
from staff.views.actions._base import OrderActionView


class OrderConfirmView(OrderActionView):
    """Confirm a submitted order after the call; refused if the order changed meanwhile."""

    action = "confirm"
    form_class = staff_forms.ConfirmForm

    def perform(self, order, data):
        services.confirm_order(
            self.request.user,
            order,
            expected_version=data["version"],
            call_note=data["call_note"],
            reached_after_failed=data.get("reached_after_failed", False),
        )
        calling.release(order)
        return _("Order %(number)s is confirmed. Next: allocate it to a delivery person.") % {
            "number": order.number
        }


class OrderInvalidateView(OrderActionView):
    """Mark a submitted order invalid (reason required), after a confirmation page."""

    action = "invalidate"
    form_class = staff_forms.InvalidateForm
    confirm_template = "staff/order_invalidate.html"
    http_method_names = ["get", "post"]

    def get_form(self, order, data=None, **kwargs):
        if data is None:
            # The order page's "mark it invalid" suggestion pre-fills the reason.
            reason = self.request.GET.get("reason", "")[: staff_forms.TEXT_MAX]
            kwargs.setdefault("initial", {"reason": reason.replace("\x00", "")})
        return super().get_form(order, data, **kwargs)

    def perform(self, order, data):
        services.invalidate_order(self.request.user, order, reason=data["reason"])
        return _("Order %(number)s is marked invalid and its items are back in stock.") % {
            "number": order.number
        }


class OrderCallView(OrderActionView):
    """Log a call attempt to the member (does not change the order)."""

    action = "call"
    form_class = staff_forms.CallForm

    def perform(self, order, data):
        services.log_call(
            self.request.user,
            order,
            outcome=data["outcome"],
            note=data["note"],
            call_back_at=data.get("call_back_at"),
        )
        calling.release(order)
        outcome = dict(services.CallOutcome.choices()).get(data["outcome"], "")
        if data.get("call_back_at"):
            return _("Call logged: %(outcome)s. Call back %(when)s.") % {
                "outcome": outcome,
                "when": date_format(timezone.localtime(data["call_back_at"]), "Y-m-d H:i"),
            }
        return _("Call logged: %(outcome)s.") % {"outcome": outcome}
