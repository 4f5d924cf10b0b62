"""The confirmation call: logging calls, confirming, marking invalid."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from orders import locks
from orders.exceptions import (
    InvalidInput,
    NotPermitted,
    TransitionNotAllowed,
)
from orders.models import (
    OrderEvent,
    Status,
)
from orders.services import _bookkeeping as bookkeeping
from orders.services import _guards as guards
from orders.services import _inputs as inputs
from orders.services import _stock as stock


class CallOutcome:
    """Outcomes of a confirmation call (``log_call``)."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    CALL_BACK = "call_back"

    # Calls that did not reach the member: after one of these as the latest call, a
    # confirmation must say the member was reached afterwards (issue 11).
    UNANSWERED = (NO_ANSWER, WRONG_NUMBER)

    @classmethod
    def choices(cls):
        return [
            (cls.REACHED, _("Reached the member")),
            (cls.NO_ANSWER, _("No answer")),
            (cls.WRONG_NUMBER, _("Wrong number")),
            (cls.CALL_BACK, _("Asked to call back later")),
        ]


# How far ahead a call-back may be booked (DESIGN ``log_call``).
CALL_BACK_WITHIN = datetime.timedelta(days=14)
# Statuses on which no more calls are logged: the parcel has left (or the order is over).
NO_CALLS_STATUSES = (Status.SHIPPED, Status.DELIVERED, Status.RETURNED, Status.CANCELLED)


def latest_call_outcome(order):
    """The outcome of the latest call logged on ``order`` (one query), or ``None``."""
    data = (
        order.events.filter(kind=OrderEvent.Kind.CALL_LOGGED)
        .order_by("-created_at", "-pk")
        .values_list("data", flat=True)
        .first()
    )
    return (data or {}).get("outcome")


def needs_reached_tick(order):
    """Whether confirming ``order`` needs "I reached the member afterwards" ticked: the
    latest logged call was ``no_answer`` or ``wrong_number``."""
    return latest_call_outcome(order) in CallOutcome.UNANSWERED


def clear_call_back(order):
    """Clear ``order.call_back_at``; return the field names to save (none if unset)."""
    if order.call_back_at is None:
        return []
    order.call_back_at = None
    return ["call_back_at"]


def clean_call_back_at(value, now=None):
    """Return ``value`` if it is an aware datetime after now and within 14 days.

    Raises ``InvalidInput`` (code ``call_back_at``) otherwise.
    """
    now = now or timezone.now()
    if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
        raise InvalidInput(_("Say when to call back (date and time)."), code="call_back_at")
    if value <= now:
        raise InvalidInput(_("The call-back time is in the past."), code="call_back_at")
    if value > now + CALL_BACK_WITHIN:
        raise InvalidInput(
            _("A call-back can be booked at most 14 days ahead."), code="call_back_at"
        )
    return value


def awaits_confirmation(order):
    """Whether ``order`` still waits for its confirmation call (the state ``check_confirm``
    requires, whoever asks: the ``confirm`` transition's source). The back office's
    "being called by" notice holds only then (``staff.calling``)."""
    return can_proceed(order.confirm, check_conditions=False)


def check_confirm(actor, order):
    """Raise unless ``actor`` (order admin) may confirm ``order`` now (submitted)."""
    guards.require_perm(actor, order.confirm)
    guards.require_state(order.confirm, guards.check_status_message(order))


def check_invalidate(actor, order):
    """Raise unless ``actor`` (order admin) may mark ``order`` invalid now (submitted)."""
    guards.require_perm(actor, order.invalidate)
    guards.require_state(order.invalidate, guards.check_status_message(order))


def check_log_call(actor, order):
    """Raise unless ``actor`` may log a call on ``order`` (order admin, order not final)."""
    if not actor.is_authenticated or not actor.has_perm("orders.log_call"):
        raise NotPermitted()
    if order.status in NO_CALLS_STATUSES:
        raise TransitionNotAllowed(guards.check_status_message(order))


