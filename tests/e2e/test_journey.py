"""The whole story in Chromium: a member and three kinds of staff, each in their own browser.

Set-up imports the catalogue and creates the staff (ORM / management command); from then
on everything happens through the pages: labels, button texts and links. The database is
read only at the end, to assert what the pages claimed.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import Order, OrderEvent, Payment, PaymentStatus, Status
from orders.pricing import totals_for
from tests import factories
from tests.e2e.helpers import import_catalogue, money, staff_users

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MEMBER_PASSWORD = "plum-blossom-river-42"
ADDRESS = {
    "Recipient's name": "Mei Lin",
    "Phone number": "139 1234 5678",
    "Province / region": "Zhejiang",
    "City": "Hangzhou",
    "Postcode": "310000",
    "Street address": "12 West Lake Road, Building 5, Room 301",
}
NEW_STREET = "99 Canal Street, Building 2, Room 808"


# --- steps shared by the tests ----------------------------------------------------------------


def add_simple_to_cart(member, product, quantity):
    """On the product's page, set the quantity and add it to the cart."""
    page = member.page
    expect(page.get_by_role("heading", level=1)).to_have_text(product.name)
    page.get_by_label("Quantity").fill(str(quantity))
    member.click(page.locator(".buy-box").get_by_role("button", name="Add to cart"))
    expect(page.locator("ul.messages")).to_contain_text(
        f"Added {quantity} × {product.display_name} to your cart."
    )


def add_variation_to_cart(member, catalogue):
    """On the variable product's page, pick the variation in the select and add one."""
    page = member.page
    expect(page.get_by_role("heading", level=1)).to_have_text(catalogue.variable.name)
    option = page.locator("select[name=product] option", has_text=catalogue.option).first
    page.get_by_label("Choose an option").select_option(label=option.inner_text().strip())
    member.click(page.locator(".buy-box").get_by_role("button", name="Add to cart"))
    expect(page.locator("ul.messages")).to_contain_text(
        f"Added 1 × {catalogue.variation.display_name} to your cart."
    )


def open_product(member, product):
    """Find ``product`` with the header search and open its page."""
    page = member.page
    page.get_by_label("Search products").fill(product.name)
    member.click(page.get_by_role("button", name="Search", exact=True))
    member.click(page.locator(".product-title").get_by_role("link", name=product.name, exact=True))


def fill_address(page, address=ADDRESS):
    for label, value in address.items():
        page.get_by_label(label).fill(value)


def checkout(member, payment_label, *, address=None):
    """From the cart, check out paying with ``payment_label``; return the order number."""
    page = member.page
    member.click(page.get_by_role("link", name=re.compile(r"^Cart")))
    member.click(page.get_by_role("link", name="Proceed to checkout"))
    if address:
        fill_address(page, address)
    page.get_by_label(payment_label).check()
    member.click(page.get_by_role("button", name=re.compile(r"^Place order")))
    expect(page.locator("ul.messages")).to_contain_text("Thank you! Your order")
    number = re.search(r"Order (\S+)", page.get_by_role("heading", level=1).inner_text()).group(1)
    return number


def my_orders_link(page):
    """The "My orders" link of the header (the empty-list page has one too)."""
    return page.get_by_role("navigation", name="Account").get_by_role("link", name="My orders")


