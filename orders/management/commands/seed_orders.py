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
  the Logistics group, shipped ones a carrier — the shop's own staff or one with a
  waybill number), 1-5 lines each, money per ``orders.pricing`` (subtotal = sum of the
  lines, shipping fee, total);
- after shipping, as ``orders.services`` delivery, cash and settlement would write it:
  failed delivery attempts, then the delivery (an own courier's COD cash a
  ``CodCollection``, handed over in a ``Remittance`` per courier and day with one COD
  payment each; a carrier's COD paid by its settlement file), or the way back (a COD
  parcel refused, a prepaid one undeliverable and mostly paid back); the newest parcels
  still out;
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
    OWN_DELIVERY_STAFF,
    CodCollection,
    DeliveryOutcome,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Remittance,
    Status,
)
from orders.pricing import quantize, totals_for
from orders.services.settlement import settlement_reference

HOUR = 3600.0
DAY = 24 * HOUR
HORIZON_DAYS = 180
COURIERS = 8
# A book larger than this is the same shop running longer, not a busier one (issue 16):
# the open orders (the staff's working queues) stay as many as at this size, and the
# finished orders spread over proportionally more than six months. Up to this size the
# book is drawn exactly as before.
STEADY_ORDERS = 100_000

# Share of orders per final status (percent): most orders of a six-month book are done.
OPEN_STATUSES = (Status.SUBMITTED, Status.CONFIRMED, Status.ALLOCATED)
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
# Share of shipped orders carried by the shop's own delivery staff (no waybill, the
# courier collects the cash at the door and hands it to finance).
OWN_STAFF_SHARE = 0.35
# After shipping (DESIGN "record_delivery_attempt" ... "record_return"): failed attempts
# before the parcel is delivered or comes back; share of parcels that come back.
FAILED_ATTEMPTS_WEIGHTS = {0: 75, 1: 20, 2: 5}
FAILED_OUTCOME_WEIGHTS = {
    DeliveryOutcome.NOT_HOME: 60,
    DeliveryOutcome.POSTPONED: 30,
    DeliveryOutcome.WRONG_ADDRESS: 10,
}
RETURNED_SHARE = {"cod": 0.09, "prepaid": 0.02}
# Settled by the carrier's file at once (delivery and payment together), else the
# delivery is recorded from tracking and the file pays it days later.
DELIVERED_BY_FILE_SHARE = 0.4
REMITTANCE_SHORT_SHARE = 0.04
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


# A run adding at least this many orders, and more than the table holds, on PostgreSQL,
# drops the order tables' secondary indexes for the load and builds them again after it:
# one sorted build per index is many times faster than keeping them (the trigram GIN
# indexes above all) up to date row by row.
BULK_INDEX_REBUILD = 50_000


@contextlib.contextmanager
def _indexes_rebuilt_after(models):
    """Drop the plain (non-unique, constraint-free) indexes of ``models``' tables, run
    the block, then create them again from their saved definitions (PostgreSQL, inside
    the caller's transaction: the tables are locked meanwhile, and a failure restores
    everything by rolling back)."""
    with connection.cursor() as cursor:
        saved = []
        for model in models:
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = %s::regclass "
                "AND NOT i.indisprimary AND NOT i.indisunique AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [model._meta.db_table],
            )
            saved.extend(cursor.fetchall())
        for name, _definition in saved:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        # The rows' deferred foreign-key checks run now: no index is built while they wait.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in saved:
            cursor.execute(definition)


def _payment_status(owed, held, any_refund):
    """``Order.payment_status_for`` on plain numbers (DESIGN "Money: one rule")."""
    if held <= 0:
        return PaymentStatus.REFUNDED if any_refund else PaymentStatus.UNPAID
    if held < owed:
        return PaymentStatus.PARTIALLY_PAID
    return PaymentStatus.PAID


