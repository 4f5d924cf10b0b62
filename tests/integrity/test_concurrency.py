"""Races on PostgreSQL: real threads, one connection each, released together.

What is promised (issue 6, item 1): the last units are never sold twice, one order is
never confirmed twice, an admin never confirms details they did not see, a payment is
never counted twice, and stock comes back exactly once; no deadlock, no stray error.

SQLite has no row locks (it locks the whole file), so these run on PostgreSQL only.
"""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from mall.models import Product
from orders import services
from orders.exceptions import (
    DuplicateReference,
    InsufficientStock,
    StaleOrder,
    TransitionNotAllowed,
)
from orders.models import (
    CodCollection,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentStatus,
    Status,
)
from tests.factories import (
    ADDRESS,
    ProductFactory,
    UserFactory,
    finance_clerk,
    logistics_person,
    order_admin,
)
from tests.integrity.racing import error_names, run_together, start, wait_for_lock_waiters

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

User = get_user_model()

NEW_ADDRESS = {**ADDRESS, "recipient": "Zhang Min", "address_line": "5 Lake Street, Room 302"}


def fresh(model_obj):
    """Re-read a row from the database (never trust a copy another thread changed)."""
    return type(model_obj).objects.get(pk=model_obj.pk)


def stock_of(product):
    return Product.objects.get(pk=product.pk).stock


def place(member, lines, **kwargs):
    return services.place_order(
        member, lines=lines, address=dict(ADDRESS), payment_method="cod", **kwargs
    )


def events(order, kind):
    return OrderEvent.objects.filter(order=order, kind=kind).count()


def snapshot(order):
    """What an admin reviewing ``order`` sees: version, address and lines."""
    order = fresh(order)
    return {
        "version": order.version,
        "address": order.address_dict,
        "lines": list(order.lines.order_by("sku").values_list("sku", "quantity", "line_total")),
        "total": order.total,
    }


# --- checkout ------------------------------------------------------------------------------


def test_twelve_members_three_units_exactly_three_orders():
    product = ProductFactory(sku="LAST-3", stock=3)
    members = [UserFactory(username=f"buyer{i}") for i in range(12)]

    outcomes = run_together(*[lambda m=m: place(m, [(product, 1)]) for m in members])

    winners = [o.value for o in outcomes if o.ok]
    assert len(winners) == 3
    assert error_names(outcomes) == ["InsufficientStock"] * 9
    for loser in (o for o in outcomes if not o.ok):
        assert loser.error.code == "out_of_stock"
        assert loser.error.details == {"products": {"LAST-3": 0}}
    assert stock_of(product) == 0
    assert Order.objects.count() == 3
    assert sorted(OrderLine.objects.values_list("sku", "quantity")) == [("LAST-3", 1)] * 3
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.PLACED).count() == 3
    assert {o.customer_id for o in Order.objects.all()} == {w.customer_id for w in winners}


def test_variations_sharing_their_parents_stock_never_oversell_it():
    """WooCommerce "Stock = parent" (issue 13): red and blue draw on the shirt's 3 units."""
    shirt = ProductFactory(sku="SHIRT", price=None, stock=3, is_variable=True)
    red, blue = (
        ProductFactory(sku=sku, parent=shirt, stock=None, stock_from_parent=True)
        for sku in ("SHIRT-RED", "SHIRT-BLUE")
    )
    members = [UserFactory(username=f"shirt{i}") for i in range(8)]

    outcomes = run_together(
        *[lambda m=m, i=i: place(m, [((red, blue)[i % 2], 1)]) for i, m in enumerate(members)]
    )

    assert len([o for o in outcomes if o.ok]) == 3
    assert error_names(outcomes) == ["InsufficientStock"] * 5
    assert stock_of(shirt) == 0
    assert (stock_of(red), stock_of(blue)) == (None, None)
    assert OrderLine.objects.count() == 3
    assert set(OrderLine.objects.values_list("reserved_quantity", flat=True)) == {1}
    for order in Order.objects.all():
        services.cancel_order(order.customer, order, reason="")
    assert stock_of(shirt) == 3  # every unit back on the parent, exactly once


