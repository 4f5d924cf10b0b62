"""After shipping: delivery attempts, deliveries with the courier's cash, returns, and the
courier's cash handed over (DESIGN status table rows ``record_delivery_attempt``,
``record_delivery``, ``record_return``; "Cash on delivery").

Each action writes exactly one event; each refusal changes nothing.
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from orders import services
from orders.exceptions import (
    AlreadyRemitted,
    InvalidInput,
    NotPermitted,
    TransitionNotAllowed,
)
from orders.models import (
    CodCollection,
    Order,
    OrderEvent,
    PaymentMethod,
    PaymentStatus,
    Remittance,
    Status,
)
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


def snapshot(order):
    order = reload(order)
    return (
        order.status,
        order.payment_status,
        order.version,
        order.owed,
        order.held,
        order.events.count(),
        CodCollection.objects.filter(order=order).count(),
        [(line.product.stock, line.reserved_quantity) for line in order.lines.all()],
    )


def refused(exc, func, *args, order, **kwargs):
    before = snapshot(order)
    with pytest.raises(exc) as info:
        func(*args, **kwargs)
    assert snapshot(order) == before
    return info.value


@pytest.fixture
def own_cod():
    """Cash on delivery, 110.00, out with the shop's own courier."""
    order = OrderFactory(own_shipped=True)
    assert (order.status, order.carrier, order.tracking_number) == (Status.SHIPPED, "own", "")
    return order


# --- shipping ---------------------------------------------------------------------------


def test_own_delivery_staff_ship_without_a_waybill_others_need_one():
    admin = order_admin()
    order = OrderFactory(allocated=True)
    refused(
        InvalidInput,
        services.ship_order,
        admin,
        order,
        order=order,
        carrier="SF Express",
        tracking_number="",
    )
    shipped = services.ship_order(admin, order, carrier=Order.OWN_DELIVERY_STAFF)
    assert (shipped.status, shipped.tracking_number) == (Status.SHIPPED, "")


def test_a_waybill_is_used_once_per_carrier():
    admin = order_admin()
    first = OrderFactory(allocated=True)
    services.ship_order(admin, first, carrier="SF Express", tracking_number="SF1")
    second = OrderFactory(allocated=True)
    error = refused(
        InvalidInput,
        services.ship_order,
        admin,
        second,
        order=second,
        carrier="sf express",
        tracking_number="sf1",
    )
    assert error.code == "duplicate_waybill"
    services.ship_order(admin, second, carrier="EMS", tracking_number="SF1")


# --- attempts ---------------------------------------------------------------------------


def test_attempt_writes_one_event_without_a_version_bump(own_cod):
    courier = own_cod.assigned_to
    version = own_cod.version
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    event = services.record_delivery_attempt(
        courier, own_cod, outcome="not_home", note="Rang twice", next_attempt_on=tomorrow
    )
    order = reload(own_cod)
    assert (order.status, order.version, order.next_attempt_on) == (
        Status.SHIPPED,
        version,
        tomorrow,
    )
    assert (event.kind, event.actor, event.note) == (
        OrderEvent.Kind.DELIVERY_ATTEMPTED,
        courier,
        "Rang twice",
    )
    assert event.data == {"outcome": "not_home", "attempt": 1, "next_attempt_on": str(tomorrow)}
    second = services.record_delivery_attempt(courier, order, outcome="refused")
    assert second.data["attempt"] == 2
    assert reload(order).next_attempt_on is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"outcome": "lost"},
        {"outcome": "other", "note": ""},
        {"outcome": "postponed", "next_attempt_on": datetime.date(2000, 1, 1)},
        {"outcome": "postponed", "next_attempt_on": "tomorrow"},
        {"outcome": "postponed", "next_attempt_on": datetime.date(9999, 12, 31)},
    ],
)
def test_bad_attempts_are_refused(own_cod, kwargs):
    refused(
        InvalidInput,
        services.record_delivery_attempt,
        own_cod.assigned_to,
        own_cod,
        order=own_cod,
        **kwargs,
    )


def test_only_the_assigned_courier_or_an_admin_records_delivery(own_cod):
    other = logistics_person()
    refused(
        NotPermitted,
        services.record_delivery_attempt,
        other,
        own_cod,
        order=own_cod,
        outcome="not_home",
    )
    refused(
        NotPermitted,
        services.record_delivery,
        finance_clerk(),
        own_cod,
        order=own_cod,
        collected_amount=D("110.00"),
    )
    refused(
        NotPermitted,
        services.record_delivery,
        own_cod.customer,
        own_cod,
        order=own_cod,
        collected_amount=D("110.00"),
    )


def test_attempt_refused_before_shipping():
    order = OrderFactory(allocated=True)
    refused(
        TransitionNotAllowed,
        services.record_delivery_attempt,
        order_admin(),
        order,
        order=order,
        outcome="not_home",
    )


