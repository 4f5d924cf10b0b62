"""The ledger: payments, refunds and voided entries.

DESIGN: ``Order.payment_status`` transitions.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mall.templatetags.shop import money
from orders import locks
from orders.exceptions import (
    DuplicateReference,
    InvalidInput,
    TransitionNotAllowed,
)
from orders.models import (
    OrderEvent,
    Payment,
    PaymentStatus,
)
from orders.services import _bookkeeping as bookkeeping
from orders.services import _guards as guards
from orders.services import _inputs as inputs


def apply_ledger(order, method, payment):
    """Recompute the payment status from the entries in force via transition ``method``."""
    _paid, refunded, net = order.money_summary()
    new_status = order.payment_status_for(net, refunded > 0)
    was_paid = order.payment_status == PaymentStatus.PAID
    method(new_status=new_status, payment=payment)
    fields = ["payment_status"]
    if order.payment_status == PaymentStatus.PAID and not was_paid:
        order.paid_at = timezone.now()
        fields.append("paid_at")
    elif order.payment_status != PaymentStatus.PAID and order.paid_at:
        order.paid_at = None
        fields.append("paid_at")
    return fields, net


def payment_data(payment, net):
    return {
        "payment_id": payment.pk,
        "kind": payment.kind,
        "amount": str(payment.amount),
        "method": payment.method,
        "reference": payment.reference,
        "received_on": payment.received_on.isoformat(),
        "net_received": str(net),
    }


def create_entry(order, reference, **fields):
    # "RC-1" and "rc-1" are one bank or receipt number: compared without case.
    if order.payments.filter(reference__iexact=reference, voided_at__isnull=True).exists():
        raise DuplicateReference(
            _("Reference %(ref)s is already recorded for this order: it would be counted twice.")
            % {"ref": reference}
        )
    try:
        with transaction.atomic():
            return Payment.objects.create(order=order, reference=reference, **fields)
    except IntegrityError:
        raise DuplicateReference() from None


def check_record_payment(actor, order):
    """Raise unless ``actor`` (finance) may record a payment now (confirmed or later)."""
    guards.require_perm(actor, order.receive_payment)
    if not order.accepts_payments():
        raise TransitionNotAllowed(
            _(
                "Payments are recorded once the order is confirmed, and not on cancelled or "
                "invalid orders."
            )
        )
    guards.require_state(order.receive_payment)


def check_record_refund(actor, order):
    """Raise unless ``actor`` (finance) may record a refund now (money is held)."""
    guards.require_perm(actor, order.refund)
    guards.require_state(
        order.refund, _("No money is held for this order, so there is nothing to refund.")
    )


def check_void(actor, order):
    """Raise unless ``actor`` (finance) may void ledger entries of ``order`` (it has some)."""
    guards.require_perm(actor, order.void_entry)
    if not order.payments.filter(voided_at__isnull=True).exists():
        raise TransitionNotAllowed(_("There are no ledger entries to void."))


def record_payment(actor, order, *, amount, method, reference, received_on, note=""):
    """Record money received for a confirmed, allocated or shipped order (finance).

    ``amount``: ``Decimal`` > 0 (at most two places); ``method``: ``cod`` (cash the
    courier collected), ``bank_transfer`` or ``postal_remittance``; ``reference``: the
    courier receipt, bank or remittance number, unique among the order's entries in force;
    ``received_on``: a ``date``, not in the future. The payment status is recomputed
    (partially paid, paid; more than the total shows as credit due). Raises
    ``NotPermitted``, ``TransitionNotAllowed``, ``DuplicateReference``, ``InvalidInput``.
    Returns the ``Payment``.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_record_payment(actor, order)
        amount = inputs.clean_amount(amount)
        method = inputs.clean_payment_method(method)
        reference = inputs.clean_text(reference, _("The reference"), required=True, max_length=100)
        note = inputs.clean_text(note, _("The note"))
        if not isinstance(received_on, datetime.date) or isinstance(received_on, datetime.datetime):
            raise InvalidInput(_("Enter the date the money was received."))
        if received_on > timezone.localdate():
            raise InvalidInput(_("The date received cannot be in the future."))
        if received_on < timezone.localdate(order.placed_at):
            raise InvalidInput(_("The date received cannot be before the order was placed."))
        before = bookkeeping.state(order)
        payment = create_entry(
            order,
            reference,
            kind=Payment.Kind.PAYMENT,
            amount=amount,
            method=method,
            received_on=received_on,
            note=note,
            recorded_by=actor,
        )
        fields, net = apply_ledger(order, order.receive_payment, payment)
        bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.PAYMENT_RECORDED,
            before=before,
            note=note,
            data=payment_data(payment, net),
            fields=fields,
        )
        if order.payment_status == PaymentStatus.PAID and before[1] != PaymentStatus.PAID:
            bookkeeping.notify(order, "paid")
    return payment


