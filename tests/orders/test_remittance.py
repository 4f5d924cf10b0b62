"""``services.record_remittance``: the cash a courier hands over reaches the books.

DESIGN "Cash on delivery": one payment per collection (method cod, reference the
remittance number), so each order's payment status follows; a shortfall stays on the
remittance with its note and is never spread over the orders; a collection is handed
over once; one event per order; a fault anywhere leaves nothing behind.
"""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection
from django.utils import translation

from orders import services
from orders.exceptions import AlreadyRemitted, InvalidInput, NotPermitted
from orders.models import (
    CodCollection,
    Order,
    OrderEvent,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Remittance,
    Status,
)
from orders.services import _bookkeeping as bookkeeping
from tests.factories import logistics_person
from tests.orders.cash_helpers import collected, money_state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def courier(db):
    return logistics_person(username="courier-wang", first_name="Wang", last_name="Fang")


@pytest.fixture
def two(courier, admin_user):
    """Two orders delivered by ``courier``, 110.00 each collected in full."""
    return [collected(courier, admin_user), collected(courier, admin_user)]


def fresh(order):
    return Order.objects.get(pk=order.pk)


def test_one_payment_per_collection_and_payment_status_follows(courier, two, finance_user):
    ids = [o.cod_collection.pk for o in two]
    assert services.cash_in_hand()[0]["amount"] == Decimal("220.00")

    remittance = services.record_remittance(
        finance_user, courier=courier, collections=ids, counted_amount=Decimal("220.00")
    )

    assert (remittance.expected, remittance.counted, remittance.difference) == (
        Decimal("220.00"),
        Decimal("220.00"),
        Decimal("0.00"),
    )
    assert remittance.courier == courier and remittance.received_by == finance_user
    for order in two:
        order = fresh(order)
        payment = order.payments.get()
        assert (payment.kind, payment.method, payment.amount, payment.reference) == (
            Payment.Kind.PAYMENT,
            PaymentMethod.COD,
            Decimal("110.00"),
            remittance.number,
        )
        assert order.payment_status == PaymentStatus.PAID
        assert order.money_position().due == Decimal("0.00")
        collection = CodCollection.objects.get(order=order)
        assert collection.remittance == remittance and collection.payment == payment
    assert services.cash_in_hand() == []
    assert sorted(remittance.collections.values_list("pk", flat=True)) == sorted(ids)


def test_collection_objects_or_ids_are_both_accepted(courier, two, finance_user):
    remittance = services.record_remittance(
        finance_user,
        courier=courier,
        collections=[o.cod_collection for o in two],
        counted_amount="220.00",
    )
    assert remittance.collections.count() == 2


def test_a_shortfall_stays_on_the_remittance_with_its_note(courier, two, finance_user):
    remittance = services.record_remittance(
        finance_user,
        courier=courier,
        collections=[o.cod_collection.pk for o in two],
        counted_amount=Decimal("210.00"),
        note="Courier short 10.00, to be deducted from wages.",
    )

    remittance = Remittance.objects.get(pk=remittance.pk)
    assert remittance.difference == Decimal("-10.00")
    assert remittance.note == "Courier short 10.00, to be deducted from wages."
    # Not spread over the orders: each is paid in full by its collection.
    amounts = sorted(Payment.objects.values_list("amount", flat=True))
    assert amounts == [Decimal("110.00"), Decimal("110.00")]
    assert {fresh(o).payment_status for o in two} == {PaymentStatus.PAID}


def test_a_surplus_is_kept_too(courier, two, finance_user):
    remittance = services.record_remittance(
        finance_user,
        courier=courier,
        collections=[two[0].cod_collection.pk],
        counted_amount=Decimal("115.00"),
        note="Tip left in the envelope.",
    )
    assert remittance.difference == Decimal("5.00")
    assert fresh(two[0]).payments.get().amount == Decimal("110.00")
    assert fresh(two[1]).payment_status == PaymentStatus.UNPAID  # not handed over yet
    assert services.cash_in_hand()[0]["amount"] == Decimal("110.00")


def test_a_partial_collection_leaves_the_order_partially_paid(courier, admin_user, finance_user):
    order = collected(courier, admin_user, amount="100.00")

    services.record_remittance(
        finance_user,
        courier=courier,
        collections=[order.cod_collection.pk],
        counted_amount=Decimal("100.00"),
    )

    order = fresh(order)
    assert order.payment_status == PaymentStatus.PARTIALLY_PAID
    assert order.money_position().due == Decimal("10.00")