# --- deliveries -------------------------------------------------------------------------


def test_delivery_with_cash_puts_it_in_the_courier_hands(own_cod):
    courier = own_cod.assigned_to
    order = services.record_delivery(
        courier, own_cod, collected_amount=D("110.00"), received_by="Li Lei"
    )
    assert (order.status, order.received_by) == (Status.DELIVERED, "Li Lei")
    assert order.delivered_at is not None
    collection = CodCollection.objects.get(order=order)
    assert (collection.courier, collection.amount, collection.remittance) == (
        courier,
        D("110.00"),
        None,
    )
    # Not paid until finance has the cash.
    assert order.payment_status == PaymentStatus.UNPAID
    assert order.money_position().due == D("110.00")
    event = order.events.get(kind=OrderEvent.Kind.DELIVERED)
    assert event.data == {
        "received_by": "Li Lei",
        "due": "110.00",
        "collected": "110.00",
        "difference": "0.00",
        "collection_id": collection.pk,
    }
    assert services.cash_in_hand() == [
        {
            "courier": courier,
            "amount": D("110.00"),
            "collections": 1,
            "oldest": collection.collected_at,
        }
    ]


def test_cash_short_of_due_is_flagged_in_the_event(own_cod):
    services.record_delivery(own_cod.assigned_to, own_cod, collected_amount="100.00")
    event = reload(own_cod).events.get(kind=OrderEvent.Kind.DELIVERED)
    assert (event.data["due"], event.data["collected"], event.data["difference"]) == (
        "110.00",
        "100.00",
        "-10.00",
    )


def test_cash_required_for_own_cod_and_refused_elsewhere(own_cod):
    error = refused(
        InvalidInput, services.record_delivery, own_cod.assigned_to, own_cod, order=own_cod
    )
    assert error.code == "collected_required"
    refused(
        InvalidInput,
        services.record_delivery,
        own_cod.assigned_to,
        own_cod,
        order=own_cod,
        collected_amount="-1",
    )
    prepaid = OrderFactory(
        confirmed=True, payment_method=PaymentMethod.BANK_TRANSFER, lines=[(ProductFactory(), 1)]
    )
    services.record_payment(
        finance_clerk(),
        prepaid,
        amount=prepaid.total,
        method="bank_transfer",
        reference="BK",
        received_on=timezone.localdate(),
    )
    admin = order_admin()
    services.allocate_order(admin, reload(prepaid), assignee=logistics_person())
    prepaid = services.ship_order(admin, reload(prepaid), carrier=Order.OWN_DELIVERY_STAFF)
    error = refused(
        InvalidInput,
        services.record_delivery,
        admin,
        prepaid,
        order=prepaid,
        collected_amount="60.00",
    )
    assert error.code == "nothing_to_collect"
    assert services.record_delivery(admin, prepaid).status == Status.DELIVERED
    assert not CodCollection.objects.filter(order=prepaid).exists()


def test_third_party_carrier_records_no_collection():
    order = OrderFactory(shipped=True)  # "Own fleet" with a waybill: a carrier's name
    refused(
        InvalidInput,
        services.record_delivery,
        order_admin(),
        order,
        order=order,
        collected_amount="110.00",
    )
    delivered = services.record_delivery(order_admin(), order)
    assert delivered.status == Status.DELIVERED
    assert delivered.money_position().due == D("110.00")
    assert not CodCollection.objects.filter(order=order).exists()


def test_delivered_is_final_except_for_a_return(own_cod):
    admin = order_admin()
    services.record_delivery(admin, own_cod, collected_amount="110.00")
    order = reload(own_cod)
    refused(TransitionNotAllowed, services.record_delivery, admin, order, order=order)
    refused(
        TransitionNotAllowed,
        services.record_delivery_attempt,
        admin,
        order,
        order=order,
        outcome="not_home",
    )
    refused(TransitionNotAllowed, services.cancel_order, admin, order, order=order, reason="x")
    assert services.record_return(admin, order, reason="Sent back").status == Status.RETURNED


# --- returns ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("restock", "stock_after", "written_off"),
    [(True, 10, {}), (False, 7, {"{sku}": 3}), ({"{sku}": 2}, 9, {"{sku}": 1})],
)
def test_return_restocks_what_it_is_told(restock, stock_after, written_off):
    product = ProductFactory(stock=10)
    order = OrderFactory(shipped=True, lines=[(product, 3)])
    product.refresh_from_db()
    assert product.stock == 7
    if isinstance(restock, dict):
        restock = {k.format(sku=product.sku): n for k, n in restock.items()}
    services.record_return(order_admin(), order, reason="Refused at the door", restock=restock)
    product.refresh_from_db()
    order = reload(order)
    assert (order.status, product.stock) == (Status.RETURNED, stock_after)
    event = order.events.get(kind=OrderEvent.Kind.RETURNED)
    assert event.data["written_off"] == {
        k.format(sku=product.sku): v for k, v in written_off.items()
    }
    assert order.lines.get().reserved_quantity == 0
    # Owed nothing any more; nothing was paid, so no credit.
    assert (order.owed, order.held, order.payment_status) == (
        D("0.00"),
        D("0.00"),
        PaymentStatus.UNPAID,
    )


