"""After shipping, through the order page: a delivery attempt, the delivery with the
courier's cash, a return with restock all / none / per SKU; refusals change nothing;
the shipment by our own delivery staff; the two money cases of issue 10."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from mall.models import Product
from orders import selectors, services
from orders.models import CodCollection, Order, OrderEvent, PaymentStatus, Status
from tests.factories import ProductFactory
from tests.staff.helpers import allocate, confirm, messages_of, pay, place, reload, snapshot

pytestmark = pytest.mark.django_db


def url(name, order):
    return reverse(f"staff:order-{name}", args=[order.number])


def events_of(order, kind):
    return list(OrderEvent.objects.filter(order=order, kind=kind))


def stock_of(product):
    return Product.objects.get(pk=product.pk).stock


@pytest.fixture
def mug(db):
    return ProductFactory(sku="MUG-1", name="Mug", price="50.00", stock=10)


@pytest.fixture
def bowl(db):
    return ProductFactory(sku="BOWL-1", name="Bowl", price="20.00", stock=10)


def shipped(member, admin_user, courier, *, method="cod", lines=None, own=True):
    """An order (2 × 50.00 + 10.00 shipping = 110.00 by default) out for delivery."""
    order = allocate(
        confirm(place(member, payment_method=method, lines=lines), admin_user), admin_user, courier
    )
    if own:
        return services.ship_order(admin_user, order, carrier=Order.OWN_DELIVERY_STAFF)
    return services.ship_order(admin_user, order, carrier="SF Express", tracking_number="SF9")


# --- shipping by our own delivery staff ------------------------------------------------------


def test_ship_by_own_delivery_staff_needs_no_waybill(login, member, admin_user, logistics_user):
    order = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    client = login(admin_user)
    page = client.get(url("detail", order)).content.decode()
    radios = re.findall(r'name="delivery_by" value="(\w+)"', page)
    assert radios == ["own", "carrier"]  # our own staff first
    assert 'name="tracking_number"' in page and 'id="id_tracking_number" required' not in page

    response = client.post(url("ship", order), {"delivery_by": "own"}, follow=True)
    order = reload(order)
    assert (order.status, order.carrier, order.tracking_number) == (Status.SHIPPED, "own", "")
    assert messages_of(response) == [
        f"Shipment of order {order.number} recorded: our own delivery staff carry it."
    ]
    [event] = events_of(order, OrderEvent.Kind.SHIPPED)
    assert event.data == {"carrier": "own", "tracking_number": ""}
    html = response.content.decode()
    assert "Carried by our own delivery staff" in html


def test_a_carrier_without_a_waybill_is_refused_by_the_service(
    login, member, admin_user, logistics_user
):
    order = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    before = snapshot(order)
    response = login(admin_user).post(
        url("ship", order), {"delivery_by": "carrier", "carrier": "SF Express"}, follow=True
    )
    assert snapshot(order) == before
    [message] = messages_of(response)
    assert "waybill number" in message.lower()


def test_a_carrier_must_be_named_when_not_our_own_staff(login, member, admin_user, logistics_user):
    order = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    before = snapshot(order)
    response = login(admin_user).post(
        url("ship", order), {"delivery_by": "carrier", "tracking_number": "SF1"}
    )
    assert response.status_code == 200
    assert response.context["forms"]["ship"].errors["carrier"] == [
        "Choose our own delivery staff, or enter the carrier's name."
    ]
    assert snapshot(order) == before


# --- delivery attempts ------------------------------------------------------------------------


def test_attempt_through_the_page(login, member, admin_user, logistics_user):
    order = shipped(member, admin_user, logistics_user)
    before = snapshot(order)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    client = login(logistics_user)
    response = client.post(
        url("attempt", order),
        {"outcome": "not_home", "note": "Rang twice.", "next_attempt_on": tomorrow.isoformat()},
        follow=True,
    )
    order = reload(order)
    assert order.status == Status.SHIPPED
    assert order.version == before["version"]  # like a logged call: no version bump
    assert order.next_attempt_on == tomorrow
    [event] = events_of(order, OrderEvent.Kind.DELIVERY_ATTEMPTED)
    assert event.actor == logistics_user and event.note == "Rang twice."
    assert event.data == {
        "outcome": "not_home",
        "attempt": 1,
        "next_attempt_on": tomorrow.isoformat(),
    }
    assert snapshot(order)["events"] == before["events"] + 1
    assert messages_of(response) == [
        f"Attempt 1 on order {order.number} recorded: Nobody at home. "
        f"Next attempt on {tomorrow.isoformat()}."
    ]
    html = response.content.decode()
    assert re.search(r'class="staff-attempts">1 <span class="muted">\(last: Nobody at home', html)
    assert f'class="staff-next-attempt">{tomorrow.isoformat()}<' in html
    assert "Attempt 1: Nobody at home" in html
    assert f"Next attempt on {tomorrow.isoformat()}" in html

    # A second attempt counts on; the order still waits for delivery.
    client.post(url("attempt", order), {"outcome": "refused", "note": ""})
    second = events_of(order, OrderEvent.Kind.DELIVERY_ATTEMPTED)[-1]
    assert second.data == {"outcome": "refused", "attempt": 2, "next_attempt_on": None}
    assert reload(order).next_attempt_on is None


def test_attempt_with_a_date_in_the_past_is_a_form_error(login, member, admin_user, logistics_user):
    order = shipped(member, admin_user, logistics_user)
    before = snapshot(order)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = login(admin_user).post(
        url("attempt", order), {"outcome": "not_home", "next_attempt_on": yesterday.isoformat()}
    )
    assert response.status_code == 200
    assert response.context["forms"]["attempt"].errors["next_attempt_on"] == [
        "The next attempt cannot be in the past."
    ]
    assert "Nothing was saved: please correct the form below." in messages_of(response)
    assert snapshot(order) == before
    assert reload(order).next_attempt_on is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "outcome"),
        ({"outcome": "lost"}, "outcome"),
        ({"outcome": "not_home", "next_attempt_on": "soon"}, "next_attempt_on"),
    ],
)
def test_attempt_with_bad_input_changes_nothing(
    login, member, admin_user, logistics_user, data, field
):
    order = shipped(member, admin_user, logistics_user)
    before = snapshot(order)
    response = login(admin_user).post(url("attempt", order), data)
    assert response.status_code == 200
    assert field in response.context["forms"]["attempt"].errors
    assert snapshot(order) == before


def test_attempt_other_without_a_note_is_refused_by_the_service(
    login, member, admin_user, logistics_user
):
    order = shipped(member, admin_user, logistics_user)
    before = snapshot(order)
    response = login(admin_user).post(url("attempt", order), {"outcome": "other"}, follow=True)
    assert snapshot(order) == before
    [message] = messages_of(response)
    assert "note" in message.lower()


def test_attempt_before_shipping_is_refused_with_a_message(
    login, member, admin_user, logistics_user
):
    order = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    before = snapshot(order)
    client = login(admin_user)
    assert "attempt" not in client.get(url("detail", order)).context["allowed"]
    response = client.post(url("attempt", order), {"outcome": "not_home"}, follow=True)
    assert messages_of(response) == ["The order has not shipped yet: record the shipment first."]
    assert snapshot(order) == before


def test_finance_may_not_record_attempts_nor_deliveries(
    login, member, admin_user, finance_user, logistics_user
):
    order = shipped(member, admin_user, logistics_user)
    before = snapshot(order)
    client = login(finance_user)
    assert client.post(url("attempt", order), {"outcome": "not_home"}).status_code == 403
    assert client.post(url("deliver", order), {"collected_amount": "110"}).status_code == 403
    assert client.get(url("return", order)).status_code == 403
    assert (
        client.post(url("return", order), {"reason": "x", "restock_choice": "all"}).status_code
        == 403
    )
    assert snapshot(order) == before


# --- delivery ---------------------------------------------------------------------------------


def test_delivery_with_cash_short_is_flagged(login, member, admin_user, logistics_user):
    order = shipped(member, admin_user, logistics_user)
    client = login(logistics_user)
    page = client.get(url("detail", order))
    html = page.content.decode()
    field = re.search(r'<input[^>]*name="collected_amount"[^>]*>', html).group(0)
    assert "value=" not in field  # nothing pre-filled: the courier types what they took
    assert "¥110.00 is due. Type the cash you really took." in html
    before = snapshot(order)

    response = client.post(
        url("deliver", order),
        {"collected_amount": "100.00", "received_by": "Li Wei", "note": "Short of change."},
        follow=True,
    )
    order = reload(order)
    assert order.status == Status.DELIVERED
    assert order.received_by == "Li Wei"
    assert order.delivered_at is not None
    assert snapshot(order)["events"] == before["events"] + 1
    [event] = events_of(order, OrderEvent.Kind.DELIVERED)
    collection = CodCollection.objects.get(order=order)
    assert (collection.amount, collection.courier, collection.remittance) == (
        Decimal("100.00"),
        logistics_user,
        None,
    )
    assert event.data == {
        "received_by": "Li Wei",
        "due": "110.00",
        "collected": "100.00",
        "difference": "-10.00",
        "collection_id": collection.pk,
    }
    # Cash in the courier's hands is not a payment yet: the order still shows 110.00 due.
    assert order.payment_status == PaymentStatus.UNPAID
    assert messages_of(response) == [
        f"Order {order.number} is delivered; the courier took ¥100.00 in cash."
    ]
    html = response.content.decode()
    assert "Collected ¥100.00 of ¥110.00 due: ¥10.00 short." in html
    assert 'class="staff-received-by">Li Wei<' in html
    assert "Cash taken: ¥100.00 of ¥110.00 due: ¥10.00 short" in html  # timeline


def test_delivery_with_the_cash_due_has_no_flag(login, member, admin_user, logistics_user):
    order = shipped(member, admin_user, logistics_user)
    response = login(admin_user).post(
        url("deliver", order), {"collected_amount": "110.00"}, follow=True
    )
    assert reload(order).status == Status.DELIVERED
    html = response.content.decode()
    assert "staff-cash-flag" not in html
    assert "Cash taken: ¥110.00, as due" in html


def test_delivery_without_the_cash_is_a_form_error(login, member, admin_user, logistics_user):
    order = shipped(member, admin_user, logistics_user)
    before = snapshot(order)
    response = login(logistics_user).post(url("deliver", order), {"received_by": "Li Wei"})
    assert response.status_code == 200
    assert response.context["forms"]["deliver"].errors["collected_amount"] == [
        "Enter the cash the courier took (¥110.00 was due)."
    ]
    assert snapshot(order) == before
    assert not CodCollection.objects.filter(order=order).exists()


@pytest.mark.parametrize("amount", ["-1", "abc", "1e9", "10.001"])
def test_delivery_with_a_bad_amount_changes_nothing(
    login, member, admin_user, logistics_user, amount
):
    order = shipped(member, admin_user, logistics_user)
    before = snapshot(order)
    response = login(admin_user).post(url("deliver", order), {"collected_amount": amount})
    assert response.status_code == 200
    assert "collected_amount" in response.context["forms"]["deliver"].errors
    assert snapshot(order) == before


def test_prepaid_delivery_asks_for_no_cash(login, member, admin_user, finance_user, logistics_user):
    order = confirm(place(member, payment_method="bank_transfer"), admin_user)
    pay(order, finance_user)
    order = allocate(reload(order), admin_user, logistics_user)
    order = services.ship_order(admin_user, order, carrier="SF Express", tracking_number="SF1")
    client = login(admin_user)
    assert 'name="collected_amount"' not in client.get(url("detail", order)).content.decode()
    client.post(url("deliver", order), {"received_by": "Neighbour"})
    order = reload(order)
    assert order.status == Status.DELIVERED
    [event] = events_of(order, OrderEvent.Kind.DELIVERED)
    assert event.data == {"received_by": "Neighbour"}
    assert not CodCollection.objects.filter(order=order).exists()


def test_a_hand_made_cash_amount_on_a_carrier_order_is_refused(
    login, member, admin_user, logistics_user
):
    order = shipped(member, admin_user, logistics_user, own=False)
    before = snapshot(order)
    response = login(admin_user).post(
        url("deliver", order), {"collected_amount": "110.00"}, follow=True
    )
    # The form has no such field for a carrier's order: the amount is ignored, the
    # delivery recorded, and no cash is put into anyone's hands.
    assert reload(order).status == Status.DELIVERED
    assert not CodCollection.objects.filter(order=order).exists()
    assert snapshot(order)["events"] == before["events"] + 1
    assert messages_of(response) == [f"Order {order.number} is delivered."]


def test_logistics_cannot_deliver_someone_elses_order(
    login, member, admin_user, logistics_user, django_user_model
):
    from django.contrib.auth.models import Group

    from orders.models import LOGISTICS

    other = django_user_model.objects.create_user("courier2", "c2@example.com", "x")
    other.groups.add(Group.objects.get(name=LOGISTICS))
    order = shipped(member, admin_user, other)
    before = snapshot(order)
    response = login(logistics_user).post(url("deliver", order), {"collected_amount": "110"})
    assert response.status_code == 404
    assert snapshot(order) == before


def test_deliver_twice_is_refused_with_a_message(login, member, admin_user, logistics_user):
    order = shipped(member, admin_user, logistics_user)
    client = login(admin_user)
    client.post(url("deliver", order), {"collected_amount": "110.00"}, follow=True)
    before = snapshot(order)
    response = client.post(url("deliver", order), {"collected_amount": "110.00"}, follow=True)
    assert snapshot(order) == before
    [message] = messages_of(response)
    assert "delivered" in message.lower()
    assert CodCollection.objects.filter(order=order).count() == 1


# --- returns ----------------------------------------------------------------------------------


def test_return_shows_a_confirmation_page_first(login, member, admin_user, logistics_user, mug):
    order = shipped(member, admin_user, logistics_user, lines=[(mug, 2)])
    before = snapshot(order)
    response = login(admin_user).get(url("return", order))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="reason"' in html and "csrfmiddlewaretoken" in html
    assert re.findall(r'name="restock_choice" value="(\w+)"', html) == ["all", "none", "some"]
    line = order.lines.get()
    assert re.search(rf'name="units-{line.pk}"[^>]*max="2"', html)
    assert f"Yes, order {order.number} is back" in html
    assert snapshot(order) == before
    assert stock_of(mug) == 8


@pytest.mark.parametrize(
    ("choice", "units", "stock", "released", "written_off"),
    [
        ("all", {}, {"MUG-1": 10, "BOWL-1": 10}, {"MUG-1": 2, "BOWL-1": 1}, {}),
        ("none", {}, {"MUG-1": 8, "BOWL-1": 9}, {}, {"MUG-1": 2, "BOWL-1": 1}),
        (
            "some",
            {"MUG-1": 1, "BOWL-1": 0},
            {"MUG-1": 9, "BOWL-1": 9},
            {"MUG-1": 1},
            {"MUG-1": 1, "BOWL-1": 1},
        ),
    ],
)
def test_return_through_the_page(
    login,
    member,
    admin_user,
    logistics_user,
    mug,
    bowl,
    choice,
    units,
    stock,
    released,
    written_off,
):
    order = shipped(member, admin_user, logistics_user, lines=[(mug, 2), (bowl, 1)])
    assert (stock_of(mug), stock_of(bowl)) == (8, 9)
    lines = {line.sku: line for line in order.lines.all()}
    body = {"reason": "Refused at the door.", "restock_choice": choice}
    body.update({f"units-{lines[sku].pk}": n for sku, n in units.items()})
    before = snapshot(order)
    response = login(admin_user).post(url("return", order), body, follow=True)
    order = reload(order)
    assert order.status == Status.RETURNED
    assert order.returned_at is not None
    assert {"MUG-1": stock_of(mug), "BOWL-1": stock_of(bowl)} == stock
    assert snapshot(order)["events"] == before["events"] + 1
    [event] = events_of(order, OrderEvent.Kind.RETURNED)
    assert event.note == "Refused at the door."
    assert event.data == {"stock_released": released, "written_off": written_off, "credit": "0.00"}
    position = order.money_position()
    assert (position.owed, position.held, position.due, position.credit) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert messages_of(response) == [f"Order {order.number} is back at the shop."]
    html = response.content.decode()
    if written_off:
        assert (
            "Written off: " + ", ".join(f"{k} × {v}" for k, v in sorted(written_off.items()))
            in html
        )


def test_return_of_a_paid_order_leaves_credit_to_pay_back(
    login, member, admin_user, finance_user, logistics_user, mug
):
    order = confirm(place(member, payment_method="bank_transfer", lines=[(mug, 2)]), admin_user)
    pay(order, finance_user)  # 110.00
    order = allocate(reload(order), admin_user, logistics_user)
    order = services.ship_order(admin_user, order, carrier="SF Express", tracking_number="SF2")
    client = login(admin_user)
    page = client.get(url("return", order)).content.decode()
    assert "¥110.00 received for this order becomes credit" in page
    response = client.post(
        url("return", order), {"reason": "Sent back.", "restock_choice": "all"}, follow=True
    )
    order = reload(order)
    assert order.status == Status.RETURNED
    position = order.money_position()
    assert (position.owed, position.held, position.credit) == (
        Decimal("0.00"),
        Decimal("110.00"),
        Decimal("110.00"),
    )
    [event] = events_of(order, OrderEvent.Kind.RETURNED)
    assert event.data["credit"] == "110.00"
    assert Order.objects.filter(selectors.queue_filter("refund_due"), pk=order.pk).exists()
    assert messages_of(response) == [
        f"Order {order.number} is back at the shop. ¥110.00 is to be paid back to the "
        "member (listed under “Refund due”)."
    ]
    html = response.content.decode()
    assert "Credit to pay back to the member: ¥110.00" in html  # timeline
    money = response.context["money"]
    assert (money["owed"], money["net"], money["balance_due"], money["credit_due"]) == (
        Decimal("0.00"),
        Decimal("110.00"),
        Decimal("0.00"),
        Decimal("110.00"),
    )
    assert stock_of(mug) == 10


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"restock_choice": "all"}, "reason"),
        ({"reason": "Refused."}, "restock_choice"),
        ({"reason": "Refused.", "restock_choice": "some"}, "units"),
        ({"reason": "Refused.", "restock_choice": "some", "units": "3"}, "units"),
        ({"reason": "Refused.", "restock_choice": "some", "units": "-1"}, "units"),
        ({"reason": "Refused.", "restock_choice": "maybe"}, "restock_choice"),
    ],
)
def test_return_with_bad_input_shows_the_confirmation_page_again(
    login, member, admin_user, logistics_user, mug, body, field
):
    order = shipped(member, admin_user, logistics_user, lines=[(mug, 2)])
    line = order.lines.get()
    if "units" in body:
        body = {**body, f"units-{line.pk}": body.pop("units")}
    if field == "units":
        field = f"units-{line.pk}"
    before = snapshot(order)
    response = login(admin_user).post(url("return", order), body)
    assert response.status_code == 200
    assert response.templates[0].name == "staff/order_return.html"
    assert field in response.context["form"].errors
    assert snapshot(order) == before
    assert stock_of(mug) == 8


def test_return_before_shipping_is_refused_with_a_message(
    login, member, admin_user, logistics_user
):
    order = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    before = snapshot(order)
    client = login(admin_user)
    response = client.get(url("return", order), follow=True)
    assert messages_of(response) == ["Only a shipped or delivered order can come back to the shop."]
    response = client.post(
        url("return", order), {"reason": "x", "restock_choice": "all"}, follow=True
    )
    assert messages_of(response) == ["Only a shipped or delivered order can come back to the shop."]
    assert snapshot(order) == before


def test_logistics_may_not_record_a_return(login, member, admin_user, logistics_user):
    order = shipped(member, admin_user, logistics_user)
    before = snapshot(order)
    client = login(logistics_user)
    assert "return" not in client.get(url("detail", order)).context["allowed"]
    assert client.get(url("return", order)).status_code == 403
    body = {"reason": "Refused.", "restock_choice": "all"}
    assert client.post(url("return", order), body).status_code == 403
    assert snapshot(order) == before


def test_a_delivered_order_can_come_back(login, member, admin_user, logistics_user, mug):
    order = shipped(member, admin_user, logistics_user, lines=[(mug, 2)])
    client = login(admin_user)
    client.post(url("deliver", order), {"collected_amount": "110.00"})
    assert "return" in client.get(url("detail", order)).context["allowed"]
    client.post(url("return", order), {"reason": "Damaged.", "restock_choice": "none"})
    order = reload(order)
    assert order.status == Status.RETURNED
    assert stock_of(mug) == 8


# --- the order page's money box and timeline ----------------------------------------------------


def test_timeline_says_credit_note_or_money_back_and_names_the_remittance(
    login, member, admin_user, finance_user, logistics_user
):
    order = shipped(member, admin_user, logistics_user)
    client = login(admin_user)
    client.post(url("deliver", order), {"collected_amount": "110.00"})
    collection = CodCollection.objects.get(order=order)
    remittance = services.record_remittance(
        finance_user, courier=logistics_user, collections=[collection], counted_amount="110.00"
    )
    client = login(finance_user)
    client.post(
        url("refund", order),
        {"amount": "10.00", "reference": "CN-1", "kind": "credit_note", "note": ""},
    )
    client.post(
        url("refund", order),
        {"amount": "5.00", "reference": "MB-1", "kind": "money_back", "note": ""},
    )
    html = client.get(url("detail", order)).content.decode()
    assert f"Cash handed over by the courier, remittance {remittance.number}" in html
    assert "Credit note: the member owes less" in html
    assert "Money back: the member still owes the order" in html
    money = client.get(url("detail", order)).context["money"]
    # 110.00 received; 10.00 credit note → owes 100.00; 5.00 money back → holds 95.00.
    assert (money["owed"], money["net"], money["balance_due"], money["credit_due"]) == (
        Decimal("100.00"),
        Decimal("95.00"),
        Decimal("5.00"),
        Decimal("0.00"),
    )
    assert (money["credit_noted"], money["money_back"]) == (Decimal("10.00"), Decimal("5.00"))
    assert "Credit notes (the member owes less)" in html


# --- the two money cases of issue 10 ------------------------------------------------------------


def test_credit_note_on_a_paid_transfer_leaves_nothing_due_and_it_ships(
    client, login, member, admin_user, finance_user, logistics_user
):
    """(a) bank transfer 110.00 paid, refund 30.00 as a credit note."""
    order = confirm(place(member, payment_method="bank_transfer"), admin_user)
    pay(order, finance_user)
    login(finance_user).post(
        url("refund", order),
        {"amount": "30.00", "reference": "CN-30", "kind": "credit_note", "note": ""},
    )
    order = reload(order)
    assert order.payment_status == PaymentStatus.PAID
    assert order.money_position().due == Decimal("0.00")
    assert order.money_position().owed == Decimal("80.00")
    assert not Order.objects.filter(
        selectors.queue_filter("awaiting_prepayment"), pk=order.pk
    ).exists()
    # It ships.
    client = login(admin_user)
    client.post(url("allocate", order), {"assignee": logistics_user.pk})
    page = client.get(url("detail", order))
    assert "ship" in page.context["allowed"]
    client.post(
        url("ship", order),
        {"delivery_by": "carrier", "carrier": "SF Express", "tracking_number": "SF30"},
    )
    assert reload(order).status == Status.SHIPPED
    # The member is not asked to pay.
    member_page = login(member).get(reverse("orders:detail", args=[order.number]))
    html = member_page.content.decode()
    assert member_page.context["amount_due"] == Decimal("0.00")
    assert "Please pay" not in html and "ready in cash" not in html


def test_money_back_on_a_cod_order_means_the_courier_collects_it_all(
    login, member, admin_user, finance_user, logistics_user
):
    """(b) cash on delivery 110.00, paid 110.00 by transfer then refunded as money back."""
    order = confirm(place(member), admin_user)
    pay(order, finance_user, reference="BANK-1")
    login(finance_user).post(
        url("refund", order),
        {"amount": "110.00", "reference": "MB-110", "kind": "money_back", "note": ""},
    )
    order = allocate(reload(order), admin_user, logistics_user)
    order = services.ship_order(admin_user, order, carrier=Order.OWN_DELIVERY_STAFF)
    assert order.money_position().due == Decimal("110.00")

    sheet = login(admin_user).get(url("print", order))
    assert sheet.context["to_collect"] == Decimal("110.00")
    html = sheet.content.decode()
    assert re.search(r"the courier collects:\s*<strong>¥110.00</strong>", html)

    member_page = login(member).get(reverse("orders:detail", args=[order.number]))
    assert "Please have ¥110.00 ready in cash for our courier." in member_page.content.decode()

    # The courier's form asks for the same 110.00.
    page = login(logistics_user).get(url("detail", order)).content.decode()
    assert "¥110.00 is due. Type the cash you really took." in page


@pytest.mark.parametrize("end", ["deliver", "return"])
def test_print_sheet_collects_nothing_once_delivered_or_returned(
    login, member, admin_user, logistics_user, end
):
    order = shipped(member, admin_user, logistics_user)
    client = login(admin_user)
    if end == "deliver":
        client.post(url("deliver", order), {"collected_amount": "110.00"})
        banner = "DELIVERED — COLLECT NOTHING"
    else:
        client.post(url("return", order), {"reason": "Refused.", "restock_choice": "all"})
        banner = "RETURNED TO THE SHOP — DO NOT DELIVER"
    sheet = client.get(url("print", order))
    assert sheet.context["show_collect"] is False
    html = sheet.content.decode()
    assert banner in html
    assert "the courier collects:" not in html
