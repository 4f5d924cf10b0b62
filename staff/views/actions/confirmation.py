"""Confirming a submitted order after the call, marking it invalid, logging a call."""

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

from orders import services
from staff import calling
from staff import forms as staff_forms
from staff.views.actions._base import OrderActionView


class OrderConfirmView(OrderActionView):
    """Confirm a submitted order after the call; refused if the order changed meanwhile.
    A refusal of what was typed (the "reached afterwards" tick missing) keeps the call
    note as typed."""

    action = "confirm"
    form_class = staff_forms.ConfirmForm
    keep_input = True

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
        calling.release(order)
        return _("Order %(number)s is marked invalid and its items are back in stock.") % {
            "number": order.number
        }


class OrderCallingView(OrderActionView):
    """ "I am calling the member now": shows the other admins "being called by <name>"
    for ``calling.HOLD`` or until a call is logged (soft: it locks nothing)."""

    action = "call"
    form_class = staff_forms.CallingForm

    def perform(self, order, data):
        # The notice is about the confirmation call: only while the order may be confirmed.
        services.ACTION_CHECKS["confirm"](self.request.user, order)  # raises OrderError
        notice = calling.claim(order, self.request.user)
        if notice["user_id"] != self.request.user.pk:
            return _("%(name)s started calling this member at %(since)s; you may still call.") % {
                "name": notice["name"],
                "since": date_format(timezone.localtime(notice["since"]), "H:i"),
            }
        return _(
            "The other admins now see that you are calling this member "
            "(for %(minutes)d minutes or until you log the call)."
        ) % {"minutes": int(calling.HOLD.total_seconds() // 60)}

    def return_url(self, order, form):
        return super().return_url(order, form) + "#call-desk"


class OrderCallView(OrderActionView):
    """Log a call attempt to the member (does not change the order). A call-back time
    the service refuses (past, beyond 14 days) shows the form again as typed."""

    action = "call"
    form_class = staff_forms.CallForm
    keep_input = True

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
