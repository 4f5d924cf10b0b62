"""Seed a realistic order book fast: ``manage.py seed_orders --orders N [--seed S]``.

For benchmarks and demos only. It deliberately bypasses ``orders.services`` (the one
door for every change) because walking 100,000 orders through the services one by one
would take an hour; instead it writes, in bulk, rows that look exactly like the ones the
services would have written:

- members (``shopper00001``...) with a home address each; staff: ``seed-admin`` (Order
  admins), ``seed-finance`` (Finance) and ``seed-courier-1..8`` (Logistics);
- a catalogue of a few hundred products, only if there is no purchasable product yet;
- orders spread over the last six months, in every status and payment status the two
  state tables in DESIGN.md allow (a shipped prepaid order was paid before it shipped,
  a cancelled order holds no money, allocated and shipped orders have an assignee from
  the Logistics group, shipped ones a carrier and waybill number), 1-5 lines each, money
  per ``orders.pricing`` (subtotal = sum of the lines, shipping fee, total);
- one ``OrderEvent`` per step (with ``version`` counted as the services count it), and the
  ``Payment`` rows behind every payment status.

Not done: stock is left alone (the seeded orders did not reserve it), and no e-mails.
The reports' roll-ups of closed days are all forgotten (``orders.report_days``).

Rows go in with ``COPY`` on PostgreSQL and ``bulk_create`` in batches elsewhere, in one
transaction. Primary keys are reserved up front (the sequence on PostgreSQL, ``max(id)``
elsewhere, so do not run two seeders at once on SQLite). On PostgreSQL the tables are
``VACUUM ANALYZE``d afterwards (outside a transaction), as autovacuum would do a while
after a bulk load. The same ``--seed`` and ``--now`` on the same catalogue give the same
orders (numbers, people, lines, money, times); primary keys may differ.
"""

import contextlib
import datetime
import json
import random
import time
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from mall.models import Category, Product
from orders import report_days
from orders.models import (
    CLOSED_STATUSES,
    FINANCE,
    LOGISTICS,
    ORDER_ADMINS,
    ORDER_NUMBER_ALPHABET,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Status,
)
from orders.pricing import quantize, totals_for

HOUR = 3600.0
DAY = 24 * HOUR
HORIZON_DAYS = 180
COURIERS = 8

# Share of orders per final status (percent): most orders of a six-month book are done.
STATUS_WEIGHTS = {
    Status.SHIPPED: 70,
    Status.CANCELLED: 9,
    Status.INVALID: 4,
    Status.SUBMITTED: 7,
    Status.CONFIRMED: 5,
    Status.ALLOCATED: 5,
}
METHOD_WEIGHTS = {
    PaymentMethod.COD: 55,
    PaymentMethod.BANK_TRANSFER: 30,
    PaymentMethod.POSTAL_REMITTANCE: 15,
}
# Where a cancelled order was cancelled from.
CANCEL_FROM_WEIGHTS = {
    Status.SUBMITTED: 50,
    Status.INVALID: 20,
    Status.CONFIRMED: 20,
    Status.ALLOCATED: 10,
}

SURNAMES = [
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun",
    "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo", "Zheng", "Liang", "Xie", "Tang",
]  # fmt: skip
GIVEN = [
    "Wei", "Fang", "Na", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yong", "Yan",
    "Jie", "Tao", "Ming", "Chao", "Xiu", "Hua", "Ping", "Gang", "Hui", "Xin", "Yu", "Ling",
]  # fmt: skip
PLACES = [
    ("Shanghai", "Shanghai", "200"), ("Beijing", "Beijing", "100"),
    ("Guangdong", "Guangzhou", "510"), ("Guangdong", "Shenzhen", "518"),
    ("Zhejiang", "Hangzhou", "310"), ("Jiangsu", "Nanjing", "210"),
    ("Jiangsu", "Suzhou", "215"), ("Sichuan", "Chengdu", "610"), ("Hubei", "Wuhan", "430"),
    ("Shaanxi", "Xi'an", "710"), ("Tianjin", "Tianjin", "300"), ("Chongqing", "Chongqing", "400"),
]  # fmt: skip
STREETS = ["Harbour", "Nanjing", "Huaihai", "Renmin", "Zhongshan", "Jiefang", "Xinhua", "Binjiang"]
CARRIERS = [
    ("Own fleet", "HM"),
    ("SF Express", "SF"),
    ("China Post EMS", "EE"),
    ("ZTO Express", "ZT"),
]
ADJECTIVES = ["Classic", "Organic", "Bamboo", "Ceramic", "Linen", "Steel", "Woollen", "Compact"]
NOUNS = ["Mug", "Teapot", "Towel", "Lamp", "Backpack", "Scarf", "Notebook", "Pan", "Rice cooker",
         "Umbrella", "Hoodie", "Slippers", "Cushion", "Kettle", "Bowl set"]  # fmt: skip
