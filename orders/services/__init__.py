"""The one door for every change to an order (DESIGN: "Service layer").

Each action: takes the acting user first; checks the role's permission; opens a
transaction; re-reads and locks the order row (``orders.locks``); checks the version
where one is given; runs the django-fsm transition; adjusts stock (product rows locked
in primary-key order, so two checkouts cannot deadlock); writes exactly one
``OrderEvent``; and queues the member's e-mail with ``transaction.on_commit``.

A refused action raises an ``orders.exceptions.OrderError`` subclass and changes
nothing. Money is ``Decimal`` in the shop currency; quantities are positive integers.

One module per business step; this package re-exports every public name, so
``from orders import services; services.place_order`` is the way to call them:

- ``ordering``: ``place_order``, ``edit_order``;
- ``confirmation``: ``log_call``, ``confirm_order``, ``invalidate_order``;
- ``cancellation``: ``cancel_order``;
- ``dispatch``: ``allocate_order``, ``ship_order``, ``logistics_staff``;
- ``payments``: ``record_payment``, ``record_refund``, ``void_payment``;
- ``availability``: ``allowed_actions``, ``may_ever``;
- private helpers: ``_inputs`` (cleaning), ``_bookkeeping`` (version, event, e-mail),
  ``_stock`` (reserve and release), ``_guards``.
"""

from orders.services._inputs import MAX_LINES, MAX_TEXT, PHONE_RE, clean_address
from orders.services.availability import ACTION_CHECKS, allowed_actions, may_ever
from orders.services.cancellation import cancel_order, check_cancel
from orders.services.confirmation import (
    CallOutcome,
    check_confirm,
    check_invalidate,
    check_log_call,
    confirm_order,
    invalidate_order,
    log_call,
)
from orders.services.dispatch import (
    allocate_order,
    check_allocate,
    check_ship,
    logistics_staff,
    ship_order,
)
from orders.services.ordering import check_edit, edit_order, place_order
from orders.services.payments import (
    check_record_payment,
    check_record_refund,
    check_void,
    record_payment,
    record_refund,
    void_payment,
)

__all__ = [
    "ACTION_CHECKS",
    "MAX_LINES",
    "MAX_TEXT",
    "PHONE_RE",
    "CallOutcome",
    "allocate_order",
    "allowed_actions",
    "cancel_order",
    "check_allocate",
    "check_cancel",
    "check_confirm",
    "check_edit",
    "check_invalidate",
    "check_log_call",
    "check_record_payment",
    "check_record_refund",
    "check_ship",
    "check_void",
    "clean_address",
    "confirm_order",
    "edit_order",
    "invalidate_order",
    "log_call",
    "logistics_staff",
    "may_ever",
    "place_order",
    "record_payment",
    "record_refund",
    "ship_order",
    "void_payment",
]
