"""Money: recording a payment or a refund, voiding a mistaken ledger entry (finance)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from orders import services
from orders.models import Order
from staff import forms as staff_forms
from staff.templatetags.staff_tags import format_money
from staff.views._base import detail_url, order_for_staff
from staff.views.actions._base import OrderActionView


class OrderPaymentView(OrderActionView):
    """Record money received (finance)."""

    action = "payment"
    form_class = staff_forms.PaymentForm
    keep_input = True

    def perform(self, order, data):
        payment = services.record_payment(
            self.request.user,
            order,
            amount=data["amount"],
            method=data["method"],
            reference=data["reference"],
            received_on=data["received_on"],
            note=data["note"],
            as_credit=data["as_credit"],
        )
        return _(
            "Payment of %(amount)s recorded for order %(number)s. Payment status: %(status)s."
        ) % {
            "amount": format_money(payment.amount),
            "number": order.number,
            "status": payment.order.get_payment_status_display(),
        }


class OrderRefundView(OrderActionView):
    """Record money paid back to the member (finance)."""

    action = "refund"
    form_class = staff_forms.RefundForm
    keep_input = True

    def perform(self, order, data):
        refund = services.record_refund(
            self.request.user,
            order,
            amount=data["amount"],
            reference=data["reference"],
            note=data["note"],
            credit_note=data["kind"] == "credit_note",
        )
        return _(
            "Refund of %(amount)s recorded for order %(number)s. Payment status: %(status)s."
        ) % {
            "amount": format_money(refund.amount),
            "number": order.number,
            "status": refund.order.get_payment_status_display(),
        }


class PaymentVoidView(OrderActionView):
    """Void one mistaken ledger entry with a reason (finance), after a confirmation page.

    GET ``?payment=<id>`` shows the entry and the reason field.
    """

    action = "void"
    form_class = staff_forms.VoidForm
    confirm_template = "staff/payment_void.html"
    http_method_names = ["get", "post"]

    def confirm_context(self, order, form):
        context = super().confirm_context(order, form)
        cleaned = getattr(form, "cleaned_data", None) or {}
        context["entry"] = cleaned.get("payment") or getattr(self, "entry", None)
        return context

    def get(self, request, number):
        order = order_for_staff(request, number)
        raw = request.GET.get("payment", "")
        entry = (
            order.payments.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 18 else None
        )
        if entry is None:
            messages.error(request, _("Choose a ledger entry of this order to void."))
            return redirect(detail_url(order))
        if entry.is_voided:
            messages.error(request, _("This entry is already voided."))
            return redirect(detail_url(order))
        self.entry = entry
        return super().get(request, number)

    def get_form(self, order, data=None, **kwargs):
        entry = getattr(self, "entry", None)
        if entry is not None and data is None:
            kwargs.setdefault("initial", {"payment": entry.pk})
        return super().get_form(order, data, **kwargs)

    def perform(self, order, data):
        payment = services.void_payment(self.request.user, data["payment"], reason=data["reason"])
        return _("Entry %(reference)s (%(amount)s) voided. Payment status: %(status)s.") % {
            "reference": payment.reference,
            "amount": format_money(payment.amount),
            "status": Order.objects.get(pk=order.pk).get_payment_status_display(),
        }
