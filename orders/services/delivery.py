"""After shipping: delivery attempts, deliveries (with the courier's cash) and returns.

DESIGN: the status table rows ``record_delivery_attempt``, ``record_delivery`` and
``record_return``; "Cash on delivery: from the courier's hand to the books"; "Stock".
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mall.formatting import format_money as money
from orders import locks
from orders.exceptions import InvalidInput, TransitionNotAllowed
from orders.models import (
    CodCollection,
    DeliveryOutcome,
    OrderEvent,
    PaymentMethod,
    Status,
)
from orders.services import _bookkeeping as bookkeeping
from orders.services import _guards as guards
from orders.services import _inputs as inputs
from orders.services import _stock as stock


def _shipped_message(order):
    if order.status in (Status.SUBMITTED, Status.CONFIRMED, Status.ALLOCATED):
        return _("The order has not shipped yet: record the shipment first.")
    return guards.check_status_message(order)


def check_record_delivery_attempt(actor, order):
    """Raise unless ``actor`` may record a delivery attempt on ``order`` now (shipped;
    an order admin, or the logistics person the order is assigned to)."""
    guards.require_perm(actor, order.attempt_delivery)
    guards.require_state(order.attempt_delivery, _shipped_message(order))


def check_record_delivery(actor, order):
    """Raise unless ``actor`` may record ``order`` as delivered now (as for attempts)."""
    guards.require_perm(actor, order.deliver)
    guards.require_state(order.deliver, _shipped_message(order))


def check_record_return(actor, order):
    """Raise unless ``actor`` (order admin) may record ``order`` back at the shop now
    (shipped or delivered)."""
    guards.require_perm(actor, order.return_to_shop)
    guards.require_state(
        order.return_to_shop,
        _("Only a shipped or delivered order can come back to the shop.")
        if order.status in (Status.SUBMITTED, Status.CONFIRMED, Status.ALLOCATED)
        else guards.check_status_message(order),
    )


def collects_cash(order):
    """Whether the order's courier takes cash at the door: cash on delivery, carried by
    the shop's own delivery staff (a carrier's cash arrives by its settlement file)."""
    return order.payment_method == PaymentMethod.COD and order.ships_by_own_staff


def record_delivery_attempt(actor, order, *, outcome, note="", next_attempt_on=None):
    """Record a failed delivery attempt; the parcel stays out for delivery.

    ``outcome``: a ``DeliveryOutcome`` value (``not_home``, ``wrong_address``,
    ``refused``, ``postponed``, ``other``); ``note``: free text, required for ``other``;
    ``next_attempt_on``: an optional ``date``, not in the past and at most 30 days ahead
    (shown on the courier's list). Writes one event and keeps ``version`` (like a logged
    call). Raises ``NotPermitted``, ``TransitionNotAllowed`` (not shipped),
    ``InvalidInput``. Returns the ``OrderEvent``.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_record_delivery_attempt(actor, order)
        if outcome not in DeliveryOutcome.values:
            raise InvalidInput(_("Choose what happened at the door."), code="outcome")
        note = inputs.clean_text(
            note, _("A note"), required=outcome == DeliveryOutcome.OTHER, max_length=1000
        )
        if next_attempt_on is not None:
            if not isinstance(next_attempt_on, datetime.date) or isinstance(
                next_attempt_on, datetime.datetime
            ):
                raise InvalidInput(_("Enter the date of the next attempt."))
            if next_attempt_on < timezone.localdate():
                raise InvalidInput(_("The next attempt cannot be in the past."))
            if next_attempt_on > timezone.localdate() + datetime.timedelta(days=30):
                raise InvalidInput(_("The next attempt must be within 30 days."))
        before = bookkeeping.state(order)
        order.attempt_delivery()
        attempts = order.events.filter(kind=OrderEvent.Kind.DELIVERY_ATTEMPTED).count() + 1
        order.next_attempt_on = next_attempt_on
        event = bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.DELIVERY_ATTEMPTED,
            before=before,
            note=note,
            data={
                "outcome": outcome,
                "attempt": attempts,
                "next_attempt_on": next_attempt_on.isoformat() if next_attempt_on else None,
            },
            bump=False,
            fields=["next_attempt_on"],
        )
        bookkeeping.notify(order, "delivery_attempted")
    return event