def test_checkout_waits_for_the_one_holding_the_last_unit(pause):
    product = ProductFactory(sku="LAST-1", stock=1)
    first, second = UserFactory(username="first"), UserFactory(username="second")
    paused = pause("first")

    a = start(lambda: place(first, [(product, 1)]), name="first")
    paused.wait_reached()  # stock already taken in a's open transaction, row still locked
    b = start(lambda: place(second, [(product, 1)]), name="second")
    assert wait_for_lock_waiters(1), "the second checkout did not wait on the product row lock"
    paused.release.set()
    a.join(30)
    b.join(30)

    assert a.outcome.ok
    assert isinstance(b.outcome.error, InsufficientStock)
    assert b.outcome.error.details == {"products": {"LAST-1": 0}}
    assert stock_of(product) == 0
    assert list(Order.objects.values_list("customer__username", flat=True)) == ["first"]


def test_opposite_product_order_never_deadlocks():
    a = ProductFactory(sku="PAIR-A", stock=100, price=Decimal("10.00"))
    b = ProductFactory(sku="PAIR-B", stock=100, price=Decimal("20.00"))
    left, right = UserFactory(username="left"), UserFactory(username="right")

    for _round in range(10):
        outcomes = run_together(
            lambda: place(left, [(a, 1), (b, 2)]),
            lambda: place(right, [(b, 2), (a, 1)]),
        )
        assert error_names(outcomes) == []

    assert stock_of(a) == 80
    assert stock_of(b) == 60
    assert Order.objects.count() == 20
    assert set(Order.objects.values_list("total", flat=True)) == {Decimal("60.00")}


def test_double_submit_of_one_checkout_makes_one_order():
    # The checkout form's one-time token: two clicks arriving together are one order,
    # and both answers show that order, even when it took the last unit.
    product = ProductFactory(sku="TOKEN-1", stock=1)
    member = UserFactory(username="clicker")

    for round_no in range(5):
        Product.objects.filter(pk=product.pk).update(stock=1)
        token = f"checkout-token-{round_no}"
        outcomes = run_together(
            lambda t=token: place(member, [(product, 1)], checkout_token=t),
            lambda t=token: place(member, [(product, 1)], checkout_token=t),
        )
        assert error_names(outcomes) == []
        assert outcomes[0].value.pk == outcomes[1].value.pk
        assert Order.objects.filter(checkout_token=token).count() == 1
        assert stock_of(product) == 0

    assert Order.objects.count() == 5


# --- confirmation --------------------------------------------------------------------------


def test_two_admins_confirm_one_order_once():
    member = UserFactory(username="member")
    product = ProductFactory(sku="CONF-1", stock=10)
    admins = [order_admin(username="admin1"), order_admin(username="admin2")]

    for _round in range(5):
        order = place(member, [(product, 2)])
        seen = order.version
        outcomes = run_together(
            *[
                lambda a=a, o=order, v=seen: services.confirm_order(
                    a, o, expected_version=v, call_note="Address checked by phone."
                )
                for a in admins
            ]
        )
        assert len([o for o in outcomes if o.ok]) == 1
        assert error_names(outcomes) in (["StaleOrder"], ["TransitionNotAllowed"])
        order = fresh(order)
        assert order.status == Status.CONFIRMED
        assert order.version == 2
        assert events(order, OrderEvent.Kind.CONFIRMED) == 1

    assert stock_of(product) == 0  # 5 orders x 2 units, still reserved


