"""The ledger: payments, refunds and voided entries.

DESIGN: ``Order.payment_status`` transitions and "Money: one rule". After every entry
the order's ``owed``, ``held`` and payment status are recomputed from the ledger
(``bookkeeping.settle_money``).
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mall.formatting import format_money as money
from orders import locks
from orders.exceptions import (
    DuplicateReference,
    InvalidInput,
    PaymentBeyondDue,
    TransitionNotAllowed,
)
from orders.models import OrderEvent, Payment, PaymentStatus
from orders.services import _bookkeeping as bookkeeping
from orders.services import _guards as guards
from orders.services import _inputs as inputs


def payment_data(payment, order, **extra):
    """The event data of a ledger entry: the entry and the money position after it."""
    position = order.money_position()
    return {
        "payment_id": payment.pk,
        "kind": payment.kind,
        "amount": str(payment.amount),
        "method": payment.method,
        "reference": payment.reference,
        "received_on": payment.received_on.isoformat(),
        "credit_note": payment.credit_note,
        "net_received": str(position.held),
        "owed": str(position.owed),
        "due": str(position.due),
        "credit": str(position.credit),
        **extra,
    }


def check_reference_free(order, reference):
    """Raise ``DuplicateReference`` if ``reference`` is in force on ``order`` already.

    "RC-1" and "rc-1" are one bank or receipt number: compared without case.
    """
    if order.payments.filter(reference__iexact=reference, voided_at__isnull=True).exists():
        raise DuplicateReference(
            _("Reference %(ref)s is already recorded for this order: it would be counted twice.")
            % {"ref": reference}
        )


def create_entry(order, reference, **fields):
    check_reference_free(order, reference)
    try:
        with transaction.atomic():
            return Payment.objects.create(order=order, reference=reference, **fields)
    except IntegrityError:
        raise DuplicateReference() from None


def clean_received_on(order, received_on):
    """Check ``received_on`` is a ``date``, not in the future, not before the order."""
    if not isinstance(received_on, datetime.date) or isinstance(received_on, datetime.datetime):
        raise InvalidInput(_("Enter the date the money was received."))
    if received_on > timezone.localdate():
        raise InvalidInput(_("The date received cannot be in the future."))
    if received_on < timezone.localdate(order.placed_at):
        raise InvalidInput(_("The date received cannot be before the order was placed."))
    return received_on


def check_record_payment(actor, order):
    """Raise unless ``actor`` (finance) may record a payment now (confirmed or later, or
    cancelled / invalid / returned whatever its history: a late transfer still arrives)."""
    guards.require_perm(actor, order.receive_payment)
    if not order.accepts_payments():
        raise TransitionNotAllowed(
            _(
                "Payments are recorded once the order is confirmed: it is still awaiting its "
                "confirmation call."
            )
        )
    guards.require_state(order.receive_payment)


def check_record_refund(actor, order):
    """Raise unless ``actor`` (finance) may record a refund now (money is held)."""
    guards.require_perm(actor, order.refund)
    if order.held <= 0:
        raise TransitionNotAllowed(
            _("No money is held for this order, so there is nothing to refund.")
        )
    guards.require_state(order.refund)


def check_void(actor, order):
    """Raise unless ``actor`` (finance) may void ledger entries of ``order`` (it has some)."""
    guards.require_perm(actor, order.void_entry)
    if not order.payments.filter(voided_at__isnull=True).exists():
        raise TransitionNotAllowed(_("There are no ledger entries to void."))


def book_entry(actor, order, payment, *, before, event, transition, note, data=None):
    """The shared tail of every ledger entry on a locked ``order``: recompute its money
    from the ledger and move its payment status through ``transition`` (an ``Order``
    payment-status transition taking ``new_status`` and ``payment``), then write the
    entry's one ``event`` (an ``OrderEvent.Kind``) with ``payment_data`` plus ``data``.
    ``before``: ``bookkeeping.state(order)`` taken before the entry changed."""
    fields = bookkeeping.settle_money(
        order, lambda new_status: transition(new_status=new_status, payment=payment)
    )
    bookkeeping.record(
        order,
        actor,
        event,
        before=before,
        note=note,
        data=payment_data(payment, order, **(data or {})),
        fields=fields,
    )


def enter_payment(actor, order, *, amount, method, reference, received_on, note="", data=None):
    """Write a payment entry on a locked ``order``, settle its money and its one event.

    The shared tail of ``record_payment``, ``record_remittance`` and the COD settlement:
    the caller has locked the order, checked the permission and cleaned the input.
    Returns the ``Payment``.
    """
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
    book_entry(
        actor,
        order,
        payment,
        before=before,
        event=OrderEvent.Kind.PAYMENT_RECORDED,
        transition=order.receive_payment,
        note=note,
        data=data,
    )
    if order.payment_status == PaymentStatus.PAID and before[1] != PaymentStatus.PAID:
        bookkeeping.notify(order, "paid")
    return payment


def record_payment(
    actor, order, *, amount, method, reference, received_on, note="", as_credit=False
):
    """Record money received for an order (finance).

    ``amount``: ``Decimal`` > 0 (at most two places); ``method``: ``cod`` (cash the
    courier collected), ``bank_transfer`` or ``postal_remittance``; ``reference``: the
    courier receipt, bank or remittance number, unique among the order's entries in force;
    ``received_on``: a ``date``, not in the future nor before the order. Recordable from
    confirmation on, and on cancelled, invalid or returned orders (it becomes credit).
    On a live order an amount beyond ``due`` is refused (``PaymentBeyondDue``) unless
    ``as_credit`` is true: the excess then shows in the "refund due" queue. Raises
    ``NotPermitted``, ``TransitionNotAllowed``, ``DuplicateReference``, ``InvalidInput``.
    Returns the ``Payment``.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_record_payment(actor, order)
        amount = inputs.clean_amount(amount)
        method = inputs.clean_payment_method(method)
        reference = inputs.clean_code(reference, _("The reference"), required=True, max_length=100)
        note = inputs.clean_text(note, _("The note"))
        received_on = clean_received_on(order, received_on)
        # The same transfer twice is the likelier mistake: say so before "beyond due".
        check_reference_free(order, reference)
        due = order.money_position().due
        if order.is_live and amount > due and not as_credit:
            raise PaymentBeyondDue(
                _(
                    "%(amount)s is more than the %(due)s due on this order. Tick 'record as "
                    "credit' to record it anyway: the excess will be listed as a refund due."
                )
                % {"amount": money(amount), "due": money(due)},
                details={"due": due},
            )
        return enter_payment(
            actor,
            order,
            amount=amount,
            method=method,
            reference=reference,
            received_on=received_on,
            note=note,
            data={"as_credit": bool(as_credit and order.is_live and amount > due)},
        )


