"""After shipping: a failed delivery attempt, the delivery (with the courier's cash) and
a parcel back at the shop (DESIGN status table: ``record_delivery_attempt``,
``record_delivery``, ``record_return``)."""

from django.utils import formats
from django.utils.translation import gettext as _

from orders import services
from orders.models import DeliveryOutcome
from staff import forms as staff_forms
from staff.templatetags.staff_tags import format_money
from staff.views.actions._base import OrderActionView


class OrderAttemptView(OrderActionView):
    """Record a failed delivery attempt (order admin, or the courier of the order)."""

    action = "attempt"
    form_class = staff_forms.DeliveryAttemptForm

    def perform(self, order, data):
        event = services.record_delivery_attempt(
            self.request.user,
            order,
            outcome=data["outcome"],
            note=data["note"],
            next_attempt_on=data["next_attempt_on"],
        )
        values = {
            "number": order.number,
            "n": event.data.get("attempt"),
            "outcome": dict(DeliveryOutcome.choices).get(data["outcome"], data["outcome"]),
        }
        if data["next_attempt_on"]:
            values["day"] = formats.date_format(data["next_attempt_on"], "Y-m-d")
            return (
                _(
                    "Attempt %(n)s on order %(number)s recorded: %(outcome)s. "
                    "Next attempt on %(day)s."
                )
                % values
            )
        return _("Attempt %(n)s on order %(number)s recorded: %(outcome)s.") % values


class OrderDeliverView(OrderActionView):
    """Record the parcel as received by the member, with the cash the courier took."""

    action = "deliver"
    form_class = staff_forms.DeliverForm

    def perform(self, order, data):
        collected = data.get("collected_amount")
        services.record_delivery(
            self.request.user,
            order,
            collected_amount=collected,
            received_by=data["received_by"],
            note=data["note"],
        )
        if collected is not None:
            return _("Order %(number)s is delivered; the courier took %(amount)s in cash.") % {
                "number": order.number,
                "amount": format_money(collected),
            }
        return _("Order %(number)s is delivered.") % {"number": order.number}


class OrderReturnView(OrderActionView):
    """Record a parcel back at the shop (order admin), after a confirmation page: a
    reason, and which units go back to stock (all, none, or a number per item)."""

    action = "return"
    form_class = staff_forms.ReturnForm
    confirm_template = "staff/order_return.html"
    http_method_names = ["get", "post"]

    def confirm_context(self, order, form):
        context = super().confirm_context(order, form)
        context["position"] = order.money_position()
        return context

    def perform(self, order, data):
        order = services.record_return(
            self.request.user, order, reason=data["reason"], restock=data["restock"]
        )
        credit = order.money_position().credit
        if credit:
            return _(
                "Order %(number)s is back at the shop. %(credit)s is to be paid back to the "
                "member (listed under “Refund due”)."
            ) % {"number": order.number, "credit": format_money(credit)}
        return _("Order %(number)s is back at the shop.") % {"number": order.number}