def test_member_cancel_against_admin_confirm_one_wins():
    member = UserFactory(username="member")
    admin = order_admin(username="admin")
    product = ProductFactory(sku="CXL-1", stock=40)
    results = set()

    for _round in range(10):
        order = place(member, [(product, 3)])
        before = stock_of(product)
        outcomes = run_together(
            lambda o=order: services.cancel_order(member, o),
            lambda o=order: services.confirm_order(
                admin, o, expected_version=1, call_note="Reached the member."
            ),
        )
        assert len([o for o in outcomes if o.ok]) == 1
        assert error_names(outcomes) == ["TransitionNotAllowed"]
        order = fresh(order)
        results.add(order.status)
        if order.status == Status.CANCELLED:
            assert outcomes[0].ok
            assert stock_of(product) == before + 3
            assert events(order, OrderEvent.Kind.CANCELLED) == 1
            assert events(order, OrderEvent.Kind.CONFIRMED) == 0
        else:
            assert order.status == Status.CONFIRMED
            assert outcomes[1].ok
            assert stock_of(product) == before
            assert events(order, OrderEvent.Kind.CONFIRMED) == 1
            assert events(order, OrderEvent.Kind.CANCELLED) == 0
        assert order.version == 2

    assert results <= {Status.CANCELLED, Status.CONFIRMED}
    live = Order.objects.exclude(status=Status.CANCELLED).count()
    assert stock_of(product) == 40 - 3 * live


def _edit(member, order, seen_version, product):
    """The member's edit: a new address, and 3 units of ``product`` instead of 2."""
    return services.edit_order(
        member,
        order,
        expected_version=seen_version,
        address=dict(NEW_ADDRESS),
        lines=[(product, 3)],
    )


def _confirm(admin, order, seen_version):
    return services.confirm_order(
        admin, order, expected_version=seen_version, call_note="Confirmed the address by phone."
    )


def test_member_edit_against_admin_confirm_never_confirms_unseen_details():
    member = UserFactory(username="member")
    admin = order_admin(username="admin")
    product = ProductFactory(sku="EDIT-1", stock=100)

    for _round in range(10):
        order = place(member, [(product, 2)])
        seen = snapshot(order)  # what the admin reviewed, and the member's form showed
        stock_before = stock_of(product)
        outcomes = run_together(
            lambda o=order, v=seen["version"]: _edit(member, o, v, product),
            lambda o=order, v=seen["version"]: _confirm(admin, o, v),
        )
        assert len([o for o in outcomes if o.ok]) == 1
        order = fresh(order)
        if order.status == Status.CONFIRMED:
            # The confirm won: the order is exactly what the admin saw.
            assert isinstance(outcomes[0].error, TransitionNotAllowed)
            assert snapshot(order) == {**seen, "version": seen["version"] + 1}
            event = order.events.get(kind=OrderEvent.Kind.CONFIRMED)
            # the confirmation is the call that reached the member (issue 11)
            assert event.data == {"confirmed_version": seen["version"], "call_outcome": "reached"}
            assert stock_of(product) == stock_before
        else:
            # The edit won: the admin is told the order changed; nothing is confirmed.
            assert order.status == Status.SUBMITTED
            assert isinstance(outcomes[1].error, StaleOrder)
            assert outcomes[1].error.details["current_version"] == seen["version"] + 1
            assert order.version == seen["version"] + 1
            assert order.recipient == "Zhang Min"
            assert list(order.lines.values_list("quantity", flat=True)) == [3]
            assert stock_of(product) == stock_before - 1
            assert events(order, OrderEvent.Kind.CONFIRMED) == 0