def deliver_locked(actor, order, *, collected_amount=None, received_by="", note="", data=None):
    """Mark a locked, checked ``order`` delivered; shared by ``record_delivery`` and the
    COD settlement (whose carrier collected the cash itself: no ``collected_amount``).

    Returns the ``CodCollection`` made, or ``None``.
    """
    received_by = inputs.clean_text(received_by, _("Received by"), max_length=100)
    note = inputs.clean_text(note, _("The note"))
    due = order.money_position().due
    event_data = {"received_by": received_by, **(data or {})}
    collection = None
    if collects_cash(order) and due > 0:
        if collected_amount is None or str(collected_amount).strip() == "":
            raise InvalidInput(
                _("Enter the cash the courier took (%(due)s was due).") % {"due": money(due)},
                code="collected_required",
            )
        collected = inputs.clean_amount(collected_amount, allow_zero=True)
        event_data.update(due=str(due), collected=str(collected), difference=str(collected - due))
        if collected > 0:
            collection = CodCollection(order=order, courier=order.assigned_to, amount=collected)
    elif collected_amount is not None and str(collected_amount).strip() != "":
        raise InvalidInput(
            _("Nothing is to be collected at the door for this order: leave the cash empty.")
            if order.is_prepaid or due == 0
            else _(
                "The carrier collects this cash and settles it by its file: leave the cash empty."
            ),
            code="nothing_to_collect",
        )
    before = bookkeeping.state(order)
    order.deliver()
    order.delivered_at = timezone.now()
    order.received_by = received_by
    order.next_attempt_on = None
    if collection is not None:
        if collection.courier is None:
            raise TransitionNotAllowed(
                _("The order has no courier assigned to hold the cash."), code="no_courier"
            )
        collection.save()
        event_data["collection_id"] = collection.pk
    bookkeeping.record(
        order,
        actor,
        OrderEvent.Kind.DELIVERED,
        before=before,
        note=note,
        data=event_data,
        fields=["status", "delivered_at", "received_by", "next_attempt_on"],
    )
    bookkeeping.notify(order, "delivered")
    return collection


def record_delivery(actor, order, *, collected_amount=None, received_by="", note=""):
    """Record that the member received the parcel (order admin or the assigned courier).

    ``collected_amount``: the cash the courier took, a ``Decimal`` >= 0 — required for a
    cash-on-delivery order carried by the shop's own staff with something ``due``, and
    must be empty otherwise (prepaid, nothing due, or a carrier that settles by file).
    A difference from ``due`` is kept in the event (``data``: due, collected,
    difference) and shown on the order page; the cash becomes a ``CodCollection`` in the
    courier's hands until finance records the remittance. ``received_by``: who signed.
    Raises ``NotPermitted``, ``TransitionNotAllowed``, ``InvalidInput``. Returns the order.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_record_delivery(actor, order)
        deliver_locked(
            actor, order, collected_amount=collected_amount, received_by=received_by, note=note
        )
    return order


def clean_restock(order, restock):
    """Return ``{line_pk: units}`` to give back for ``restock`` (DESIGN ``record_return``).

    ``True``: every line's reserved units; ``False``: none; ``{sku: n}``: ``n`` units of
    that SKU's line, at most its ``reserved_quantity`` (an unknown SKU, a negative or
    too large number is refused).
    """
    lines = list(order.lines.all())
    if restock is True:
        return {line.pk: line.reserved_quantity for line in lines}
    if restock is False or restock is None:
        return {}
    if not isinstance(restock, dict):
        raise InvalidInput(_("Say which units go back to stock."), code="restock")
    by_sku = {line.sku.casefold(): line for line in lines}
    units, errors = {}, []
    for sku, n in restock.items():
        line = by_sku.get(str(sku).strip().casefold())
        if line is None:
            errors.append(_("%(sku)s is not on this order.") % {"sku": sku})
            continue
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            errors.append(_("Units of %(sku)s must be a whole number.") % {"sku": line.sku})
            continue
        if n > line.reserved_quantity:
            errors.append(
                _("At most %(n)d units of %(sku)s can go back to stock.")
                % {"n": line.reserved_quantity, "sku": line.sku}
            )
            continue
        units[line.pk] = n
    if errors:
        raise InvalidInput(" ".join(errors), code="restock")
    return units


def return_locked(actor, order, *, reason, restock=True, data=None):
    """Record a locked, checked ``order`` back at the shop; shared with the settlement."""
    reason = inputs.clean_text(reason, _("A reason"), required=True)
    units = clean_restock(order, restock)
    before = bookkeeping.state(order)
    lines = {line.pk: line for line in order.lines.all()}
    written_off = {
        line.sku: line.reserved_quantity - units.get(pk, 0)
        for pk, line in lines.items()
        if line.reserved_quantity - units.get(pk, 0) > 0
    }
    restocked = stock.release_stock(order, units=units)
    order.return_to_shop()
    order.returned_at = timezone.now()
    order.next_attempt_on = None
    money_fields = bookkeeping.settle_money(order, order.follow_money)
    bookkeeping.record(
        order,
        actor,
        OrderEvent.Kind.RETURNED,
        before=before,
        note=reason,
        data={
            "stock_released": restocked,
            "written_off": written_off,
            "credit": str(order.money_position().credit),
            **(data or {}),
        },
        fields=["status", "returned_at", "next_attempt_on", *money_fields],
    )
    bookkeeping.notify(order, "returned")


def record_return(actor, order, *, reason, restock=True):
    """Record a parcel back at the shop: refused, undeliverable, or sent back (order admin).

    ``reason`` is required. ``restock`` says which units go back to stock: ``True`` all
    reserved units, ``False`` none (all written off), or ``{sku: units}`` (the rest are
    written off as damaged). ``owed`` becomes 0 and any money held becomes credit to pay
    back (the "refund due" queue). Raises ``NotPermitted``, ``TransitionNotAllowed``,
    ``InvalidInput``. Returns the order.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_record_return(actor, order)
        return_locked(actor, order, reason=reason, restock=restock)
    return order
