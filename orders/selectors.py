"""Reads the pages need: who may see which orders, queues, timelines.

Scoping ("what this user may see") is written once here and used by list and detail
alike, so another member's order is a 404 everywhere.
"""

from django.db.models import Count, Min, Q

from orders.models import (
    FINANCE,
    LOGISTICS,
    ORDER_ADMINS,
    PREPAID_METHODS,
    STAFF_GROUPS,
    MoneyPosition,
    Order,
    OrderEvent,
    PaymentMethod,
    Status,
)


def staff_roles(user):
    """Return the set of staff group names ``user`` belongs to (cached on the user).

    A superuser holds every role. Anonymous users and members hold none.
    """
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_mall_staff_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(STAFF_GROUPS)
        else:
            cached = frozenset(
                user.groups.filter(name__in=STAFF_GROUPS).values_list("name", flat=True)
            )
        user._mall_staff_roles = cached
    return cached


def is_order_staff(user):
    """Whether ``user`` may enter the back office (DESIGN: "The staff role")."""
    return bool(staff_roles(user))


def sees_all_orders(user):
    """Order admins and finance see every order; logistics only their assigned ones."""
    roles = staff_roles(user)
    return ORDER_ADMINS in roles or FINANCE in roles


def orders_for_member(user):
    """The member's own orders, newest first."""
    return Order.objects.filter(customer=user).order_by("-placed_at", "-pk")


def orders_for_staff(user):
    """The orders ``user`` may see in the back office (none for non-staff)."""
    qs = Order.objects.all()
    if sees_all_orders(user):
        return qs
    if LOGISTICS in staff_roles(user):
        return qs.filter(assigned_to=user)
    return qs.none()


def deliveries_for(user):
    """Orders allocated to or out for delivery with ``user`` (a logistics person)."""
    return (
        Order.objects.filter(assigned_to=user, status__in=[Status.ALLOCATED, Status.SHIPPED])
        .select_related("customer")
        .order_by("status", "allocated_at", "pk")
    )


def member_timeline(order):
    """The events the member may see on their own order, oldest first.

    A payment or refund entry that finance later voided (a mistake) is left out, so the
    member's history agrees with the money shown as received.
    """
    voided = {
        str(pk)
        for pk in order.payments.filter(voided_at__isnull=False).values_list("pk", flat=True)
    }
    events = order.events.filter(kind__in=OrderEvent.MEMBER_VISIBLE).order_by("created_at", "pk")
    if not voided:
        return events
    return [event for event in events if str(event.data.get("payment_id")) not in voided]


def staff_timeline(order):
    """Every event of the order with its actor, oldest first."""
    return order.events.select_related("actor").order_by("created_at", "pk")


# The queue each role's order list opens on (issue 14), first role that matches wins.
ROLE_LIST_QUEUES = (
    (ORDER_ADMINS, "awaiting_confirmation"),
    (FINANCE, "awaiting_prepayment"),
    (LOGISTICS, "awaiting_shipment"),  # their own orders only: their deliveries
)


def default_list_query(user):
    """The query string the back-office order list opens on for ``user``: the queue of
    work waiting for their role (``ROLE_LIST_QUEUES``), or ``""`` (every order)."""
    roles = staff_roles(user)
    for role, key in ROLE_LIST_QUEUES:
        if role in roles:
            for queue in queue_definitions():
                if queue["key"] == key:
                    return queue["query"]
    return ""


