"""Reads the pages need: who may see which orders, queues, timelines.

Scoping ("what this user may see") is written once here and used by list and detail
alike, so another member's order is a 404 everywhere.
"""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Concat, Replace
from django.utils import timezone

from mall.formatting import normalize_typed
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
    now = timezone.now()
    return [
        {
            "key": "awaiting_confirmation",
            "label": _("Awaiting confirmation call"),
            # A call-back booked for later keeps the order out of this queue until then.
            "q": Q(status=Status.SUBMITTED)
            & (Q(call_back_at__isnull=True) | Q(call_back_at__lte=now)),
            "roles": {ORDER_ADMINS},
            "query": "queue=awaiting_confirmation&sort=placed_at",
        },
        {
            "key": "calls_due",
            "label": _("Calls due"),
            # The member asked to be called back and the time has come (DESIGN ``log_call``).
            "q": Q(call_back_at__lte=now, status__in=CALLABLE_STATUSES),
            "roles": {ORDER_ADMINS},
            "query": "queue=calls_due",
            "oldest_field": "call_back_at",
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
            # Shipped or delivered too: money paid back after shipping is owed again.
            "q": Q(
                status__in=[Status.CONFIRMED, Status.ALLOCATED, Status.SHIPPED, Status.DELIVERED],
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
    """Queues visible to ``user`` with ``count`` and ``oldest`` filled in (``placed_at``, or
    the queue's ``oldest_field``: the earliest call-back of "Calls due"); the
    awaiting-confirmation queue also gets ``overdue``, the orders waiting past
    ``MALL_CONFIRM_TARGET_HOURS``.

    One aggregate query for all queues.
    """
    roles = staff_roles(user)
    queues = [q for q in queue_definitions() if q["roles"] & roles]
    if not queues:
        return []
    aggregates = {}
    for q in queues:
        aggregates[f"{q['key']}__count"] = Count("pk", filter=q["q"])
        aggregates[f"{q['key']}__oldest"] = Min(q.get("oldest_field", "placed_at"), filter=q["q"])
        if q["key"] == "awaiting_confirmation":
            aggregates["awaiting_confirmation__overdue"] = Count("pk", filter=overdue_q())
    values = orders_for_staff(user).aggregate(**aggregates)
    for q in queues:
        q["count"] = values[f"{q['key']}__count"]
        q["oldest"] = values[f"{q['key']}__oldest"]
        if q["key"] == "awaiting_confirmation":
            q["overdue"] = values["awaiting_confirmation__overdue"]
    return queues


# Statuses on which a booked call-back still means a call to make (calls stop at shipping).
CALLABLE_STATUSES = (Status.SUBMITTED, Status.CONFIRMED, Status.ALLOCATED, Status.INVALID)


def confirm_target_start(now=None):
    """Orders placed before this moment and still awaiting their call are past the
    ``MALL_CONFIRM_TARGET_HOURS`` target (highlighted in the list, counted on the dashboard)."""
    return (now or timezone.now()) - datetime.timedelta(hours=settings.MALL_CONFIRM_TARGET_HOURS)


def overdue_q(now=None):
    """The orders in the awaiting-confirmation queue placed before ``confirm_target_start``:
    waiting past ``MALL_CONFIRM_TARGET_HOURS`` for their call (the dashboard counts them,
    the list highlights them). ``now``: an aware datetime, default the current time."""
    now = now or timezone.now()
    return (
        Q(status=Status.SUBMITTED)
        & (Q(call_back_at__isnull=True) | Q(call_back_at__lte=now))
        & Q(placed_at__lt=confirm_target_start(now))
    )


def with_call_attempts(queryset, now=None):
    """Annotate ``call_attempts`` (calls logged), ``unanswered_calls`` (no answer or
    wrong number) and ``overdue`` (``overdue_q``: a bool) on each order: two correlated
    subqueries and an expression, no extra query per row."""
    calls = OrderEvent.objects.filter(order=OuterRef("pk"), kind=OrderEvent.Kind.CALL_LOGGED)

    def counted(events):
        # SUM(1) rather than COUNT: the list's one COUNT stays the status tabs' (bench/).
        return Coalesce(
            Subquery(
                events.order_by().values("order").annotate(n=Sum(Value(1))).values("n"),
                output_field=IntegerField(),
            ),
            Value(0),
        )

    return queryset.annotate(
        call_attempts=counted(calls),
        unanswered_calls=counted(calls.filter(data__outcome__in=["no_answer", "wrong_number"])),
        overdue=ExpressionWrapper(overdue_q(now), output_field=BooleanField()),
    )


def unanswered_calls(order):
    """How many calls logged on ``order`` did not reach the member (one query)."""
    return order.events.filter(
        kind=OrderEvent.Kind.CALL_LOGGED, data__outcome__in=["no_answer", "wrong_number"]
    ).count()


def queue_filter(key):
    """The ``Q`` of the dashboard queue named ``key``, or ``None``."""
    for q in queue_definitions():
        if q["key"] == key:
            return q["q"]
    return None


# The statuses staff work through: few orders each (the shop's open orders), counted
# exactly. The others (the archive: shipped, delivered, returned, invalid, cancelled)
# grow with the shop's history and are counted up to ``TAB_COUNT_CAP`` only.
WORKING_STATUSES = (Status.SUBMITTED, Status.CONFIRMED, Status.ALLOCATED)
TAB_COUNT_CAP = 1_000
# The key of ``status_counts`` for the awaiting-confirmation queue's orders.
AWAITING = "awaiting_confirmation"


class TabCount(int):
    """A tab's count: an ``int`` with ``capped`` set when there are *more* than it.

    A capped count is ``TAB_COUNT_CAP`` and shows as "1,000+"; adding a capped count
    gives a capped sum.
    """

    capped = False

    @classmethod
    def of(cls, n, capped=False):
        count = cls(n)
        count.capped = capped
        return count

    def __add__(self, other):
        return TabCount.of(int(self) + int(other), self.capped or getattr(other, "capped", False))

    __radd__ = __add__

    def __str__(self):
        from django.utils.formats import number_format

        text = number_format(int(self), force_grouping=True)
        return f"{text}+" if self.capped else text


# A searched list's tabs are counted from its matching rows in one pass when there are
# at most this many (a search by name or number matches tens or hundreds).
SELECTIVE_COUNT_LIMIT = 2_000


def status_counts(queryset, *, cap=None, now=None, selective=False):
    """Count ``queryset``'s orders per status, in one query whatever the table's size.

    Returns ``{status: TabCount}`` for every ``Status`` value, plus ``AWAITING``: the
    submitted orders in the awaiting-confirmation queue (a call-back booked for later
    keeps an order out until then, ``queue_definitions``), the count the "Awaiting
    confirmation" tab shows and lists. ``WORKING_STATUSES`` and ``AWAITING`` are exact;
    any other status with more than ``cap`` orders is ``TabCount(cap)`` with
    ``capped=True`` ("1,000+"; ``cap`` defaults to ``TAB_COUNT_CAP``): each is read
    up to ``cap + 1`` index entries, so the query costs the same at ten thousand orders
    or a million.

    ``selective``: ``queryset`` is filtered by something that matches few orders (a
    search): its rows' statuses are read once, up to ``SELECTIVE_COUNT_LIMIT``, and
    counted here (one index pass instead of one per status); beyond the limit the counts
    are made per status as above. The result is the same either way.
    """
    from django.db import connections

    cap = TAB_COUNT_CAP if cap is None else cap
    queryset = queryset.order_by()
    now = now or timezone.now()
    if selective:
        rows = list(queryset.values_list("status", "call_back_at")[: SELECTIVE_COUNT_LIMIT + 1])
        if len(rows) <= SELECTIVE_COUNT_LIMIT:
            tally = dict.fromkeys([*Status.values, AWAITING], 0)
            for status, call_back_at in rows:
                tally[status] += 1
                if status == Status.SUBMITTED and (call_back_at is None or call_back_at <= now):
                    tally[AWAITING] += 1
            return {key: _tab_count(key, n, cap) for key, n in tally.items()}
    keys, parts, params = [], [], []
    # Submitted orders are counted in two parts that add up: the awaiting queue (its own
    # index) and those whose call-back is still to come (few: the call-back index).
    later = "submitted_call_back_later"
    subsets = [
        (status, queryset.filter(status=status))
        for status in Status.values
        if status != Status.SUBMITTED
    ]
    subsets.append(
        (
            AWAITING,
            queryset.filter(status=Status.SUBMITTED).filter(
                Q(call_back_at__isnull=True) | Q(call_back_at__lte=now)
            ),
        )
    )
    subsets.append((later, queryset.filter(status=Status.SUBMITTED, call_back_at__gt=now)))
    for key, subset in subsets:
        subset = subset.values("pk")
        if key not in WORKING_STATUSES and key not in (AWAITING, later):
            subset = subset[: cap + 1]
        sql, sql_params = subset.query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS tab_{len(keys)})")  # noqa: S608
        params.extend(sql_params)
        keys.append(key)
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    counts = {key: _tab_count(key, n, cap) for key, n in zip(keys, row, strict=True)}
    counts[Status.SUBMITTED] = TabCount.of(counts[AWAITING] + counts.pop(later))
    return counts


def _tab_count(key, n, cap):
    """``n`` as a tab's count: exact for the working queues (``WORKING_STATUSES``, the
    awaiting queue), "cap+" for an archive status with more than ``cap``."""
    if n > cap and key not in WORKING_STATUSES and key != AWAITING:
        return TabCount.of(cap, capped=True)
    return TabCount.of(n)


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

    total = CodCollection.objects.in_hand(courier).aggregate(total=Sum("amount"))["total"]
    return total if total is not None else Decimal("0.00")


MEMBER_SEARCH_LIMIT = 20


def members():
    """The shop's members: active accounts that are not staff (no staff role, not Django
    staff, not superuser). Orders by phone and the member search are for them only."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=False, is_superuser=False)
        .exclude(groups__name__in=STAFF_GROUPS)
    )


def phone_key(phone):
    """The digits that identify a phone number, whatever way it was typed: full-width
    digits read as ASCII (NFKC), spaces and dashes dropped, and China's country code
    (``+86`` / ``0086``) taken off a mobile number (11 digits from 1). ``""`` when none."""
    digits = "".join(c for c in normalize_typed(str(phone or "")) if c.isascii() and c.isdigit())
    for prefix in ("0086", "86"):
        rest = digits[len(prefix) :]
        if digits.startswith(prefix) and len(rest) == 11 and rest.startswith("1"):
            return rest
    return digits


def member_with_phone(phone):
    """The member registered with ``phone`` (its ``phone_key`` as username, as
    ``create_member`` makes them) or who gave it on one of their orders (with or without
    the country code), or ``None``."""
    key = phone_key(phone)
    if not key:
        return None
    spellings = [key, f"86{key}", f"0086{key}"]
    return (
        members()
        .filter(
            Q(username__in=spellings)
            | Q(username__startswith=f"{key}-")
            | Q(pk__in=_orders_by_bare_phone(bare__in=spellings).values("customer_id"))
        )
        .order_by("pk")
        .first()
    )


def _orders_by_bare_phone(**lookup):
    """Orders filtered on their phone with spaces, dashes and ``+`` taken out: pass
    ``bare=digits`` (exact) or ``bare__contains=digits``."""
    return Order.objects.annotate(
        bare=Replace(
            Replace(Replace("phone", Value(" "), Value("")), Value("-"), Value("")),
            Value("+"),
            Value(""),
        )
    ).filter(**lookup)


def find_members(query, limit=MEMBER_SEARCH_LIMIT):
    """Members (``members()``: never staff accounts) matching ``query`` by name, username
    or e-mail, or by a phone number on one of their orders (the digits alone match too).
    At most ``limit``, by name."""
    query = normalize_typed(str(query or "").replace("\x00", ""))[:100]
    if not query:
        return []
    squeezed = query.replace(" ", "")
    people = (
        get_user_model()
        .objects.annotate(
            family_first=Concat("last_name", "first_name"),
            given_first=Concat("first_name", "last_name"),
        )
        .filter(Q(family_first__icontains=squeezed) | Q(given_first__icontains=squeezed))
    )
    condition = (
        Q(username__icontains=query)
        | Q(email__icontains=query)
        | Q(first_name__icontains=query)
        | Q(last_name__icontains=query)
        | Q(pk__in=people.values("pk"))
        # A member who registered online has no name on the account: the name they give
        # on the phone is the recipient of their orders.
        | Q(pk__in=Order.objects.filter(recipient__icontains=query).values("customer_id"))
    )
    digits = "".join(c for c in query if c.isascii() and c.isdigit())
    if len(digits) >= 4 and len(digits) >= len(query.replace(" ", "").replace("-", "")) - 2:
        phones = Order.objects.filter(phone__icontains=query).values("customer_id")
        condition |= Q(pk__in=phones) | Q(username__icontains=digits)
        condition |= Q(pk__in=_orders_by_bare_phone(bare__contains=digits).values("customer_id"))
    return list(members().filter(condition).order_by("first_name", "last_name", "username")[:limit])


def last_address(member):
    """The delivery address of ``member``'s latest order (a dict), or ``None``."""
    order = orders_for_member(member).first()
    return order.address_dict if order else None
