"""Allocation to a courier and the shipment."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mall.people import person_name
from orders import locks
from orders.exceptions import (
    InvalidInput,
    TransitionNotAllowed,
)
from orders.models import (
    LOGISTICS,
    OWN_DELIVERY_STAFF,
    Order,
    OrderEvent,
    Status,
)
from orders.services import _bookkeeping as bookkeeping
from orders.services import _guards as guards
from orders.services import _inputs as inputs


def logistics_staff():
    """Active users of the Logistics group, by name: the people an order can go to."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=LOGISTICS)
        .order_by("first_name", "last_name", "username")
        .distinct()
    )


def check_allocate(actor, order):
    """Raise unless ``actor`` (order admin) may allocate ``order`` now (confirmed/allocated)."""
    guards.require_perm(actor, order.allocate)
    guards.require_state(
        order.allocate,
        _("Only confirmed orders can be allocated.")
        if order.status == Status.SUBMITTED
        else guards.check_status_message(order),
    )


def check_ship(actor, order):
    """Raise unless ``actor`` may record the shipment of ``order`` now.

    Order admins ship any allocated order, a logistics person the ones assigned to them;
    a prepaid order must be paid first, cash on delivery ships unpaid.
    """
    guards.require_perm(actor, order.ship)
    guards.require_state(
        order.ship,
        _("Allocate the order to a delivery person before recording the shipment.")
        if order.status in (Status.SUBMITTED, Status.CONFIRMED)
        else guards.check_status_message(order),
    )
    if not order.nothing_due_if_prepaid():
        raise TransitionNotAllowed(
            _(
                "This order is paid by %(method)s and is not paid yet (%(state)s): finance must "
                "record the payment before it ships."
            )
            % {
                "method": order.get_payment_method_display().lower(),
                "state": order.get_payment_status_display().lower(),
            },
            code="unpaid",
        )


def allocate_order(actor, order, *, assignee):
    """Allocate a confirmed order to ``assignee``, or re-assign an allocated one.

    ``assignee`` must be an active member of the Logistics group, and differ from the
    current one. The event records the old and new assignee. Raises ``NotPermitted``,
    ``TransitionNotAllowed``, ``InvalidInput``. Returns the order.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_allocate(actor, order)
        if assignee is None or not logistics_staff().filter(pk=assignee.pk).exists():
            raise InvalidInput(_("Choose a person from the Logistics group."), code="assignee")
        if order.assigned_to_id == assignee.pk:
            raise InvalidInput(_("The order is already assigned to this person."), code="assignee")
        previous = order.assigned_to
        before = bookkeeping.state(order)
        order.allocate()
        order.assigned_to = assignee
        order.allocated_at = timezone.now()
        bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.REALLOCATED if previous else OrderEvent.Kind.ALLOCATED,
            before=before,
            data={
                "from": previous.get_username() if previous else None,
                "from_name": person_name(previous) if previous else None,
                "to": assignee.get_username(),
                "to_name": person_name(assignee),
            },
            fields=["status", "assigned_to", "allocated_at"],
        )
    return order


def ship_order(actor, order, *, carrier, tracking_number=""):
    """Record the shipment of an allocated order.

    ``carrier``: the carrier's name, or ``Order.OWN_DELIVERY_STAFF`` (``"own"``) for the
    shop's own delivery staff; ``tracking_number``: the waybill number, required unless
    the carrier is the shop's own staff, and not already on another order of the same
    carrier (a settlement file finds orders by it). Allowed to order admins, and to the
    logistics person the order is assigned to; a prepaid order must have nothing due.
    Raises ``NotPermitted``, ``TransitionNotAllowed`` (code ``unpaid`` for a prepaid order
    with money due), ``InvalidInput``. Returns the order.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_ship(actor, order)
        carrier = inputs.clean_text(carrier, _("The carrier"), required=True, max_length=100)
        own = carrier == OWN_DELIVERY_STAFF
        tracking_number = inputs.clean_code(
            tracking_number, _("The waybill number"), required=not own, max_length=100
        )
        if (
            tracking_number
            and Order.objects.filter(
                carrier__iexact=carrier, tracking_number__iexact=tracking_number
            )
            .exclude(pk=order.pk)
            .exists()
        ):
            raise InvalidInput(
                _("Waybill %(number)s of this carrier is already on another order.")
                % {"number": tracking_number},
                code="duplicate_waybill",
            )
        before = bookkeeping.state(order)
        order.ship()
        order.carrier, order.tracking_number = carrier, tracking_number
        order.shipped_at = timezone.now()
        bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.SHIPPED,
            before=before,
            data={"carrier": carrier, "tracking_number": tracking_number},
            fields=["status", "carrier", "tracking_number", "shipped_at"],
        )
        bookkeeping.notify(order, "shipped")
    return order