def confirm_order(actor, order, *, expected_version, call_note, reached_after_failed=False):
    """Mark a submitted order valid after the phone call that reached the member.

    The confirmation *is* the record of that call: ``call_note`` (required) is the call
    note and the event's data says the call reached the member (``call_outcome``
    ``reached``). When the latest logged call was ``no_answer`` or ``wrong_number``,
    ``reached_after_failed=True`` must say the member was reached afterwards, else
    ``InvalidInput`` (code ``reached_after_failed``). ``expected_version`` is the version
    the admin reviewed; if the member changed the order since, ``StaleOrder`` is raised
    with the changes. A booked call-back is cleared. Raises ``NotPermitted``,
    ``TransitionNotAllowed``, ``StaleOrder``, ``InvalidInput``. Returns the order.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_confirm(actor, order)
        bookkeeping.check_version(order, expected_version)
        call_note = inputs.clean_text(call_note, _("A call note"), required=True)
        after_failed = needs_reached_tick(order)
        if after_failed and reached_after_failed is not True:
            raise InvalidInput(
                _(
                    "The latest call did not reach the member. Tick “I reached the member "
                    "afterwards” if you have spoken to them since."
                ),
                code="reached_after_failed",
                details={"fields": {"reached_after_failed": _("Tick this if you reached them.")}},
            )
        before = bookkeeping.state(order)
        order.confirm()
        order.confirmed_at = timezone.now()
        data = {"confirmed_version": order.version, "call_outcome": CallOutcome.REACHED}
        if after_failed:
            data["reached_after_failed"] = True
        bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.CONFIRMED,
            before=before,
            note=call_note,
            data=data,
            fields=["status", "confirmed_at", *clear_call_back(order)],
        )
        bookkeeping.notify(order, "confirmed")
    return order


def invalidate_order(actor, order, *, reason):
    """Mark a submitted order invalid (order admin) and return its reserved stock.

    ``reason`` is required. Raises ``NotPermitted``, ``TransitionNotAllowed``,
    ``InvalidInput``. Returns the order.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_invalidate(actor, order)
        reason = inputs.clean_text(reason, _("A reason"), required=True)
        before = bookkeeping.state(order)
        released = stock.release_stock(order)
        order.invalidate()
        order.invalidated_at = timezone.now()
        money_fields = bookkeeping.settle_money(order, order.follow_money)
        bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.INVALIDATED,
            before=before,
            note=reason,
            data={"stock_released": released},
            fields=["status", "invalidated_at", *money_fields, *clear_call_back(order)],
        )
        bookkeeping.notify(order, "invalidated")
    return order


def log_call(actor, order, *, outcome, note="", call_back_at=None):
    """Log a call attempt to the member; keeps ``version`` (DESIGN ``log_call``).

    ``outcome`` is one of ``CallOutcome`` (``reached``, ``no_answer``, ``wrong_number``,
    ``call_back``). ``call_back`` requires ``call_back_at``, an aware ``datetime`` in the
    future and at most 14 days ahead, stored on ``Order.call_back_at`` (the "Calls due"
    queue); any other outcome takes none and clears a booked call-back. Calls are logged
    until the order ships. Raises ``NotPermitted``, ``TransitionNotAllowed`` (shipped or
    later, cancelled), ``InvalidInput``. Returns the event.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_log_call(actor, order)
        outcomes = dict(CallOutcome.choices())
        if outcome not in outcomes:
            raise InvalidInput(_("Choose how the call went."), code="outcome")
        if outcome == CallOutcome.CALL_BACK:
            call_back_at = clean_call_back_at(call_back_at)
        elif call_back_at is not None:
            raise InvalidInput(
                _("A call-back time goes with the outcome “Asked to call back later”."),
                code="call_back_at",
            )
        note = inputs.clean_text(note, _("The note"))
        data = {"outcome": outcome}
        if call_back_at is not None:
            order.call_back_at = call_back_at
            fields = ["call_back_at"]
            data["call_back_at"] = call_back_at.isoformat()
        else:
            fields = clear_call_back(order)
        return bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.CALL_LOGGED,
            before=bookkeeping.state(order),
            note=note,
            data=data,
            bump=False,
            fields=fields,
        )
