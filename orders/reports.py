"""Reads for the operational reports (issue 12; DESIGN "URLs": ``/staff/reports/``).

A *business day* is a day in the shop's ``TIME_ZONE`` (``settings.TIME_ZONE``), midnight
to midnight. Every figure is aggregated in SQL and grouped by that day in SQL
(``TruncDate(..., tzinfo=shop zone)``: ``AT TIME ZONE`` on PostgreSQL, Django's own
conversion function on SQLite), so the number of queries is the same for a one-day and
a 366-day range, and for two people or two hundred (``build_report`` runs a fixed set of
twenty-five queries). Nothing here loops over orders in Python; the loops are over the
days of the range and over the people found.

Where a day is counted:

- *placed*, *goods value placed*, *confirmation rate* and *invalid rate*: the day the
  order was placed (of the orders placed that day, the share confirmed or marked invalid
  since: a cohort, so a rate never exceeds 100 %);
- *confirmed*, *invalid*, *cancelled*, *shipped*, *delivered*, *returned*: the day of the
  order's own timestamp (``confirmed_at``, ``invalidated_at``, ...);
- *refusal rate*: of the cash-on-delivery orders shipped that day, the share since
  returned after a refusal (a delivery attempt with outcome ``refused``, or a carrier's
  settlement line with outcome ``refused``) — this one needs the event history;
- the times (median, 90th percentile, in hours): by the day the later step happened.

Money comes from the ledger: payments and refunds in force (not voided) by their
``received_on`` date (already a business date), cash on delivery from ``CodCollection``
and ``Remittance``. People figures come from the event history (``OrderEvent.actor``),
the order's delivery person (``Order.assigned_to``) and the ledger's ``recorded_by``.
"""

import dataclasses
import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import (
    Aggregate,
    Count,
    DecimalField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from orders.models import (
    CodCollection,
    DeliveryOutcome,
    MoneyPosition,
    Order,
    OrderEvent,
    Payment,
    PaymentMethod,
    Remittance,
    Status,
)

MAX_DAYS = 366
ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)


# --- SQL helpers -------------------------------------------------------------------------


class Seconds(Func):
    """Seconds from ``start`` to ``end`` (two datetime columns), as a float, in SQL."""

    output_field = FloatField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores SQLite datetimes as ISO text in UTC; julianday() reads it.
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra_context,
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)",
            arg_joiner=" - ",
            **extra_context,
        )


class Percentile(Aggregate):
    """The continuous percentile ``fraction`` (0..1) of a numeric expression, in SQL.

    PostgreSQL's ``percentile_cont(f) WITHIN GROUP (ORDER BY x)``; on SQLite the same
    aggregate registered by ``register_sqlite_functions`` (same interpolation rule).
    """

    name = "Percentile"
    output_field = FloatField()
    template = "PERCENTILE_CONT(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction, **extra):
        fraction = float(fraction)
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(fraction), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="MALL_PERCENTILE_CONT(%(expressions)s, %(fraction)s)",
            **extra_context,
        )


class _PercentileCont:
    """SQLite aggregate with PostgreSQL's ``percentile_cont`` rule (linear interpolation)."""

    def __init__(self):
        self.values = []
        self.fraction = 0.5

    def step(self, value, fraction):
        if value is not None:
            self.values.append(float(value))
            self.fraction = float(fraction)

    def finalize(self):
        if not self.values:
            return None
        values = sorted(self.values)
        position = self.fraction * (len(values) - 1)
        low = int(position)
        high = min(low + 1, len(values) - 1)
        return values[low] + (values[high] - values[low]) * (position - low)


def register_sqlite_functions(sender, connection, **kwargs):
    """``connection_created`` receiver: give SQLite the percentile aggregate."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("MALL_PERCENTILE_CONT", 2, _PercentileCont)


def shop_zone():
    """The shop's time zone (``settings.TIME_ZONE``), whatever zone is active."""
    return timezone.get_default_timezone()


