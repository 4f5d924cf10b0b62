"""Refusals as a user meets them in the browser: not found, no button, 403, form errors.

Each test also reads the database at the end to show that nothing changed.
"""

import re

import pytest
from playwright.sync_api import expect

from mall.models import Product
from orders.models import Order, OrderEvent, Status
from tests import factories
from tests.e2e.helpers import SIMPLE_STOCK, import_catalogue, staff_users

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def snapshot(order):
    """The values a refused action must leave alone."""
    order = Order.objects.get(pk=order.pk)
    return (order.status, order.payment_status, order.version, order.events.count())


def test_another_members_order_is_not_found(actor):
    catalogue = import_catalogue()
    owner = factories.UserFactory(username="owner")
    order = factories.OrderFactory(customer=owner, lines=[(catalogue.simple, 1)])
    factories.UserFactory(username="snoop")
    before = snapshot(order)

    snoop = actor("other member")
    snoop.sign_in("snoop", factories.PASSWORD)
    for path in (
        f"/account/orders/{order.number}/",
        f"/account/orders/{order.number}/edit/",
        f"/account/orders/{order.number}/cancel/",
    ):
        snoop.goto(path, status=404)
        expect(snoop.page.get_by_role("heading", level=1)).to_have_text("Page not found")
        expect(snoop.page.locator("main")).not_to_contain_text(order.recipient)
    # Their own list does not show it either.
    snoop.click(snoop.page.get_by_role("link", name="My orders").first)
    expect(snoop.page.locator("main")).to_contain_text("You have not placed any orders yet.")
    expect(snoop.page.get_by_role("link", name=order.number)).to_have_count(0)

    assert snapshot(order) == before


def test_finance_sees_no_confirm_button_and_a_forged_confirm_is_refused(actor):
    catalogue = import_catalogue()
    staff_users()
    order = factories.OrderFactory(lines=[(catalogue.simple, 2)])
    stock_before = Product.objects.get(pk=catalogue.simple.pk).stock
    before = snapshot(order)
    assert before[0] == Status.SUBMITTED

    finance = actor("finance")
    finance.sign_in("fiona", factories.PASSWORD)
    finance.goto(f"/staff/orders/{order.number}/")
    page = finance.page
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Order {order.number}")
    expect(page.get_by_role("button", name="Confirm order")).to_have_count(0)
    expect(page.get_by_label("Call note")).to_have_count(0)
    expect(page.get_by_role("link", name="Mark invalid…")).to_have_count(0)

    # A hand-made POST with a valid CSRF token, as a crafted form would send it.
    token = finance.csrf_token()
    assert token
    response = page.request.post(
        f"/staff/orders/{order.number}/confirm/",
        form={"csrfmiddlewaretoken": token, "version": str(order.version), "call_note": "Forged"},
        headers={"Referer": page.url},
        max_redirects=0,
    )
    assert response.status == 403
    body = response.text()
    assert "Your role cannot take this action." in body  # the role check, not a CSRF failure
    assert "CSRF" not in body

    # The page is unchanged after a reload, and so is the database.
    finance.goto(f"/staff/orders/{order.number}/")
    expect(page.locator(".staff-head .badge").first).to_have_text("Awaiting confirmation")
    assert snapshot(order) == before
    assert not OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.CONFIRMED).exists()
    assert Product.objects.get(pk=catalogue.simple.pk).stock == stock_before


def test_checkout_with_an_empty_address_shows_field_errors_and_places_nothing(actor):
    catalogue = import_catalogue()
    factories.UserFactory(username="mei", first_name="", last_name="")

    member = actor("member")
    member.sign_in("mei", factories.PASSWORD)
    member.goto(catalogue.simple.get_absolute_url())
    page = member.page
    member.click(page.locator(".buy-box").get_by_role("button", name="Add to cart"))
    member.click(page.get_by_role("link", name=re.compile(r"^Cart")))
    member.click(page.get_by_role("link", name="Proceed to checkout"))
    page.get_by_label("Cash on delivery").check()
    member.click(page.get_by_role("button", name=re.compile(r"^Place order")))

    expect(page.get_by_role("heading", level=1)).to_have_text("Checkout")
    expect(page.locator(".form-errors")).to_contain_text("Your order was not placed yet.")
    for label in ("Recipient's name", "Phone number", "Province / region", "City"):
        row = page.locator(".form-row", has=page.get_by_label(label))
        expect(row).to_have_class(re.compile(r"\bhas-error\b"))
        expect(row.locator(".errorlist")).to_contain_text("This field is required.")
    street = page.locator(".form-row", has=page.get_by_label("Street address"))
    expect(street.locator(".errorlist")).to_contain_text("This field is required.")
    # The cart is kept for the next try.
    expect(page.locator(".order-summary")).to_contain_text(catalogue.simple.name)

    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert Product.objects.get(pk=catalogue.simple.pk).stock == SIMPLE_STOCK