def record_refund(actor, order, *, amount, reference, note=""):
    """Record money paid back to the member (finance); at most the net amount held.

    ``amount``: ``Decimal`` > 0; ``reference``: the refund's transfer or receipt number,
    unique among the order's entries in force. The refund goes back by the order's
    payment method, dated today. Raises ``NotPermitted``, ``TransitionNotAllowed`` (nothing
    held), ``DuplicateReference``, ``InvalidInput``. Returns the ``Payment`` (kind refund).
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_record_refund(actor, order)
        amount = inputs.clean_amount(amount)
        reference = inputs.clean_text(reference, _("The reference"), required=True, max_length=100)
        note = inputs.clean_text(note, _("The note"))
        _paid, _refunded, net = order.money_summary()
        if amount > net:
            raise InvalidInput(
                _("A refund cannot exceed the money held for the order (%(net)s).")
                % {"net": money(net)},
                code="refund_too_large",
            )
        before = bookkeeping.state(order)
        payment = create_entry(
            order,
            reference,
            kind=Payment.Kind.REFUND,
            amount=amount,
            method=order.payment_method,
            received_on=timezone.localdate(),
            note=note,
            recorded_by=actor,
        )
        fields, net = apply_ledger(order, order.refund, payment)
        bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.REFUND_RECORDED,
            before=before,
            note=note,
            data=payment_data(payment, net),
            fields=fields,
        )
    return payment


def void_payment(actor, payment, *, reason):
    """Void a mistaken ledger entry (finance); it stays on the ledger, struck through.

    ``reason`` is required. Refused if the entry is already voided, or if voiding a
    payment would leave more refunded than received (void the refund first). The payment
    status is recomputed. Raises ``NotPermitted``, ``TransitionNotAllowed``,
    ``InvalidInput``. Returns the voided ``Payment``.
    """
    with transaction.atomic():
        order = locks.lock_order(payment.order)
        check_void(actor, order)
        try:
            payment = Payment.objects.select_for_update().get(pk=payment.pk, order=order)
        except Payment.DoesNotExist:
            raise InvalidInput(_("This ledger entry does not exist.")) from None
        if payment.voided_at is not None:
            raise TransitionNotAllowed(_("This entry is already voided."), code="already_voided")
        reason = inputs.clean_text(reason, _("A reason"), required=True)
        _paid, _refunded, net = order.money_summary()
        if payment.kind == Payment.Kind.PAYMENT and net - payment.amount < 0:
            raise TransitionNotAllowed(
                _(
                    "Voiding this payment would leave more refunded than received: "
                    "void the refund first."
                ),
                code="void_refund_first",
            )
        before = bookkeeping.state(order)
        payment.voided_at = timezone.now()
        payment.voided_by = actor
        payment.void_reason = reason
        payment.save(update_fields=["voided_at", "voided_by", "void_reason"])
        fields, net = apply_ledger(order, order.void_entry, payment)
        bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.PAYMENT_VOIDED,
            before=before,
            note=reason,
            data=payment_data(payment, net),
            fields=fields,
        )
    return payment