def test_member_edit_against_admin_edit_for_the_member_one_wins():
    """Issue 11: the member changes their order online while an admin changes it for them
    on the phone, from the same version. One wins; the other is told what changed
    (``StaleOrder``); the stock moved once, by the winner's lines."""
    member = UserFactory(username="member")
    admin = order_admin(username="admin")
    product = ProductFactory(sku="EDIT-4", stock=100)
    tea = ProductFactory(sku="TEA-4", stock=50)

    for _round in range(10):
        order = place(member, [(product, 2)])
        seen = snapshot(order)
        before = (stock_of(product), stock_of(tea))
        outcomes = run_together(
            lambda o=order, v=seen["version"]: _edit(member, o, v, product),
            lambda o=order, v=seen["version"]: services.edit_order(
                admin,
                o,
                expected_version=v,
                lines=[(product, 1), (tea, 4)],
                reason="As the member asked on the phone",
            ),
        )
        assert len([o for o in outcomes if o.ok]) == 1
        loser = next(o for o in outcomes if not o.ok)
        assert isinstance(loser.error, StaleOrder)
        assert loser.error.details["current_version"] == seen["version"] + 1
        assert [c["kind"] for c in loser.error.details["changes"]] == ["edited"]
        order = fresh(order)
        assert order.version == seen["version"] + 1
        assert events(order, OrderEvent.Kind.EDITED) == 1
        lines = dict(order.lines.values_list("sku", "quantity"))
        if outcomes[0].ok:  # the member's edit won
            assert lines == {"EDIT-4": 3}
            assert order.recipient == "Zhang Min"
            assert (stock_of(product), stock_of(tea)) == (before[0] - 1, before[1])
        else:  # the admin's edit won
            assert lines == {"EDIT-4": 1, "TEA-4": 4}
            edited = order.events.get(kind=OrderEvent.Kind.EDITED)
            assert (edited.actor, edited.data["for_member"]["id"]) == (admin, member.pk)
            assert (stock_of(product), stock_of(tea)) == (before[0] + 1, before[1] - 4)
        # The stock ledger balances: what is on the shelf plus what live orders hold.
        held = sum(
            OrderLine.objects.filter(product=product, order__status=Status.SUBMITTED).values_list(
                "reserved_quantity", flat=True
            )
        )
        assert stock_of(product) + held == 100


def test_confirm_arriving_during_an_edit_is_refused_as_stale(pause):
    member = UserFactory(username="member")
    admin = order_admin(username="admin")
    product = ProductFactory(sku="EDIT-2", stock=10)
    order = place(member, [(product, 2)])
    paused = pause("edit")

    edit = start(lambda: _edit(member, order, 1, product), name="edit")
    paused.wait_reached()  # the edit holds the order row; lines and stock already changed
    confirm = start(lambda: _confirm(admin, order, 1), name="confirm")
    assert wait_for_lock_waiters(1), "confirm did not wait on the order row lock"
    paused.release.set()
    edit.join(30)
    confirm.join(30)

    assert edit.outcome.ok
    assert isinstance(confirm.outcome.error, StaleOrder)
    order = fresh(order)
    assert (order.status, order.version, order.recipient) == (Status.SUBMITTED, 2, "Zhang Min")
    assert stock_of(product) == 7
    assert events(order, OrderEvent.Kind.CONFIRMED) == 0


def test_edit_arriving_during_a_confirm_is_refused(pause):
    member = UserFactory(username="member")
    admin = order_admin(username="admin")
    product = ProductFactory(sku="EDIT-3", stock=10)
    order = place(member, [(product, 2)])
    seen = snapshot(order)
    paused = pause("confirm")

    confirm = start(lambda: _confirm(admin, order, 1), name="confirm")
    paused.wait_reached()
    edit = start(lambda: _edit(member, order, 1, product), name="edit")
    assert wait_for_lock_waiters(1), "edit did not wait on the order row lock"
    paused.release.set()
    confirm.join(30)
    edit.join(30)

    assert confirm.outcome.ok
    assert isinstance(edit.outcome.error, TransitionNotAllowed)
    order = fresh(order)
    assert order.status == Status.CONFIRMED
    assert snapshot(order) == {**seen, "version": 2}
    assert stock_of(product) == 8


# --- payments ------------------------------------------------------------------------------


def _confirmed_order(sku, quantity=2):
    member = UserFactory(username=f"payer-{sku}")
    product = ProductFactory(sku=sku, stock=10, price=Decimal("50.00"))
    order = place(member, [(product, quantity)])
    return services.confirm_order(
        order_admin(username=f"admin-{sku}"), order, expected_version=1, call_note="OK."
    )


def _pay(clerk, order, amount, reference):
    return services.record_payment(
        clerk,
        order,
        amount=amount,
        method="bank_transfer",
        reference=reference,
        received_on=timezone.localdate(),
    )


