"""``manage.py seed_orders``: the seeded book obeys the model's constraints and DESIGN's rules.

The seeder bypasses the services on purpose (bulk inserts), so these tests check the
rows against what the services would have written: money sums, the two state tables,
one event per step with the version the services count, payments behind every payment
status, and determinism with ``--seed``.
"""

import collections
import datetime
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from mall.models import Product
from orders.models import (
    LOGISTICS,
    PREPAID_METHODS,
    CodCollection,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentStatus,
    Remittance,
    Status,
)
from orders.pricing import shipping_fee_for

NOW = "2025-06-01T12:00:00+08:00"
NUMBER_RE = re.compile(r"^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$")
# Events that do not bump the order's version (DESIGN: a logged call changes nothing).
NO_BUMP = {
    OrderEvent.Kind.PLACED,
    OrderEvent.Kind.CALL_LOGGED,
    OrderEvent.Kind.DELIVERY_ATTEMPTED,
}
OUT = (Status.SHIPPED, Status.DELIVERED, Status.RETURNED)


def seed(orders=200, seed_value=7, now=NOW, **kwargs):
    call_command("seed_orders", orders=orders, seed=seed_value, now=now, verbosity=0, **kwargs)


def snapshot():
    """Everything but primary keys, in a stable order."""
    lines = collections.defaultdict(list)
    for line in OrderLine.objects.select_related("order").order_by("order__number", "sku"):
        lines[line.order.number].append((line.sku, line.quantity, line.unit_price, line.line_total))
    events = collections.Counter(OrderEvent.objects.values_list("order__number", "kind"))
    return [
        (
            o.number,
            o.customer.username,
            o.status,
            o.payment_status,
            o.payment_method,
            o.total,
            o.placed_at,
            o.shipped_at,
            o.recipient,
            o.version,
            tuple(lines[o.number]),
        )
        for o in Order.objects.select_related("customer").order_by("number")
    ], events


