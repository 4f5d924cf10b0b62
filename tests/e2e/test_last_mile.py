"""After shipping, in Chromium: the courier's cash reaching the books, and a refused parcel.

Issue 10's browser journeys. Set-up (ORM, services) makes the staff, a product and a
cash-on-delivery order placed and confirmed by phone; from then on every step happens
through the pages, each person in their own browser (the courier on a 360 px phone).
The database is read only at the end, to assert what the pages claimed.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders import services
from orders.models import (
    CodCollection,
    OrderEvent,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Remittance,
    Status,
)
from orders.models import Order as OrderModel
from tests import factories
from tests.e2e.helpers import money

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 800}
COURIER_LABEL = "Chen Jun (courier1)"
SHORTFALL_NOTE = "Counted twice: 10.00 short, courier says a note fell out of the cash bag."


# --- set-up -------------------------------------------------------------------------------------


def set_up(stock=10):
    """Staff of each role, a member, a product and a COD order (2 × 50.00 + 10.00 shipping)
    placed and confirmed on the phone. Returns ``(staff, product, order)``."""
    staff = {
        "admin": factories.order_admin(username="olivia", first_name="Olivia", last_name="Admin"),
        "finance": factories.finance_clerk(username="fiona", first_name="Fiona", last_name="Cao"),
        "courier": factories.logistics_person(
            username="courier1", first_name="Chen", last_name="Jun"
        ),
    }
    member = factories.UserFactory(username="mei", first_name="Mei", last_name="Lin")
    product = factories.ProductFactory(name="Jasmine tea, 250 g tin", stock=stock)
    order = services.place_order(
        member,
        lines=[(product, 2)],
        address=dict(factories.ADDRESS),
        payment_method=PaymentMethod.COD,
    )
    order = services.confirm_order(
        staff["admin"], order, expected_version=order.version, call_note="Address checked."
    )
    return staff, product, order


# --- steps --------------------------------------------------------------------------------------


def signed_in(actor, name, username, *, viewport=None):
    person = actor(name)
    if viewport:
        person.page.set_viewport_size(viewport)
    person.sign_in(username, factories.PASSWORD)
    return person


def allocate_to_courier(admin, number):
    """The order admin opens the order and allocates it to courier1."""
    page = admin.page
    admin.goto(f"/staff/orders/{number}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Order {number}")
    page.get_by_label("Delivery person").select_option(label=COURIER_LABEL)
    admin.click(page.get_by_role("button", name="Allocate", exact=True))
    expect(page.locator("ul.messages")).to_contain_text(f"Order {number} is allocated to Chen Jun.")


def delivery_card(page, number):
    return page.locator("article.staff-delivery", has=page.get_by_role("link", name=number))


def leave_with_own_courier(courier, number, total):
    """On the courier's deliveries page, one tap ships the order with the courier."""
    page = courier.page
    courier.goto("/staff/deliveries/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My deliveries")
    card = delivery_card(page, number)
    expect(card).to_contain_text(f"Collect on delivery {money(total)}")
    courier.click(card.get_by_role("button", name="Leave with own courier"))
    expect(page.locator("ul.messages")).to_contain_text(
        f"Shipment of order {number} recorded: our own delivery staff carry it."
    )
    card = delivery_card(page, number)
    expect(card).to_contain_text("0 attempts so far")
    return card


def failed_attempt(courier, number, outcome, note):
    """Open the card's "Failed attempt" box, write a note and tap the outcome."""
    page = courier.page
    card = delivery_card(page, number)
    card.get_by_text("Failed attempt").click()
    card.get_by_label("Note").fill(note)
    courier.click(card.get_by_role("button", name=outcome))
    expect(page.locator("ul.messages")).to_contain_text(
        f"Attempt 1 on order {number} recorded: {outcome}."
    )


def fits_the_phone(page):
    """Nothing sticks out of the 360 px window (no sideways scrolling)."""
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]


# --- the journeys -------------------------------------------------------------------------------