CATEGORIES = ["Kitchen", "Home", "Clothing", "Stationery", "Appliances", "Outdoors"]


def _weighted(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _between(rng, low, high):
    return low + (high - low) * rng.random()


def _profile(username):
    """A member's name and home address, derived from the username alone (stable)."""
    rng = random.Random(f"profile-{username}")
    surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
    region, city, zip3 = rng.choice(PLACES)
    return {
        "first_name": given,
        "last_name": surname,
        "recipient": f"{surname} {given}",
        "phone": f"13{rng.randint(0, 9)} {rng.randint(0, 9999):04d} {rng.randint(0, 9999):04d}",
        "region": region,
        "city": city,
        "address_line": (
            f"{rng.randint(1, 999)} {rng.choice(STREETS)} Road, "
            f"Building {rng.randint(1, 30)}, Room {rng.randint(1, 32)}{rng.randint(1, 8):02d}"
        ),
        "postcode": f"{zip3}{rng.randint(0, 999):03d}",
    }


@contextlib.contextmanager
def _explicit_timestamps(*models):
    """Let ``bulk_create`` keep the times we give instead of stamping "now" (auto_now)."""
    saved = []
    for model in models:
        for field in model._meta.concrete_fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                saved.append((field, field.auto_now, field.auto_now_add))
                field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in saved:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


class _Writer:
    """Reserves primary keys and writes rows (dicts keyed by attname) for a model."""

    def __init__(self, model):
        self.model = model
        self.fields = model._meta.concrete_fields
        self.postgres = connection.vendor == "postgresql"
        self._next_id = None

    def reserve_ids(self, n):
        """Return ``n`` fresh primary keys, ascending."""
        if n == 0:
            return []
        table = self.model._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, n],
                )
                return sorted(row[0] for row in cursor.fetchall())
            if self._next_id is None:
                cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')  # noqa: S608
                self._next_id = cursor.fetchone()[0] + 1
        ids = list(range(self._next_id, self._next_id + n))
        self._next_id += n
        return ids

    def write(self, rows):
        if not rows:
            return
        if self.postgres:
            self._copy(rows)
        else:
            model = self.model
            with _explicit_timestamps(model):
                model.objects.bulk_create([model(**row) for row in rows], batch_size=500)

    def _copy(self, rows):
        defaults = {f.attname: f.get_default() for f in self.fields}
        columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        table = connection.ops.quote_name(self.model._meta.db_table)
        attnames = [f.attname for f in self.fields]
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    values = []
                    for name in attnames:
                        value = row[name] if name in row else defaults[name]
                        if isinstance(value, dict | list):
                            value = json.dumps(value)
                        values.append(value)
                    copy.write_row(values)