@pytest.mark.parametrize("note", ["", "   "])
def test_note_required_when_the_count_differs(courier, two, finance_user, note):
    before = money_state()

    with pytest.raises(InvalidInput) as caught:
        services.record_remittance(
            finance_user,
            courier=courier,
            collections=[o.cod_collection.pk for o in two],
            counted_amount=Decimal("200.00"),
            note=note,
        )

    assert caught.value.code == "note_required"
    assert "-20.00" in caught.value.message
    assert money_state() == before


def test_another_couriers_collection_is_refused(courier, two, admin_user, finance_user):
    other = collected(logistics_person(username="courier-li"), admin_user)
    before = money_state()

    with pytest.raises(InvalidInput) as caught:
        services.record_remittance(
            finance_user,
            courier=courier,
            collections=[two[0].cod_collection.pk, other.cod_collection.pk],
            counted_amount=Decimal("220.00"),
        )

    assert caught.value.code == "collections"
    assert money_state() == before


def test_an_unknown_collection_is_refused(courier, two, finance_user):
    before = money_state()
    with pytest.raises(InvalidInput):
        services.record_remittance(
            finance_user, courier=courier, collections=[999999], counted_amount="1.00"
        )
    with pytest.raises(InvalidInput):
        services.record_remittance(
            finance_user, courier=courier, collections=[], counted_amount="0.00"
        )
    assert money_state() == before


def test_already_remitted_is_refused_and_nothing_changes(courier, two, finance_user):
    first = two[0].cod_collection.pk
    services.record_remittance(
        finance_user, courier=courier, collections=[first], counted_amount="110.00"
    )
    before = money_state()

    with pytest.raises(AlreadyRemitted):
        services.record_remittance(
            finance_user,
            courier=courier,
            collections=[first, two[1].cod_collection.pk],
            counted_amount="220.00",
        )

    assert money_state() == before
    assert Remittance.objects.count() == 1
    assert CodCollection.objects.get(pk=two[1].cod_collection.pk).remittance is None


@pytest.mark.parametrize("role", ["admin_user", "logistics_user", "member"])
def test_only_finance_records_a_remittance(request, courier, two, role):
    before = money_state()
    with pytest.raises(NotPermitted):
        services.record_remittance(
            request.getfixturevalue(role),
            courier=courier,
            collections=[two[0].cod_collection.pk],
            counted_amount="110.00",
        )
    assert money_state() == before


@pytest.mark.parametrize("amount", ["-1.00", "1.001", "abc", 1.5, "99999999999"])
def test_a_bad_counted_amount_is_refused(courier, two, finance_user, amount):
    before = money_state()
    with pytest.raises(InvalidInput):
        services.record_remittance(
            finance_user,
            courier=courier,
            collections=[two[0].cod_collection.pk],
            counted_amount=amount,
            note="x",
        )
    assert money_state() == before


def test_exactly_one_event_per_order(courier, two, finance_user):
    counts = {o.pk: o.events.count() for o in two}
    versions = {o.pk: fresh(o).version for o in two}

    remittance = services.record_remittance(
        finance_user,
        courier=courier,
        collections=[o.cod_collection.pk for o in two],
        counted_amount="220.00",
    )

    for order in two:
        order = fresh(order)
        assert order.events.count() == counts[order.pk] + 1
        event = order.events.order_by("-pk").first()
        assert event.kind == OrderEvent.Kind.PAYMENT_RECORDED
        assert event.actor == finance_user
        assert event.data["remittance"] == remittance.number
        assert event.data["collection_id"] == order.cod_collection.pk
        assert (event.from_payment_status, event.to_payment_status) == (
            PaymentStatus.UNPAID,
            PaymentStatus.PAID,
        )
        assert order.version == versions[order.pk] + 1
        assert order.status == Status.DELIVERED


def test_a_fault_on_the_second_order_rolls_everything_back(courier, two, finance_user, monkeypatch):
    """A real database error on the second order's event write: the first order's payment,
    the remittance and every collection's hand-over are undone with it."""
    before = money_state()
    real_record = bookkeeping.record
    calls = []

    def record(order, *args, **kwargs):
        calls.append(order.pk)
        if len(calls) == 2:
            assert Remittance.objects.count() == 1  # written in this transaction already
            assert Payment.objects.count() == 2
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO orders_orderevent_injected_fault (id) VALUES (1)")
        return real_record(order, *args, **kwargs)

    monkeypatch.setattr(bookkeeping, "record", record)

    with pytest.raises(DatabaseError):
        services.record_remittance(
            finance_user,
            courier=courier,
            collections=[o.cod_collection.pk for o in two],
            counted_amount="220.00",
        )

    assert len(calls) == 2
    assert money_state() == before
    assert Remittance.objects.count() == 0
    assert services.cash_in_hand()[0]["amount"] == Decimal("220.00")