# Queues on the dashboard: (key, label, filter, which roles see it, list query string).
def queue_definitions():
    """Return the dashboard queues as dicts with ``key``, ``q`` (a ``Q``), ``roles``, ``query``."""
    from django.utils.translation import gettext_lazy as _

    prepaid = list(PREPAID_METHODS)
    return [
        {
            "key": "awaiting_confirmation",
            "label": _("Awaiting confirmation call"),
            "q": Q(status=Status.SUBMITTED),
            "roles": {ORDER_ADMINS},
            "query": "status=submitted&sort=placed_at",
        },
        {
            "key": "awaiting_allocation",
            "label": _("Awaiting allocation"),
            "q": Q(status=Status.CONFIRMED),
            "roles": {ORDER_ADMINS},
            "query": "status=confirmed&sort=placed_at",
        },
        {
            "key": "awaiting_shipment",
            "label": _("Awaiting shipment"),
            "q": Q(status=Status.ALLOCATED),
            "roles": {ORDER_ADMINS, LOGISTICS},
            "query": "status=allocated&sort=placed_at",
        },
        {
            "key": "awaiting_prepayment",
            "label": _("Prepaid orders awaiting payment"),
            "q": Q(
                status__in=[Status.CONFIRMED, Status.ALLOCATED],
                payment_method__in=prepaid,
            )
            & MoneyPosition.due_q(),
            "roles": {FINANCE, ORDER_ADMINS},
            "query": "queue=awaiting_prepayment&sort=placed_at",
        },
        {
            "key": "out_for_delivery",
            "label": _("Out for delivery"),
            "q": Q(status=Status.SHIPPED),
            "roles": {ORDER_ADMINS, LOGISTICS},
            "query": "status=shipped&sort=placed_at",
        },
        {
            "key": "awaiting_cod_collection",
            "label": _("Cash on delivery to collect"),
            # Out or delivered, something due, and the cash not already in a courier's hands.
            "q": Q(
                status__in=[Status.SHIPPED, Status.DELIVERED],
                payment_method=PaymentMethod.COD,
            )
            & MoneyPosition.due_q()
            & ~Q(cod_collection__remittance__isnull=True, cod_collection__isnull=False),
            "roles": {FINANCE, ORDER_ADMINS},
            "query": "queue=awaiting_cod_collection&sort=placed_at",
        },
        {
            "key": "cash_with_couriers",
            "label": _("Cash with couriers, not handed over"),
            "q": Q(cod_collection__isnull=False, cod_collection__remittance__isnull=True),
            "roles": {FINANCE, ORDER_ADMINS},
            "query": "queue=cash_with_couriers&sort=placed_at",
        },
        {
            "key": "refund_due",
            "label": _("Refund due (money held beyond what is owed)"),
            "q": MoneyPosition.credit_q(),
            "roles": {FINANCE, ORDER_ADMINS},
            "query": "queue=refund_due&sort=placed_at",
        },
    ]


def dashboard_queues(user):
    """Queues visible to ``user`` with ``count`` and ``oldest`` (placed_at) filled in.

    One aggregate query for all queues.
    """
    roles = staff_roles(user)
    queues = [q for q in queue_definitions() if q["roles"] & roles]
    if not queues:
        return []
    aggregates = {}
    for q in queues:
        aggregates[f"{q['key']}__count"] = Count("pk", filter=q["q"])
        aggregates[f"{q['key']}__oldest"] = Min("placed_at", filter=q["q"])
    values = orders_for_staff(user).aggregate(**aggregates)
    for q in queues:
        q["count"] = values[f"{q['key']}__count"]
        q["oldest"] = values[f"{q['key']}__oldest"]
    return queues


def queue_filter(key):
    """The ``Q`` of the dashboard queue named ``key``, or ``None``."""
    for q in queue_definitions():
        if q["key"] == key:
            return q["q"]
    return None


def status_counts(queryset):
    """Return ``{status: count}`` for ``queryset`` in one query."""
    return dict(queryset.order_by().values_list("status").annotate(n=Count("pk")))


def with_delivery_attempts(queryset):
    """Annotate each order of ``queryset`` with ``attempts``: its ``DELIVERY_ATTEMPTED``
    events (an int, 0 if none), as a correlated subquery so a list costs no query per row."""
    from django.db.models import IntegerField, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    attempts = (
        OrderEvent.objects.filter(order=OuterRef("pk"), kind=OrderEvent.Kind.DELIVERY_ATTEMPTED)
        .order_by()
        .values("order")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return queryset.annotate(
        attempts=Coalesce(
            Subquery(attempts, output_field=IntegerField()), Value(0), output_field=IntegerField()
        )
    )


def stops_for(courier, day):
    """The orders ``courier`` carries on ``day`` (a date), in the order of the run sheet.

    Allocated or out for delivery with them, unless a later attempt was agreed (next
    attempt date after ``day``); the agreed dates first, earliest first, then the rest by
    allocation time (DESIGN "Cash on delivery"; the courier's run sheet).
    """
    from django.db.models import F

    return (
        Order.objects.filter(assigned_to=courier, status__in=[Status.ALLOCATED, Status.SHIPPED])
        .filter(Q(next_attempt_on__isnull=True) | Q(next_attempt_on__lte=day))
        .order_by(F("next_attempt_on").asc(nulls_last=True), "allocated_at", "pk")
    )


def cash_in_hand_of(courier):
    """The cash ``courier`` took at the door and has not handed over yet (``Decimal``).

    The sum of their ``CodCollection`` rows without a remittance; one query."""
    from decimal import Decimal

    from django.db.models import Sum

    from orders.models import CodCollection

    total = CodCollection.objects.filter(courier=courier, remittance__isnull=True).aggregate(
        total=Sum("amount")
    )["total"]
    return total if total is not None else Decimal("0.00")