def test_cash_on_delivery_from_the_door_to_the_books(actor, screenshot):
    staff, product, order = set_up()
    number, total = order.number, order.total
    assert total == Decimal("110.00")
    counted = total - Decimal("10.00")

    # The order admin allocates the confirmed order to courier1.
    admin = signed_in(actor, "admin", "olivia")
    allocate_to_courier(admin, number)

    # courier1, on their phone, takes the parcel out.
    courier = signed_in(actor, "courier", "courier1", viewport=PHONE)
    page = courier.page
    leave_with_own_courier(courier, number, total)
    expect(page.locator(".staff-today")).to_contain_text(money(total))  # cash to collect

    # Nobody at home on the first visit: the parcel stays out for delivery.
    failed_attempt(courier, number, "Nobody at home", "Rang twice, no answer at 10:15.")
    card = delivery_card(page, number)
    expect(card).to_contain_text("1 attempt so far")
    expect(card).to_contain_text(f"Collect on delivery {money(total)}")
    fits_the_phone(page)
    screenshot(page, "11-courier-phone")

    # Second visit: delivered, the courier takes the whole amount due in cash.
    card.get_by_label("Cash taken").fill(f"{total:.2f}")
    card.get_by_label("Received by").fill("Mei Lin")
    courier.click(card.get_by_role("button", name="Delivered", exact=True))
    expect(page.locator("ul.messages")).to_contain_text(
        f"Order {number} is delivered; the courier took {money(total)} in cash."
    )
    expect(delivery_card(page, number)).to_have_count(0)
    expect(page.get_by_text("Nothing out for delivery.")).to_be_visible()
    cash_in_hand = page.locator(".staff-today-figures div", has_text="Cash in hand")
    expect(cash_in_hand.locator("dd")).to_have_text(money(total))
    fits_the_phone(page)

    # The order page: delivered, the cash taken, nothing short at the door, not paid yet.
    admin.goto(f"/staff/orders/{number}/")
    head = admin.page.locator(".staff-head")
    expect(head).to_contain_text("Delivered")
    expect(head).to_contain_text("Unpaid")
    expect(admin.page.locator(".staff-received-by")).to_have_text("Mei Lin")
    cash_taken = admin.page.locator("dt:text-is('Cash taken') + dd")
    expect(cash_taken).to_have_text(money(total))
    expect(admin.page.locator(".staff-cash-flag")).to_have_count(0)
    expect(admin.page.locator(".staff-attempts")).to_contain_text("1 (last: Nobody at home)")

    # Finance: the cash page shows what courier1 holds; the hand-over counts 10.00 less.
    finance = signed_in(actor, "finance", "fiona")
    fpage = finance.page
    finance.click(fpage.get_by_role("link", name="Back office"))
    finance.click(
        fpage.get_by_role("navigation", name="Back office").get_by_role("link", name="Cash")
    )
    expect(fpage.get_by_role("heading", level=1)).to_have_text("Cash from couriers")
    row = fpage.locator("table.staff-cash-in-hand tbody tr", has_text="Chen Jun")
    expect(row).to_contain_text(money(total))
    expect(row.locator("td").nth(2)).to_have_text("1")
    finance.click(row.get_by_role("link", name="Record hand-over"))
    expect(fpage.get_by_role("heading", level=1)).to_have_text("Cash handed over by Chen Jun")
    expect(fpage.get_by_label(number)).to_be_checked()
    expect(fpage.locator("#remit-expected")).to_have_text(money(total))
    expect(fpage.get_by_label("Cash counted (CNY)")).to_have_value(f"{total:.2f}")
    fpage.get_by_label("Cash counted (CNY)").fill(f"{counted:.2f}")
    finance.click(fpage.get_by_role("button", name="Record hand-over"))
    # Asked to confirm the difference first (a typo must not become a shortfall).
    expect(fpage.locator("ul.messages")).to_contain_text(
        f"The cash counted ({money(counted)}) differs from the collections ticked "
        f"({money(total)}) by {money(Decimal('-10.00'))}."
    )
    expect(fpage.get_by_role("alert")).to_contain_text(
        f"The cash counted differs from the ticked collections by {money(Decimal('-10.00'))}."
    )
    expect(fpage.get_by_label("Cash counted (CNY)")).to_have_value(f"{counted:.2f}")
    fpage.get_by_label("Note").fill(SHORTFALL_NOTE)
    finance.click(fpage.get_by_role("button", name="Record with this difference"))
    expect(fpage.locator("ul.messages")).to_contain_text(
        f"1 collection of Chen Jun, {money(counted)} counted. Difference from the "
        f"{money(total)} expected: {money(Decimal('-10.00'))}."
    )
    expect(fpage.get_by_text("No courier holds collected cash right now.")).to_be_visible()
    remitted = fpage.locator("table.staff-remittances tbody tr")
    expect(remitted).to_have_count(1)
    for figure in (money(total), money(counted), money(Decimal("-10.00")), SHORTFALL_NOTE):
        expect(remitted).to_contain_text(figure)
    screenshot(fpage, "12-cash-page")

    # The order is paid: the shortfall stays on the remittance, not on the order.
    admin.goto(f"/staff/orders/{number}/")
    expect(admin.page.locator(".staff-head")).to_contain_text("Paid")
    timeline = admin.page.locator(".staff-timeline")
    for title in ("Shipped", "Delivery attempted", "Delivered", "Payment recorded"):
        expect(timeline).to_contain_text(title)

    # What the pages claimed is what the database holds.
    order = OrderModel.objects.get(number=number)
    assert (order.status, order.payment_status) == (Status.DELIVERED, PaymentStatus.PAID)
    assert (order.carrier, order.tracking_number) == (OrderModel.OWN_DELIVERY_STAFF, "")
    assert order.assigned_to == staff["courier"]
    assert order.received_by == "Mei Lin"
    position = order.money_position()
    assert (position.owed, position.held, position.due, position.credit) == (
        total,
        total,
        Decimal("0.00"),
        Decimal("0.00"),
    )
    remittance = Remittance.objects.get()
    assert (remittance.expected, remittance.counted, remittance.difference) == (
        total,
        counted,
        Decimal("-10.00"),
    )
    assert remittance.note == SHORTFALL_NOTE
    assert (remittance.courier, remittance.received_by) == (staff["courier"], staff["finance"])
    collection = CodCollection.objects.get()
    assert (collection.order, collection.courier, collection.amount) == (
        order,
        staff["courier"],
        total,
    )
    assert collection.remittance == remittance
    payment = Payment.objects.get(order=order)
    assert (payment.amount, payment.method, payment.reference, payment.recorded_by) == (
        total,
        PaymentMethod.COD,
        remittance.number,
        staff["finance"],
    )
    kinds = list(order.events.order_by("created_at", "pk").values_list("kind", flat=True))
    assert kinds == [
        OrderEvent.Kind.PLACED,
        OrderEvent.Kind.CONFIRMED,
        OrderEvent.Kind.ALLOCATED,
        OrderEvent.Kind.SHIPPED,
        OrderEvent.Kind.DELIVERY_ATTEMPTED,
        OrderEvent.Kind.DELIVERED,
        OrderEvent.Kind.PAYMENT_RECORDED,
    ]
    attempt = order.events.get(kind=OrderEvent.Kind.DELIVERY_ATTEMPTED)
    assert attempt.actor == staff["courier"]
    assert (attempt.data["outcome"], attempt.note) == (
        "not_home",
        "Rang twice, no answer at 10:15.",
    )
    delivered = order.events.get(kind=OrderEvent.Kind.DELIVERED)
    assert delivered.actor == staff["courier"]
    product.refresh_from_db()
    assert product.stock == 8  # 10 - 2 delivered


