"""The confirmation desk in Chromium (issue 11): a call-back booked and coming due, the
order changed for the member during the call and confirmed, an order taken by phone.

Set-up (ORM, services) makes the staff, the products and a member's order; every step
after that happens through the pages. The call-back time is reached by moving the
booked time into the past in the database, never by sleeping. The database is read
for the assertions at the end.
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders import services
from orders.models import Order, OrderEvent, PaymentMethod, Status
from tests import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_STREET = "7 Lotus Lane, Building 1, Room 602"
REASON = "As the member asked on the phone: one set of cups more, new address."


def queue(page, label):
    return page.locator(".staff-queue", has_text=label)


def found(page):
    """The table of products the search found (a quantity box each)."""
    return page.locator("table.staff-product-results")


def test_call_back_change_during_the_call_and_phone_order(actor, screenshot):
    admin_user = factories.order_admin(username="olivia", first_name="Olivia", last_name="Admin")
    member = factories.UserFactory(username="mei", first_name="Mei", last_name="Lin")
    tea = factories.ProductFactory(name="Jasmine tea, 250 g tin", stock=10)
    cups = factories.ProductFactory(
        name="Celadon tea cups (set of 4)", price=Decimal("120.00"), stock=5
    )
    order = services.place_order(
        member, lines=[(tea, 2)], address=dict(factories.ADDRESS), payment_method="cod"
    )
    number = order.number

    admin = actor("admin")
    page = admin.page
    admin.sign_in("olivia", factories.PASSWORD)
    admin.goto("/staff/")
    expect(queue(page, "Awaiting confirmation call").locator(".staff-queue-count")).to_have_text(
        "1"
    )
    admin.click(queue(page, "Awaiting confirmation call").get_by_role("link"))
    admin.click(page.get_by_role("link", name=number, exact=True))

    # The member asks to be called back in 10 minutes.
    when = timezone.localtime() + datetime.timedelta(minutes=10)
    call_form = page.locator("form", has_text="Log a call")
    call_form.get_by_label("Asked to call back later").check()
    call_form.get_by_label("Call back at").fill(when.strftime("%Y-%m-%dT%H:%M"))
    call_form.get_by_label("Note").fill("Driving, call again in ten minutes.")
    admin.click(call_form.get_by_role("button", name="Log call"))
    expect(page.locator("ul.messages")).to_contain_text(
        f"Call logged: Asked to call back later. Call back {when:%Y-%m-%d %H:%M}."
    )
    expect(page.locator(".staff-call-back")).to_contain_text(f"Call back at {when:%Y-%m-%d %H:%M}")

    # The order leaves the awaiting-confirmation queue; not due yet either.
    admin.goto("/staff/")
    expect(queue(page, "Awaiting confirmation call").locator(".staff-queue-count")).to_have_text(
        "0"
    )
    expect(queue(page, "Calls due").locator(".staff-queue-count")).to_have_text("0")

    # Ten minutes pass (the booked time is moved into the past, not slept).
    past = timezone.now() - datetime.timedelta(minutes=2)
    assert Order.objects.filter(number=number).update(call_back_at=past) == 1
    admin.goto("/staff/")
    due = queue(page, "Calls due")
    expect(due.locator(".staff-queue-count")).to_have_text("1")
    admin.click(due.get_by_role("link"))
    admin.click(page.get_by_role("link", name=number, exact=True))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Order {number}")

    # During the call the member wants cups too, at another address: the admin changes it.
    admin.click(page.get_by_role("link", name="Change the order for the member…"))
    page.get_by_label("Find a product by name or SKU").fill("Celadon")
    admin.click(page.get_by_role("button", name="Search", exact=True))
    found(page).get_by_label(cups.display_name).fill("1")
    page.get_by_label("Address", exact=True).fill(NEW_STREET)
    page.get_by_label("Reason for the change").fill(REASON)
    admin.click(page.get_by_role("button", name="Save the changes"))
    expect(page.locator("ul.messages")).to_contain_text(
        f"Order {number} is changed; the member gets an e-mail listing the changes."
    )
    expect(page.locator("main")).to_contain_text(NEW_STREET)
    expect(page.locator("main")).to_contain_text(cups.name)

    # ... and confirms it at once, the member still on the line.
    page.get_by_label("Call note").fill("Read back the new address and the cups: all correct.")
    admin.click(page.get_by_role("button", name="Confirm order"))
    expect(page.locator("ul.messages")).to_contain_text(f"Order {number} is confirmed.")
    expect(page.locator(".staff-call-back")).to_have_count(0)
    admin.goto("/staff/")
    expect(queue(page, "Calls due").locator(".staff-queue-count")).to_have_text("0")

    # A customer without an account phones in an order.
    admin.goto("/staff/orders/new/")
    page.get_by_label("Phone, name or e-mail").fill("137 0000 1111")
    admin.click(page.get_by_role("main").get_by_role("button", name="Find", exact=True))
    expect(page.get_by_text("No member matches.")).to_be_visible()
    register = page.locator("form", has=page.get_by_role("button", name="Register the member"))
    register.get_by_label("Name", exact=True).fill("Zhang Wei")
    register.get_by_label("Phone", exact=True).fill("137 0000 1111")
    admin.click(register.get_by_role("button", name="Register the member"))
    expect(page.locator("ul.messages")).to_contain_text("Member Zhang Wei is registered")
    page.get_by_label("Find a product by name or SKU").fill("Jasmine")
    admin.click(page.get_by_role("button", name="Search", exact=True))
    found(page).get_by_label(tea.display_name).fill("1")
    for label, value in {
        "Recipient": "Zhang Wei",
        "Phone": "137 0000 1111",
        "Province / region": "Jiangsu",
        "City": "Suzhou",
        "Address": "3 Pingjiang Road",
        "Postcode": "215000",
    }.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Payment method").select_option(PaymentMethod.COD)
    page.get_by_label("Confirm the order now").check()
    page.get_by_label("Call note").fill("Took the order on the phone, address read back.")
    screenshot(page, "14-phone-order")
    admin.click(page.get_by_role("button", name="Place the order"))
    expect(page.locator("ul.messages")).to_contain_text("is placed for Zhang Wei and confirmed.")
    heading = page.get_by_role("heading", level=1).inner_text()
    phone_number = heading.split("Order ", 1)[1].split()[0]

    # What the pages claimed is what the database holds.
    order = Order.objects.get(number=number)
    assert order.status == Status.CONFIRMED
    assert order.call_back_at is None
    assert order.address_line == NEW_STREET
    assert sorted((line.sku, line.quantity) for line in order.lines.all()) == sorted(
        [(tea.sku, 2), (cups.sku, 1)]
    )
    kinds = list(order.events.order_by("created_at", "pk").values_list("kind", flat=True))
    assert kinds == [
        OrderEvent.Kind.PLACED,
        OrderEvent.Kind.CALL_LOGGED,
        OrderEvent.Kind.EDITED,
        OrderEvent.Kind.CONFIRMED,
    ]
    call = order.events.get(kind=OrderEvent.Kind.CALL_LOGGED)
    assert (call.actor, call.data["outcome"]) == (admin_user, "call_back")
    edited = order.events.get(kind=OrderEvent.Kind.EDITED)
    assert (edited.actor, edited.note) == (admin_user, REASON)
    assert edited.data["for_member"] == {"id": member.pk, "name": "Mei Lin"}
    assert order.version == 3  # placed 1, changed for the member 2, confirmed 3

    phone_order = Order.objects.get(number=phone_number)
    assert phone_order.status == Status.CONFIRMED
    assert phone_order.customer.get_full_name() == "Zhang Wei"
    assert not phone_order.customer.has_usable_password()
    assert phone_order.address_line == "3 Pingjiang Road"
    assert [(line.sku, line.quantity) for line in phone_order.lines.all()] == [(tea.sku, 1)]
    assert phone_order.events.get(kind=OrderEvent.Kind.PLACED).actor == admin_user
    tea.refresh_from_db()
    cups.refresh_from_db()
    assert (tea.stock, cups.stock) == (7, 4)  # 10 - 2 - 1, 5 - 1
    assert Order.objects.count() == 2
