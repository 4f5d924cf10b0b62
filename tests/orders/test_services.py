"""Service-layer tests: every row of both state tables, allowed and refused.

Each refusal also asserts that nothing changed (status, payment status, version, stock,
events, payments). Money is compared as exact ``Decimal``.
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from mall.models import Product
from orders import services
from orders.exceptions import (
    DuplicateReference,
    InsufficientStock,
    InvalidInput,
    NotPermitted,
    OrderError,
    StaleOrder,
    TransitionNotAllowed,
)
from orders.models import Order, OrderEvent, Payment, PaymentStatus, Status
from tests.factories import ADDRESS, OrderFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = None


def today():
    return timezone.localdate()


def snapshot(order):
    """Everything a refused action must leave as it was."""
    order = Order.objects.get(pk=order.pk)
    return {
        "status": order.status,
        "payment_status": order.payment_status,
        "version": order.version,
        "total": order.total,
        "assigned_to": order.assigned_to_id,
        "events": order.events.count(),
        "payments": list(order.payments.values_list("pk", "voided_at")),
        "lines": list(order.lines.values_list("product_id", "quantity")),
        "stock": {
            line.product_id: line.product.stock for line in order.lines.select_related("product")
        },
    }


def refused(exc_type, func, *args, order, **kwargs):
    before = snapshot(order)
    with pytest.raises(exc_type) as info:
        func(*args, **kwargs)
    assert snapshot(order) == before
    return info.value


# --- place_order ---------------------------------------------------------------------


def test_place_order_reserves_stock_snapshots_lines_and_writes_one_event(member, settings):
    settings.MALL_SHIPPING_FEE = Decimal("10.00")
    settings.MALL_FREE_SHIPPING_FROM = Decimal("199.00")
    mug = ProductFactory(sku="MUG", name="Mug", price=Decimal("25.50"), stock=5)
    tea = ProductFactory(
        sku="TEA", name="Tea", price=Decimal("40.00"), sale_price=Decimal("32.00"), stock=None
    )

    order = services.place_order(
        member,
        lines=[(mug, 2), (tea, 1), (mug, 1)],
        address=ADDRESS,
        payment_method="cod",
        note="Ring twice",
    )

    assert order.status == Status.SUBMITTED
    assert order.payment_status == PaymentStatus.UNPAID
    assert order.version == 1
    lines = {line.sku: line for line in order.lines.all()}
    assert lines["MUG"].quantity == 3
    assert lines["MUG"].unit_price == Decimal("25.50")
    assert lines["MUG"].line_total == Decimal("76.50")
    assert lines["TEA"].unit_price == Decimal("32.00")  # the sale price
    assert order.subtotal == Decimal("108.50")
    assert order.shipping_fee == Decimal("10.00")
    assert order.total == Decimal("118.50")
    mug.refresh_from_db()
    tea.refresh_from_db()
    assert mug.stock == 2
    assert tea.stock is None
    event = order.events.get()
    assert (event.kind, event.actor, event.to_status, event.order_version) == (
        OrderEvent.Kind.PLACED,
        member,
        Status.SUBMITTED,
        1,
    )
    assert order.customer_note == "Ring twice"
    assert len(order.number) == 9 and order.number[4] == "-"


def test_free_shipping_from_threshold(member, settings):
    settings.MALL_FREE_SHIPPING_FROM = Decimal("199.00")
    item = ProductFactory(price=Decimal("199.00"), stock=None)
    order = services.place_order(member, lines=[(item, 1)], address=ADDRESS, payment_method="cod")
    assert (order.subtotal, order.shipping_fee, order.total) == (
        Decimal("199.00"),
        Decimal("0.00"),
        Decimal("199.00"),
    )


def test_line_snapshot_survives_price_change(member):
    item = ProductFactory(price=Decimal("10.00"), stock=None)
    order = services.place_order(member, lines=[(item, 2)], address=ADDRESS, payment_method="cod")
    item.price = Decimal("99.00")
    item.name = "Renamed"
    item.save()
    line = Order.objects.get(pk=order.pk).lines.get()
    assert (line.unit_price, line.line_total, line.name) == (
        Decimal("10.00"),
        Decimal("20.00"),
        item.sku and line.name,
    )
    assert line.name != "Renamed"


def test_place_order_out_of_stock_changes_nothing(member):
    item = ProductFactory(stock=1)
    other = ProductFactory(stock=5)
    with pytest.raises(InsufficientStock) as info:
        services.place_order(
            member, lines=[(other, 2), (item, 2)], address=ADDRESS, payment_method="cod"
        )
    assert info.value.details["products"] == {item.sku: 1}
    item.refresh_from_db()
    other.refresh_from_db()
    assert (item.stock, other.stock) == (1, 5)
    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert f"{item.name} (1 left)" in info.value.message


def test_the_last_unit_gone_is_said_as_sold_out_not_none_left(member):
    item = ProductFactory(stock=0, name="Lamp")
    with pytest.raises(InsufficientStock) as info:
        services.place_order(member, lines=[(item, 1)], address=ADDRESS, payment_method="cod")
    assert info.value.message == "Sorry, not enough stock: Lamp (sold out)."


@pytest.mark.parametrize(
    "kwargs",
    [
        {"is_visible": False},
        {"in_stock": False},
        {"is_variable": True, "price": None},
        {"price": None},
    ],
)
def test_place_order_refuses_products_not_for_sale(member, kwargs):
    item = ProductFactory(stock=3, **kwargs)
    with pytest.raises(InvalidInput):
        services.place_order(member, lines=[(item, 1)], address=ADDRESS, payment_method="cod")
    item.refresh_from_db()
    assert item.stock == 3
    assert Order.objects.count() == 0


def test_variation_of_hidden_parent_is_not_sold(member):
    parent = ProductFactory(is_variable=True, price=None, is_visible=False, stock=None)
    variation = ProductFactory(parent=parent, stock=4)
    with pytest.raises(InvalidInput):
        services.place_order(member, lines=[(variation, 1)], address=ADDRESS, payment_method="cod")
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    ("lines", "address", "method"),
    [
        ("empty", ADDRESS, "cod"),
        ("product", ADDRESS, "cod"),
        ("none", ADDRESS, "cod"),
        ("zero", ADDRESS, "cod"),
        ("negative", ADDRESS, "cod"),
        ("huge", ADDRESS, "cod"),
        ("float", ADDRESS, "cod"),
        ("ok", {**ADDRESS, "phone": "call me"}, "cod"),
        ("ok", {**ADDRESS, "recipient": "  "}, "cod"),
        ("ok", {**ADDRESS, "city": "x" * 500}, "cod"),
        ("ok", ADDRESS, "bitcoin"),
        ("ok", None, "cod"),
    ],
)
def test_place_order_rejects_bad_input(member, lines, address, method):
    item = ProductFactory(stock=10)
    lines = {
        "ok": [(item, 1)],
        "zero": [(item, 0)],
        "negative": [(item, -3)],
        "huge": [(item, 10**9)],
        "float": [(item, 1.5)],
        "product": [item],
        "empty": [],
        "none": None,
    }[lines]
    with pytest.raises(InvalidInput):
        services.place_order(member, lines=lines, address=address, payment_method=method)
    item.refresh_from_db()
    assert item.stock == 10
    assert Order.objects.count() == 0


def test_place_order_bad_address_reports_each_field(member):
    item = ProductFactory(stock=10)
    with pytest.raises(InvalidInput) as info:
        services.place_order(
            member,
            lines=[(item, 1)],
            address={**ADDRESS, "phone": "12", "region": ""},
            payment_method="cod",
        )
    assert set(info.value.details["fields"]) == {"phone", "region"}


def test_anonymous_cannot_place_order(db):
    from django.contrib.auth.models import AnonymousUser

    item = ProductFactory(stock=10)
    with pytest.raises(NotPermitted):
        services.place_order(
            AnonymousUser(), lines=[(item, 1)], address=ADDRESS, payment_method="cod"
        )
    assert Order.objects.count() == 0


def test_checkout_token_makes_double_submit_one_order(member):
    item = ProductFactory(stock=10)
    first = services.place_order(
        member, lines=[(item, 2)], address=ADDRESS, payment_method="cod", checkout_token="tok-1"
    )
    second = services.place_order(
        member, lines=[(item, 2)], address=ADDRESS, payment_method="cod", checkout_token="tok-1"
    )
    assert first.pk == second.pk
    item.refresh_from_db()
    assert item.stock == 8
    assert Order.objects.count() == 1


def test_order_numbers_are_unique_and_not_sequential(member):
    item = ProductFactory(stock=None)
    numbers = [
        services.place_order(
            member, lines=[(item, 1)], address=ADDRESS, payment_method="cod"
        ).number
        for _ in range(20)
    ]
    assert len(set(numbers)) == 20
    assert numbers != sorted(numbers)


# --- edit_order ----------------------------------------------------------------------


def test_member_edits_lines_address_and_method(member):
    mug = ProductFactory(sku="MUG", price=Decimal("30.00"), stock=10)
    tea = ProductFactory(sku="TEA", price=Decimal("20.00"), stock=10)
    cup = ProductFactory(sku="CUP", price=Decimal("5.00"), stock=10)
    order = services.place_order(
        member, lines=[(mug, 2), (tea, 1)], address=ADDRESS, payment_method="cod"
    )
    Product.objects.filter(pk=mug.pk).update(price=Decimal("99.00"))
    mug.refresh_from_db()

    order = services.edit_order(
        member,
        order,
        expected_version=1,
        lines=[(mug, 3), (cup, 4)],
        address={**ADDRESS, "city": "Suzhou"},
        payment_method="bank_transfer",
    )

    assert order.version == 2
    assert order.status == Status.SUBMITTED
    assert order.city == "Suzhou"
    assert order.payment_method == "bank_transfer"
    lines = {line.sku: (line.quantity, line.unit_price) for line in order.lines.all()}
    assert lines == {"MUG": (3, Decimal("30.00")), "CUP": (4, Decimal("5.00"))}
    assert order.subtotal == Decimal("110.00")
    assert order.total == Decimal("120.00")
    for product, stock in ((mug, 7), (tea, 10), (cup, 6)):
        product.refresh_from_db()
        assert product.stock == stock
    event = order.events.get(kind=OrderEvent.Kind.EDITED)
    assert event.actor == member
    assert event.order_version == 2
    assert event.data["address"] == {"city": ["Shanghai", "Suzhou"]}
    assert event.data["payment_method"] == ["cod", "bank_transfer"]
    assert {d["sku"]: (d["from"], d["to"]) for d in event.data["lines"]} == {
        "MUG": (2, 3),
        "TEA": (1, 0),
        "CUP": (0, 4),
    }


def test_edit_with_no_change_writes_no_event(member):
    order = OrderFactory(customer=member)
    same = services.edit_order(member, order, expected_version=1, address=dict(ADDRESS))
    assert same.version == 1
    assert order.events.count() == 1


def test_edit_beyond_stock_changes_nothing(member):
    item = ProductFactory(stock=3)
    order = services.place_order(member, lines=[(item, 2)], address=ADDRESS, payment_method="cod")
    refused(
        InsufficientStock,
        services.edit_order,
        member,
        order,
        order=order,
        expected_version=1,
        lines=[(item, 4)],
    )
    item.refresh_from_db()
    assert item.stock == 1


def test_edit_stale_version_refused(member):
    order = OrderFactory(customer=member)
    services.edit_order(member, order, expected_version=1, address={**ADDRESS, "city": "Hangzhou"})
    exc = refused(
        StaleOrder,
        services.edit_order,
        member,
        order,
        order=order,
        expected_version=1,
        address=ADDRESS,
    )
    assert exc.details["current_version"] == 2


def test_other_member_cannot_edit_or_cancel(member, other_member):
    order = OrderFactory(customer=member)
    refused(
        NotPermitted,
        services.edit_order,
        other_member,
        order,
        order=order,
        expected_version=1,
        address=ADDRESS,
    )
    refused(NotPermitted, services.cancel_order, other_member, order, order=order)


def test_edit_empty_lines_refused(member):
    order = OrderFactory(customer=member)
    refused(
        InvalidInput, services.edit_order, member, order, order=order, expected_version=1, lines=[]
    )


@pytest.mark.parametrize("trait", ["confirmed", "invalid", "allocated", "shipped", "cancelled"])
def test_member_cannot_edit_or_cancel_after_submitted(member, trait):
    order = OrderFactory(customer=member, **{trait: True})
    refused(
        TransitionNotAllowed,
        services.edit_order,
        member,
        order,
        order=order,
        expected_version=order.version,
        address={**ADDRESS, "city": "Elsewhere"},
    )
    refused(TransitionNotAllowed, services.cancel_order, member, order, order=order)


# --- cancel_order --------------------------------------------------------------------


def test_member_cancels_submitted_order_stock_returned(member):
    item = ProductFactory(stock=5)
    order = services.place_order(member, lines=[(item, 2)], address=ADDRESS, payment_method="cod")
    order = services.cancel_order(member, order)
    item.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert order.cancelled_at is not None
    assert item.stock == 5
    event = order.events.get(kind=OrderEvent.Kind.CANCELLED)
    assert (event.actor, event.from_status, event.to_status) == (
        member,
        Status.SUBMITTED,
        Status.CANCELLED,
    )
    assert event.data["stock_released"] == {item.sku: 2}


def test_admin_cancel_needs_reason(member, admin_user):
    order = OrderFactory(customer=member)
    refused(InvalidInput, services.cancel_order, admin_user, order, order=order, reason="  ")
    order = services.cancel_order(admin_user, order, reason="Duplicate order")
    assert order.status == Status.CANCELLED
    assert order.events.get(kind=OrderEvent.Kind.CANCELLED).note == "Duplicate order"


def test_invalid_then_cancelled_returns_stock_once(member, admin_user):
    item = ProductFactory(stock=5)
    order = services.place_order(member, lines=[(item, 2)], address=ADDRESS, payment_method="cod")
    services.invalidate_order(admin_user, order, reason="No such street")
    item.refresh_from_db()
    assert item.stock == 5
    order = services.cancel_order(admin_user, order, reason="Invalid")
    item.refresh_from_db()
    assert item.stock == 5
    assert order.status == Status.CANCELLED


@pytest.mark.parametrize("trait", ["confirmed", "allocated"])
def test_admin_cancels_confirmed_or_allocated_unpaid(admin_user, trait):
    item = ProductFactory(stock=5)
    order = OrderFactory(lines=[(item, 3)], **{trait: True})
    order = services.cancel_order(admin_user, order, reason="Member changed mind on the phone")
    item.refresh_from_db()
    assert (order.status, item.stock) == (Status.CANCELLED, 5)


def test_cancel_refused_while_money_held_then_allowed_after_refund(admin_user, finance_user):
    order = OrderFactory(paid=True, payment_method="bank_transfer")
    exc = refused(
        TransitionNotAllowed, services.cancel_order, admin_user, order, order=order, reason="x"
    )
    assert exc.code == "money_held"
    services.record_refund(finance_user, order, amount=order.total, reference="RF-1")
    order = services.cancel_order(admin_user, order, reason="Refunded, member withdrew")
    assert (order.status, order.payment_status) == (Status.CANCELLED, PaymentStatus.REFUNDED)


@pytest.mark.parametrize("trait", ["shipped", "cancelled"])
def test_final_states_refuse_everything(admin_user, trait):
    order = OrderFactory(**{trait: True})
    refused(TransitionNotAllowed, services.cancel_order, admin_user, order, order=order, reason="x")
    refused(
        TransitionNotAllowed,
        services.confirm_order,
        admin_user,
        order,
        order=order,
        expected_version=order.version,
        call_note="x",
    )
    refused(
        TransitionNotAllowed, services.invalidate_order, admin_user, order, order=order, reason="x"
    )
    refused(
        TransitionNotAllowed,
        services.ship_order,
        admin_user,
        order,
        order=order,
        carrier="a",
        tracking_number="b",
    )
    refused(
        TransitionNotAllowed,
        services.allocate_order,
        admin_user,
        order,
        order=order,
        assignee=admin_user,
    )
    refused(
        TransitionNotAllowed, services.log_call, admin_user, order, order=order, outcome="reached"
    )


# --- confirm / invalidate ------------------------------------------------------------------


def test_confirm_records_call_note_and_bumps_version(admin_user):
    order = OrderFactory()
    order = services.confirm_order(
        admin_user, order, expected_version=1, call_note="Spoke to Li Wei, address OK"
    )
    assert (order.status, order.version) == (Status.CONFIRMED, 2)
    assert order.confirmed_at is not None
    event = order.events.get(kind=OrderEvent.Kind.CONFIRMED)
    assert (event.actor, event.note, event.from_status, event.to_status) == (
        admin_user,
        "Spoke to Li Wei, address OK",
        Status.SUBMITTED,
        Status.CONFIRMED,
    )


def test_confirm_requires_call_note(admin_user):
    order = OrderFactory()
    refused(
        InvalidInput,
        services.confirm_order,
        admin_user,
        order,
        order=order,
        expected_version=1,
        call_note="",
    )


def test_confirm_stale_version_refused_with_changes(member, admin_user):
    order = OrderFactory(customer=member)
    services.edit_order(member, order, expected_version=1, address={**ADDRESS, "city": "Ningbo"})
    exc = refused(
        StaleOrder,
        services.confirm_order,
        admin_user,
        order,
        order=order,
        expected_version=1,
        call_note="ok",
    )
    assert exc.code == "stale"
    assert exc.details["changes"][0]["kind"] == OrderEvent.Kind.EDITED
    assert exc.details["changes"][0]["data"]["address"] == {"city": ["Shanghai", "Ningbo"]}
    order = services.confirm_order(admin_user, order, expected_version=2, call_note="ok")
    assert order.status == Status.CONFIRMED


@pytest.mark.parametrize("version", [None, "abc", ""])
def test_confirm_needs_a_version(admin_user, version):
    order = OrderFactory()
    refused(
        InvalidInput,
        services.confirm_order,
        admin_user,
        order,
        order=order,
        expected_version=version,
        call_note="ok",
    )


def test_invalidate_requires_reason_and_releases_stock(admin_user):
    item = ProductFactory(stock=4)
    order = OrderFactory(lines=[(item, 4)])
    refused(InvalidInput, services.invalidate_order, admin_user, order, order=order, reason="")
    order = services.invalidate_order(admin_user, order, reason="Number does not exist")
    item.refresh_from_db()
    assert (order.status, item.stock) == (Status.INVALID, 4)
    assert order.events.get(kind=OrderEvent.Kind.INVALIDATED).note == "Number does not exist"


def test_invalid_order_can_only_be_cancelled(admin_user, finance_user):
    order = OrderFactory(invalid=True)
    refused(
        TransitionNotAllowed,
        services.confirm_order,
        admin_user,
        order,
        order=order,
        expected_version=order.version,
        call_note="x",
    )
    refused(
        TransitionNotAllowed,
        services.allocate_order,
        admin_user,
        order,
        order=order,
        assignee=admin_user,
    )
    assert services.allowed_actions(admin_user, order) == {"cancel", "call"}


# --- allocate / ship -----------------------------------------------------------------


def test_allocate_and_reassign_record_old_and_new(admin_user, logistics_user):
    second = UserFactory(username="courier2", groups=["Logistics"])
    order = OrderFactory(confirmed=True)
    order = services.allocate_order(admin_user, order, assignee=logistics_user)
    assert (order.status, order.assigned_to) == (Status.ALLOCATED, logistics_user)
    order = services.allocate_order(admin_user, order, assignee=second)
    assert order.assigned_to == second
    event = order.events.get(kind=OrderEvent.Kind.REALLOCATED)
    assert (event.data["from"], event.data["to"]) == ("courier", "courier2")


def test_allocate_only_to_logistics_and_only_when_confirmed(admin_user, member, logistics_user):
    order = OrderFactory(confirmed=True)
    refused(InvalidInput, services.allocate_order, admin_user, order, order=order, assignee=member)
    refused(InvalidInput, services.allocate_order, admin_user, order, order=order, assignee=None)
    submitted = OrderFactory()
    refused(
        TransitionNotAllowed,
        services.allocate_order,
        admin_user,
        submitted,
        order=submitted,
        assignee=logistics_user,
    )
    services.allocate_order(admin_user, order, assignee=logistics_user)
    refused(
        InvalidInput,
        services.allocate_order,
        admin_user,
        order,
        order=order,
        assignee=logistics_user,
    )


def test_cod_order_ships_unpaid(admin_user):
    order = OrderFactory(allocated=True, payment_method="cod")
    order = services.ship_order(admin_user, order, carrier="Own fleet", tracking_number="WB123")
    assert (order.status, order.payment_status) == (Status.SHIPPED, PaymentStatus.UNPAID)
    assert (order.carrier, order.tracking_number) == ("Own fleet", "WB123")
    assert order.events.get(kind=OrderEvent.Kind.SHIPPED).data == {
        "carrier": "Own fleet",
        "tracking_number": "WB123",
    }


@pytest.mark.parametrize("method", ["bank_transfer", "postal_remittance"])
def test_prepaid_order_ships_only_when_paid(admin_user, finance_user, method):
    order = OrderFactory(allocated=True, payment_method=method)
    exc = refused(
        TransitionNotAllowed,
        services.ship_order,
        admin_user,
        order,
        order=order,
        carrier="SF",
        tracking_number="1",
    )
    assert exc.code == "unpaid"
    services.record_payment(
        finance_user,
        order,
        amount=Decimal("1.00"),
        method=method,
        reference="P1",
        received_on=today(),
    )
    exc = refused(
        TransitionNotAllowed,
        services.ship_order,
        admin_user,
        order,
        order=order,
        carrier="SF",
        tracking_number="1",
    )
    assert exc.code == "unpaid"
    order = Order.objects.get(pk=order.pk)
    services.record_payment(
        finance_user,
        order,
        amount=order.total - Decimal("1.00"),
        method=method,
        reference="P2",
        received_on=today(),
    )
    order = services.ship_order(admin_user, order, carrier="SF", tracking_number="SF100")
    assert (order.status, order.payment_status) == (Status.SHIPPED, PaymentStatus.PAID)


def test_ship_needs_carrier_and_waybill(admin_user):
    order = OrderFactory(allocated=True)
    refused(
        InvalidInput,
        services.ship_order,
        admin_user,
        order,
        order=order,
        carrier="",
        tracking_number="1",
    )
    refused(
        InvalidInput,
        services.ship_order,
        admin_user,
        order,
        order=order,
        carrier="SF",
        tracking_number=" ",
    )


def test_logistics_ships_only_their_assigned_orders(admin_user, logistics_user):
    other = UserFactory(username="courier9", groups=["Logistics"])
    order = OrderFactory(confirmed=True)
    services.allocate_order(admin_user, order, assignee=logistics_user)
    refused(
        NotPermitted,
        services.ship_order,
        other,
        order,
        order=order,
        carrier="x",
        tracking_number="y",
    )
    order = services.ship_order(logistics_user, order, carrier="Own fleet", tracking_number="WB9")
    assert order.status == Status.SHIPPED
    assert order.events.get(kind=OrderEvent.Kind.SHIPPED).actor == logistics_user


def test_confirmed_order_cannot_ship_before_allocation(admin_user):
    order = OrderFactory(confirmed=True)
    refused(
        TransitionNotAllowed,
        services.ship_order,
        admin_user,
        order,
        order=order,
        carrier="a",
        tracking_number="b",
    )


# --- calls ---------------------------------------------------------------------------


def test_log_call_writes_event_without_bumping_version(admin_user):
    order = OrderFactory()
    event = services.log_call(admin_user, order, outcome="no_answer", note="Tried at 10:00")
    order.refresh_from_db()
    assert (order.version, order.status) == (1, Status.SUBMITTED)
    assert (event.kind, event.data, event.note, event.actor) == (
        OrderEvent.Kind.CALL_LOGGED,
        {"outcome": "no_answer"},
        "Tried at 10:00",
        admin_user,
    )
    refused(InvalidInput, services.log_call, admin_user, order, order=order, outcome="maybe")
    # a logged call does not make the admin's reviewed version stale (after "no answer"
    # the confirmation says the member was reached afterwards: issue 11)
    assert (
        services.confirm_order(
            admin_user, order, expected_version=1, call_note="ok", reached_after_failed=True
        ).status
        == Status.CONFIRMED
    )


# --- payments ------------------------------------------------------------------------


def test_partial_then_full_payment(finance_user):
    order = OrderFactory(confirmed=True, payment_method="bank_transfer")
    total = order.total
    first = services.record_payment(
        finance_user,
        order,
        amount=Decimal("40.00"),
        method="bank_transfer",
        reference="BK-1",
        received_on=today(),
    )
    order = Order.objects.get(pk=order.pk)
    assert order.payment_status == PaymentStatus.PARTIALLY_PAID
    assert first.amount == Decimal("40.00") and first.recorded_by == finance_user
    services.record_payment(
        finance_user,
        order,
        amount=total - Decimal("40.00"),
        method="bank_transfer",
        reference="BK-2",
        received_on=today(),
    )
    order = Order.objects.get(pk=order.pk)
    assert order.payment_status == PaymentStatus.PAID
    assert order.paid_at is not None
    assert order.ledger_totals().paid == total
    assert order.money_position().held == total and order.money_position().due == 0
    kinds = list(
        order.events.filter(kind=OrderEvent.Kind.PAYMENT_RECORDED).values_list(
            "to_payment_status", flat=True
        )
    )
    assert kinds == [PaymentStatus.PARTIALLY_PAID, PaymentStatus.PAID]


def test_overpayment_shows_as_paid_with_credit(finance_user):
    order = OrderFactory(confirmed=True)
    services.record_payment(
        finance_user,
        order,
        amount=order.total + Decimal("5.00"),
        method="cod",
        reference="C1",
        received_on=today(),
        as_credit=True,
    )
    order = Order.objects.get(pk=order.pk)
    assert order.payment_status == PaymentStatus.PAID
    assert order.money_position().credit == Decimal("5.00")
    assert order.money_position().due == Decimal("0.00")


def test_duplicate_reference_refused(finance_user):
    order = OrderFactory(confirmed=True)
    services.record_payment(
        finance_user,
        order,
        amount=Decimal("10.00"),
        method="cod",
        reference="R-1",
        received_on=today(),
    )
    refused(
        DuplicateReference,
        services.record_payment,
        finance_user,
        order,
        order=order,
        amount=Decimal("10.00"),
        method="cod",
        reference="R-1",
        received_on=today(),
    )


def test_same_reference_on_another_order_is_fine(finance_user):
    a, b = OrderFactory(confirmed=True), OrderFactory(confirmed=True)
    services.record_payment(
        finance_user, a, amount=Decimal("1.00"), method="cod", reference="SAME", received_on=today()
    )
    services.record_payment(
        finance_user, b, amount=Decimal("1.00"), method="cod", reference="SAME", received_on=today()
    )
    assert Payment.objects.filter(reference="SAME").count() == 2


def test_payment_refused_before_confirmation(finance_user):
    order = OrderFactory()
    refused(
        TransitionNotAllowed,
        services.record_payment,
        finance_user,
        order,
        order=order,
        amount=Decimal("1.00"),
        method="cod",
        reference="X",
        received_on=today(),
    )


@pytest.mark.parametrize("trait", ["confirmed", "allocated", "shipped"])
def test_payment_allowed_once_confirmed(finance_user, trait):
    order = OrderFactory(**{trait: True})
    services.record_payment(
        finance_user, order, amount=order.total, method="cod", reference="OK", received_on=today()
    )
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.PAID


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("0"),
        Decimal("-5"),
        Decimal("1.001"),
        "abc",
        12.5,
        Decimal("NaN"),
        Decimal("1e12"),
        None,
    ],
)
def test_bad_amounts_refused(finance_user, amount):
    order = OrderFactory(confirmed=True)
    refused(
        InvalidInput,
        services.record_payment,
        finance_user,
        order,
        order=order,
        amount=amount,
        method="cod",
        reference="X",
        received_on=today(),
    )


def test_future_date_and_bad_method_refused(finance_user):
    order = OrderFactory(confirmed=True)
    tomorrow = today() + datetime.timedelta(days=1)
    for kwargs in (
        {"method": "cod", "received_on": tomorrow},
        {"method": "cash", "received_on": today()},
        {"method": "cod", "received_on": "2026-01-01"},
        {"method": "cod", "received_on": today() - datetime.timedelta(days=1)},
        {"method": "cod", "received_on": datetime.date(1, 1, 1)},
    ):
        refused(
            InvalidInput,
            services.record_payment,
            finance_user,
            order,
            order=order,
            amount=Decimal("1.00"),
            reference="X",
            **kwargs,
        )


def test_refund_partial_and_full(finance_user):
    order = OrderFactory(paid=True)
    total = order.total
    services.record_refund(finance_user, order, amount=Decimal("10.00"), reference="RF-1")
    order = Order.objects.get(pk=order.pk)
    assert order.payment_status == PaymentStatus.PARTIALLY_PAID
    refused(
        InvalidInput,
        services.record_refund,
        finance_user,
        order,
        order=order,
        amount=total,
        reference="RF-2",
    )
    services.record_refund(
        finance_user, order, amount=total - Decimal("10.00"), reference="RF-2", note="Returned"
    )
    order = Order.objects.get(pk=order.pk)
    assert order.payment_status == PaymentStatus.REFUNDED
    totals = order.ledger_totals()
    assert (totals.paid, totals.refunded, order.held) == (total, total, Decimal("0.00"))
    refused(
        TransitionNotAllowed,
        services.record_refund,
        finance_user,
        order,
        order=order,
        amount=Decimal("1.00"),
        reference="RF-3",
    )


def test_refund_refused_when_unpaid(finance_user):
    order = OrderFactory(confirmed=True)
    refused(
        TransitionNotAllowed,
        services.record_refund,
        finance_user,
        order,
        order=order,
        amount=Decimal("1.00"),
        reference="R",
    )


def test_void_payment_keeps_row_and_recomputes(finance_user):
    order = OrderFactory(confirmed=True)
    payment = services.record_payment(
        finance_user, order, amount=order.total, method="cod", reference="TYPO", received_on=today()
    )
    refused(InvalidInput, services.void_payment, finance_user, payment, order=order, reason="")
    voided = services.void_payment(finance_user, payment, reason="Wrong order")
    order = Order.objects.get(pk=order.pk)
    assert order.payment_status == PaymentStatus.UNPAID
    assert order.paid_at is None
    assert (voided.voided_by, voided.void_reason) == (finance_user, "Wrong order")
    assert Payment.objects.filter(pk=payment.pk).exists()
    refused(
        TransitionNotAllowed,
        services.void_payment,
        finance_user,
        voided,
        order=order,
        reason="again",
    )
    # the reference may be used again once the mistaken entry is voided
    services.record_payment(
        finance_user, order, amount=order.total, method="cod", reference="TYPO", received_on=today()
    )
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.PAID


def test_void_refund_restores_paid_and_void_payment_under_refund_refused(finance_user):
    order = OrderFactory(paid=True)
    payment = order.payments.get()
    refund = services.record_refund(finance_user, order, amount=order.total, reference="RF")
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.REFUNDED
    exc = refused(
        TransitionNotAllowed, services.void_payment, finance_user, payment, order=order, reason="x"
    )
    assert exc.code == "void_refund_first"
    services.void_payment(finance_user, refund, reason="Refund was never sent")
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.PAID


# --- the permission matrix ---------------------------------------------------------------

ROLES = ["anonymous", "member", "other_member", "order_admin", "finance", "logistics", "superuser"]


def _actor(role, request):
    from django.contrib.auth.models import AnonymousUser

    return {
        "anonymous": lambda: AnonymousUser(),
        "member": lambda: request.getfixturevalue("member"),
        "other_member": lambda: request.getfixturevalue("other_member"),
        "order_admin": lambda: request.getfixturevalue("admin_user"),
        "finance": lambda: request.getfixturevalue("finance_user"),
        "logistics": lambda: request.getfixturevalue("logistics_user"),
        "superuser": lambda: request.getfixturevalue("superuser"),
    }[role]()


def _actions(member_order, logistics_user):
    return {
        "edit": (
            None,
            lambda actor, o: services.edit_order(
                actor,
                o,
                expected_version=o.version,
                address={**ADDRESS, "city": "New"},
                reason="As asked on the phone",  # an admin's change for the member (issue 11)
            ),
        ),
        "cancel_submitted": (None, lambda actor, o: services.cancel_order(actor, o, reason="r")),
        "confirm": (
            None,
            lambda actor, o: services.confirm_order(
                actor, o, expected_version=o.version, call_note="n"
            ),
        ),
        "invalidate": (None, lambda actor, o: services.invalidate_order(actor, o, reason="r")),
        "call": (None, lambda actor, o: services.log_call(actor, o, outcome="reached")),
        "allocate": (
            "confirmed",
            lambda actor, o: services.allocate_order(actor, o, assignee=logistics_user),
        ),
        "cancel_confirmed": (
            "confirmed",
            lambda actor, o: services.cancel_order(actor, o, reason="r"),
        ),
        "ship": (
            "allocated",
            lambda actor, o: services.ship_order(actor, o, carrier="c", tracking_number="t"),
        ),
        "payment": (
            "confirmed",
            lambda actor, o: services.record_payment(
                actor, o, amount=Decimal("1.00"), method="cod", reference="M1", received_on=today()
            ),
        ),
        "refund": (
            "paid",
            lambda actor, o: services.record_refund(
                actor, o, amount=Decimal("1.00"), reference="MR"
            ),
        ),
        "void": (
            "paid",
            lambda actor, o: services.void_payment(actor, o.payments.get(), reason="r"),
        ),
    }


ALLOWED = {
    "edit": {"member", "order_admin", "superuser"},
    "cancel_submitted": {"member", "order_admin", "superuser"},
    "confirm": {"order_admin", "superuser"},
    "invalidate": {"order_admin", "superuser"},
    "call": {"order_admin", "superuser"},
    "allocate": {"order_admin", "superuser"},
    "cancel_confirmed": {"order_admin", "superuser"},
    "ship": {"order_admin", "logistics", "superuser"},
    "payment": {"finance", "superuser"},
    "refund": {"finance", "superuser"},
    "void": {"finance", "superuser"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_permission_matrix(request, role, action, member, logistics_user):
    setup, call = _actions(None, logistics_user)[action]
    traits = {setup: True} if setup else {}
    order = OrderFactory(customer=member, **traits)
    if action == "ship":
        # allocate to the fixture's logistics person so "logistics" is the assignee
        order = OrderFactory(customer=member, confirmed=True)
        admin = UserFactory(username="matrix-admin", groups=["Order admins"])
        order = services.allocate_order(admin, order, assignee=logistics_user)
    actor = _actor(role, request)
    if role in ALLOWED[action]:
        call(actor, order)
        assert Order.objects.get(pk=order.pk).events.count() > snapshot_events(order)
    else:
        # The owner may cancel in principle, but no longer once staff confirmed: the
        # refusal says why (state), not "not allowed" (role).
        expected = (
            TransitionNotAllowed
            if (action, role) == ("cancel_confirmed", "member")
            else NotPermitted
        )
        before = snapshot(order)
        with pytest.raises(expected):
            call(actor, order)
        assert snapshot(order) == before


def snapshot_events(order):
    """Events an order had before the matrix action (placing + its set-up steps)."""
    return OrderEvent.objects.filter(order=order).count() - 1


def test_every_error_is_an_order_error_with_code_and_message():
    for cls in (
        NotPermitted,
        TransitionNotAllowed,
        StaleOrder,
        InsufficientStock,
        InvalidInput,
        DuplicateReference,
    ):
        err = cls()
        assert isinstance(err, OrderError)
        assert err.code and str(err.message)


def test_allowed_actions_follow_state_and_role(member, admin_user, finance_user, logistics_user):
    order = OrderFactory(customer=member)
    assert services.allowed_actions(member, order) == {"edit", "cancel"}
    assert services.allowed_actions(admin_user, order) == {
        "confirm",
        "invalidate",
        "cancel",
        "call",
        "edit",
    }
    assert services.allowed_actions(finance_user, order) == set()
    order = services.confirm_order(admin_user, order, expected_version=1, call_note="ok")
    assert services.allowed_actions(member, order) == set()
    assert services.allowed_actions(admin_user, order) == {"allocate", "cancel", "call"}
    assert services.allowed_actions(finance_user, order) == {"payment"}
    order = services.allocate_order(admin_user, order, assignee=logistics_user)
    assert services.allowed_actions(logistics_user, order) == {"ship"}
