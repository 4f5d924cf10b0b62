"""Reads for the operational reports (issue 12; DESIGN "URLs": ``/staff/reports/``).

A *business day* is a day in the shop's ``TIME_ZONE`` (``settings.TIME_ZONE``), midnight
to midnight. Every figure is aggregated in SQL and grouped by that day in SQL
(``TruncDate(..., tzinfo=shop zone)``: ``AT TIME ZONE`` on PostgreSQL, Django's own
conversion function on SQLite). Nothing here loops over orders in Python; the loops are
over the days of the range and over the people found.

Closed days (ended in the shop's zone ten minutes ago or more) are read from their
roll-ups (``orders.report_days``: one row per day, computed by the very queries below on
first use, forgotten by the services when a change touches the day); the open day, and
closed days not rolled up yet, are counted live by ``_live`` (a fixed seventeen queries for any
set of days). What does not add up across days is always live: the range's own median
and 90th percentile times (three index-only scans) and the "now" figures (three). So a
report runs a fixed number of queries whatever the length of the range or the number of
people (with someone to name): 25 when today is in the range and the closed days are
rolled up (1 read, 17 live, 3 + 3, 1 for the names), 27 when closed days are computed
and kept (2 more writes, in a transaction), 8 for a range of closed days all rolled up.

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
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from orders import report_days
from orders.models import (
    COD_OUTSTANDING_STATUSES,
    OWN_DELIVERY_STAFF,
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
            # date_part is double precision already (EXTRACT is numeric: slower to sort).
            template="date_part('epoch', %(expressions)s)",
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
    ``cod``: the cash-on-delivery position now (``shipped_uncollected``: out for
    delivery; ``carrier_unsettled``: delivered by a carrier, its settlement file not
    applied yet; ``with_couriers``: collected by the shop's own couriers, not remitted)
    and in the range (``remitted``), each ``(count, amount)``;
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


TIMES = (
    ("confirm", "confirmed_at", "placed_at"),
    ("ship", "shipped_at", "confirmed_at"),
    ("deliver", "delivered_at", "shipped_at"),
)
TIMED = tuple(f"{name}_{stat}" for name, _end, _start in TIMES for stat in ("median", "p90"))


# --- one business day's figures, live or rolled up ---------------------------------------
#
# ``_live(days)`` computes, for any set of business days, every figure that adds up
# across days, per day: the order counts and values, the day's own median and 90th
# percentile times (in seconds), money per method, refunds, COD remitted, and each
# person's counts. A closed day's result is what ``orders.report_days`` keeps; a report
# adds the days up. What does not add up across days (the range's own percentiles) and
# what is "now" (cash out, refund due) is always read live.

# Money figures (Decimal): stored in a roll-up as text, read back as Decimal.
_MONEY_KEYS = frozenset(
    {
        "value_placed",
        "value_shipped",
        "refunds_credit_note",
        "refunds_money_back",
        "cod_remitted_amount",
        "cash_collected",
        "remitted_expected",
        "remitted_counted",
        "remittance_difference",
        "payments_amount",
        "refunds_amount",
    }
)
_PEOPLE = ("admins", "couriers", "clerks")


def _blank_day():
    return {
        "orders": {},
        "received": {},
        "refunds_credit_note": ZERO,
        "refunds_money_back": ZERO,
        "cod_remitted": 0,
        "cod_remitted_amount": ZERO,
        "admins": {},
        "couriers": {},
        "clerks": {},
    }


def _to_json(day):
    """A day's figures as JSON-able data (Decimal as text, people's keys as text)."""

    def plain(value):
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return value

    return plain(day)


def _from_json(data):
    """The inverse of ``_to_json``."""

    def money(values):
        return {
            k: Decimal(v) if k in _MONEY_KEYS and v is not None else v for k, v in values.items()
        }

    day = money({k: v for k, v in data.items() if k not in ("orders", "received", *_PEOPLE)})
    day.pop("version", None)
    day.pop("zone", None)
    day["orders"] = money(data["orders"])
    day["received"] = {method: Decimal(v) for method, v in data["received"].items()}
    for group in _PEOPLE:
        day[group] = {int(pk): money(values) for pk, values in data[group].items()}
    return day


class _Span:
    """A set of business days as SQL conditions: one range per run of consecutive days
    (the days a report computes live are today and the closed days not rolled up yet)."""

    def __init__(self, days):
        self.runs = []
        for day in sorted(days):
            if self.runs and self.runs[-1][1] + datetime.timedelta(days=1) == day:
                self.runs[-1][1] = day
            else:
                self.runs.append([day, day])
        self.bounds = [day_bounds(first, last) for first, last in self.runs]

    def q(self, field):
        """``field`` (a datetime) falls on one of the days."""
        condition = Q()
        for start, end in self.bounds:
            condition |= _in(field, start, end)
        return condition

    def q_date(self, field):
        """``field`` (a date) is one of the days."""
        condition = Q()
        for first, last in self.runs:
            condition |= Q(**{f"{field}__gte": first, f"{field}__lte": last})
        return condition


def _by_day(queryset, field, span, *group, **aggregates):
    """Rows of ``aggregates`` per business day of ``field`` (and per ``group`` fields)."""
    return (
        queryset.filter(span.q(field))
        .annotate(business_day=_day(field))
        .values("business_day", *group)
        .annotate(**aggregates)
        .order_by()
    )


def _live_orders(span, out):
    """Order figures per day: a fixed seven queries whatever the days."""
    orders = Order.objects.all()
    cod = Q(payment_method=PaymentMethod.COD)
    by_member = Exists(
        OrderEvent.objects.filter(
            order=OuterRef("pk"), kind=OrderEvent.Kind.CANCELLED, data__by_member=True
        )
    )
    times = {name: _times(end, start) for name, end, start in TIMES}

    def add(field, aggregates):
        for row in _by_day(orders, field, span, **aggregates):
            day = out.get(row.pop("business_day"))
            if day is not None:
                day["orders"].update({k: v for k, v in row.items() if v is not None})

    add(
        "placed_at",
        {
            "placed": Count("pk"),
            "placed_confirmed": Count("pk", filter=Q(confirmed_at__isnull=False)),
            "placed_invalid": Count("pk", filter=Q(invalidated_at__isnull=False)),
            "value_placed": Sum("subtotal"),
        },
    )
    add(
        "confirmed_at",
        {
            "confirmed": Count("pk"),
            "confirm_median": times["confirm"]["median"],
            "confirm_p90": times["confirm"]["p90"],
        },
    )
    add("invalidated_at", {"invalid": Count("pk")})
    add(
        "cancelled_at",
        {
            "cancelled_by_member": Count("pk", filter=Q(by_member)),
            "cancelled_by_staff": Count("pk", filter=~Q(by_member)),
        },
    )
    # The refusal rate needs the event history: an EXISTS per COD parcel returned.
    add(
        "shipped_at",
        {
            "shipped": Count("pk"),
            "value_shipped": Sum("subtotal"),
            "cod_shipped": Count("pk", filter=cod),
            "cod_refused": Count("pk", filter=cod & _refused_return()),
            "ship_median": times["ship"]["median"],
            "ship_p90": times["ship"]["p90"],
        },
    )
    add(
        "delivered_at",
        {
            "delivered": Count("pk"),
            "deliver_median": times["deliver"]["median"],
            "deliver_p90": times["deliver"]["p90"],
        },
    )
    add("returned_at", {"returned": Count("pk")})


def _live_money(span, out):
    """Money received per method, refunds and COD remitted per day: three queries."""
    in_force = Payment.objects.filter(span.q_date("received_on"), voided_at__isnull=True)
    for row in (
        in_force.filter(kind=Payment.Kind.PAYMENT)
        .values("received_on", "method")
        .annotate(amount=Sum("amount"))
        .order_by()
    ):
        if row["received_on"] in out:
            out[row["received_on"]]["received"][row["method"]] = row["amount"]
    for row in (
        in_force.filter(kind=Payment.Kind.REFUND)
        .values("received_on", "credit_note")
        .annotate(amount=Sum("amount"))
        .order_by()
    ):
        if row["received_on"] in out:
            key = "refunds_credit_note" if row["credit_note"] else "refunds_money_back"
            out[row["received_on"]][key] = row["amount"]
    for row in _by_day(
        CodCollection.objects.all(),
        "remittance__received_at",
        span,
        n=Count("pk"),
        amount=Sum("amount"),
    ):
        day = out.get(row["business_day"])
        if day is not None:
            day["cod_remitted"], day["cod_remitted_amount"] = row["n"], row["amount"]


def _live_people(span, out):
    """Per order admin, courier and finance clerk, per day: a fixed seven queries."""
    kinds = OrderEvent.Kind

    def person(group, business_day, pk):
        day = out.get(business_day)
        return {} if day is None else day[group].setdefault(pk, {})

    events = OrderEvent.objects.all()
    # Attempts per confirmation: the calls logged on the order before it was confirmed,
    # plus the confirming call itself (event history): per confirmation, a count of its
    # order's earlier calls (index-only on ``event_call_order_idx``), in the same query.
    # (COUNT(1) without GROUP BY: one row, 0 when none; reads no column outside the index.)
    earlier_calls = Subquery(
        OrderEvent.objects.filter(
            order=OuterRef("order"), kind=kinds.CALL_LOGGED, created_at__lt=OuterRef("created_at")
        )
        .order_by()
        .annotate(n=Func(Value(1), function="COUNT", output_field=IntegerField()))
        .values("n")
    )
    for row in _by_day(
        events.filter(
            actor__isnull=False, kind__in=[kinds.CALL_LOGGED, kinds.CONFIRMED, kinds.INVALIDATED]
        ),
        "created_at",
        span,
        "actor",
        calls=Count("pk", filter=Q(kind=kinds.CALL_LOGGED)),
        confirmations=Count("pk", filter=Q(kind=kinds.CONFIRMED)),
        invalidations=Count("pk", filter=Q(kind=kinds.INVALIDATED)),
        earlier_calls=Coalesce(Sum(earlier_calls, filter=Q(kind=kinds.CONFIRMED)), 0),
    ):
        person("admins", row.pop("business_day"), row.pop("actor")).update(row)

    for row in _by_day(
        Order.objects.filter(assigned_to__isnull=False),
        "delivered_at",
        span,
        "assigned_to",
        n=Count("pk"),
    ):
        person("couriers", row["business_day"], row["assigned_to"])["deliveries"] = row["n"]
    for row in _by_day(
        events.filter(kind=kinds.DELIVERY_ATTEMPTED, order__assigned_to__isnull=False),
        "created_at",
        span,
        "order__assigned_to",
        n=Count("pk"),
        refused=Count("pk", filter=Q(data__outcome=DeliveryOutcome.REFUSED)),
    ):
        figures = person("couriers", row["business_day"], row["order__assigned_to"])
        figures["failed_attempts"] = row["n"]
        figures["refusals"] = row["refused"]
    for row in _by_day(
        CodCollection.objects.all(), "collected_at", span, "courier", amount=Sum("amount")
    ):
        person("couriers", row["business_day"], row["courier"])["cash_collected"] = row["amount"]
    remittances = Remittance.objects.all()
    for row in _by_day(
        remittances,
        "received_at",
        span,
        "courier",
        n=Count("pk"),
        expected=Sum("expected"),
        counted=Sum("counted"),
        difference=Sum("difference"),
    ):
        person("couriers", row["business_day"], row["courier"]).update(
            remittances=row["n"],
            remitted_expected=row["expected"],
            remitted_counted=row["counted"],
            remittance_difference=row["difference"],
        )
    for row in _by_day(
        Payment.objects.all(),
        "recorded_at",
        span,
        "recorded_by",
        payments=Count("pk", filter=Q(kind=Payment.Kind.PAYMENT)),
        payments_amount=Coalesce(
            Sum("amount", filter=Q(kind=Payment.Kind.PAYMENT)), Value(ZERO), output_field=MONEY
        ),
        refunds=Count("pk", filter=Q(kind=Payment.Kind.REFUND)),
        refunds_amount=Coalesce(
            Sum("amount", filter=Q(kind=Payment.Kind.REFUND)), Value(ZERO), output_field=MONEY
        ),
    ):
        person("clerks", row.pop("business_day"), row.pop("recorded_by")).update(row)
    for row in _by_day(
        remittances, "received_at", span, "received_by", n=Count("pk"), counted=Sum("counted")
    ):
        person("clerks", row["business_day"], row["received_by"]).update(
            remittances=row["n"], remitted_counted=row["counted"]
        )


def _live(days):
    """Every figure that adds up across days, for each of ``days``, counted now from the
    orders, events and ledger: a fixed seventeen queries, whatever the days."""
    span = _Span(days)
    out = {day: _blank_day() for day in days}
    _live_orders(span, out)
    _live_money(span, out)
    _live_people(span, out)
    return out


def _figures_by_day(first, last, now, rollups):
    """``{day: figures}`` for ``first``..``last``: closed days from their roll-ups
    (computing and keeping the missing ones), the open days live."""
    today = report_days.first_open_day(now)
    days = _dates(first, last)
    closed = [day for day in days if day < today]
    stored = report_days.load(closed) if rollups and closed else {}
    found = {}
    for day, (figures, _generation) in stored.items():
        if figures is not None:
            found[day] = _from_json(figures)
    missing = [day for day in days if day not in found]
    if missing:
        computed = _live(missing)
        found.update(computed)
        if rollups:
            report_days.store(
                {day: _to_json(computed[day]) for day in missing if day < today}, stored
            )
    return [found[day] for day in days]


# --- the report, added up from its days ---------------------------------------------------


def _order_figures(first, last, per_day):
    """``DayFigures`` per day and for the range; the range's times: three queries."""
    result = []
    for day, figures in zip(_dates(first, last), per_day, strict=True):
        values = dict(figures["orders"])
        for key in TIMED:
            values[key] = _hours(values.get(key))
        result.append(DayFigures(day, **values))

    totals = DayFigures(None)
    for name in COUNTED:
        setattr(
            totals, name, sum((getattr(d, name) for d in result), type(getattr(totals, name))())
        )
    start, end = day_bounds(first, last)
    for name, end_field, start_field in TIMES:
        row = Order.objects.filter(_in(end_field, start, end)).aggregate(
            **_times(end_field, start_field)
        )
        setattr(totals, f"{name}_median", _hours(row["median"]))
        setattr(totals, f"{name}_p90", _hours(row["p90"]))
    return result, totals


