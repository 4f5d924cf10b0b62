"""One member's whole visit in Simplified Chinese (issue 14), in Chromium.

The browser asks for Chinese (``Accept-Language: zh-CN``) in a shop whose default is
Chinese. The member signs up, finds a product by its Chinese name, adds it to the cart
from the listing, checks out, reads the order, saves their details on the account page;
staff confirm and ship the order. Every page the member sees and every e-mail they get
is checked for English: Latin-letter words other than the allowed exceptions below (SKUs,
brand and shop names, units) fail the test.
"""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from mall.importer import import_products
from mall.management.commands.setup_demo import DEMO_CATALOGUES
from mall.models import Product, Profile
from orders import services
from orders.models import Order
from tests.e2e.helpers import Actor, staff_users

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.language("zh-hans"),
]

PASSWORD = "plum-blossom-river-42"
# Latin-letter words allowed on a Chinese page: names, codes and units, never sentences.
ALLOWED = {
    "Harbour",
    "Mall",  # the shop's name (MALL_NAME)
    "English",  # the language switcher names each language in its own words
    "T",  # T恤 (T-shirt) is a Chinese word
    "CNY",  # the currency code in the footer
    "mei",  # the member's username
    "SF",
    "Express",
    "SF1234567890",  # the carrier and waybill the staff typed
    "USB",
    "PDF",
    "GaN",
    "mAh",
    "A5",
    "W",  # in product names
}
# What a reader or a screen reader gets: every text node, without decorative (aria-hidden)
# ones such as a picture's placeholder initial.
PAGE_TEXT = """() => {
  const body = document.body.cloneNode(true);
  const hidden = '[aria-hidden="true"], script, style, noscript';
  body.querySelectorAll(hidden).forEach((el) => el.remove());
  return body.textContent;
}"""
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def english_words(text, extra=()):
    """Latin-letter words in ``text`` that are not allowed exceptions (nor order numbers,
    SKUs or e-mail addresses of this test, given in ``extra``)."""
    for keep in extra:
        text = text.replace(keep, " ")
    text = re.sub(r"\S+@\S+", " ", text)  # e-mail addresses
    text = text.replace("°C", " ")  # degrees Celsius
    text = re.sub(r"\b[A-Z0-9]{2,}-[A-Z0-9-]+\b", " ", text)  # SKUs, order numbers
    return sorted(
        {
            f"{m.group(0)} (in: {text[max(0, m.start() - 12) : m.end() + 12]!r})"
            for m in WORD.finditer(text)
            if m.group(0) not in ALLOWED
        }
    )


def check_page(member, leaks, extra=()):
    text = member.page.evaluate(PAGE_TEXT)
    title = member.page.title()
    words = english_words(f"{title}\n{text}", extra)
    if words:
        leaks[member.page.url] = words


def test_a_member_shops_entirely_in_chinese(open_context, screenshot):
    for language, path in DEMO_CATALOGUES:
        import_products(path, language=language)
    staff = staff_users()
    tea = Product.objects.get(sku="TS-JASMINE")
    leaks = {}

    # A browser set to Chinese: it sends Accept-Language: zh-CN.
    member = Actor("mei", open_context(locale="zh-CN"))
    page = member.page

    # Sign up.
    member.goto("/accounts/register/")
    check_page(member, leaks)
    page.locator("input[name=username]").fill("mei")
    page.locator("input[name=email]").fill("mei@example.com")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    member.click(page.locator("main").get_by_role("button", name="注册账户"))
    check_page(member, leaks)

    # Find the tea by its Chinese name and add it from the results: the page stays.
    page.locator("#header-q").fill("茉莉")
    member.click(page.get_by_role("button", name="搜索"))
    expect(page.locator("h3.product-title")).to_have_text(["茉莉花茶"])
    check_page(member, leaks)
    search_url = page.url
    member.click(page.locator(".product-card").get_by_role("button", name=re.compile("加入购物车")))
    assert page.url.split("#")[0] == search_url
    expect(page.locator("ul.messages")).to_contain_text("购物车里共有 1 件商品。")
    check_page(member, leaks)

    # The product page, in Chinese, with the yuan sign.
    member.click(page.locator("h3.product-title").get_by_role("link", name="茉莉花茶"))
    expect(page.locator("main")).to_contain_text("¥68.00")
    check_page(member, leaks)

    # Cart and checkout.
    member.goto("/cart/")
    check_page(member, leaks)
    member.click(page.get_by_role("link", name="去结算"))
    check_page(member, leaks)
    for name, value in {
        "recipient": "林梅",
        "phone": "139 1234 5678",
        "region": "浙江省",
        "city": "杭州",
        "address_line": "西湖区湖滨路 12 号 5 栋 301 室",
        "postcode": "310000",
    }.items():
        page.locator(f"input[name={name}]").fill(value)
    page.get_by_label("货到付款").check()
    member.click(page.get_by_role("button", name=re.compile("^提交订单")))
    order = Order.objects.get(customer__username="mei")
    assert order.language == "zh-hans"
    expect(page.locator("h1")).to_contain_text(order.number)
    check_page(member, leaks, extra=[order.number])
    screenshot(page, "zh-member-order")

    # My orders and the account page.
    member.goto("/account/orders/")
    check_page(member, leaks, extra=[order.number])
    member.goto("/account/")
    check_page(member, leaks)
    page.locator("input[name=phone]").fill("139 1234 5678")
    member.click(page.get_by_role("button", name="保存", exact=True))
    expect(page.locator("ul.messages")).to_contain_text("您的资料已保存。")
    check_page(member, leaks)
    assert Profile.objects.get(user__username="mei").language == "zh-hans"
    screenshot(page, "zh-member-account")

    # Staff (in English) confirm, allocate and ship; the member reads the order again.
    admin = staff["admin"]
    order = services.confirm_order(admin, order, expected_version=order.version, call_note="ok")
    order = services.allocate_order(admin, order, assignee=staff["logistics"])
    order = services.ship_order(admin, order, carrier="SF Express", tracking_number="SF1234567890")
    member.goto(f"/account/orders/{order.number}/")
    check_page(member, leaks, extra=[order.number])

    assert leaks == {}, leaks
    assert member.unaudited() == []

    # The e-mails: placed, confirmed, shipped, all in Chinese.
    mails = [m for m in mail.outbox if m.to == ["mei@example.com"]]
    assert [m.subject for m in mails] == [
        f"我们已收到您的订单 {order.number}",
        f"您的订单 {order.number} 已确认",
        f"您的订单 {order.number} 已发货",
    ]
    for message in mails:
        words = english_words(message.body, extra=[order.number, tea.sku])
        assert words == [], (message.subject, words)
