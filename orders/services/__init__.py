"""The one door for every change to an order (DESIGN: "Service layer").

Each action: takes the acting user first; checks the role's permission; opens a
transaction; re-reads and locks the order row (``orders.locks``); checks the version
where one is given; runs the django-fsm transition; adjusts stock (product rows locked
in primary-key order, so two checkouts cannot deadlock); writes exactly one
``OrderEvent``; and queues the member's e-mail: an ``OutboxEmail`` row in the same
transaction, handed to ``orders.tasks`` with ``transaction.on_commit``.

A refused action raises an ``orders.exceptions.OrderError`` subclass and changes
nothing. Money is ``Decimal`` in the shop currency; quantities are positive integers.

One module per business step; this package re-exports every public name, so
``from orders import services; services.place_order`` is the way to call them:

- ``ordering``: ``place_order``, ``edit_order``;
- ``confirmation``: ``log_call``, ``confirm_order``, ``invalidate_order``,
  ``awaits_confirmation``;
- ``cancellation``: ``cancel_order``;
- ``dispatch``: ``allocate_order``, ``ship_order``, ``logistics_staff``;
- ``delivery``: ``record_delivery_attempt``, ``record_delivery``, ``record_return``;
- ``payments``: ``record_payment``, ``record_refund``, ``void_payment``;
- ``cash``: ``record_remittance``, ``cash_in_hand``;
- ``settlement``: ``preview_settlement``, ``apply_settlement`` (carriers' COD files);
- ``availability``: ``allowed_actions``, ``may_ever``;
- ``outbox``: ``retry_email``, ``failed_emails`` (member e-mails that failed, issue 15);
- private helpers: ``_inputs`` (cleaning), ``_bookkeeping`` (version, event, e-mail),
  ``_stock`` (reserve and release), ``_guards``.
"""

from orders.services._inputs import MAX_LINES, MAX_TEXT, PHONE_RE, clean_address
from orders.services.availability import ACTION_CHECKS, allowed_actions, may_ever
from orders.services.cancellation import cancel_order, check_cancel
from orders.services.cash import cash_in_hand, check_record_remittance, record_remittance
from orders.services.confirmation import (
    CALL_BACK_WITHIN,
    CallOutcome,
    awaits_confirmation,
    check_confirm,
    check_invalidate,
    check_log_call,
    confirm_order,
    invalidate_order,
    latest_call_outcome,
    log_call,
    needs_reached_tick,
)
from orders.services.delivery import (
    check_record_delivery,
    check_record_delivery_attempt,
    check_record_return,
    collects_cash,
    record_delivery,
    record_delivery_attempt,
    record_return,
)
from orders.services.dispatch import (
    allocate_order,
    check_allocate,
    check_ship,
    logistics_staff,
    ship_order,
)
from orders.services.ordering import (
    check_edit,
    check_place_for_member,
    create_member,
    edit_order,
    place_order,
)
from orders.services.outbox import check_retry_email, failed_emails, retry_email
from orders.services.payments import (
    check_record_payment,
    check_record_refund,
    check_void,
    record_payment,
    record_refund,
    void_payment,
)
from orders.services.settlement import (
    SettlementMatch,
    SettlementResult,
    apply_settlement,
    check_apply_settlement,
    preview_settlement,
)

__all__ = [
    "ACTION_CHECKS",
    "CALL_BACK_WITHIN",
    "CallOutcome",
    "MAX_LINES",
    "MAX_TEXT",
    "PHONE_RE",
    "SettlementMatch",
    "SettlementResult",
    "allocate_order",
    "allowed_actions",
    "apply_settlement",
    "awaits_confirmation",
    "cancel_order",
    "cash_in_hand",
    "check_allocate",
    "check_apply_settlement",
    "check_cancel",
    "check_confirm",
    "check_edit",
    "check_invalidate",
    "check_log_call",
    "check_place_for_member",
    "check_record_delivery",
    "check_record_delivery_attempt",
    "check_record_payment",
    "check_record_refund",
    "check_record_remittance",
    "check_record_return",
    "check_ship",
    "check_retry_email",
    "check_void",
    "clean_address",
    "collects_cash",
    "confirm_order",
    "create_member",
    "edit_order",
    "failed_emails",
    "invalidate_order",
    "latest_call_outcome",
    "log_call",
    "logistics_staff",
    "may_ever",
    "needs_reached_tick",
    "place_order",
    "preview_settlement",
    "record_delivery",
    "record_delivery_attempt",
    "record_payment",
    "record_refund",
    "record_remittance",
    "record_return",
    "retry_email",
    "ship_order",
    "void_payment",
]
