"""The courier's deliveries page on a phone (360 px wide): nothing cut off, forms usable.

Set ``MALL_DOC_SCREENSHOTS=1`` to refresh ``docs/screenshots/courier-phone.png`` from it.
"""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from orders import services
from orders.models import Order, PaymentMethod
from tests.e2e.helpers import Actor
from tests.factories import ProductFactory
from tests.staff.helpers import allocate, confirm, pay, place

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTH = 360

# Every element's right edge inside the window: a column cut off or pushed out shows here.
OVERFLOWING = f"""() => Array.from(document.querySelectorAll("body *"))
  .filter((el) => {{ const r = el.getBoundingClientRect();
                     return r.width > 0 && r.right > {WIDTH} + 0.5; }})
  .map((el) => el.tagName + "." + el.className)"""


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_deliveries_fit_a_phone(
    browser, live_server, screenshot, member, admin_user, finance_user, logistics_user
):
    logistics_user.first_name, logistics_user.last_name = "Chen", "Jun"
    logistics_user.save()
    teapot = ProductFactory(name="Jasmine tea, 250 g tin", price=Decimal("68.00"), stock=None)
    cups = ProductFactory(name="Celadon tea cups (set of 4)", price=Decimal("120.00"), stock=None)
    allocate(confirm(place(member, lines=[(teapot, 2)]), admin_user), admin_user, logistics_user)
    out = allocate(
        confirm(place(member, lines=[(cups, 1), (teapot, 1)]), admin_user),
        admin_user,
        logistics_user,
    )
    out = services.ship_order(admin_user, out, carrier=Order.OWN_DELIVERY_STAFF)
    services.record_delivery_attempt(
        logistics_user, out, outcome="not_home", next_attempt_on=timezone.localdate()
    )
    prepaid = confirm(place(member, payment_method=PaymentMethod.BANK_TRANSFER), admin_user)
    pay(prepaid, finance_user)
    prepaid = allocate(Order.objects.get(pk=prepaid.pk), admin_user, logistics_user)
    services.ship_order(admin_user, prepaid, carrier="SF Express", tracking_number="SF1234567890")

    client = Client()
    client.force_login(logistics_user)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": WIDTH, "height": 800}, locale="en-US"
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            },
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url},
        ]
    )
    try:
        courier = Actor("courier", context.new_page())
        courier.goto("/staff/deliveries/")
        page = courier.page
        assert page.evaluate("document.documentElement.scrollWidth") == WIDTH
        assert page.evaluate(OVERFLOWING) == []
        page.get_by_text("Failed attempt").first.click()  # open the outcome buttons
        assert page.evaluate(OVERFLOWING) == []
        assert page.get_by_role("button", name="Nobody at home").first.is_visible()
        assert page.get_by_role("button", name="Delivered").first.is_visible()
        assert page.get_by_role("button", name="Leave with own courier").is_visible()
        page.get_by_text("Failed attempt").first.click()  # closed again for the picture
        screenshot(page, "courier-phone")
        if os.environ.get("MALL_DOC_SCREENSHOTS") == "1":
            page.screenshot(path=str(DOCS / "courier-phone.png"), full_page=True)
    finally:
        context.close()