class OrderBook:
    """Generates the rows of seeded orders; one ``random.Random`` drives everything."""

    def __init__(self, *, rng, now, members, products, admin, finance, couriers, taken_numbers):
        self.rng = rng
        self.now = now
        self.members = members  # [(id, username, profile)]
        self.products = products  # [(id, sku, name, unit_price)]
        self.admin, self.finance, self.couriers = admin, finance, couriers  # ids / (id, user, name)
        self.taken = taken_numbers
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)

    def number(self):
        """A fresh order number in ``new_order_number``'s format, drawn from the seeded RNG."""
        while True:
            raw = "".join(self.rng.choices(ORDER_NUMBER_ALPHABET, k=8))
            number = f"{raw[:4]}-{raw[4:]}"
            if number not in self.taken:  # a collision with an existing order: draw again
                self.taken.add(number)
                return number

    def customer(self):
        # Skewed: a few members order a lot, most order now and then.
        return self.members[int(len(self.members) * self.rng.random() ** 1.5)]

    def order(self, order_id):
        """Return ``(order_row, line_rows, event_rows, payment_rows)`` for one order."""
        rng = self.rng
        final = _weighted(rng, STATUS_WEIGHTS)
        method = _weighted(rng, METHOD_WEIGHTS)
        prepaid = method != PaymentMethod.COD
        cancel_from = _weighted(rng, CANCEL_FROM_WEIGHTS) if final == Status.CANCELLED else None
        number = self.number()
        customer_id, _username, profile = self.customer()

        # Lines: distinct products (one line per product), mostly one unit each.
        count = rng.choices((1, 2, 3, 4, 5), weights=(35, 30, 18, 10, 7))[0]
        lines = []
        for product_id, sku, name, price in rng.sample(
            self.products, min(count, len(self.products))
        ):
            quantity = rng.choices((1, 2, 3, 4), weights=(70, 20, 7, 3))[0]
            lines.append((product_id, sku, name, price, quantity, quantize(price * quantity)))
        subtotal, fee, total = totals_for(line[5] for line in lines)

        address = {
            k: profile[k]
            for k in ("recipient", "phone", "region", "city", "address_line", "postcode")
        }
        if rng.random() < 0.15:  # sent to someone else this time (a gift, the office)
            address = {k: v for k, v in _profile(f"{number}-gift").items() if k in address}

        # --- the steps, as (seconds after placing, action, params); mandatory ones first.
        steps = []
        confirmed_path = final in (Status.CONFIRMED, Status.ALLOCATED, Status.SHIPPED) or (
            cancel_from in (Status.CONFIRMED, Status.ALLOCATED)
        )
        invalid_path = final == Status.INVALID or cancel_from == Status.INVALID
        t = 0.0
        if final == Status.SUBMITTED and rng.random() < 0.2:  # tried to call, no answer yet
            steps.append((_between(rng, 0.2 * HOUR, 4 * HOUR), "call", {"outcome": "no_answer"}))
        if (confirmed_path or invalid_path) and rng.random() < 0.3:
            t = _between(rng, 0.3 * HOUR, 6 * HOUR)
            outcome = "wrong_number" if invalid_path and rng.random() < 0.5 else "no_answer"
            steps.append((t, "call", {"outcome": outcome}))
        if invalid_path:
            t += _between(rng, 1 * HOUR, 30 * HOUR)
            steps.append((t, "invalidate", {}))
        confirm_at = None
        if confirmed_path:
            t += _between(rng, 0.5 * HOUR, 30 * HOUR)
            confirm_at = t
            steps.append((t, "confirm", {}))
        allocate_at = None
        if final in (Status.ALLOCATED, Status.SHIPPED) or cancel_from == Status.ALLOCATED:
            allocate_at = confirm_at + _between(rng, 1 * HOUR, 24 * HOUR)
            steps.append((allocate_at, "allocate", {"courier": rng.choice(self.couriers)}))
        last_pay = confirm_at or 0.0
        if prepaid and confirmed_path:
            if final == Status.SHIPPED:
                plan = "paid" if rng.random() < 0.85 else "partial_then_paid"
            elif final == Status.CANCELLED:
                plan = "paid_refunded" if rng.random() < 0.3 else "unpaid"
            else:
                plan = _weighted(rng, {"unpaid": 50, "partial": 15, "paid": 35})
            amounts = []
            if plan in ("paid", "paid_refunded"):
                amounts = [total]
            elif plan in ("partial", "partial_then_paid"):
                first = quantize(total * Decimal(str(round(_between(rng, 0.2, 0.8), 2))))
                amounts = [first] if plan == "partial" else [first, total - first]
            for k, amount in enumerate(amounts, start=1):
                last_pay += _between(rng, 0.5 * HOUR, 48 * HOUR)
                steps.append(
                    (
                        last_pay,
                        "payment",
                        {"amount": amount, "ref": f"{method[:2].upper()}-{number}-{k}"},
                    )
                )
            if plan == "paid_refunded":
                last_pay += _between(rng, 1 * HOUR, 72 * HOUR)
                steps.append((last_pay, "refund", {"amount": total, "ref": f"RF-{number}-1"}))
        ship_at = None
        if final == Status.SHIPPED:
            ship_at = max(allocate_at, last_pay) + _between(rng, 2 * HOUR, 48 * HOUR)
            by_courier = rng.random() < 0.5
            carrier, prefix = rng.choice(CARRIERS)
            steps.append(
                (
                    ship_at,
                    "ship",
                    {
                        "carrier": carrier,
                        "waybill": f"{prefix}{rng.randint(10**11, 10**12 - 1)}",
                        "by_courier": by_courier,
                    },
                )
            )
        if final == Status.CANCELLED:
            t = max([s[0] for s in steps] or [0.0]) + _between(rng, 0.5 * HOUR, 48 * HOUR)
            by_member = cancel_from == Status.SUBMITTED and rng.random() < 0.7
            steps.append((t, "cancel", {"by_member": by_member}))
        end = max([s[0] for s in steps] or [0.0])

        # --- when it was placed: open orders are recent, finished ones anywhere in six months.
        if final == Status.SUBMITTED:
            age = _between(rng, 5 * 60, 3 * DAY)
        elif final in (Status.CONFIRMED, Status.ALLOCATED):
            age = end + _between(rng, 10 * 60, 3 * DAY)
        else:
            age = _between(rng, end + 10 * 60, max(end + 20 * 60, HORIZON_DAYS * DAY))
        placed_at = self.now - datetime.timedelta(seconds=age)

        # --- steps that may not have happened yet: cash collected after delivery, refunds.
        if final == Status.SHIPPED:
            if not prepaid and rng.random() < 0.97:
                at = ship_at + _between(rng, 1 * DAY, 6 * DAY)
                steps.append((at, "payment", {"amount": total, "ref": f"COD-{number}"}))
            elif prepaid and rng.random() < 0.03:
                at = ship_at + _between(rng, 2 * DAY, 20 * DAY)
                steps.append((at, "refund", {"amount": total, "ref": f"RF-{number}-1"}))
        steps = [s for s in steps if placed_at + datetime.timedelta(seconds=s[0]) < self.now]
        steps.sort(key=lambda s: s[0])

        order = {
            "id": order_id,
            "number": number,
            "customer_id": customer_id,
            "payment_method": method,
            "customer_note": "Please call before delivery." if rng.random() < 0.1 else "",
            "subtotal": subtotal,
            "shipping_fee": fee,
            "total": total,
            "assigned_to_id": None,
            "carrier": "",
            "tracking_number": "",
            "placed_at": placed_at,
            "confirmed_at": None,
            "invalidated_at": None,
            "allocated_at": None,
            "shipped_at": None,
            "cancelled_at": None,
            "paid_at": None,
            "checkout_token": None,
            **address,
        }
        line_rows = [
            {
                "order_id": order_id,
                "product_id": pid,
                "sku": sku,
                "name": name,
                "unit_price": price,
                "quantity": qty,
                "line_total": line_total,
            }
            for pid, sku, name, price, qty, line_total in lines
        ]
        events, payments = self._walk(order, steps, customer_id, line_rows, method)
        return order, line_rows, events, payments

    def _walk(self, order, steps, customer_id, line_rows, method):
        """Apply the steps in time order as the services would; fill in the order's state."""
        status, pay_status, version = Status.SUBMITTED, PaymentStatus.UNPAID, 1
        net, any_refund, total = Decimal("0.00"), False, order["total"]
        events, payments = [], []

        def event(kind, at, actor, *, before, bump=True, note="", data=None):
            nonlocal version
            if bump:
                version += 1
            events.append(
                {
                    "order_id": order["id"],
                    "actor_id": actor,
                    "kind": kind,
                    "from_status": before[0],
                    "to_status": status,
                    "from_payment_status": before[1],
                    "to_payment_status": pay_status,
                    "note": note,
                    "data": data or {},
                    "order_version": version,
                    "created_at": at,
                }
            )

        placed_at = order["placed_at"]
        event(
            OrderEvent.Kind.PLACED,
            placed_at,
            customer_id,
            before=("", ""),
            bump=False,
            data={
                "lines": [
                    {"sku": r["sku"], "quantity": r["quantity"], "unit_price": str(r["unit_price"])}
                    for r in line_rows
                ],
                "total": str(total),
            },
        )
        released = {r["sku"]: r["quantity"] for r in line_rows}
        last = placed_at
        for offset, action, params in steps:
            at = placed_at + datetime.timedelta(seconds=offset)
            last = at
            before = (status, pay_status)
            if action == "call":
                event(
                    OrderEvent.Kind.CALL_LOGGED,
                    at,
                    self.admin,
                    before=before,
                    bump=False,
                    note="",
                    data={"outcome": params["outcome"]},
                )
            elif action == "invalidate":
                status = Status.INVALID
                order["invalidated_at"] = at
                event(
                    OrderEvent.Kind.INVALIDATED,
                    at,
                    self.admin,
                    before=before,
                    note="Address could not be verified.",
                    data={"stock_released": released},
                )
            elif action == "confirm":
                status = Status.CONFIRMED
                order["confirmed_at"] = at
                event(
                    OrderEvent.Kind.CONFIRMED,
                    at,
                    self.admin,
                    before=before,
                    note="Address and delivery time checked by phone.",
                    data={"confirmed_version": version},
                )
            elif action == "allocate":
                courier_id, username, name = params["courier"]
                status = Status.ALLOCATED
                order["assigned_to_id"], order["allocated_at"] = courier_id, at
                event(
                    OrderEvent.Kind.ALLOCATED,
                    at,
                    self.admin,
                    before=before,
                    data={"from": None, "from_name": None, "to": username, "to_name": name},
                )
            elif action == "ship":
                status = Status.SHIPPED
                order["carrier"], order["tracking_number"] = params["carrier"], params["waybill"]
                order["shipped_at"] = at
                actor = order["assigned_to_id"] if params["by_courier"] else self.admin
                event(
                    OrderEvent.Kind.SHIPPED,
                    at,
                    actor,
                    before=before,
                    data={"carrier": params["carrier"], "tracking_number": params["waybill"]},
                )
            elif action == "cancel":
                status = Status.CANCELLED
                order["cancelled_at"] = at
                by_member = params["by_member"]
                event(
                    OrderEvent.Kind.CANCELLED,
                    at,
                    customer_id if by_member else self.admin,
                    before=before,
                    note="" if by_member else "Member asked by phone.",
                    data={
                        "stock_released": {} if before[0] == Status.INVALID else released,
                        "by_member": by_member,
                    },
                )
            elif action in ("payment", "refund"):
                refund = action == "refund"
                amount = params["amount"]
                net += -amount if refund else amount
                any_refund = any_refund or refund
                if net <= 0:
                    pay_status = PaymentStatus.REFUNDED if any_refund else PaymentStatus.UNPAID
                elif net < total:
                    pay_status = PaymentStatus.PARTIALLY_PAID
                else:
                    pay_status = PaymentStatus.PAID
                if pay_status == PaymentStatus.PAID and before[1] != PaymentStatus.PAID:
                    order["paid_at"] = at
                elif pay_status != PaymentStatus.PAID:
                    order["paid_at"] = None
                received_on = at.astimezone(self.tz).date()
                payment = {
                    "order_id": order["id"],
                    "kind": Payment.Kind.REFUND if refund else Payment.Kind.PAYMENT,
                    "amount": amount,
                    "method": method,
                    "reference": params["ref"],
                    "received_on": received_on,
                    "note": "",
                    "recorded_by_id": self.finance,
                    "recorded_at": at,
                    "voided_at": None,
                    "voided_by_id": None,
                    "void_reason": "",
                    "credit_note": False,
                }
                payments.append(payment)
                event(
                    OrderEvent.Kind.REFUND_RECORDED if refund else OrderEvent.Kind.PAYMENT_RECORDED,
                    at,
                    self.finance,
                    before=before,
                    data={
                        "payment_id": None,  # filled in once the payment has its key
                        "kind": payment["kind"],
                        "amount": str(amount),
                        "method": method,
                        "reference": params["ref"],
                        "received_on": received_on.isoformat(),
                        "net_received": str(net),
                    },
                )
                payment["_event"] = events[-1]
        # The stored money position (DESIGN "Money: one rule"); every seeded refund is
        # money back, so ``owed`` is the total until the order is closed.
        owed = Decimal("0.00") if status in CLOSED_STATUSES else total
        order.update(
            status=status,
            payment_status=pay_status,
            version=version,
            updated_at=last,
            owed=owed,
            held=net,
        )
        return events, payments