def test_same_transfer_recorded_by_two_clerks_counts_once():
    clerks = [finance_clerk(username="clerk1"), finance_clerk(username="clerk2")]

    for round_no in range(5):
        order = _confirmed_order(f"PAY-{round_no}")  # 2 x 50.00 + 10.00 shipping
        assert order.total == Decimal("110.00")
        outcomes = run_together(
            *[lambda c=c, o=order: _pay(c, o, Decimal("110.00"), "ICBC-2024-0001") for c in clerks]
        )
        assert error_names(outcomes) == ["DuplicateReference"]
        loser = next(o for o in outcomes if not o.ok)
        assert isinstance(loser.error, DuplicateReference)
        assert loser.error.code == "duplicate_reference"
        order = fresh(order)
        assert list(order.payments.values_list("reference", "amount", "voided_at")) == [
            ("ICBC-2024-0001", Decimal("110.00"), None)
        ]
        assert order.payment_status == PaymentStatus.PAID
        assert (order.ledger_totals().paid, order.held) == (Decimal("110.00"), Decimal("110.00"))
        assert events(order, OrderEvent.Kind.PAYMENT_RECORDED) == 1
        assert order.version == 3  # placed 1, confirmed 2, paid 3


def test_two_part_payments_at_once_both_count():
    # No lost update: each recomputes the status from the ledger under the order lock.
    clerks = [finance_clerk(username="clerk1"), finance_clerk(username="clerk2")]

    for round_no in range(5):
        order = _confirmed_order(f"PART-{round_no}")
        outcomes = run_together(
            lambda o=order: _pay(clerks[0], o, Decimal("55.00"), "REMIT-A"),
            lambda o=order: _pay(clerks[1], o, Decimal("55.00"), "REMIT-B"),
        )
        assert error_names(outcomes) == []
        order = fresh(order)
        assert order.payment_status == PaymentStatus.PAID
        assert order.paid_at is not None
        trail = list(
            order.events.filter(kind=OrderEvent.Kind.PAYMENT_RECORDED).values_list(
                "from_payment_status", "to_payment_status", "order_version"
            )
        )
        assert trail == [
            (PaymentStatus.UNPAID, PaymentStatus.PARTIALLY_PAID, 3),
            (PaymentStatus.PARTIALLY_PAID, PaymentStatus.PAID, 4),
        ]


# --- cancelling ----------------------------------------------------------------------------


def test_many_cancels_return_stock_exactly_once():
    member = UserFactory(username="member")
    admins = [order_admin(username=f"admin{i}") for i in range(7)]
    product = ProductFactory(sku="CXL-MANY", stock=10)

    for _round in range(3):
        order = place(member, [(product, 4)])
        assert stock_of(product) == 6
        outcomes = run_together(
            lambda o=order: services.cancel_order(member, o),
            *[
                lambda a=a, o=order: services.cancel_order(a, o, reason="Duplicate order.")
                for a in admins
            ],
        )
        assert len([o for o in outcomes if o.ok]) == 1
        assert error_names(outcomes) == ["TransitionNotAllowed"] * 7
        order = fresh(order)
        assert order.status == Status.CANCELLED
        assert order.version == 2
        assert stock_of(product) == 10
        event = order.events.get(kind=OrderEvent.Kind.CANCELLED)
        assert event.data["stock_released"] == {"CXL-MANY": 4}


