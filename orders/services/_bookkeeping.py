"""What every action does around its transition: the version check, the one event, the e-mail.

Step modules call these through the module (``bookkeeping.record(...)``), so a test
that patches one (the race harness pauses inside ``record``) patches every caller.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import report_days, tasks
from orders.exceptions import (
    InvalidInput,
    StaleOrder,
)
from orders.models import OrderEvent, OutboxEmail, PaymentStatus
from orders.services import _rows as rows


def check_version(order, expected_version):
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise InvalidInput(_("The order version is missing.")) from None
    if expected != order.version:
        changes = list(
            order.events.filter(order_version__gt=expected)
            .exclude(kind=OrderEvent.Kind.CALL_LOGGED)
            .values("kind", "note", "data", "created_at", "order_version")
        )
        raise StaleOrder(
            _(
                "The order changed after you opened it (you saw version %(seen)d, it is now "
                "version %(now)d). Review the changes below before acting."
            )
            % {"seen": expected, "now": order.version},
            details={"changes": changes, "current_version": order.version},
        )


def record(order, actor, kind, *, before, note="", data=None, bump=True, fields=()):
    """Save ``fields`` of ``order`` and write its one event.

    ``before`` is ``(status, payment_status)`` read before the change. ``bump``: the
    change is one the member or an admin must review again (``version`` + 1); a logged
    call or delivery attempt saves its ``fields`` without a bump. After the commit, the
    reports' roll-ups of the closed days the order counts on are forgotten
    (``orders.report_days.note_change``; ``data["received_on"]`` names a ledger entry's day).
    """
    if bump:
        order.version += 1
        order.save(update_fields=[*fields, "version", "updated_at"])
    elif fields:
        order.save(update_fields=[*fields, "updated_at"])
    (event,) = rows.insert(
        [
            OrderEvent(
                order=order,
                actor=actor,
                kind=kind,
                from_status=before[0],
                to_status=order.status,
                from_payment_status=before[1],
                to_payment_status=order.payment_status,
                note=note,
                data=data or {},
                order_version=order.version,
            )
        ]
    )
    # The past business days this order counts on get their report roll-ups recomputed
    # once this commits (a late payment, a refusal of last week's parcel).
    report_days.note_change(order, data)
    order._recorded_event_id = event.pk  # for notify(): the event its e-mail tells about
    return event


def notify(order, kind):
    """Queue the member's ``kind`` e-mail about the event just recorded on ``order``.

    Writes its ``OutboxEmail`` in the current transaction (one per event and kind), so
    the e-mail is promised exactly when the change commits; after the commit
    ``orders.tasks.enqueue_email`` hands it to a worker (or sends it here without one).
    A confirmation supersedes an order-received e-mail still waiting to be sent.
    """
    if kind == "confirmed":
        # "We received your order" not sent yet (an order taken by phone and confirmed in
        # the same step, or a worker behind): the confirmation says everything it would,
        # so the member gets one e-mail, not one that contradicts the next.
        OutboxEmail.objects.filter(
            order=order, kind="placed", state=OutboxEmail.State.PENDING, sent_at__isnull=True
        ).update(state=OutboxEmail.State.SUPERSEDED)
    event_id = getattr(order, "_recorded_event_id", None)
    if event_id is not None:
        # The event record() just wrote: one INSERT, no look-up (the checkout's path).
        (email,) = rows.insert([OutboxEmail(event_id=event_id, kind=kind, order=order)])
        email_id = email.pk
    else:
        event_id = order.events.order_by("-pk").values_list("pk", flat=True).first()
        email, _created = OutboxEmail.objects.get_or_create(
            event_id=event_id, kind=kind, defaults={"order": order}
        )
        email_id = email.pk
    transaction.on_commit(lambda: tasks.enqueue_email(email_id))


def state(order):
    return (order.status, order.payment_status)


def settle_money(order, transition):
    """Recompute ``owed``, ``held`` and the payment status from the ledger (DESIGN "Money:
    one rule") through the django-fsm ``transition`` of ``order`` (a bound method taking
    ``new_status``), after an entry or ``owed`` changed. Returns the changed field names
    for ``record(..., fields=...)``; ``paid_at`` follows a move into or out of ``paid``.
    """
    totals = order.ledger_totals()
    position = order.position_from_ledger(totals)
    was_paid = order.payment_status == PaymentStatus.PAID
    order.owed, order.held = position.owed, position.held
    transition(new_status=order.payment_status_for(position, totals.any_refund))
    fields = ["owed", "held", "payment_status"]
    if order.payment_status == PaymentStatus.PAID and not was_paid:
        order.paid_at = timezone.now()
        fields.append("paid_at")
    elif order.payment_status != PaymentStatus.PAID and order.paid_at:
        order.paid_at = None
        fields.append("paid_at")
    return fields