@pytest.mark.django_db
def test_seeded_book_satisfies_the_rules():
    seed(orders=200)
    orders = list(Order.objects.select_related("customer", "assigned_to").order_by("pk"))
    assert len(orders) == 200
    assert len({o.number for o in orders}) == 200
    assert all(NUMBER_RE.match(o.number) for o in orders)
    assert Product.objects.filter(sku__startswith="SEED-").count() == 300

    lines = collections.defaultdict(list)
    for line in OrderLine.objects.all():
        lines[line.order_id].append(line)
    events = collections.defaultdict(list)
    for event in OrderEvent.objects.order_by("created_at", "pk"):
        events[event.order_id].append(event)
    payments = collections.defaultdict(list)
    for payment in Payment.objects.all():
        payments[payment.order_id].append(payment)
    couriers = set(
        Order.customer.field.related_model.objects.filter(groups__name=LOGISTICS).values_list(
            "pk", flat=True
        )
    )

    for o in orders:
        # Money: lines, subtotal, shipping fee, total (DESIGN: "Money").
        order_lines = lines[o.pk]
        assert 1 <= len(order_lines) <= 5, o.number
        assert len({line.product_id for line in order_lines}) == len(order_lines)
        for line in order_lines:
            assert line.quantity >= 1
            assert line.line_total == line.unit_price * line.quantity
        assert o.subtotal == sum(line.line_total for line in order_lines)
        assert o.shipping_fee == shipping_fee_for(o.subtotal)
        assert o.total == o.subtotal + o.shipping_fee

        # Events: placed first, a chain of from/to states, versions as the services count.
        trail = events[o.pk]
        assert trail[0].kind == OrderEvent.Kind.PLACED and trail[0].actor_id == o.customer_id
        assert (trail[0].to_status, trail[0].to_payment_status) == ("submitted", "unpaid")
        assert trail[0].created_at == o.placed_at
        for earlier, later in zip(trail, trail[1:], strict=False):
            assert later.from_status == earlier.to_status, o.number
            assert later.from_payment_status == earlier.to_payment_status, o.number
            assert later.created_at >= earlier.created_at
        assert (trail[-1].to_status, trail[-1].to_payment_status) == (o.status, o.payment_status)
        assert o.version == 1 + sum(e.kind not in NO_BUMP for e in trail)
        assert trail[-1].order_version == o.version
        assert o.updated_at == trail[-1].created_at
        kinds = [e.kind for e in trail]

        # Payments: the payment status follows from the entries (DESIGN: payment rules).
        entries = payments[o.pk]
        net = sum((p.signed_amount for p in entries), Decimal("0.00"))
        any_refund = any(p.kind == Payment.Kind.REFUND for p in entries)
        assert o.held == net, o.number
        assert o.money_position() == o.position_from_ledger(), o.number
        assert o.payment_status == o.payment_status_for(o.money_position(), any_refund), o.number
        assert all(p.amount > 0 and p.voided_at is None for p in entries)
        assert len({p.reference for p in entries}) == len(entries)
        assert (o.paid_at is not None) == (o.payment_status == PaymentStatus.PAID)
        assert kinds.count(OrderEvent.Kind.PAYMENT_RECORDED) + kinds.count(
            OrderEvent.Kind.REFUND_RECORDED
        ) == len(entries)
        if entries:  # money only once confirmed
            assert o.confirmed_at is not None
            assert min(p.recorded_at for p in entries) > o.confirmed_at

        # Statuses, milestones and the people on them.
        if o.status in (Status.SUBMITTED, Status.INVALID):
            assert o.payment_status == PaymentStatus.UNPAID and not entries
        if o.status == Status.CANCELLED:
            assert net == 0, o.number  # a cancelled order holds no money
            assert o.cancelled_at is not None
        if o.status in (Status.ALLOCATED, *OUT):
            assert o.assigned_to_id in couriers and o.allocated_at > o.confirmed_at
        else:
            assert (o.assigned_to_id is None) or o.status == Status.CANCELLED
        if o.status in OUT:
            assert o.carrier and o.shipped_at > o.allocated_at
            assert bool(o.tracking_number) == (o.carrier != Order.OWN_DELIVERY_STAFF)
            if o.payment_method in PREPAID_METHODS:
                paid_before = sum(
                    p.amount
                    for p in entries
                    if p.kind == Payment.Kind.PAYMENT and p.recorded_at < o.shipped_at
                )
                assert paid_before >= o.total, o.number  # prepaid orders ship paid
        else:
            assert not o.carrier and not o.tracking_number and o.shipped_at is None
        if o.status == Status.INVALID:
            assert o.invalidated_at is not None and o.confirmed_at is None
        assert kinds.count(OrderEvent.Kind.CONFIRMED) == (o.confirmed_at is not None)
        # After shipping: the delivery and its cash, or the way back (DESIGN "Cash on
        # delivery"; orders/services/delivery.py, cash.py, settlement.py).
        assert kinds.count(OrderEvent.Kind.DELIVERED) == (o.delivered_at is not None)
        assert kinds.count(OrderEvent.Kind.RETURNED) == (o.returned_at is not None)
        assert (o.delivered_at is not None) == (o.status == Status.DELIVERED), o.number
        assert (o.returned_at is not None) == (o.status == Status.RETURNED), o.number
        if o.status != Status.SHIPPED:
            assert o.next_attempt_on is None
        for n, attempt in enumerate(
            (e for e in trail if e.kind == OrderEvent.Kind.DELIVERY_ATTEMPTED), start=1
        ):
            assert attempt.data["attempt"] == n and attempt.created_at > o.shipped_at
        cod = o.payment_method == "cod"
        own = o.carrier == Order.OWN_DELIVERY_STAFF
        collection = CodCollection.objects.filter(order=o).first()
        assert (collection is not None) == (cod and own and o.status == Status.DELIVERED)
        if o.status == Status.DELIVERED:
            assert o.delivered_at > o.shipped_at and o.owed == o.total
            delivered = next(e for e in trail if e.kind == OrderEvent.Kind.DELIVERED)
            assert delivered.data["received_by"] == o.received_by
            if collection is not None:
                assert (collection.amount, collection.courier_id) == (o.total, o.assigned_to_id)
                assert collection.collected_at == o.delivered_at
                assert delivered.data["collection_id"] == collection.pk
                assert delivered.data["due"] == delivered.data["collected"] == str(o.total)
                if collection.remittance_id:
                    (payment,) = entries
                    assert collection.payment_id == payment.pk
                    assert payment.reference == collection.remittance.number
                    assert payment.recorded_at == collection.remittance.received_at
                    assert o.payment_status == PaymentStatus.PAID and o.held == o.total
                else:
                    assert not entries and o.payment_status == PaymentStatus.UNPAID
            elif cod:  # a carrier's: paid by its settlement file, or not yet
                reference = f"{o.carrier}:{o.tracking_number}"
                assert [p.reference for p in entries] in ([], [reference])
                assert o.held == sum(p.amount for p in entries)
        if o.status == Status.RETURNED:
            assert o.returned_at > o.shipped_at and o.owed == 0
            back = next(e for e in trail if e.kind == OrderEvent.Kind.RETURNED)
            held = sum(
                (
                    p.amount if p.kind == Payment.Kind.PAYMENT else -p.amount
                    for p in entries
                    if p.recorded_at < back.created_at
                ),
                Decimal("0.00"),
            )
            assert back.data["credit"] == str(max(held, Decimal("0.00")))
            if cod:  # refused at the door, or per the carrier's file
                refused = [e for e in trail if e.data.get("outcome") == "refused"]
                assert refused and not entries

    # The couriers' remittances add up their collections.
    for remittance in Remittance.objects.all():
        handed = list(remittance.collections.all())
        assert handed and remittance.expected == sum(c.amount for c in handed)
        assert {c.courier_id for c in handed} == {remittance.courier_id}
        assert remittance.received_at > max(c.collected_at for c in handed)

    # A spread, not one kind of order.
    assert len({o.status for o in orders}) >= 7
    assert {o.payment_status for o in orders} >= {"unpaid", "paid", "partially_paid"}
    assert len({o.payment_method for o in orders}) == 3
    assert (max(o.placed_at for o in orders) - min(o.placed_at for o in orders)).days > 60

    # Every row passes model validation and the database's own checks.
    for o in orders[:50]:
        # The protected FSM fields refuse full_clean's re-assignment; check their choices.
        o.full_clean(exclude=["status", "payment_status"])
        assert o.status in Status.values and o.payment_status in PaymentStatus.values
    for line in OrderLine.objects.all()[:50]:
        line.full_clean()
    for payment in Payment.objects.all()[:50]:
        payment.full_clean()
    connection.check_constraints()


