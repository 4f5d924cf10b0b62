"""The database itself holds the invariants, and the audit trail is append-only.

Issue 6, item 4: stock never negative, quantity > 0, money >= 0 (payments > 0), one
payment reference in force per order, unique order numbers, all as database
constraints that hold even when the ORM's checks are bypassed (``QuerySet.update``).
The services never update or delete an ``OrderEvent`` and never delete a ``Payment``;
the only update a payment ever gets is the one that voids it. Runs on SQLite and
PostgreSQL.
"""

import re
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mall.models import Product
from orders import services
from orders.models import Order, OrderEvent, OrderLine, Payment, PaymentStatus, Status
from tests.factories import (
    ADDRESS,
    OrderFactory,
    ProductFactory,
    UserFactory,
    finance_clerk,
    logistics_person,
    order_admin,
)

pytestmark = pytest.mark.django_db


def violates(callable_):
    """Run ``callable_`` in a savepoint; return whether the database refused it."""
    try:
        with transaction.atomic():
            callable_()
    except IntegrityError:
        return True
    return False


# --- constraints -------------------------------------------------------------------------------


def test_stock_can_never_go_negative(product):
    assert violates(lambda: Product.objects.filter(pk=product.pk).update(stock=-1))
    assert Product.objects.get(pk=product.pk).stock == 10
    assert not violates(lambda: Product.objects.filter(pk=product.pk).update(stock=0))
    assert not violates(lambda: Product.objects.filter(pk=product.pk).update(stock=None))


def test_line_quantity_must_be_positive():
    order = OrderFactory()
    line = order.lines.get()
    assert violates(lambda: OrderLine.objects.filter(pk=line.pk).update(quantity=0))
    assert OrderLine.objects.get(pk=line.pk).quantity == 2


def test_one_line_per_product_per_order():
    order = OrderFactory()
    line = order.lines.get()
    duplicate = OrderLine(
        order=order,
        product=line.product,
        sku=line.sku,
        name=line.name,
        unit_price=line.unit_price,
        quantity=1,
        line_total=line.unit_price,
    )
    assert violates(duplicate.save)
    assert order.lines.count() == 1


@pytest.mark.parametrize(
    "model, field",
    [
        (Order, "subtotal"),
        (Order, "shipping_fee"),
        (Order, "total"),
        (OrderLine, "unit_price"),
        (OrderLine, "line_total"),
        (Product, "price"),
        (Product, "sale_price"),
    ],
)
def test_money_is_never_negative(model, field):
    order = OrderFactory()
    row = {Order: order, OrderLine: order.lines.get(), Product: order.lines.get().product}[model]
    before = getattr(row, field)
    assert violates(lambda: model.objects.filter(pk=row.pk).update(**{field: Decimal("-0.01")}))
    assert getattr(model.objects.get(pk=row.pk), field) == before
    assert not violates(lambda: model.objects.filter(pk=row.pk).update(**{field: Decimal("0.00")}))


@pytest.mark.parametrize("amount", [Decimal("0.00"), Decimal("-5.00")])
def test_payment_amount_must_be_positive(amount):
    order = OrderFactory(paid=True)
    payment = order.payments.get()
    assert violates(lambda: Payment.objects.filter(pk=payment.pk).update(amount=amount))
    assert Payment.objects.get(pk=payment.pk).amount == Decimal("110.00")


def _payment(order, reference, clerk):
    return Payment.objects.create(
        order=order,
        kind=Payment.Kind.PAYMENT,
        amount=Decimal("10.00"),
        method="bank_transfer",
        reference=reference,
        received_on=timezone.localdate(),
        recorded_by=clerk,
    )


def test_payment_reference_is_unique_per_order_while_in_force():
    order = OrderFactory(confirmed=True)
    other = OrderFactory(confirmed=True)
    clerk = finance_clerk()
    first = _payment(order, "BANK-77", clerk)

    assert violates(lambda: _payment(order, "BANK-77", clerk))
    assert list(order.payments.values_list("reference", flat=True)) == ["BANK-77"]

    # The same number on another order is another transfer.
    assert not violates(lambda: _payment(other, "BANK-77", clerk))

    # Once the mistaken entry is voided, the reference may be recorded again (correctly).
    Payment.objects.filter(pk=first.pk).update(voided_at=timezone.now(), voided_by=clerk)
    assert not violates(lambda: _payment(order, "BANK-77", clerk))
    entries = order.payments.order_by("pk")
    assert [(p.reference, p.is_voided) for p in entries] == [("BANK-77", True), ("BANK-77", False)]
    # ... but only once.
    assert violates(lambda: _payment(order, "BANK-77", clerk))


def test_order_numbers_are_unique():
    first, second = OrderFactory(), OrderFactory()
    assert first.number != second.number
    assert violates(lambda: Order.objects.filter(pk=second.pk).update(number=first.number))
    assert Order.objects.get(pk=second.pk).number != first.number


def test_checkout_token_makes_one_order():
    first = OrderFactory()
    Order.objects.filter(pk=first.pk).update(checkout_token="tok-1")
    second = OrderFactory()
    assert violates(lambda: Order.objects.filter(pk=second.pk).update(checkout_token="tok-1"))


def test_orders_with_a_trail_cannot_be_deleted():
    order = OrderFactory(paid=True)
    with pytest.raises(ProtectedError):
        order.delete()
    assert Order.objects.filter(pk=order.pk).exists()
    assert order.events.count() == 3
    assert order.payments.count() == 1


# --- the services keep the trail append-only -------------------------------------------------