@pytest.mark.parametrize(
    "restock", [{"NOPE": 1}, {"{sku}": 4}, {"{sku}": -1}, {"{sku}": "2"}, "all"]
)
def test_bad_restock_is_refused(restock):
    product = ProductFactory(stock=10)
    order = OrderFactory(shipped=True, lines=[(product, 3)])
    if isinstance(restock, dict):
        restock = {k.format(sku=product.sku): v for k, v in restock.items()}
    refused(
        InvalidInput,
        services.record_return,
        order_admin(),
        order,
        order=order,
        reason="x",
        restock=restock,
    )


def test_return_makes_money_held_credit_and_is_final():
    order = OrderFactory(confirmed=True, payment_method=PaymentMethod.BANK_TRANSFER)
    services.record_payment(
        finance_clerk(),
        order,
        amount=order.total,
        method="bank_transfer",
        reference="BK",
        received_on=timezone.localdate(),
    )
    admin = order_admin()
    services.allocate_order(admin, reload(order), assignee=logistics_person())
    services.ship_order(admin, reload(order), carrier="EMS", tracking_number="E1")
    order = services.record_return(admin, reload(order), reason="Undeliverable")
    assert order.money_position().credit == D("110.00")
    assert order.payment_status == PaymentStatus.PAID
    refused(TransitionNotAllowed, services.record_return, admin, order, order=order, reason="x")
    refused(
        NotPermitted,
        services.record_return,
        order.assigned_to,
        order,
        order=order,
        reason="couriers do not record returns",
    )


def test_return_needs_a_reason(own_cod):
    refused(InvalidInput, services.record_return, order_admin(), own_cod, order=own_cod, reason="")


# --- the courier's cash to the books ------------------------------------------------------


def delivered_with_cash(amount="110.00"):
    order = OrderFactory(own_shipped=True)
    services.record_delivery(order.assigned_to, order, collected_amount=amount)
    return reload(order)


def test_remittance_records_one_payment_per_order_and_keeps_the_shortfall():
    admin = order_admin()
    first = delivered_with_cash()
    courier = first.assigned_to
    second = OrderFactory(confirmed=True)
    services.allocate_order(admin, second, assignee=courier)
    services.ship_order(admin, reload(second), carrier=Order.OWN_DELIVERY_STAFF)
    services.record_delivery(courier, reload(second), collected_amount="110.00")
    collections = list(CodCollection.objects.filter(courier=courier))
    assert sum(c.amount for c in collections) == D("220.00")

    clerk = finance_clerk()
    with pytest.raises(InvalidInput) as info:
        services.record_remittance(
            clerk, courier=courier, collections=collections, counted_amount="210.00"
        )
    assert info.value.code == "note_required"
    assert not Remittance.objects.exists()

    remittance = services.record_remittance(
        clerk,
        courier=courier,
        collections=collections,
        counted_amount="210.00",
        note="10.00 short: courier gave change from the float",
    )
    assert (remittance.expected, remittance.counted, remittance.difference) == (
        D("220.00"),
        D("210.00"),
        D("-10.00"),
    )
    for order in (first, second):
        order = reload(order)
        assert order.payment_status == PaymentStatus.PAID
        payment = order.payments.get()
        assert (payment.method, payment.reference, payment.amount) == (
            "cod",
            remittance.number,
            D("110.00"),
        )
        assert order.events.filter(kind=OrderEvent.Kind.PAYMENT_RECORDED).count() == 1
        assert order.cod_collection.remittance == remittance
    assert services.cash_in_hand() == []

    with pytest.raises(AlreadyRemitted):
        services.record_remittance(
            clerk, courier=courier, collections=collections, counted_amount="220.00"
        )
    assert Remittance.objects.count() == 1


def test_remittance_refuses_another_courier_cash_and_non_finance():
    order = delivered_with_cash()
    collection = order.cod_collection
    with pytest.raises(InvalidInput):
        services.record_remittance(
            finance_clerk(),
            courier=logistics_person(),
            collections=[collection],
            counted_amount="110.00",
        )
    with pytest.raises(NotPermitted):
        services.record_remittance(
            order_admin(), courier=order.assigned_to, collections=[collection], counted_amount="1"
        )
    with pytest.raises(InvalidInput):
        services.record_remittance(
            finance_clerk(), courier=order.assigned_to, collections=[], counted_amount="1"
        )
    assert not Remittance.objects.exists()
    assert reload(order).payments.count() == 0