@pytest.mark.django_db
def test_same_seed_same_book_and_another_seed_another():
    seed(orders=120, seed_value=11)
    first = snapshot()
    for model in (CodCollection, Remittance, OrderEvent, Payment, OrderLine, Order):
        model.objects.all().delete()
    seed(orders=120, seed_value=11)
    assert snapshot() == first

    for model in (CodCollection, Remittance, OrderEvent, Payment, OrderLine, Order):
        model.objects.all().delete()
    seed(orders=120, seed_value=12)
    assert snapshot()[0] != first[0]


@pytest.mark.django_db
def test_adding_to_a_book_keeps_numbers_unique_and_reuses_members():
    seed(orders=60, seed_value=5, members=10)
    seed(orders=60, seed_value=5, members=10)  # same draws: every number collides, redrawn
    numbers = list(Order.objects.values_list("number", flat=True))
    assert len(numbers) == 120 and len(set(numbers)) == 120
    assert Order.objects.values("customer").distinct().count() <= 10
    assert Product.objects.filter(sku__startswith="SEED-").count() == 300  # catalogue reused


@pytest.mark.django_db
def test_bad_arguments_are_refused_and_nothing_is_written():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        seed(orders=-1)
    with pytest.raises(CommandError):
        seed(orders=5, now="yesterday-ish")
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_seeded_book_delivers_returns_and_remits_so_the_reports_have_figures():
    """Most parcels shipped more than a few days ago arrived (the own couriers' cash
    mostly handed over), some came back refused, the newest are still out; the reports
    over the book have delivery times and a refusal rate."""
    from orders import reports

    seed(orders=600)
    by_status = collections.Counter(Order.objects.values_list("status", flat=True))
    out = by_status["shipped"] + by_status["delivered"] + by_status["returned"]
    assert by_status["delivered"] > 0.75 * out
    assert 0 < by_status["returned"] < 0.1 * out
    assert 0 < by_status["shipped"] < 0.05 * out
    assert Remittance.objects.exists()
    remitted = CodCollection.objects.filter(remittance__isnull=False).count()
    assert remitted > 0.8 * CodCollection.objects.count()
    assert Payment.objects.filter(reference__contains=":").exists()  # carriers' files
    refused = OrderEvent.objects.filter(kind="delivery_attempted", data__outcome="refused")
    assert refused.exists()

    now = Order.objects.latest("placed_at").placed_at
    last = timezone.localdate(now)
    first = last - datetime.timedelta(days=120)
    report = reports.build_report(first, last, now=now)
    totals = report.totals
    # Counted another way: in Python, over the rows and their events.
    orders = list(Order.objects.all())
    refused_ids = {
        e.order_id for e in OrderEvent.objects.all() if e.data.get("outcome") == "refused"
    }

    def in_range(moment):
        return moment is not None and first <= timezone.localdate(moment) <= last

    assert totals.delivered == sum(in_range(o.delivered_at) for o in orders) > 0
    assert totals.returned == sum(in_range(o.returned_at) for o in orders) > 0
    cod_shipped = [o for o in orders if o.payment_method == "cod" and in_range(o.shipped_at)]
    assert totals.cod_shipped == len(cod_shipped)
    assert totals.cod_refused == sum(
        o.status == "returned" and o.pk in refused_ids for o in cod_shipped
    )
    assert totals.deliver_median > 0 and totals.deliver_p90 >= totals.deliver_median
    assert totals.returned > 0 and totals.cod_refused > 0 and totals.refusal_rate > 0
    assert report.cod["remitted"][0] > 0 and report.cod["remitted"][1] > 0
    assert any(c.deliveries and c.cash_collected for c in report.couriers)
