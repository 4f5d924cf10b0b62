"""Races on finance's cash, PostgreSQL with real threads (issue 10, item 5).

Two clerks hand over the same collection at once: one remittance, one payment, the other
clerk is told (``AlreadyRemitted``). A refund and a remittance at once on one order:
both go through one after the other on the order's row lock, and the ledger balances
(held = payments - refunds; the stored owed / held equal ``position_from_ledger()``).
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from orders import services
from orders.exceptions import AlreadyRemitted
from orders.models import CodCollection, Order, OrderEvent, Payment, PaymentStatus, Remittance
from tests.factories import finance_clerk, logistics_person, order_admin
from tests.integrity.racing import error_names, run_together, start, wait_for_lock_waiters
from tests.orders.cash_helpers import collected, shipped_own

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def assert_ledger_balances(order):
    order = Order.objects.get(pk=order.pk)
    entries = order.payments.filter(voided_at__isnull=True)
    paid = sum((p.amount for p in entries if p.kind == Payment.Kind.PAYMENT), Decimal("0.00"))
    refunded = sum((p.amount for p in entries if p.kind == Payment.Kind.REFUND), Decimal("0.00"))
    assert order.held == paid - refunded
    assert order.money_position() == order.position_from_ledger()
    return order


def remit(clerk, courier, collections, counted):
    return lambda: services.record_remittance(
        clerk, courier=courier, collections=collections, counted_amount=Decimal(counted)
    )


def test_two_clerks_remitting_one_collection_make_one_remittance():
    admin = order_admin()
    courier = logistics_person()
    clerks = [finance_clerk(), finance_clerk()]
    for _round in range(3):
        order = collected(courier, admin)
        ids = [order.cod_collection.pk]

        outcomes = run_together(*(remit(c, courier, ids, "110.00") for c in clerks))

        assert error_names(outcomes) == ["AlreadyRemitted"]
        (winner,) = [o.value for o in outcomes if o.ok]
        collection = CodCollection.objects.get(pk=ids[0])
        assert collection.remittance_id == winner.pk
        assert order.payments.count() == 1
        assert order.payments.get().reference == winner.number
        assert (
            OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.PAYMENT_RECORDED).count()
            == 1
        )
        assert assert_ledger_balances(order).payment_status == PaymentStatus.PAID
    assert Remittance.objects.count() == 3


def test_overlapping_remittances_one_waits_then_is_told(pause):
    """Clerk A holds the locks mid-remittance; clerk B, handing over an overlapping set,
    waits on the row lock, then finds the shared collection remitted and records nothing."""
    admin = order_admin()
    courier = logistics_person()
    first, shared, last = (collected(courier, admin) for _ in range(3))
    paused = pause("a")
    a = start(
        remit(finance_clerk(), courier, [first.cod_collection.pk, shared.cod_collection.pk], "220"),
        name="a",
    )
    paused.wait_reached()
    b = start(
        remit(finance_clerk(), courier, [shared.cod_collection.pk, last.cod_collection.pk], "220"),
        name="b",
    )
    assert wait_for_lock_waiters(1), "the second remittance did not wait on the lock"
    paused.release.set()
    a.join(30)
    b.join(30)

    assert a.outcome.ok
    assert isinstance(b.outcome.error, AlreadyRemitted)
    assert Remittance.objects.count() == 1
    assert CodCollection.objects.get(pk=last.cod_collection.pk).remittance is None
    assert last.payments.count() == 0
    assert services.cash_in_hand()[0]["amount"] == Decimal("110.00")


def test_a_refund_and_a_remittance_at_once_keep_the_ledger_balanced():
    """COD 110.00: the member transferred 50.00 beforehand, the courier collected the other
    60.00. Finance refunds the transfer (money back) while another clerk records the
    courier's hand-over. Both land, in one order or the other, and the books add up."""
    admin = order_admin()
    courier = logistics_person()
    clerk_a, clerk_b = finance_clerk(), finance_clerk()
    for round_ in range(3):
        order = shipped_own(courier, admin)
        services.record_payment(
            clerk_a,
            order,
            amount=Decimal("50.00"),
            method="bank_transfer",
            reference=f"BT-{round_}",
            received_on=timezone.localdate(),
        )
        order = Order.objects.get(pk=order.pk)
        order = services.record_delivery(admin, order, collected_amount=Decimal("60.00"))
        events = order.events.count()

        outcomes = run_together(
            lambda order=order: services.record_refund(
                clerk_a, order, amount=Decimal("50.00"), reference="RF-1"
            ),
            remit(clerk_b, courier, [order.cod_collection.pk], "60.00"),
        )

        assert error_names(outcomes) == []
        order = assert_ledger_balances(order)
        position = order.money_position()
        assert (position.owed, position.held, position.due) == (
            Decimal("110.00"),
            Decimal("60.00"),
            Decimal("50.00"),
        )
        assert order.payment_status == PaymentStatus.PARTIALLY_PAID
        assert order.events.count() == events + 2
        assert order.cod_collection.remittance is not None
