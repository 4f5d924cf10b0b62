"""Cancelling an order, by its member or by an order admin."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import locks
from orders.exceptions import (
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
from orders.services import confirmation


def check_cancel(actor, order):
    """Raise unless ``actor`` may cancel ``order`` now.

    An order admin cancels submitted, invalid, confirmed or allocated orders; the owner
    only while submitted. Refused while money is held (refund first).
    """
    is_admin = actor.has_perm("orders.cancel_order")
    # The owner's refusal once the order left ``submitted`` is about its state, not the
    # role: say which state, before any permission check, so a member whose page was
    # stale, or who lost a race to the admin's confirm or to their own second click,
    # gets "confirmed ... call us" / "is cancelled", never ``NotPermitted`` (a 403).
    if not is_admin and guards.is_owner(actor, order) and order.status != Status.SUBMITTED:
        raise TransitionNotAllowed(
            _(
                "The order was confirmed by our staff and can no longer be cancelled online. "
                "Please call us."
            )
            if order.status in (Status.CONFIRMED, Status.ALLOCATED)
            else guards.check_status_message(order)
        )
    guards.require_perm(actor, order.cancel)
    guards.require_state(order.cancel, guards.check_status_message(order))
    if not order.no_money_held():
        raise TransitionNotAllowed(
            _("Money is held for this order: record the refund before cancelling it."),
            code="money_held",
        )


def cancel_order(actor, order, *, reason=""):
    """Cancel ``order`` and return its reserved stock (once: not again for an invalid order).

    The owning member may cancel while submitted (reason optional); an order admin may
    cancel a submitted, invalid, confirmed or allocated order and must give a reason.
    Refused while money is held (refund first). Raises ``NotPermitted``,
    ``TransitionNotAllowed``, ``InvalidInput``. Returns the order.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_cancel(actor, order)
        acting_as_owner = guards.is_owner(actor, order) and order.status == Status.SUBMITTED
        reason = inputs.clean_text(reason, _("A reason"), required=not acting_as_owner)
        before = bookkeeping.state(order)
        # An invalid order gave its stock back already: its lines reserve 0 now.
        released = stock.release_stock(order)
        order.cancel()
        order.cancelled_at = timezone.now()
        money_fields = bookkeeping.settle_money(order, order.follow_money)
        bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.CANCELLED,
            before=before,
            note=reason,
            data={"stock_released": released, "by_member": acting_as_owner},
            fields=["status", "cancelled_at", *money_fields, *confirmation.clear_call_back(order)],
        )
        bookkeeping.notify(order, "cancelled")
    return order