def open_my_order(member, number):
    page = member.page
    member.click(my_orders_link(page))
    member.click(page.get_by_role("link", name=number, exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {number}")


def open_staff_order(person, number):
    """Find the order with the back office's search box and open it."""
    page = person.page
    page.get_by_label("Find an order", exact=True).fill(number)
    person.click(page.get_by_role("button", name="Find", exact=True).first)
    person.click(page.get_by_role("link", name=number, exact=True))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Order {number}")


def record_payment(person, amount, reference):
    """Finance: fill the payment form (method and date keep their defaults) and save."""
    page = person.page
    form = page.locator("form", has=page.get_by_role("button", name="Record payment"))
    form.get_by_label("Amount").fill(f"{amount:.2f}")
    form.get_by_label("Reference").fill(reference)
    person.click(form.get_by_role("button", name="Record payment"))


def confirm(person, call_note):
    page = person.page
    page.get_by_label("Call note").fill(call_note)
    person.click(page.get_by_role("button", name="Confirm order"))


def allocate(person, courier_label):
    page = person.page
    page.get_by_label("Delivery person").select_option(label=courier_label)
    person.click(page.get_by_role("button", name="Allocate", exact=True))


def delivery_card(page, number):
    return page.locator("article.staff-delivery", has=page.get_by_role("link", name=number))


# --- the journey -------------------------------------------------------------------------------


def test_bank_transfer_order_from_sign_up_to_shipment(actor, screenshot):
    catalogue = import_catalogue()
    staff = staff_users()
    simple, variation = catalogue.simple, catalogue.variation

    # The member signs up.
    member = actor("member")
    page = member.page
    member.goto("/accounts/register/")
    page.get_by_label("Username").fill("mei")
    page.get_by_label("E-mail address").fill("mei@example.com")
    page.get_by_label("Password", exact=True).fill(MEMBER_PASSWORD)
    page.get_by_label("Password confirmation").fill(MEMBER_PASSWORD)
    member.click(page.get_by_role("button", name="Create account"))
    expect(page.locator("ul.messages")).to_contain_text("Welcome, mei! Your account is ready.")

    # Browses the imported catalogue: the home page, a category, the simple product.
    member.goto("/")
    expect(page.get_by_role("heading", name="All products")).to_be_visible()
    expect(page.locator(".product-card").first).to_be_visible()
    screenshot(page, "01-storefront-home")
    category = simple.categories.order_by("pk").last()
    member.click(page.locator(".shop-sidebar").get_by_role("link", name=category.name, exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text(category.name)
    member.click(page.locator(".product-title").get_by_role("link", name=simple.name, exact=True))
    add_simple_to_cart(member, simple, 2)

    # The variable product: found by search, the variation picked on its page.
    open_product(member, catalogue.variable)
    expect(page.get_by_label("Choose an option")).to_be_visible()
    screenshot(page, "02-product-page")
    add_variation_to_cart(member, catalogue)

    # Cart: both lines, the money as the shop computes it.
    subtotal, fee, total = totals_for([simple.current_price() * 2, variation.current_price()])
    member.click(page.get_by_role("link", name=re.compile(r"^Cart")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your cart")
    expect(page.locator("main")).to_contain_text(money(subtotal))
    expect(page.locator("main")).to_contain_text(money(total))
    screenshot(page, "03-cart")

    # Checkout with bank transfer.
    member.click(page.get_by_role("link", name="Proceed to checkout"))
    fill_address(page)
    page.get_by_label("Bank transfer").check()
    expect(page.get_by_role("button", name=f"Place order · {money(total)}")).to_be_visible()
    screenshot(page, "04-checkout")
    member.click(page.get_by_role("button", name=re.compile(r"^Place order")))
    expect(page.locator("ul.messages")).to_contain_text("Thank you! Your order")
    number = re.search(r"Order (\S+)", page.get_by_role("heading", level=1).inner_text()).group(1)
    expect(page.locator(".order-head")).to_contain_text("Awaiting confirmation")
    expect(page.locator(".pay-instructions")).to_contain_text(number)

    # The order admin opens the queue from the dashboard and logs a call nobody answered.
    admin = actor("admin")
    admin.sign_in("olivia", factories.PASSWORD)
    admin.click(admin.page.get_by_role("link", name="Back office"))
    expect(admin.page.get_by_role("heading", level=1)).to_have_text("Back office")
    admin.click(admin.page.get_by_role("link", name=re.compile("Awaiting confirmation call")))
    expect(admin.page.locator(".staff-result-count")).to_contain_text("1 order")
    admin.click(admin.page.get_by_role("link", name=number, exact=True))
    call_form = admin.page.locator("form", has_text="Log a call")
    call_form.get_by_label("No answer").check()
    call_form.get_by_label("Note").fill("Rang at 10:00, nobody picked up.")
    admin.click(call_form.get_by_role("button", name="Log call"))
    expect(admin.page.locator("ul.messages")).to_contain_text("Call logged: No answer.")
    expect(admin.page.locator(".staff-timeline")).to_contain_text("Rang at 10:00")
    # ... and keeps this page (version 1) open while the member changes the order.
    expect(admin.page.locator("form", has_text="Confirm the order")).to_contain_text(
        "You are confirming version 1."
    )

    # The member changes the quantity and the address from "My orders".
    open_my_order(member, number)
    member.click(page.get_by_role("link", name="Change this order"))
    page.get_by_label(f"Quantity of {simple.display_name}").fill("3")
    page.get_by_label("Street address").fill(NEW_STREET)
    member.click(page.get_by_role("button", name="Save changes"))
    expect(page.locator("ul.messages")).to_contain_text(
        f"Your changes to order {number} are saved."
    )
    expect(page.locator(".delivery-address")).to_contain_text(NEW_STREET)
    subtotal, fee, total = totals_for([simple.current_price() * 3, variation.current_price()])
    expect(page.locator("main")).to_contain_text(money(total))

    # The admin confirms the version they saw: refused, with what changed.
    confirm(admin, "Spoke to Mei: address and items confirmed.")
    expect(admin.page.locator("ul.messages")).to_contain_text(
        "The order changed after you opened it (you saw version 1, it is now version 2)"
    )
    stale = admin.page.locator(".staff-stale")
    expect(stale).to_contain_text("What changed since you opened the order (version 1 → 2)")
    expect(stale).to_contain_text(NEW_STREET)
    expect(stale).to_contain_text("quantity 2 → 3")
    expect(admin.page.locator(".staff-head .badge").first).to_have_text("Awaiting confirmation")
    screenshot(admin.page, "08-order-detail-changed-meanwhile")
    # The typed call note survived; now the current version is confirmed.
    expect(admin.page.get_by_label("Call note")).to_have_value(
        "Spoke to Mei: address and items confirmed."
    )
    # The latest logged call went unanswered: confirming says the member was reached since.
    admin.page.get_by_label("I reached the member afterwards").check()
    admin.click(admin.page.get_by_role("button", name="Confirm order"))
    expect(admin.page.locator("ul.messages")).to_contain_text(f"Order {number} is confirmed.")

    # Allocated to the logistics person.
    allocate(admin, "Leo Courier (leo)")
    expect(admin.page.locator("ul.messages")).to_contain_text(
        f"Order {number} is allocated to Leo Courier."
    )

    # The logistics person sees it in their deliveries and is told it is unpaid.
    courier = actor("logistics")
    courier.sign_in("leo", factories.PASSWORD)
    courier.click(courier.page.get_by_role("link", name="Back office"))
    courier.click(courier.page.get_by_role("link", name="Open my deliveries"))
    expect(courier.page.get_by_role("heading", level=1)).to_have_text("My deliveries")
    card = delivery_card(courier.page, number)
    expect(card).to_contain_text(NEW_STREET)
    expect(card).to_contain_text("Prepaid: collect nothing")
    expect(card).to_contain_text(
        "This order is paid by bank transfer and is not paid yet (unpaid): finance must record "
        "the payment before it ships."
    )
    expect(card.get_by_role("button", name="Record shipment")).to_have_count(0)
    # The order page says the same.
    courier.click(card.get_by_role("link", name=number, exact=True))
    expect(courier.page.locator(".staff-notice")).to_contain_text("is not paid yet")
    expect(courier.page.get_by_role("button", name="Record shipment")).to_have_count(0)

    # Finance records the transfer, found through the prepaid queue.
    finance = actor("finance")
    finance.sign_in("fiona", factories.PASSWORD)
    finance.goto("/staff/")
    finance.click(
        finance.page.get_by_role("link", name=re.compile("Prepaid orders awaiting payment"))
    )
    finance.click(finance.page.get_by_role("link", name=number, exact=True))
    expect(finance.page.get_by_label("Method")).to_have_value("bank_transfer")
    record_payment(finance, total, "ICBC-20250101-7731")
    expect(finance.page.locator("ul.messages")).to_contain_text(
        f"Payment of {money(total)} recorded for order {number}. Payment status: Paid."
    )

    # Logistics ships with a waybill.
    courier.click(courier.page.get_by_role("link", name="Deliveries", exact=True))
    card = delivery_card(courier.page, number)
    card.get_by_text("Hand to a carrier instead").click()  # the one-tap default is own staff
    card.get_by_label("Carrier").fill("SF Express")
    card.get_by_label("Waybill number").fill("SF1234567890")
    screenshot(courier.page, "10-deliveries")
    courier.click(card.get_by_role("button", name="Record shipment"))
    expect(courier.page.locator("ul.messages")).to_contain_text(
        f"Shipment of order {number} recorded: SF Express, waybill SF1234567890."
    )
    expect(courier.page.get_by_role("heading", level=1)).to_have_text("My deliveries")
    expect(delivery_card(courier.page, number)).to_contain_text("SF Express SF1234567890")

    # The admin's view: the whole timeline, then the print sheet.
    admin.goto(f"/staff/orders/{number}/")
    timeline = admin.page.locator(".staff-timeline")
    for title in ("Order placed", "Call logged", "Confirmed", "Allocated", "Shipped"):
        expect(timeline).to_contain_text(title)
    expect(admin.page.locator(".staff-head")).to_contain_text("Shipped")
    screenshot(admin.page, "08-order-detail")
    admin.click(admin.page.get_by_role("link", name="Order sheet (print)"))
    expect(admin.page.locator(".staff-sheet")).to_contain_text(number)
    expect(admin.page.locator(".staff-sheet")).to_contain_text("collect nothing")
    screenshot(admin.page, "09-print-sheet")

    # The member sees "Shipped" and the waybill number.
    member.goto(f"/account/orders/{number}/")
    expect(page.get_by_role("heading", name="Status: Shipped")).to_be_visible()
    expect(page.locator(".waybill")).to_have_text("SF1234567890")
    expect(page.locator(".order-head")).to_contain_text("Paid")
    screenshot(page, "05-my-order")

    # What the pages claimed is what the database holds.
    order = Order.objects.get(number=number)
    assert (order.status, order.payment_status) == (Status.SHIPPED, PaymentStatus.PAID)
    assert order.customer.username == "mei"
    assert order.assigned_to == staff["logistics"]
    assert (order.carrier, order.tracking_number) == ("SF Express", "SF1234567890")
    assert order.address_line == NEW_STREET
    assert order.total == total and order.shipping_fee == fee and order.subtotal == subtotal
    assert sorted((line.sku, line.quantity) for line in order.lines.all()) == sorted(
        [(simple.sku, 3), (variation.sku, 1)]
    )
    assert list(order.events.order_by("created_at", "pk").values_list("kind", flat=True)) == [
        OrderEvent.Kind.PLACED,
        OrderEvent.Kind.CALL_LOGGED,
        OrderEvent.Kind.EDITED,
        OrderEvent.Kind.CONFIRMED,
        OrderEvent.Kind.ALLOCATED,
        OrderEvent.Kind.PAYMENT_RECORDED,
        OrderEvent.Kind.SHIPPED,
    ]
    call = order.events.get(kind=OrderEvent.Kind.CALL_LOGGED)
    assert call.actor == staff["admin"] and "nobody picked up" in call.note
    payment = Payment.objects.get(order=order)
    assert (payment.amount, payment.method, payment.reference) == (
        total,
        "bank_transfer",
        "ICBC-20250101-7731",
    )
    assert payment.recorded_by == staff["finance"]
    simple.refresh_from_db()
    variation.refresh_from_db()
    assert (simple.stock, variation.stock) == (17, 9)  # 20 - 3 and 10 - 1
    assert Order.objects.count() == 1


def test_cash_on_delivery_invalid_and_member_cancelled_orders(actor, screenshot):
    catalogue = import_catalogue()
    staff = staff_users()
    simple, variation = catalogue.simple, catalogue.variation
    factories.UserFactory(username="nina", first_name="Nina", last_name="Wang")

    member = actor("member")
    page = member.page
    member.sign_in("nina", factories.PASSWORD)

    # Order 2: cash on delivery. Order 3: will be marked invalid. Order 4: member cancels.
    open_product(member, simple)
    add_simple_to_cart(member, simple, 1)
    cod_number = checkout(member, "Cash on delivery", address=ADDRESS)
    open_product(member, simple)
    add_simple_to_cart(member, simple, 1)
    invalid_number = checkout(member, "Cash on delivery")  # address from the last order
    expect(page.locator(".delivery-address")).to_contain_text(ADDRESS["Street address"])
    open_product(member, catalogue.variable)
    add_variation_to_cart(member, catalogue)
    cancelled_number = checkout(member, "Bank transfer")

    # The member cancels order 4 from "My orders".
    open_my_order(member, cancelled_number)
    member.click(page.get_by_role("link", name="Cancel this order"))
    page.get_by_label("Why are you cancelling?").fill("Ordered the wrong colour.")
    member.click(page.get_by_role("button", name="Yes, cancel the order"))
    expect(page.locator("ul.messages")).to_contain_text(
        f"Order {cancelled_number} is cancelled. Nothing will be delivered."
    )
    expect(page.get_by_role("heading", name="Status: Cancelled")).to_be_visible()
    expect(page.get_by_role("link", name="Change this order")).to_have_count(0)

    # The admin confirms and allocates order 2, marks order 3 invalid and cancels it.
    admin = actor("admin")
    admin.sign_in("olivia", factories.PASSWORD)
    admin.goto("/staff/")
    queue = admin.page.locator(".staff-queue", has_text="Awaiting confirmation call")
    expect(queue.locator(".staff-queue-count")).to_have_text("2")
    screenshot(admin.page, "06-staff-dashboard")
    open_staff_order(admin, cod_number)
    confirm(admin, "Reached Nina, address confirmed.")
    expect(admin.page.locator("ul.messages")).to_contain_text(f"Order {cod_number} is confirmed.")
    allocate(admin, "Leo Courier (leo)")

    open_staff_order(admin, invalid_number)
    admin.click(admin.page.get_by_role("link", name="Mark invalid…"))
    admin.page.get_by_label("Reason").fill("Duplicate of an order placed minutes earlier.")
    admin.click(admin.page.get_by_role("button", name="Yes, mark it invalid"))
    expect(admin.page.locator("ul.messages")).to_contain_text(
        f"Order {invalid_number} is marked invalid and its items are back in stock."
    )
    admin.click(admin.page.get_by_role("link", name="Cancel order…"))
    admin.page.get_by_label("Reason").fill("Invalid: duplicate order.")
    admin.click(admin.page.get_by_role("button", name=f"Yes, cancel order {invalid_number}"))
    expect(admin.page.locator("ul.messages")).to_contain_text(
        f"Order {invalid_number} is cancelled."
    )
    admin.click(admin.page.get_by_role("link", name="Orders", exact=True))
    # The list opens on the admin's queue (nothing awaits confirmation now); all is one click.
    expect(admin.page.locator(".staff-role-queue")).to_be_visible()
    expect(admin.page.locator("table.staff-orders tbody tr")).to_have_count(0)
    admin.click(admin.page.get_by_role("link", name="Show all orders"))
    rows = admin.page.locator("table.staff-orders tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text=cod_number)).to_contain_text("Allocated")
    expect(rows.filter(has_text=invalid_number)).to_contain_text("Cancelled")
    expect(rows.filter(has_text=cancelled_number)).to_contain_text("Cancelled")
    screenshot(admin.page, "07-order-list")

    # Cash on delivery ships unpaid.
    cod = Order.objects.get(number=cod_number)  # read only: the amount the courier collects
    courier = actor("logistics")
    courier.sign_in("leo", factories.PASSWORD)
    courier.goto("/staff/deliveries/")
    card = delivery_card(courier.page, cod_number)
    expect(card).to_contain_text(f"Collect on delivery {money(cod.total)}")
    courier.click(card.get_by_role("button", name="Leave with own courier"))
    expect(courier.page.locator("ul.messages")).to_contain_text(
        f"Shipment of order {cod_number} recorded"
    )
    # Shipped unpaid: the whole amount is still to collect, by the courier at the door.
    expect(delivery_card(courier.page, cod_number)).to_contain_text(
        f"Collect on delivery {money(cod.total)}"
    )
    expect(delivery_card(courier.page, cod_number)).to_contain_text("0 attempts so far")

    # Finance collects the cash from the courier's receipt.
    finance = actor("finance")
    finance.sign_in("fiona", factories.PASSWORD)
    finance.goto("/staff/")
    finance.click(finance.page.get_by_role("link", name=re.compile("Cash on delivery to collect")))
    finance.click(finance.page.get_by_role("link", name=cod_number, exact=True))
    expect(finance.page.get_by_label("Method")).to_have_value("cod")
    record_payment(finance, cod.total, "COD-RECEIPT-0002")
    expect(finance.page.locator("ul.messages")).to_contain_text("Payment status: Paid.")

    # The member's list shows the three outcomes.
    member.click(my_orders_link(page))
    rows = page.locator("table.orders-table tbody tr")
    expect(rows.filter(has_text=cod_number)).to_contain_text("Shipped")
    expect(rows.filter(has_text=cod_number)).to_contain_text("Paid")
    expect(rows.filter(has_text=invalid_number)).to_contain_text("Cancelled")
    expect(rows.filter(has_text=cancelled_number)).to_contain_text("Cancelled")

    def state(number):
        order = Order.objects.get(number=number)
        return order.status, order.payment_status

    def kinds(number):
        return list(
            OrderEvent.objects.filter(order__number=number)
            .order_by("created_at", "pk")
            .values_list("kind", flat=True)
        )

    assert state(cod_number) == (Status.SHIPPED, PaymentStatus.PAID)
    assert state(invalid_number) == (Status.CANCELLED, PaymentStatus.UNPAID)
    assert state(cancelled_number) == (Status.CANCELLED, PaymentStatus.UNPAID)
    assert kinds(cod_number) == ["placed", "confirmed", "allocated", "shipped", "payment_recorded"]
    assert kinds(invalid_number) == ["placed", "invalidated", "cancelled"]
    assert kinds(cancelled_number) == ["placed", "cancelled"]
    member_cancel = OrderEvent.objects.get(order__number=cancelled_number, kind="cancelled")
    assert member_cancel.actor.username == "nina"
    assert member_cancel.note == "Ordered the wrong colour."
    payment = Payment.objects.get(order__number=cod_number)
    assert (payment.amount, payment.method, payment.recorded_by) == (
        cod.total,
        "cod",
        staff["finance"],
    )
    shipped = Order.objects.get(number=cod_number)
    assert (shipped.carrier, shipped.tracking_number) == (Order.OWN_DELIVERY_STAFF, "")
    simple.refresh_from_db()
    variation.refresh_from_db()
    # 20 - 1 shipped (the invalid order's unit came back); the cancelled variation came back.
    assert (simple.stock, variation.stock) == (19, 10)
    assert cod.total == totals_for([simple.current_price()])[2]
    assert Decimal(cod.total) > 0