def _dates(first, last):
    return [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]


def _money(first, last, per_day):
    """Money per day from the days' figures; COD position and refund due now (three
    queries: the out-for-delivery and carrier-unsettled figures share one)."""
    money_days = []
    methods = set()
    remitted_n, remitted_amount = 0, ZERO
    for day, figures in zip(_dates(first, last), per_day, strict=True):
        money_days.append(
            MoneyDay(
                day,
                received=dict(figures["received"]),
                refunds_credit_note=figures["refunds_credit_note"],
                refunds_money_back=figures["refunds_money_back"],
            )
        )
        methods.update(figures["received"])
        remitted_n += figures["cod_remitted"]
        remitted_amount += figures["cod_remitted_amount"]
    # Every method in its fixed order; the ones with money first come from the ledger.
    ordered = [m for m in PaymentMethod.values if m in methods or m == PaymentMethod.COD]
    ordered += sorted(methods - set(ordered))

    amount = Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY)
    # Cash on delivery still to come in, one query over ``order_cod_outstanding_idx``:
    # out for delivery (shipped), and delivered by a carrier whose settlement file has
    # not paid it yet (delivered, still due; the own couriers' delivered parcels are
    # their ``CodCollection`` rows, counted below).
    out = Q(status=Status.SHIPPED)
    by_carrier = Q(status=Status.DELIVERED) & ~Q(carrier=OWN_DELIVERY_STAFF)
    uncollected = Order.objects.filter(
        MoneyPosition.due_q(),
        status__in=COD_OUTSTANDING_STATUSES,
        payment_method=PaymentMethod.COD,
    ).aggregate(
        n=Count("pk", filter=out),
        amount=Coalesce(Sum(F("owed") - F("held"), filter=out), Value(ZERO), output_field=MONEY),
        carrier_n=Count("pk", filter=by_carrier),
        carrier_amount=Coalesce(
            Sum(F("owed") - F("held"), filter=by_carrier), Value(ZERO), output_field=MONEY
        ),
    )
    in_hand = CodCollection.objects.filter(remittance__isnull=True).aggregate(
        n=Count("pk"), amount=amount
    )
    due = Order.objects.filter(MoneyPosition.credit_q()).aggregate(
        n=Count("pk"),
        amount=Coalesce(Sum(F("held") - F("owed")), Value(ZERO), output_field=MONEY),
    )
    cod = {
        "shipped_uncollected": (uncollected["n"], uncollected["amount"]),
        "carrier_unsettled": (uncollected["carrier_n"], uncollected["carrier_amount"]),
        "with_couriers": (in_hand["n"], in_hand["amount"]),
        "remitted": (remitted_n, remitted_amount),
    }
    return money_days, ordered, cod, (due["n"], due["amount"])