class Command(BaseCommand):
    help = (
        "Seed a realistic order book in bulk (benchmarks, demos). Bypasses orders.services "
        "on purpose; see the module docstring."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, required=True, help="how many orders to add")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--members",
            type=int,
            default=None,
            help="members ordering (default orders/20, at least 20)",
        )
        parser.add_argument(
            "--now",
            default=None,
            help="ISO date-time the book ends at (default: now, to the minute); fix to reproduce",
        )
        parser.add_argument("--batch", type=int, default=5000, help="orders per write batch")
        parser.add_argument(
            "--password",
            default=None,
            help="password for every seeded user (default: unusable, sign in with force_login)",
        )
        parser.add_argument(
            "--no-analyze", action="store_true", help="skip VACUUM ANALYZE (PostgreSQL)"
        )

    def handle(self, *args, orders, seed, members, now, batch, password, no_analyze, **options):
        if orders < 0:
            raise CommandError("--orders must be zero or more.")
        if members is not None and members < 1:
            raise CommandError("--members must be at least 1.")
        if now:
            anchor = parse_datetime(now)
            if anchor is None:
                raise CommandError("--now must be an ISO date-time, e.g. 2025-06-01T12:00:00+08:00")
            if timezone.is_naive(anchor):
                anchor = timezone.make_aware(anchor)
        else:
            anchor = timezone.now().replace(second=0, microsecond=0)
        anchor = anchor.astimezone(datetime.UTC)
        members = members if members is not None else max(20, orders // 20)
        started = time.monotonic()
        password_hash = make_password(password)  # hashed once for all: thousands of users

        with transaction.atomic():
            staff = self._staff(password_hash)
            people = self._members(members, password_hash)
            products = self._catalogue(seed)
            taken = set(Order.objects.values_list("number", flat=True))
            book = OrderBook(
                rng=random.Random(seed),
                now=anchor,
                members=people,
                products=products,
                admin=staff["admin"],
                finance=staff["finance"],
                couriers=staff["couriers"],
                taken_numbers=taken,
            )
            writers = {m: _Writer(m) for m in (Order, OrderLine, OrderEvent, Payment)}
            done = 0
            while done < orders:
                n = min(batch, orders - done)
                self._write_batch(book, writers, n)
                done += n
                if options["verbosity"] > 1:
                    self.stdout.write(f"  {done} orders")
            # The reports' roll-ups of closed days no longer hold (it bypassed the
            # services, whose bookkeeping forgets the days a change touches).
            report_days.forget_all()
        if connection.vendor == "postgresql" and not no_analyze and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                for model in (Order, OrderLine, OrderEvent, Payment, get_user_model()):
                    cursor.execute(
                        f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}"
                    )
        if options["verbosity"]:
            took = time.monotonic() - started
            self.stdout.write(f"Seeded {orders} orders for {len(people)} members in {took:.1f} s.")

    def _write_batch(self, book, writers, n):
        ids = writers[Order].reserve_ids(n)
        orders, lines, events, payments = [], [], [], []
        for order_id in ids:
            o, ls, es, ps = book.order(order_id)
            orders.append(o)
            lines.extend(ls)
            events.extend(es)
            payments.extend(ps)
        for row, pk in zip(lines, writers[OrderLine].reserve_ids(len(lines)), strict=True):
            row["id"] = pk
        for row, pk in zip(payments, writers[Payment].reserve_ids(len(payments)), strict=True):
            row["id"] = pk
            row.pop("_event")["data"]["payment_id"] = pk
        for row, pk in zip(events, writers[OrderEvent].reserve_ids(len(events)), strict=True):
            row["id"] = pk
        writers[Order].write(orders)
        writers[OrderLine].write(lines)
        writers[Payment].write(payments)
        writers[OrderEvent].write(events)

    def _staff(self, password_hash):
        """The seed's order admin, finance clerk and couriers (get or create)."""
        User = get_user_model()

        def person(username, group, first, last):
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@mall.example",
                    "first_name": first,
                    "last_name": last,
                    "password": password_hash,
                },
            )
            user.groups.add(Group.objects.get(name=group))
            return user

        admin = person("seed-admin", ORDER_ADMINS, "Mei", "Admin")
        finance = person("seed-finance", FINANCE, "Hao", "Finance")
        couriers = []
        for i in range(1, COURIERS + 1):
            profile = _profile(f"seed-courier-{i}")
            user = person(
                f"seed-courier-{i}", LOGISTICS, profile["first_name"], profile["last_name"]
            )
            couriers.append((user.pk, user.username, user.get_full_name()))
        return {"admin": admin.pk, "finance": finance.pk, "couriers": couriers}

    def _members(self, count, password_hash):
        """``[(id, username, profile)]`` for ``shopper00001``.. up to ``count``, made as needed."""
        User = get_user_model()
        usernames = [f"shopper{i:05d}" for i in range(1, count + 1)]
        existing = set(
            User.objects.filter(username__in=usernames).values_list("username", flat=True)
        )
        new = []
        for username in usernames:
            if username in existing:
                continue
            p = _profile(username)
            email = f"{p['first_name']}.{p['last_name']}.{username[7:]}@example.com".lower()
            new.append(
                User(
                    username=username,
                    email=email,
                    first_name=p["first_name"],
                    last_name=p["last_name"],
                    password=password_hash,
                )
            )
        User.objects.bulk_create(new, batch_size=1000)
        ids = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
        return [(ids[u], u, _profile(u)) for u in usernames]

    def _catalogue(self, seed):
        """Purchasable products as ``[(id, sku, name, unit_price)]``; create ~300 if none."""
        products = self._purchasable()
        if products:
            return products
        rng = random.Random(f"catalogue-{seed}")
        categories = []
        for name in CATEGORIES:
            category, _created = Category.objects.get_or_create(
                slug=f"seed-{name.lower()}", defaults={"name": name}
            )
            categories.append(category)
        new = []
        for i in range(1, 301):
            price = Decimal(rng.choice((9, 19, 29, 39, 59, 89, 129, 199, 299, 499, 899))) - Decimal(
                "0.10"
            )
            new.append(
                Product(
                    sku=f"SEED-{i:04d}",
                    name=f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {i}",
                    slug=f"seed-{i:04d}",
                    price=price,
                    sale_price=quantize(price * Decimal("0.8")) if rng.random() < 0.15 else None,
                    stock=rng.randint(50, 5000) if rng.random() < 0.7 else None,
                )
            )
        Product.objects.bulk_create(new)
        through = Product.categories.through
        created = Product.objects.filter(sku__startswith="SEED-").order_by("sku")
        through.objects.bulk_create(
            through(product_id=p.pk, category_id=categories[i % len(categories)].pk)
            for i, p in enumerate(created)
        )
        return self._purchasable()

    @staticmethod
    def _purchasable():
        rows = []
        now = timezone.now()
        for product in Product.objects.filter(is_variable=False, price__isnull=False).order_by(
            "pk"
        ):
            price = product.current_price(now)
            if price is not None:
                rows.append((product.pk, product.sku, product.display_name, price))
        return rows