def day_bounds(first, last):
    """Aware datetimes ``[start, end)`` covering business days ``first``..``last``."""
    zone = shop_zone()
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(
        last + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    return start, end


def _day(field):
    return TruncDate(field, tzinfo=shop_zone())


def _hours(seconds):
    return None if seconds is None else round(seconds / 3600, 2)


def _rate(part, whole):
    return round(part / whole, 4) if whole else None


def _in(field, start, end):
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


# --- presets -----------------------------------------------------------------------------

PRESETS = ("today", "yesterday", "last_7_days", "this_month", "last_month")


def preset_range(name, today=None):
    """``(first, last)`` business days of a preset (``PRESETS``); ``today`` defaults to the
    shop's today. Raises ``KeyError`` for an unknown name."""
    today = today or timezone.localdate(timezone=shop_zone())
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - datetime.timedelta(days=1)
    return {
        "today": (today, today),
        "yesterday": (today - datetime.timedelta(days=1),) * 2,
        "last_7_days": (today - datetime.timedelta(days=6), today),
        "this_month": (first_of_month, today),
        "last_month": (last_month_end.replace(day=1), last_month_end),
    }[name]


# --- the report --------------------------------------------------------------------------


@dataclasses.dataclass
class DayFigures:
    """One business day's order figures (or the range's totals, ``day`` None)."""

    day: datetime.date | None
    placed: int = 0
    placed_confirmed: int = 0
    placed_invalid: int = 0
    confirmed: int = 0
    invalid: int = 0
    cancelled_by_member: int = 0
    cancelled_by_staff: int = 0
    shipped: int = 0
    delivered: int = 0
    returned: int = 0
    cod_shipped: int = 0
    cod_refused: int = 0
    value_placed: Decimal = ZERO
    value_shipped: Decimal = ZERO
    confirm_median: float | None = None  # hours
    confirm_p90: float | None = None
    ship_median: float | None = None
    ship_p90: float | None = None
    deliver_median: float | None = None
    deliver_p90: float | None = None

    @property
    def cancelled(self):
        return self.cancelled_by_member + self.cancelled_by_staff

    @property
    def confirmation_rate(self):
        """Share (0..1) of the orders placed that day confirmed since; None if none."""
        return _rate(self.placed_confirmed, self.placed)

    @property
    def invalid_rate(self):
        return _rate(self.placed_invalid, self.placed)

    @property
    def refusal_rate(self):
        """Share of the COD parcels shipped that day returned after a refusal."""
        return _rate(self.cod_refused, self.cod_shipped)


COUNTED = (
    "placed",
    "placed_confirmed",
    "placed_invalid",
    "confirmed",
    "invalid",
    "cancelled_by_member",
    "cancelled_by_staff",
    "shipped",
    "delivered",
    "returned",
    "cod_shipped",
    "cod_refused",
    "value_placed",
    "value_shipped",
)


@dataclasses.dataclass
class MoneyDay:
    day: datetime.date
    received: dict  # method -> Decimal
    refunds_credit_note: Decimal = ZERO
    refunds_money_back: Decimal = ZERO

    @property
    def received_total(self):
        return sum(self.received.values(), ZERO)


@dataclasses.dataclass
class CourierFigures:
    courier: object  # a user
    deliveries: int = 0
    failed_attempts: int = 0
    refusals: int = 0
    cash_collected: Decimal = ZERO
    remittances: int = 0
    remitted_expected: Decimal = ZERO
    remitted_counted: Decimal = ZERO
    remittance_difference: Decimal = ZERO


@dataclasses.dataclass
class AdminFigures:
    admin: object
    calls: int = 0
    confirmations: int = 0
    invalidations: int = 0
    attempts_per_confirmation: float | None = None


@dataclasses.dataclass
class ClerkFigures:
    clerk: object
    payments: int = 0
    payments_amount: Decimal = ZERO
    refunds: int = 0
    refunds_amount: Decimal = ZERO
    remittances: int = 0
    remitted_counted: Decimal = ZERO


@dataclasses.dataclass
class Report:
    """Everything ``/staff/reports/`` shows for business days ``first``..``last``.

    ``days``: one ``DayFigures`` per day, oldest first; ``totals``: the range's figures
    (times are the range's own median and 90th percentile, not an average of days);
    ``money_days``: one ``MoneyDay`` per day; ``methods``: the payment methods shown;
    ``cod``: the cash-on-delivery position now (``shipped_uncollected``,
    ``with_couriers``) and in the range (``remitted``), each ``(count, amount)``;
    ``refund_due``: ``(orders, amount)`` now; ``couriers``, ``admins``, ``clerks``.
    """

    first: datetime.date
    last: datetime.date
    days: list
    totals: DayFigures
    money_days: list
    methods: list
    cod: dict
    refund_due: tuple
    couriers: list
    admins: list
    clerks: list

    @property
    def received_totals(self):
        return {
            method: sum((d.received.get(method, ZERO) for d in self.money_days), ZERO)
            for method in self.methods
        }


def _refused_return():
    """Orders returned after a refusal: needs the event history (attempts, settlement)."""
    refused_attempt = OrderEvent.objects.filter(
        order=OuterRef("pk"),
        kind=OrderEvent.Kind.DELIVERY_ATTEMPTED,
        data__outcome=DeliveryOutcome.REFUSED,
    )
    refused_outcome = OrderEvent.objects.filter(
        order=OuterRef("pk"), kind=OrderEvent.Kind.RETURNED, data__outcome=DeliveryOutcome.REFUSED
    )
    return Q(status=Status.RETURNED) & (Exists(refused_attempt) | Exists(refused_outcome))


def _times(end_field, start_field):
    seconds = Seconds(F(end_field), F(start_field))
    return {"median": Percentile(seconds, 0.5), "p90": Percentile(seconds, 0.9)}


def _order_figures(first, last):
    """Per-day and total ``DayFigures``: a fixed ten queries whatever the range."""
    start, end = day_bounds(first, last)
    days = {}

    def add(queryset, field, aggregates, names=None):
        rows = (
            queryset.filter(_in(field, start, end))
            .annotate(business_day=_day(field))
            .values("business_day")
            .annotate(**aggregates)
            .order_by()
        )
        for row in rows:
            figures = days.setdefault(row["business_day"], DayFigures(row["business_day"]))
            for key, value in row.items():
                if key != "business_day":
                    setattr(figures, key, value if value is not None else getattr(figures, key))

    orders = Order.objects.all()
    cod = Q(payment_method=PaymentMethod.COD)
    by_member = Exists(
        OrderEvent.objects.filter(
            order=OuterRef("pk"), kind=OrderEvent.Kind.CANCELLED, data__by_member=True
        )
    )
    confirm_times, ship_times, deliver_times = (
        _times("confirmed_at", "placed_at"),
        _times("shipped_at", "confirmed_at"),
        _times("delivered_at", "shipped_at"),
    )
    add(
        orders,
        "placed_at",
        {
            "placed": Count("pk"),
            "placed_confirmed": Count("pk", filter=Q(confirmed_at__isnull=False)),
            "placed_invalid": Count("pk", filter=Q(invalidated_at__isnull=False)),
            "value_placed": Sum("subtotal"),
        },
    )
    add(
        orders,
        "confirmed_at",
        {
            "confirmed": Count("pk"),
            "confirm_median": confirm_times["median"],
            "confirm_p90": confirm_times["p90"],
        },
    )
    add(orders, "invalidated_at", {"invalid": Count("pk")})
    add(
        orders,
        "cancelled_at",
        {
            "cancelled_by_member": Count("pk", filter=Q(by_member)),
            "cancelled_by_staff": Count("pk", filter=~Q(by_member)),
        },
    )
    add(
        orders,
        "shipped_at",
        {
            "shipped": Count("pk"),
            "value_shipped": Sum("subtotal"),
            "cod_shipped": Count("pk", filter=cod),
            "cod_refused": Count("pk", filter=cod & _refused_return()),
            "ship_median": ship_times["median"],
            "ship_p90": ship_times["p90"],
        },
    )
    add(
        orders,
        "delivered_at",
        {
            "delivered": Count("pk"),
            "deliver_median": deliver_times["median"],
            "deliver_p90": deliver_times["p90"],
        },
    )
    add(orders, "returned_at", {"returned": Count("pk")})

    result = []
    day = first
    while day <= last:
        figures = days.get(day, DayFigures(day))
        for name in ("confirm", "ship", "deliver"):
            for stat in ("median", "p90"):
                key = f"{name}_{stat}"
                setattr(figures, key, _hours(getattr(figures, key)))
        result.append(figures)
        day += datetime.timedelta(days=1)

    totals = DayFigures(None)
    for name in COUNTED:
        setattr(
            totals, name, sum((getattr(d, name) for d in result), type(getattr(totals, name))())
        )
    for name, field, times in (
        ("confirm", "confirmed_at", confirm_times),
        ("ship", "shipped_at", ship_times),
        ("deliver", "delivered_at", deliver_times),
    ):
        row = orders.filter(_in(field, start, end)).aggregate(**times)
        setattr(totals, f"{name}_median", _hours(row["median"]))
        setattr(totals, f"{name}_p90", _hours(row["p90"]))
    return result, totals


def _money(first, last):
    """Money received per method and refunds per day (two queries), COD and refund due."""
    in_force = Payment.objects.filter(
        voided_at__isnull=True, received_on__gte=first, received_on__lte=last
    )
    by_day = {}
    day = first
    while day <= last:
        by_day[day] = MoneyDay(day, received={})
        day += datetime.timedelta(days=1)
    methods = set()
    for row in (
        in_force.filter(kind=Payment.Kind.PAYMENT)
        .values("received_on", "method")
        .annotate(amount=Sum("amount"))
        .order_by()
    ):
        by_day[row["received_on"]].received[row["method"]] = row["amount"]
        methods.add(row["method"])
    for row in (
        in_force.filter(kind=Payment.Kind.REFUND)
        .values("received_on", "credit_note")
        .annotate(amount=Sum("amount"))
        .order_by()
    ):
        money_day = by_day[row["received_on"]]
        if row["credit_note"]:
            money_day.refunds_credit_note = row["amount"]
        else:
            money_day.refunds_money_back = row["amount"]
    # Every method in its fixed order; the ones with money first come from the ledger.
    ordered = [m for m in PaymentMethod.values if m in methods or m == PaymentMethod.COD]
    ordered += sorted(methods - set(ordered))

    start, end = day_bounds(first, last)
    amount = Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY)
    uncollected = Order.objects.filter(
        MoneyPosition.due_q(), status=Status.SHIPPED, payment_method=PaymentMethod.COD
    ).aggregate(
        n=Count("pk"),
        amount=Coalesce(Sum(F("owed") - F("held")), Value(ZERO), output_field=MONEY),
    )
    in_hand = CodCollection.objects.filter(remittance__isnull=True).aggregate(
        n=Count("pk"), amount=amount
    )
    remitted = CodCollection.objects.filter(_in("remittance__received_at", start, end)).aggregate(
        n=Count("pk"), amount=amount
    )
    due = Order.objects.filter(MoneyPosition.credit_q()).aggregate(
        n=Count("pk"),
        amount=Coalesce(Sum(F("held") - F("owed")), Value(ZERO), output_field=MONEY),
    )
    cod = {
        "shipped_uncollected": (uncollected["n"], uncollected["amount"]),
        "with_couriers": (in_hand["n"], in_hand["amount"]),
        "remitted": (remitted["n"], remitted["amount"]),
    }
    return list(by_day.values()), ordered, cod, (due["n"], due["amount"])