class OrderBook:
    """Generates the rows of seeded orders; one ``random.Random`` drives everything."""

    def __init__(
        self,
        *,
        rng,
        now,
        members,
        products,
        admin,
        finance,
        couriers,
        taken_numbers,
        size=0,
        taken_remittances=None,
    ):
        self.rng = rng
        # ``size``: the orders this run writes; beyond ``STEADY_ORDERS`` the open share
        # shrinks and the horizon grows so the working queues stay the size they were.
        scale = max(1.0, size / STEADY_ORDERS)
        self.status_weights = {
            status: weight / scale if status in OPEN_STATUSES else weight
            for status, weight in STATUS_WEIGHTS.items()
        }
        # The finished orders keep their daily rate: the book reaches further back.
        self.horizon = HORIZON_DAYS * DAY * scale * sum(STATUS_WEIGHTS.values())
        self.horizon /= sum(self.status_weights.values())
        self.now = now
        self.members = members  # [(id, username, profile)]
        self.products = products  # [(id, sku, name, unit_price)]
        self.admin, self.finance, self.couriers = admin, finance, couriers  # ids / (id, user, name)
        self.taken = taken_numbers
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.courier_names = {pk: name or username for pk, username, name in couriers}
        # Remittances by (courier, business day), filled in across batches and written
        # once at the end (``expected`` is their collections' sum); the numbers in use.
        self.remittances = {}
        self.taken_remittances = set(taken_remittances or ())
        self.collections = []  # this batch's ``CodCollection`` rows

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
        final = _weighted(rng, self.status_weights)
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
        allocate_at = courier = None
        if final in (Status.ALLOCATED, Status.SHIPPED) or cancel_from == Status.ALLOCATED:
            allocate_at = confirm_at + _between(rng, 1 * HOUR, 24 * HOUR)
            courier = rng.choice(self.couriers)
            steps.append((allocate_at, "allocate", {"courier": courier}))
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
            waybill = f"{prefix}{rng.randint(10**11, 10**12 - 1)}"
            if rng.random() < OWN_STAFF_SHARE:  # the shop's own staff: no waybill
                carrier, waybill = OWN_DELIVERY_STAFF, ""
            steps.append(
                (
                    ship_at,
                    "ship",
                    {"carrier": carrier, "waybill": waybill, "by_courier": by_courier},
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
            age = _between(rng, end + 10 * 60, max(end + 20 * 60, self.horizon))
        placed_at = self.now - datetime.timedelta(seconds=age)

        # --- after shipping, steps that may not have happened yet (the newest parcels are
        # still out): attempts, the delivery and its cash, or the way back.
        if final == Status.SHIPPED:
            steps.extend(
                self._after_shipping(
                    ship_at,
                    placed_at=placed_at,
                    carrier=carrier,
                    waybill=waybill,
                    courier=courier,
                    cod=not prepaid,
                    number=number,
                    total=total,
                    recipient=address["recipient"],
                )
            )
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

    def _after_shipping(
        self, ship_at, *, placed_at, carrier, waybill, courier, cod, number, total, recipient
    ):
        """The steps of a shipped parcel, as the delivery, cash and settlement services
        would record them (seconds after placing, action, params).

        Own staff: failed attempts and the delivery by the courier, who collects the
        cash of a COD parcel and hands it over at the end of the day (or a day or two
        later): one remittance per courier and day. A carrier: attempts and the delivery
        recorded by the order admin from its tracking, paid days later by its
        settlement file, or delivered and paid by the file at once. Some parcels come
        back: a COD parcel after a refusal at the door (or a ``refused`` file row), a
        prepaid one undeliverable, its money then paid back.
        """
        rng = self.rng
        own = carrier == OWN_DELIVERY_STAFF
        at_door = courier[0] if own else self.admin
        steps = []
        t = ship_at + _between(rng, 0.4 * DAY, 3 * DAY)
        for _i in range(_weighted(rng, FAILED_ATTEMPTS_WEIGHTS)):
            outcome = _weighted(rng, FAILED_OUTCOME_WEIGHTS)
            nxt = _between(rng, 0.7 * DAY, 2 * DAY)
            steps.append((t, "attempt", {"outcome": outcome, "actor": at_door, "next_in": nxt}))
            t += nxt
        by_file = {}
        if not own:
            by_file = {
                "settlement": settlement_reference(carrier, waybill),
                "settlement_line": rng.randint(2, 400),
            }
        if rng.random() < RETURNED_SHARE["cod" if cod else "prepaid"]:
            if cod and by_file and rng.random() < DELIVERED_BY_FILE_SHARE:
                steps.append(
                    (
                        t + _between(rng, 1 * DAY, 5 * DAY),
                        "return",
                        {
                            "actor": self.finance,
                            "reason": f"Refused, per {carrier} settlement file",
                            "data": {**by_file, "outcome": DeliveryOutcome.REFUSED},
                        },
                    )
                )
                return steps
            outcome = DeliveryOutcome.REFUSED if cod else DeliveryOutcome.WRONG_ADDRESS
            steps.append((t, "attempt", {"outcome": outcome, "actor": at_door, "next_in": None}))
            back = t + _between(rng, 0.5 * DAY, 3 * DAY)
            reason = "Refused at the door." if cod else "Could not be delivered: address not found."
            steps.append((back, "return", {"actor": self.admin, "reason": reason}))
            if not cod and rng.random() < 0.85:  # the money held goes back
                at = back + _between(rng, 1 * DAY, 10 * DAY)
                steps.append((at, "refund", {"amount": total, "ref": f"RF-{number}-1"}))
            return steps
        if own:
            steps.append(
                (t, "deliver", {"actor": at_door, "received_by": recipient, "collect": cod})
            )
            if cod:
                # Handed over at 18:00-ish on the day (or the next, after a late round).
                delivered = (placed_at + datetime.timedelta(seconds=t)).astimezone(self.tz)
                day = delivered.date() + datetime.timedelta(days=int(delivered.hour >= 17))
                if rng.random() < 0.1:
                    day += datetime.timedelta(days=rng.randint(1, 2))
                index = [c[0] for c in self.couriers].index(courier[0])
                handover = datetime.datetime.combine(
                    day, datetime.time(18, 5 + 6 * index), tzinfo=self.tz
                )
                steps.append(((handover - placed_at).total_seconds(), "remit", {"day": day}))
            return steps
        if not cod:
            steps.append((t, "deliver", {"actor": self.admin, "received_by": ""}))
            return steps
        file_data = {**by_file, "outcome": "delivered"}
        paid = {
            "amount": total,
            "ref": by_file["settlement"],
            "note": f"Cash on delivery settled by {carrier}",
            "data": file_data,
        }
        if rng.random() < DELIVERED_BY_FILE_SHARE:
            at = t + _between(rng, 1 * DAY, 5 * DAY)
            deliver = {
                "actor": self.finance,
                "received_by": "",
                "note": f"Delivered, per {carrier} settlement file",
                "data": file_data,
            }
            steps += [(at, "deliver", deliver), (at + 1, "payment", paid)]
        else:
            steps.append((t, "deliver", {"actor": self.admin, "received_by": ""}))
            steps.append((t + _between(rng, 2 * DAY, 8 * DAY), "payment", paid))
        return steps

    def _remittance(self, courier_id, day, at):
        """The remittance of ``courier_id`` on business ``day`` (handed over ``at``): made
        on first use, its sums added up by the caller."""
        key = (courier_id, day)
        row = self.remittances.get(key)
        if row is None:
            while True:
                number = "RM-" + "".join(self.rng.choices(ORDER_NUMBER_ALPHABET, k=8))
                if number not in self.taken_remittances:
                    self.taken_remittances.add(number)
                    break
            short = self.rng.random() < REMITTANCE_SHORT_SHARE
            row = self.remittances[key] = {
                "id": None,
                "number": number,
                "courier_id": courier_id,
                "received_by_id": self.finance,
                "received_at": at,
                "expected": Decimal("0.00"),
                "counted": Decimal("0.00"),
                "difference": Decimal("0.00"),
                "note": "",
                "_short": Decimal(self.rng.choice((2, 5, 10))) if short else Decimal("0.00"),
            }
        return row

    def remittance_rows(self):
        """Every remittance made, with ``counted`` and ``difference`` (a few short)."""
        rows = []
        for row in self.remittances.values():
            short = row.pop("_short", Decimal("0.00"))
            if short and row["expected"] > short:
                row["counted"] = row["expected"] - short
                row["difference"] = -short
                row["note"] = "Short at handover: change given from the courier's own float."
            else:
                row["counted"] = row["expected"]
            rows.append(row)
        return rows

    def _walk(self, order, steps, customer_id, line_rows, method):
        """Apply the steps in time order as the services would; fill in the order's state."""
        status, pay_status, version = Status.SUBMITTED, PaymentStatus.UNPAID, 1
        net, any_refund, total = Decimal("0.00"), False, order["total"]
        owed = total  # until the order is closed (a return: 0)
        events, payments = [], []
        attempts, collection = 0, None

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
            elif action == "attempt":
                attempts += 1
                next_on = None
                if params["next_in"] is not None:
                    next_on = (at + datetime.timedelta(seconds=params["next_in"])).astimezone(
                        self.tz
                    )
                    next_on = next_on.date()
                order["next_attempt_on"] = next_on
                event(
                    OrderEvent.Kind.DELIVERY_ATTEMPTED,
                    at,
                    params["actor"],
                    before=before,
                    bump=False,
                    data={
                        "outcome": params["outcome"],
                        "attempt": attempts,
                        "next_attempt_on": next_on.isoformat() if next_on else None,
                    },
                )
            elif action == "deliver":
                status = Status.DELIVERED
                order["delivered_at"], order["next_attempt_on"] = at, None
                order["received_by"] = params["received_by"]
                data = {"received_by": params["received_by"], **params.get("data", {})}
                if params.get("collect") and owed > net:
                    due = owed - net
                    data.update(due=str(due), collected=str(due), difference="0.00")
                    collection = {
                        "order_id": order["id"],
                        "courier_id": order["assigned_to_id"],
                        "amount": due,
                        "collected_at": at,
                        "remittance_id": None,
                        "payment_id": None,
                        "_events": [data],  # their "collection_id" once it has its key
                    }
                    self.collections.append(collection)
                event(
                    OrderEvent.Kind.DELIVERED,
                    at,
                    params["actor"],
                    before=before,
                    note=params.get("note", ""),
                    data=data,
                )
            elif action == "return":
                status = Status.RETURNED
                order["returned_at"], order["next_attempt_on"] = at, None
                owed = Decimal("0.00")
                pay_status = _payment_status(owed, net, any_refund)
                if pay_status == PaymentStatus.PAID and before[1] != PaymentStatus.PAID:
                    order["paid_at"] = at
                event(
                    OrderEvent.Kind.RETURNED,
                    at,
                    params["actor"],
                    before=before,
                    note=params["reason"],
                    data={
                        "stock_released": released,
                        "written_off": {},
                        "credit": str(max(net - owed, Decimal("0.00"))),
                        **params.get("data", {}),
                    },
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
            elif action in ("payment", "refund", "remit"):
                refund = action == "refund"
                extra, note = dict(params.get("data", {})), params.get("note", "")
                if action == "remit":  # the courier's cash handed over: one payment
                    remittance = self._remittance(order["assigned_to_id"], params["day"], at)
                    remittance["expected"] += collection["amount"]
                    collection["_remittance"] = remittance
                    params = {"amount": collection["amount"], "ref": remittance["number"]}
                    courier = self.courier_names[order["assigned_to_id"]]
                    note = f"Cash handed over by {courier}"
                    extra = {"remittance": remittance["number"], "collection_id": None}
                amount = params["amount"]
                net += -amount if refund else amount
                any_refund = any_refund or refund
                pay_status = _payment_status(owed, net, any_refund)
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
                    "note": note,
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
                    note=note,
                    data={
                        "payment_id": None,  # filled in once the payment has its key
                        "kind": payment["kind"],
                        "amount": str(amount),
                        "method": method,
                        "reference": params["ref"],
                        "received_on": received_on.isoformat(),
                        "credit_note": False,
                        "net_received": str(net),
                        "owed": str(owed),
                        "due": str(max(owed - net, Decimal("0.00"))),
                        "credit": str(max(net - owed, Decimal("0.00"))),
                        **extra,
                    },
                )
                payment["_event"] = events[-1]
                if action == "remit":  # the event's "collection_id" once it has its key
                    collection["_payment"] = payment
                    collection["_events"].append(events[-1]["data"])
        # The stored money position (DESIGN "Money: one rule"); every seeded refund is
        # money back, so ``owed`` is the total until the order is closed.
        owed = Decimal("0.00") if status in CLOSED_STATUSES else owed
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
                size=orders,
                taken_remittances=Remittance.objects.values_list("number", flat=True),
            )
            writers = {
                m: _Writer(m)
                for m in (Order, OrderLine, OrderEvent, Payment, CodCollection, Remittance)
            }
            bulk = (
                connection.vendor == "postgresql"
                and orders >= BULK_INDEX_REBUILD
                and orders > len(taken)
            )
            with _indexes_rebuilt_after(writers) if bulk else contextlib.nullcontext():
                done = 0
                while done < orders:
                    n = min(batch, orders - done)
                    self._write_batch(book, writers, n)
                    done += n
                    if options["verbosity"] > 1:
                        self.stdout.write(f"  {done} orders ({time.monotonic() - started:.0f} s)")
                # The remittances last: their sums run over every batch.
                writers[Remittance].write(book.remittance_rows())
                if bulk and options["verbosity"] > 1:
                    self.stdout.write("  building the indexes again")
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
        # Cash collected by the own couriers: keys, then the events, payment and
        # remittance that name them (a remittance's key is reserved on its first use).
        collections, book.collections = book.collections, []
        new = {id(r["_remittance"]): r["_remittance"] for r in collections if "_remittance" in r}
        new = [r for r in new.values() if r["id"] is None]
        for row, pk in zip(new, writers[Remittance].reserve_ids(len(new)), strict=True):
            row["id"] = pk
        reserved = writers[CodCollection].reserve_ids(len(collections))
        for row, pk in zip(collections, reserved, strict=True):
            row["id"] = pk
            for data in row.pop("_events"):
                data["collection_id"] = pk
            if "_payment" in row:
                row["payment_id"] = row.pop("_payment")["id"]
                row["remittance_id"] = row.pop("_remittance")["id"]
        writers[Order].write(orders)
        writers[OrderLine].write(lines)
        writers[Payment].write(payments)
        writers[OrderEvent].write(events)
        writers[CodCollection].write(collections)

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
