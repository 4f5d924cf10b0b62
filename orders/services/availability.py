"""Which actions a user may take on an order now, and which their role may ever take.

Pages show exactly ``allowed_actions``; the services re-check under the lock.
"""

from orders.exceptions import (
    NotPermitted,
    TransitionNotAllowed,
)
from orders.services.cancellation import check_cancel
from orders.services.confirmation import check_confirm, check_invalidate, check_log_call
from orders.services.delivery import (
    check_record_delivery,
    check_record_delivery_attempt,
    check_record_return,
)
from orders.services.dispatch import check_allocate, check_ship
from orders.services.ordering import check_edit
from orders.services.payments import check_record_payment, check_record_refund, check_void

ACTION_CHECKS = {
    "edit": check_edit,
    "cancel": check_cancel,
    "confirm": check_confirm,
    "invalidate": check_invalidate,
    "allocate": check_allocate,
    "ship": check_ship,
    "call": check_log_call,
    "payment": check_record_payment,
    "refund": check_record_refund,
    "void": check_void,
    "attempt": check_record_delivery_attempt,
    "deliver": check_record_delivery,
    "return": check_record_return,
}


def allowed_actions(actor, order):
    """Return the set of action names (keys of ``ACTION_CHECKS``) ``actor`` may take now.

    Pages show exactly these; the services re-check under the lock when the form comes.
    """
    allowed = set()
    for name, check in ACTION_CHECKS.items():
        try:
            check(actor, order)
        except (NotPermitted, TransitionNotAllowed):
            continue
        allowed.add(name)
    return allowed


def may_ever(actor, action):
    """Whether ``actor``'s role can ever take ``action`` (for a 403 on hand-made posts).

    ``edit`` here is the back office's change for the member (members change their own
    orders on their pages); ``new`` is taking an order by phone.
    """
    perms = {
        "confirm": ["orders.confirm_order"],
        "invalidate": ["orders.invalidate_order"],
        "cancel": ["orders.cancel_order"],
        "allocate": ["orders.allocate_order"],
        "ship": ["orders.ship_order", "orders.ship_assigned_order"],
        "call": ["orders.log_call"],
        "edit": ["orders.edit_order_for_member"],
        "new": ["orders.place_order_for_member"],
        "payment": ["orders.record_payment"],
        "refund": ["orders.record_refund"],
        "void": ["orders.void_payment"],
        "attempt": ["orders.record_delivery", "orders.record_assigned_delivery"],
        "deliver": ["orders.record_delivery", "orders.record_assigned_delivery"],
        "return": ["orders.record_return"],
        "remit": ["orders.record_remittance"],
        "settle": ["orders.apply_cod_settlement"],
    }[action]
    return actor.is_authenticated and any(actor.has_perm(p) for p in perms)