def _people(per_day):
    """Per order admin, courier and finance clerk over the days; one query for the names
    when anyone acted."""
    found = {group: {} for group in _PEOPLE}
    for figures in per_day:
        for group in _PEOPLE:
            for pk, values in figures[group].items():
                total = found[group].setdefault(pk, {})
                for key, value in values.items():
                    total[key] = total.get(key, 0) + value
    for figures in found["admins"].values():
        earlier = figures.pop("earlier_calls", 0)
        if figures.get("confirmations"):
            average = (earlier + figures["confirmations"]) / figures["confirmations"]
            figures["attempts_per_confirmation"] = round(average, 2)

    everyone = set().union(*(found[group] for group in _PEOPLE))
    users = get_user_model().objects.in_bulk(everyone) if everyone else {}

    def ordered(group, cls, attribute):
        rows = [cls(users[pk], **values) for pk, values in found[group].items() if pk in users]
        return sorted(rows, key=lambda r: getattr(r, attribute).get_username())

    return (
        ordered("admins", AdminFigures, "admin"),
        ordered("couriers", CourierFigures, "courier"),
        ordered("clerks", ClerkFigures, "clerk"),
    )


def build_report(first, last, *, now=None, rollups=True):
    """Return the ``Report`` for business days ``first``..``last`` (``date``s, inclusive).

    Closed days (ended ``report_days.GRACE`` or more before ``now``, an aware datetime,
    default now) come from their roll-ups (``orders.report_days``), computed by the same
    queries on first use and forgotten when a change touches them; ``rollups=False``
    counts every day live (the tests compare both). Raises ``ValueError`` if ``last`` is
    before ``first`` or the range is longer than ``MAX_DAYS`` (the page's form says so
    first). The query count does not depend on the length of the range or on the number
    of people.
    """
    if last < first:
        raise ValueError("last is before first")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValueError("range too long")
    per_day = _figures_by_day(first, last, now, rollups)
    days, totals = _order_figures(first, last, per_day)
    money_days, methods, cod, refund_due = _money(first, last, per_day)
    admins, couriers, clerks = _people(per_day)
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