def record_refund(actor, order, *, amount, reference, note="", credit_note=False):
    """Record money paid back to the member (finance); at most the money held.

    ``amount``: ``Decimal`` > 0; ``reference``: the refund's transfer or receipt number,
    unique among the order's entries in force. ``credit_note``: ``True`` when the refund
    lowers what the member owes (goods missing or damaged, a price concession); ``False``
    when it gives back money that is still owed (paid twice, to the wrong account): the
    amount then becomes due again (DESIGN "Money: one rule"). The refund goes back by the
    order's payment method, dated today. Raises ``NotPermitted``,
    ``TransitionNotAllowed`` (nothing held), ``DuplicateReference``, ``InvalidInput``.
    Returns the ``Payment`` (kind refund).
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_record_refund(actor, order)
        amount = inputs.clean_amount(amount)
        reference = inputs.clean_code(reference, _("The reference"), required=True, max_length=100)
        note = inputs.clean_text(note, _("The note"))
        if credit_note not in (True, False):
            raise InvalidInput(
                _("Say whether the member owes less or gets money back that is still owed."),
                code="credit_note",
            )
        if amount > order.held:
            raise InvalidInput(
                _("A refund cannot exceed the money held for the order (%(net)s).")
                % {"net": money(order.held)},
                code="refund_too_large",
            )
        if credit_note and order.is_live and amount > order.owed:
            raise InvalidInput(
                _("A credit note cannot lower what is owed below nothing (%(owed)s is owed).")
                % {"owed": money(order.owed)},
                code="credit_note_too_large",
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
            credit_note=credit_note,
        )
        book_entry(
            actor,
            order,
            payment,
            before=before,
            event=OrderEvent.Kind.REFUND_RECORDED,
            transition=order.refund,
            note=note,
        )
    return payment


def void_payment(actor, payment, *, reason):
    """Void a mistaken ledger entry (finance); it stays on the ledger, struck through.

    ``reason`` is required. Refused if the entry is already voided, or if voiding a
    payment would leave more refunded than received (void the refund first). The money
    position and payment status are recomputed. Raises ``NotPermitted``,
    ``TransitionNotAllowed``, ``InvalidInput``. Returns the voided ``Payment``.
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
        if payment.kind == Payment.Kind.PAYMENT and order.held - payment.amount < 0:
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
        book_entry(
            actor,
            order,
            payment,
            before=before,
            event=OrderEvent.Kind.PAYMENT_VOIDED,
            transition=order.void_entry,
            note=reason,
        )
    return payment