def _people(first, last):
    """Per order admin, courier and finance clerk: a fixed eight queries, and one for the
    names when anyone acted."""
    start, end = day_bounds(first, last)
    kinds = OrderEvent.Kind
    admins, couriers, clerks = {}, {}, {}

    events = OrderEvent.objects.filter(_in("created_at", start, end))
    for row in (
        events.filter(
            actor__isnull=False, kind__in=[kinds.CALL_LOGGED, kinds.CONFIRMED, kinds.INVALIDATED]
        )
        .values("actor")
        .annotate(
            calls=Count("pk", filter=Q(kind=kinds.CALL_LOGGED)),
            confirmations=Count("pk", filter=Q(kind=kinds.CONFIRMED)),
            invalidations=Count("pk", filter=Q(kind=kinds.INVALIDATED)),
        )
        .order_by()
    ):
        admins[row.pop("actor")] = row
    # Attempts per confirmation: the calls logged on the order before it was confirmed,
    # plus the confirming call itself (event history). One join of each confirmation to
    # its order's earlier calls only (not a subquery per confirmation).
    for row in (
        events.filter(
            actor__isnull=False,
            kind=kinds.CONFIRMED,
            order__events__kind=kinds.CALL_LOGGED,
            order__events__created_at__lt=F("created_at"),
        )
        .values("actor")
        .annotate(calls=Count("order__events"))
        .order_by()
    ):
        admins[row["actor"]]["earlier_calls"] = row["calls"]
    for figures in admins.values():
        earlier = figures.pop("earlier_calls", 0)
        if figures["confirmations"]:
            average = (earlier + figures["confirmations"]) / figures["confirmations"]
            figures["attempts_per_confirmation"] = round(average, 2)

    def courier(pk):
        return couriers.setdefault(pk, {})

    for row in (
        Order.objects.filter(_in("delivered_at", start, end), assigned_to__isnull=False)
        .values("assigned_to")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        courier(row["assigned_to"])["deliveries"] = row["n"]
    for row in (
        events.filter(kind=kinds.DELIVERY_ATTEMPTED, order__assigned_to__isnull=False)
        .values("order__assigned_to")
        .annotate(
            n=Count("pk"),
            refused=Count("pk", filter=Q(data__outcome=DeliveryOutcome.REFUSED)),
        )
        .order_by()
    ):
        figures = courier(row["order__assigned_to"])
        figures["failed_attempts"] = row["n"]
        figures["refusals"] = row["refused"]
    for row in (
        CodCollection.objects.filter(_in("collected_at", start, end))
        .values("courier")
        .annotate(amount=Sum("amount"))
        .order_by()
    ):
        courier(row["courier"])["cash_collected"] = row["amount"]
    remittances = Remittance.objects.filter(_in("received_at", start, end))
    for row in (
        remittances.values("courier")
        .annotate(
            n=Count("pk"),
            expected=Sum("expected"),
            counted=Sum("counted"),
            difference=Sum("difference"),
        )
        .order_by()
    ):
        courier(row["courier"]).update(
            remittances=row["n"],
            remitted_expected=row["expected"],
            remitted_counted=row["counted"],
            remittance_difference=row["difference"],
        )

    for row in (
        Payment.objects.filter(_in("recorded_at", start, end))
        .values("recorded_by")
        .annotate(
            payments=Count("pk", filter=Q(kind=Payment.Kind.PAYMENT)),
            payments_amount=Coalesce(
                Sum("amount", filter=Q(kind=Payment.Kind.PAYMENT)), Value(ZERO), output_field=MONEY
            ),
            refunds=Count("pk", filter=Q(kind=Payment.Kind.REFUND)),
            refunds_amount=Coalesce(
                Sum("amount", filter=Q(kind=Payment.Kind.REFUND)), Value(ZERO), output_field=MONEY
            ),
        )
        .order_by()
    ):
        clerks[row.pop("recorded_by")] = row
    for row in (
        remittances.values("received_by").annotate(n=Count("pk"), counted=Sum("counted")).order_by()
    ):
        clerks.setdefault(row["received_by"], {}).update(
            remittances=row["n"], remitted_counted=row["counted"]
        )

    users = get_user_model().objects.in_bulk(set(admins) | set(couriers) | set(clerks))

    def ordered(found, cls, attribute):
        rows = [cls(users[pk], **values) for pk, values in found.items()]
        return sorted(rows, key=lambda r: getattr(r, attribute).get_username())

    return (
        ordered(admins, AdminFigures, "admin"),
        ordered(couriers, CourierFigures, "courier"),
        ordered(clerks, ClerkFigures, "clerk"),
    )


def build_report(first, last):
    """Return the ``Report`` for business days ``first``..``last`` (``date``s, inclusive).

    Raises ``ValueError`` if ``last`` is before ``first`` or the range is longer than
    ``MAX_DAYS`` (the page's form says so first). The query count does not depend on
    the length of the range or on the number of people.
    """
    if last < first:
        raise ValueError("last is before first")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValueError("range too long")
    days, totals = _order_figures(first, last)
    money_days, methods, cod, refund_due = _money(first, last)
    admins, couriers, clerks = _people(first, last)
    return Report(
        first=first,
        last=last,
        days=days,
        totals=totals,
        money_days=money_days,
        methods=methods,
        cod=cod,
        refund_due=refund_due,
        couriers=couriers,
        admins=admins,
        clerks=clerks,
    )


__all__ = [
    "MAX_DAYS",
    "PRESETS",
    "AdminFigures",
    "ClerkFigures",
    "CourierFigures",
    "DayFigures",
    "MoneyDay",
    "Percentile",
    "Report",
    "Seconds",
    "build_report",
    "day_bounds",
    "preset_range",
    "register_sqlite_functions",
    "shop_zone",
]