def test_invalidate_and_cancel_at_once_return_stock_once():
    member = UserFactory(username="member")
    admins = [order_admin(username=f"admin{i}") for i in range(4)]
    product = ProductFactory(sku="INV-CXL", stock=10)

    for _round in range(5):
        order = place(member, [(product, 4)])
        outcomes = run_together(
            lambda o=order: services.cancel_order(member, o),
            lambda o=order: services.invalidate_order(admins[0], o, reason="Fake address."),
            lambda o=order: services.invalidate_order(admins[1], o, reason="Fake address."),
            lambda o=order: services.cancel_order(admins[2], o, reason="Member asked."),
            lambda o=order: services.cancel_order(admins[3], o, reason="Member asked."),
        )
        assert set(error_names(outcomes)) <= {"TransitionNotAllowed"}
        order = fresh(order)
        assert order.status in (Status.CANCELLED, Status.INVALID)
        assert stock_of(product) == 10
        released = [
            e.data["stock_released"]
            for e in order.events.filter(
                kind__in=[OrderEvent.Kind.CANCELLED, OrderEvent.Kind.INVALIDATED]
            )
        ]
        assert [r for r in released if r] == [{"INV-CXL": 4}]


def test_mixed_load_keeps_the_stock_ledger_balanced():
    # Checkouts, edits, cancels and invalidations over shared products at once: in the
    # end each product's stock plus the units held by live orders is what we started with.
    products = [ProductFactory(sku=f"MIX-{i}", stock=30) for i in range(3)]
    members = [UserFactory(username=f"mix{i}") for i in range(6)]
    admin = order_admin(username="admin")
    standing = [
        place(members[i], [(products[i % 3], 2), (products[(i + 1) % 3], 1)]) for i in range(6)
    ]

    calls = [
        lambda: place(members[0], [(products[2], 3), (products[0], 1)]),
        lambda: place(members[1], [(products[0], 2), (products[1], 2), (products[2], 2)]),
        lambda: services.edit_order(
            members[2], standing[2], expected_version=1, lines=[(products[0], 5), (products[1], 1)]
        ),
        lambda: services.edit_order(
            members[3], standing[3], expected_version=1, lines=[(products[1], 1)]
        ),
        lambda: services.cancel_order(members[4], standing[4]),
        lambda: services.invalidate_order(admin, standing[5], reason="Unreachable."),
        lambda: services.cancel_order(admin, standing[0], reason="Member asked."),
        lambda: _confirm(admin, standing[1], 1),
    ]
    outcomes = run_together(*calls)

    assert error_names(outcomes) == []
    held_statuses = [Status.SUBMITTED, Status.CONFIRMED, Status.ALLOCATED, Status.SHIPPED]
    for product in products:
        held = sum(
            OrderLine.objects.filter(product=product, order__status__in=held_statuses).values_list(
                "quantity", flat=True
            )
        )
        assert stock_of(product) + held == 30, product.sku
    assert Payment.objects.count() == 0


def test_delivery_and_return_of_one_order_at_once_keep_stock_and_cash_balanced():
    """Issue 10: the courier records the delivery while an admin records the parcel back.

    Either the delivery lands first (then the return follows it: delivered → returned) or
    the return does (then the delivery is refused). Stock comes back exactly once, and
    cash is in the courier's hands only if the delivery happened.
    """
    member = UserFactory(username="member")
    admin = order_admin(username="admin")
    courier = logistics_person(username="courier")
    product = ProductFactory(sku="RACE-RET", stock=10)

    for _round in range(4):
        order = place(member, [(product, 2)])
        order = services.confirm_order(admin, order, expected_version=1, call_note="ok")
        order = services.allocate_order(admin, order, assignee=courier)
        order = services.ship_order(admin, order, carrier=Order.OWN_DELIVERY_STAFF)
        outcomes = run_together(
            lambda o=order: services.record_delivery(courier, o, collected_amount=o.total),
            lambda o=order: services.record_return(admin, o, reason="Refused at the door"),
        )
        assert set(error_names(outcomes)) <= {"TransitionNotAllowed"}
        order = fresh(order)
        assert order.status == Status.RETURNED
        delivered = outcomes[0].ok
        assert events(order, OrderEvent.Kind.DELIVERED) == (1 if delivered else 0)
        assert events(order, OrderEvent.Kind.RETURNED) == 1
        assert CodCollection.objects.filter(order=order).exists() == delivered
        assert order.money_position() == order.position_from_ledger()
        assert (order.owed, order.held) == (Decimal("0.00"), Decimal("0.00"))
        assert stock_of(product) == 10