def _snapshot():
    """Every event and payment row, as plain values keyed by primary key."""
    return (
        {row["id"]: row for row in OrderEvent.objects.values()},
        {row["id"]: row for row in Payment.objects.values()},
    )


VOID_FIELDS = {"voided_at", "voided_by_id", "void_reason"}


def test_full_life_cycle_never_rewrites_events_or_deletes_payments():
    member = UserFactory(username="member")
    admin = order_admin(username="admin")
    clerk = finance_clerk(username="clerk")
    couriers = [logistics_person(username="courier1"), logistics_person(username="courier2")]
    mug = ProductFactory(sku="MUG", price=Decimal("50.00"), stock=20)
    tea = ProductFactory(sku="TEA", price=Decimal("30.00"), stock=20)
    today = timezone.localdate()

    state = {}
    steps = [
        (
            "place",
            lambda: state.update(
                order=services.place_order(
                    member, lines=[(mug, 2)], address=dict(ADDRESS), payment_method="cod"
                ),
                doomed=services.place_order(
                    member, lines=[(tea, 1)], address=dict(ADDRESS), payment_method="cod"
                ),
                dropped=services.place_order(
                    member, lines=[(tea, 2)], address=dict(ADDRESS), payment_method="cod"
                ),
            ),
        ),
        (
            "edit",
            lambda: services.edit_order(
                member,
                state["order"],
                expected_version=1,
                lines=[(mug, 1), (tea, 3)],
                address={**ADDRESS, "recipient": "Zhang Min"},
            ),
        ),
        ("call", lambda: services.log_call(admin, state["order"], outcome="reached", note="OK")),
        (
            "confirm",
            lambda: services.confirm_order(
                admin, state["order"], expected_version=2, call_note="Checked."
            ),
        ),
        ("allocate", lambda: services.allocate_order(admin, state["order"], assignee=couriers[0])),
        (
            "reallocate",
            lambda: services.allocate_order(admin, state["order"], assignee=couriers[1]),
        ),
        (
            "pay part",
            lambda: state.update(
                wrong=services.record_payment(
                    clerk,
                    state["order"],
                    amount=Decimal("40.00"),
                    method="cod",
                    reference="RCPT-1",
                    received_on=today,
                )
            ),
        ),
        ("void", lambda: services.void_payment(clerk, state["wrong"], reason="Wrong order.")),
        (
            "pay all",
            lambda: services.record_payment(
                clerk,
                state["order"],
                amount=Decimal("150.00"),
                method="cod",
                reference="RCPT-2",
                received_on=today,
            ),
        ),
        (
            "refund",
            lambda: state.update(
                refund=services.record_refund(
                    clerk, state["order"], amount=Decimal("10.00"), reference="RF-1"
                )
            ),
        ),
        ("void refund", lambda: services.void_payment(clerk, state["refund"], reason="Typo.")),
        (
            "ship",
            lambda: services.ship_order(
                couriers[1], state["order"], carrier="Own fleet", tracking_number="WB-1"
            ),
        ),
        ("invalidate", lambda: services.invalidate_order(admin, state["doomed"], reason="Fake.")),
        ("cancel invalid", lambda: services.cancel_order(admin, state["doomed"], reason="Fake.")),
        ("member cancels", lambda: services.cancel_order(member, state["dropped"])),
    ]

    events, payments = _snapshot()
    voided = set()
    with CaptureQueriesContext(connection) as queries:
        for name, step in steps:
            step()
            new_events, new_payments = _snapshot()
            # Every earlier event is still there, unchanged; the step added exactly one
            # (three for the three checkouts).
            assert {k: new_events[k] for k in events} == events, name
            assert len(new_events) - len(events) == (3 if name == "place" else 1), name
            # No payment disappeared; one changed only by being voided, once.
            assert set(payments) <= set(new_payments), name
            for pk, row in payments.items():
                changed = {f for f in row if row[f] != new_payments[pk][f]}
                if changed:
                    assert changed == VOID_FIELDS, name
                    assert pk not in voided, name
                    voided.add(pk)
            events, payments = new_events, new_payments

    sql = [q["sql"] for q in queries.captured_queries]
    touches = re.compile(r'^\s*(UPDATE|DELETE FROM)\s+"?(orders_orderevent|orders_payment)"?', re.I)
    writes = [m.groups() for m in map(touches.match, sql) if m]
    assert [(verb.upper(), table) for verb, table in writes] == [
        ("UPDATE", "orders_payment"),  # void the wrong receipt
        ("UPDATE", "orders_payment"),  # void the mistyped refund
    ]
    assert voided == {state["wrong"].pk, state["refund"].pk}

    order = Order.objects.get(pk=state["order"].pk)
    assert (order.status, order.payment_status) == (Status.SHIPPED, PaymentStatus.PAID)
    # 1 placed, 2 edited, 3 confirmed, 4-5 allocated twice, 6-10 ledger, 11 shipped (a
    # logged call keeps the version)
    assert order.version == 11
    assert list(order.events.values_list("kind", flat=True)) == [
        "placed",
        "edited",
        "call_logged",
        "confirmed",
        "allocated",
        "reallocated",
        "payment_recorded",
        "payment_voided",
        "payment_recorded",
        "refund_recorded",
        "payment_voided",
        "shipped",
    ]
    assert Product.objects.get(pk=mug.pk).stock == 19
    assert Product.objects.get(pk=tea.pk).stock == 17  # 3 shipped; 1 + 2 came back
    assert OrderEvent.objects.count() == 17
    assert Payment.objects.count() == 3
