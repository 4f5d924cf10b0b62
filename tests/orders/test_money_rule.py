"""The one money rule (DESIGN "Money: one rule"): owed, held, due, credit and the payment
status, for every row of the design's example table and the cases of issue 10.

Every figure is an exact ``Decimal``; after each step the stored position must equal the
one the ledger implies.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from orders import selectors, services
from orders.exceptions import InvalidInput, PaymentBeyondDue, TransitionNotAllowed
from orders.models import Order, OrderLine, PaymentMethod, PaymentStatus, Status
from tests.factories import (
    OrderFactory,
    ProductFactory,
    finance_clerk,
    logistics_person,
    order_admin,
)

pytestmark = pytest.mark.django_db

D = Decimal


def reload(order):
    return Order.objects.get(pk=order.pk)


def pay(order, amount, reference, *, method=None, as_credit=False):
    return services.record_payment(
        finance_clerk(),
        order,
        amount=D(amount),
        method=method or order.payment_method,
        reference=reference,
        received_on=timezone.localdate(),
        as_credit=as_credit,
    )


def refund(order, amount, reference, *, credit_note):
    return services.record_refund(
        finance_clerk(), order, amount=D(amount), reference=reference, credit_note=credit_note
    )


def position(order):
    order = reload(order)
    stored = order.money_position()
    assert stored == order.position_from_ledger(), "stored money drifted from the ledger"
    return (stored.owed, stored.held, stored.due, stored.credit, order.payment_status)


def in_queue(key, order):
    return Order.objects.filter(selectors.queue_filter(key), pk=order.pk).exists()


@pytest.fixture
def order():
    """Confirmed, cash on delivery, 2 x 50.00 + 10.00 shipping = 110.00."""
    placed = OrderFactory(confirmed=True)
    assert placed.total == D("110.00")
    return placed


def test_placed_order_owes_its_total(order):
    assert position(order) == (D("110"), D("0"), D("110"), D("0"), PaymentStatus.UNPAID)


def test_pay_in_full(order):
    pay(order, "110.00", "P1")
    assert position(order) == (D("110"), D("110"), D("0"), D("0"), PaymentStatus.PAID)


def test_credit_note_lowers_what_is_owed(order):
    pay(order, "110.00", "P1")
    refund(order, "30.00", "R1", credit_note=True)
    assert position(order) == (D("80"), D("80"), D("0"), D("0"), PaymentStatus.PAID)


def test_money_back_leaves_it_owed(order):
    pay(order, "110.00", "P1")
    refund(order, "30.00", "R1", credit_note=False)
    assert position(order) == (D("110"), D("80"), D("30"), D("0"), PaymentStatus.PARTIALLY_PAID)


def test_money_back_in_full_on_cash_on_delivery_is_all_due_again(order):
    pay(order, "110.00", "P1", method=PaymentMethod.BANK_TRANSFER)
    refund(order, "110.00", "R1", credit_note=False)
    assert position(order) == (D("110"), D("0"), D("110"), D("0"), PaymentStatus.REFUNDED)
    shipped = services.ship_order(
        order_admin(),
        services.allocate_order(order_admin(), reload(order), assignee=_courier()),
        carrier="SF Express",
        tracking_number="SF100",
    )
    assert in_queue("awaiting_cod_collection", shipped)


def test_overpayment_needs_record_as_credit(order):
    pay(order, "50.00", "P1")
    before = position(order)
    with pytest.raises(PaymentBeyondDue):
        pay(order, "100.00", "P2")
    assert position(order) == before and reload(order).payments.count() == 1
    pay(order, "100.00", "P2", as_credit=True)
    assert position(order) == (D("110"), D("150"), D("0"), D("40"), PaymentStatus.PAID)
    assert in_queue("refund_due", order)


def test_cancelled_after_refund_then_a_late_transfer_becomes_credit(order):
    pay(order, "110.00", "P1")
    with pytest.raises(TransitionNotAllowed):
        services.cancel_order(order_admin(), reload(order), reason="Out of stock")
    refund(order, "110.00", "R1", credit_note=False)
    services.cancel_order(order_admin(), reload(order), reason="Out of stock")
    assert position(order) == (D("0"), D("0"), D("0"), D("0"), PaymentStatus.REFUNDED)
    assert not in_queue("refund_due", order)
    # The member's second transfer arrives after the cancellation: no flag needed.
    pay(order, "110.00", "P2")
    assert position(order) == (D("0"), D("110"), D("0"), D("110"), PaymentStatus.PAID)
    assert in_queue("refund_due", order)
    refund(order, "110.00", "R2", credit_note=False)
    assert not in_queue("refund_due", order)


def test_payment_on_an_invalid_order_is_credit():
    order = OrderFactory(invalid=True)
    pay(order, "20.00", "LATE-1")
    assert position(order) == (D("0"), D("20"), D("0"), D("20"), PaymentStatus.PAID)
    assert in_queue("refund_due", order)


def test_prepaid_with_credit_note_ships_and_leaves_the_prepaid_queue():
    """Issue 10, case 1: bank transfer 110.00 paid, refund 30.00 as a credit note."""
    order = OrderFactory(confirmed=True, payment_method=PaymentMethod.BANK_TRANSFER)
    assert in_queue("awaiting_prepayment", order)
    pay(order, "110.00", "BK-1")
    refund(order, "30.00", "CN-1", credit_note=True)
    assert position(order) == (D("80"), D("80"), D("0"), D("0"), PaymentStatus.PAID)
    assert not in_queue("awaiting_prepayment", order)
    assert not reload(order).awaiting_prepayment
    admin = order_admin()
    allocated = services.allocate_order(admin, reload(order), assignee=_courier())
    shipped = services.ship_order(admin, allocated, carrier="EMS", tracking_number="EMS-1")
    assert shipped.status == Status.SHIPPED


def test_prepaid_with_money_back_cannot_ship_until_paid_again():
    order = OrderFactory(confirmed=True, payment_method=PaymentMethod.BANK_TRANSFER)
    pay(order, "110.00", "BK-1")
    refund(order, "30.00", "MB-1", credit_note=False)
    admin = order_admin()
    allocated = services.allocate_order(admin, reload(order), assignee=_courier())
    with pytest.raises(TransitionNotAllowed) as info:
        services.ship_order(admin, allocated, carrier="EMS", tracking_number="EMS-1")
    assert info.value.code == "unpaid"
    assert in_queue("awaiting_prepayment", allocated)


def test_money_paid_back_after_shipping_is_awaited_again():
    """A prepaid order refunded as money back after it shipped owes that money again: it
    is back in the prepaid queue (QA follow-up: it showed in no queue)."""
    order = OrderFactory(confirmed=True, payment_method=PaymentMethod.BANK_TRANSFER)
    pay(order, "110.00", "BK-1")
    admin = order_admin()
    allocated = services.allocate_order(admin, reload(order), assignee=_courier())
    services.ship_order(admin, allocated, carrier="EMS", tracking_number="EMS-2")
    assert not in_queue("awaiting_prepayment", order)
    refund(order, "50.00", "MB-2", credit_note=False)
    assert position(order)[2] == D("50.00")
    assert in_queue("awaiting_prepayment", order)


def test_refund_never_exceeds_held_and_credit_note_never_below_nothing(order):
    pay(order, "50.00", "P1")
    with pytest.raises(InvalidInput) as info:
        refund(order, "50.01", "R1", credit_note=False)
    assert info.value.code == "refund_too_large"
    refund(order, "50.00", "R1", credit_note=True)
    assert position(order) == (D("60"), D("0"), D("60"), D("0"), PaymentStatus.REFUNDED)


def test_refund_kind_must_be_said(order):
    pay(order, "110.00", "P1")
    with pytest.raises(InvalidInput) as info:
        services.record_refund(
            finance_clerk(), order, amount=D("1.00"), reference="R", credit_note="yes"
        )
    assert info.value.code == "credit_note"


def test_void_of_a_credit_note_makes_the_amount_owed_again(order):
    pay(order, "110.00", "P1")
    note = refund(order, "30.00", "CN", credit_note=True)
    services.void_payment(finance_clerk(), note, reason="Entered on the wrong order")
    assert position(order) == (D("110"), D("110"), D("0"), D("0"), PaymentStatus.PAID)


def test_edit_changes_what_is_owed():
    order = OrderFactory()
    line = order.lines.get()
    services.edit_order(
        order.customer,
        order,
        expected_version=order.version,
        lines=[(line.product, 3)],
    )
    assert position(order)[:3] == (D("160.00"), D("0"), D("160.00"))


# --- reserved units --------------------------------------------------------------------


def test_untracked_then_tracked_product_cancelled_leaves_stock_as_it_was():
    """Issue 10: an order for an untracked product whose stock is later set, then
    cancelled, leaves the stock as it was (nothing was reserved, nothing comes back)."""
    product = ProductFactory(stock=None)
    order = OrderFactory(lines=[(product, 2)])
    assert OrderLine.objects.get(order=order).reserved_quantity == 0
    product.stock = 7
    product.save()
    services.cancel_order(order.customer, order)
    product.refresh_from_db()
    assert product.stock == 7


def test_tracked_product_reserves_and_releases_exactly_once():
    product = ProductFactory(stock=10)
    order = OrderFactory(lines=[(product, 3)])
    assert OrderLine.objects.get(order=order).reserved_quantity == 3
    product.refresh_from_db()
    assert product.stock == 7
    services.invalidate_order(order_admin(), order, reason="Fake")
    services.cancel_order(order_admin(), reload(order), reason="Closing")
    product.refresh_from_db()
    assert product.stock == 10
    assert OrderLine.objects.get(order=order).reserved_quantity == 0


def test_edit_reserves_only_for_tracked_products():
    product = ProductFactory(stock=None)
    order = OrderFactory(lines=[(product, 1)])
    product.stock = 5
    product.save()
    services.edit_order(order.customer, order, expected_version=order.version, lines=[(product, 2)])
    line = OrderLine.objects.get(order=order)
    product.refresh_from_db()
    # Tracked now: the line holds its 2 units from the 5 (it held none before).
    assert (line.quantity, line.reserved_quantity, product.stock) == (2, 2, 3)
    services.cancel_order(order.customer, reload(order))
    product.refresh_from_db()
    assert product.stock == 5


def _courier():
    return logistics_person()
