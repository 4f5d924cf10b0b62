"""The confirmation call: logging calls, confirming, marking invalid."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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

    @classmethod
    def choices(cls):
        return [
            (cls.REACHED, _("Reached the member")),
            (cls.NO_ANSWER, _("No answer")),
            (cls.WRONG_NUMBER, _("Wrong number")),
            (cls.CALL_BACK, _("Asked to call back later")),
        ]


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
    if order.status in (Status.SHIPPED, Status.CANCELLED):
        raise TransitionNotAllowed(guards.check_status_message(order))


def confirm_order(actor, order, *, expected_version, call_note):
    """Mark a submitted order valid after the phone call (order admin).

    ``expected_version`` is the version the admin reviewed; if the member changed the
    order since, ``StaleOrder`` is raised with the changes. ``call_note`` (required)
    records what was checked on the call. Raises ``NotPermitted``,
    ``TransitionNotAllowed``, ``StaleOrder``, ``InvalidInput``. Returns the order.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_confirm(actor, order)
        bookkeeping.check_version(order, expected_version)
        call_note = inputs.clean_text(call_note, _("A call note"), required=True)
        before = bookkeeping.state(order)
        order.confirm()
        order.confirmed_at = timezone.now()
        bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.CONFIRMED,
            before=before,
            note=call_note,
            data={"confirmed_version": order.version},
            fields=["status", "confirmed_at"],
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
            fields=["status", "invalidated_at", *money_fields],
        )
        bookkeeping.notify(order, "invalidated")
    return order


def log_call(actor, order, *, outcome, note=""):
    """Log a call attempt to the member; changes nothing else and keeps ``version``.

    ``outcome`` is one of ``CallOutcome`` (``reached``, ``no_answer``, ``wrong_number``,
    ``call_back``). Raises ``NotPermitted``, ``TransitionNotAllowed`` (order final),
    ``InvalidInput``. Returns the event.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_log_call(actor, order)
        outcomes = dict(CallOutcome.choices())
        if outcome not in outcomes:
            raise InvalidInput(_("Choose how the call went."), code="outcome")
        note = inputs.clean_text(note, _("The note"))
        return bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.CALL_LOGGED,
            before=bookkeeping.state(order),
            note=note,
            data={"outcome": outcome},
            bump=False,
        )