def test_refused_parcel_comes_back_to_stock(actor, screenshot):
    staff, product, order = set_up(stock=10)
    number = order.number
    product.refresh_from_db()
    stock_out = product.stock
    assert stock_out == 8  # 2 units reserved for the order

    admin = signed_in(actor, "admin", "olivia")
    allocate_to_courier(admin, number)

    # courier1 takes the parcel out; the member refuses it at the door.
    courier = signed_in(actor, "courier", "courier1", viewport=PHONE)
    leave_with_own_courier(courier, number, order.total)
    failed_attempt(courier, number, "Refused by the member", "Said she never ordered tea.")
    card = delivery_card(courier.page, number)
    expect(card).to_contain_text("1 attempt so far")
    fits_the_phone(courier.page)

    # The order admin sees the refusal on the order and records the parcel back.
    apage = admin.page
    admin.goto(f"/staff/orders/{number}/")
    expect(apage.locator(".staff-attempts")).to_contain_text("1 (last: Refused by the member)")
    expect(apage.locator(".staff-timeline")).to_contain_text("Said she never ordered tea.")
    admin.click(apage.get_by_role("link", name="Record a return…"))
    expect(apage.get_by_role("heading", level=1)).to_have_text(
        f"Record order {number} as back at the shop?"
    )
    apage.get_by_label("Reason").fill("Refused at the door; parcel unopened.")
    apage.get_by_label("Everything: all units go back on the shelf").check()
    admin.click(apage.get_by_role("button", name=f"Yes, order {number} is back"))
    expect(apage.locator("ul.messages")).to_contain_text(f"Order {number} is back at the shop.")
    expect(apage.locator(".staff-head")).to_contain_text("Returned")
    expect(apage.get_by_role("link", name="Record a return…")).to_have_count(0)
    screenshot(apage, "13-order-returned")

    # The parcel left the courier's list; no cash was taken.
    courier.goto("/staff/deliveries/")
    expect(delivery_card(courier.page, number)).to_have_count(0)
    expect(courier.page.get_by_text("Nothing out for delivery.")).to_be_visible()

    # What the pages claimed is what the database holds.
    order = OrderModel.objects.get(number=number)
    assert order.status == Status.RETURNED
    assert order.payment_status == PaymentStatus.UNPAID
    position = order.money_position()
    assert (position.owed, position.held, position.due, position.credit) == (Decimal("0.00"),) * 4
    product.refresh_from_db()
    assert (stock_out, product.stock) == (8, 10)  # both units back on the shelf
    assert not CodCollection.objects.exists() and not Payment.objects.exists()
    kinds = list(order.events.order_by("created_at", "pk").values_list("kind", flat=True))
    assert kinds == [
        OrderEvent.Kind.PLACED,
        OrderEvent.Kind.CONFIRMED,
        OrderEvent.Kind.ALLOCATED,
        OrderEvent.Kind.SHIPPED,
        OrderEvent.Kind.DELIVERY_ATTEMPTED,
        OrderEvent.Kind.RETURNED,
    ]
    refused = order.events.get(kind=OrderEvent.Kind.DELIVERY_ATTEMPTED)
    assert (refused.actor, refused.data["outcome"]) == (staff["courier"], "refused")
    returned = order.events.get(kind=OrderEvent.Kind.RETURNED)
    assert returned.actor == staff["admin"]
    assert returned.note == "Refused at the door; parcel unopened."
    assert (returned.data["stock_released"], returned.data["written_off"]) == (
        {product.sku: 2},
        {},
    )
