"""Checkout through the test client: validation, exact money, stock, one order per token.

Every refused checkout asserts that no order was created and no stock moved.
"""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from mall.models import Product
from orders.exceptions import InsufficientStock
from orders.models import Order, OrderEvent, PaymentMethod, Status
from tests.factories import ADDRESS, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db

CHECKOUT = reverse("orders:checkout")


@pytest.fixture
def shop_settings(settings):
    settings.MALL_SHIPPING_FEE = Decimal("10.00")
    settings.MALL_FREE_SHIPPING_FROM = Decimal("199.00")
    settings.MALL_BANK_DETAILS = "Bank of Example · account 6222 0000 1234 5678"
    settings.MALL_REMITTANCE_DETAILS = "88 Harbour Road, Shanghai 200000"
    return settings


def fill_cart(client, *pairs):
    for product, quantity in pairs:
        client.post(reverse("orders:cart-add"), {"product": product.pk, "quantity": quantity})


def open_checkout(client):
    """GET the checkout page and return (response, the one-time token it issued)."""
    response = client.get(CHECKOUT)
    assert response.status_code == 200
    token = re.search(r'name="checkout_token" value="([^"]+)"', response.content.decode()).group(1)
    return response, token


def form_data(token, **overrides):
    data = {**ADDRESS, "payment_method": "cod", "note": "", "checkout_token": token}
    data.update(overrides)
    return data


def stock_of(product):
    return Product.objects.get(pk=product.pk).stock


def test_anonymous_checkout_goes_to_login_and_back(client, product):
    fill_cart(client, (product, 1))
    response = client.get(CHECKOUT)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={CHECKOUT}"
    response = client.post(CHECKOUT, form_data("x"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert Order.objects.count() == 0
    assert stock_of(product) == 10


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(login, member):
    client = login(member)
    response = client.get(CHECKOUT)
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:cart")


def test_checkout_page_explains_payment_methods_and_labels_every_control(
    login, member, product, shop_settings
):
    client = login(member)
    fill_cart(client, (product, 1))
    response, _token = open_checkout(client)
    html = response.content.decode()
    assert "Cash on delivery" in html
    assert "Pay our courier in cash when the parcel arrives." in html
    assert shop_settings.MALL_BANK_DETAILS in html
    assert shop_settings.MALL_REMITTANCE_DETAILS in html
    form = html[html.index('class="checkout-form"') :]
    form = form[: form.index("</form>")]
    visible = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*id="([^"]+)"', form)
    assert len(visible) == 10  # 6 address fields, 3 payment radios, the note
    for control_id in visible:
        assert f'for="{control_id}"' in form, control_id


def test_checkout_prefills_the_address_of_the_last_order(login, member, product):
    OrderFactory(
        customer=member,
        address={**ADDRESS, "city": "Suzhou"},
        payment_method=PaymentMethod.BANK_TRANSFER,
    )
    client = login(member)
    fill_cart(client, (product, 1))
    response, _token = open_checkout(client)
    initial = response.context["form"].initial
    assert initial["city"] == "Suzhou"
    assert initial["phone"] == ADDRESS["phone"]
    assert initial["payment_method"] == PaymentMethod.BANK_TRANSFER


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"address_line": ""}, "address_line", "This field is required."),
        ({"recipient": "   "}, "recipient", "This field is required."),
        ({"phone": "12"}, "phone", "Enter a phone number we can call"),
        ({"phone": "call me maybe"}, "phone", "Enter a phone number we can call"),
        ({"payment_method": ""}, "payment_method", "Choose how you will pay."),
        ({"payment_method": "bitcoin"}, "payment_method", "Select a valid choice."),
        ({"postcode": "!!"}, "postcode", "Enter a valid postcode."),
    ],
    ids=[
        "empty-address",
        "blank-recipient",
        "short-phone",
        "words-phone",
        "no-method",
        "unknown-method",
        "bad-postcode",
    ],
)
def test_bad_input_shows_errors_and_creates_nothing(
    login, member, product, overrides, field, message
):
    client = login(member)
    fill_cart(client, (product, 2))
    _response, token = open_checkout(client)
    response = client.post(CHECKOUT, form_data(token, **overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in e for e in errors[field]), errors
    assert "Your order was not placed yet." in response.content.decode()
    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert stock_of(product) == 10
    assert client.session["cart"] == {str(product.pk): 2}


def test_a_good_checkout_places_one_order_with_exact_money(
    login, member, product, shop_settings, django_capture_on_commit_callbacks
):
    cap = ProductFactory(name="Cap", price=Decimal("19.90"), stock=None)
    client = login(member)
    fill_cart(client, (product, 2), (cap, 3))
    _response, token = open_checkout(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CHECKOUT, form_data(token, payment_method="bank_transfer", note="Call after 6 pm")
        )
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    assert order.customer == member
    assert order.status == Status.SUBMITTED
    assert order.payment_method == PaymentMethod.BANK_TRANSFER
    assert order.customer_note == "Call after 6 pm"
    assert order.city == ADDRESS["city"] and order.phone == ADDRESS["phone"]
    # 2 × 50.00 + 3 × 19.90 = 159.70, under 199.00: the 10.00 fee applies.
    assert order.subtotal == Decimal("159.70")
    assert order.shipping_fee == Decimal("10.00")
    assert order.total == Decimal("169.70")
    assert sorted(order.lines.values_list("sku", "quantity", "unit_price", "line_total")) == sorted(
        [
            (product.sku, 2, Decimal("50.00"), Decimal("100.00")),
            (cap.sku, 3, Decimal("19.90"), Decimal("59.70")),
        ]
    )
    assert stock_of(product) == 8
    assert stock_of(cap) is None
    assert list(order.events.values_list("kind", "actor")) == [("placed", member.pk)]
    assert client.session["cart"] == {}
    # The placement e-mail went out after commit, with the order number.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [member.email]
    assert order.number in message.subject
    assert order.number in message.body
    assert "¥169.70" in message.body
    assert shop_settings.MALL_BANK_DETAILS in message.body
    html = message.alternatives[0][0]
    assert order.number in html
    # The order page greets the member with what happens next.
    page = client.get(response["Location"])
    assert f"Thank you! Your order {order.number} is placed." in page.content.decode()


def test_shipping_is_free_from_the_threshold(login, member, shop_settings):
    pricey = ProductFactory(price=Decimal("99.50"), stock=5)
    client = login(member)
    fill_cart(client, (pricey, 2))
    _response, token = open_checkout(client)
    client.post(CHECKOUT, form_data(token))
    order = Order.objects.get()
    assert (order.subtotal, order.shipping_fee, order.total) == (
        Decimal("199.00"),
        Decimal("0.00"),
        Decimal("199.00"),
    )
    assert stock_of(pricey) == 3


def test_double_submit_with_the_same_token_creates_one_order(login, member, product):
    client = login(member)
    fill_cart(client, (product, 2))
    _response, token = open_checkout(client)
    first = client.post(CHECKOUT, form_data(token))
    second = client.post(CHECKOUT, form_data(token), follow=True)
    order = Order.objects.get()
    assert first["Location"] == order.get_absolute_url()
    assert second.redirect_chain[0][0] == order.get_absolute_url()
    assert "was already placed; it was not placed twice" in second.content.decode()
    assert stock_of(product) == 8
    assert order.events.count() == 1


def test_double_submit_while_the_cart_is_refilled_still_creates_one_order(login, member, product):
    client = login(member)
    fill_cart(client, (product, 2))
    _response, token = open_checkout(client)
    client.post(CHECKOUT, form_data(token))
    fill_cart(client, (product, 1))
    client.post(CHECKOUT, form_data(token))
    assert Order.objects.count() == 1
    assert stock_of(product) == 8
    assert client.session["cart"] == {str(product.pk): 1}


def test_two_checkout_tabs_of_one_cart_place_one_order(login, member, product):
    """Both tabs carry the cart's token: submitted together (or one after the other)
    they are one double submit, never two orders of one cart (the race itself is
    tests/integrity's double-submit test)."""
    client = login(member)
    fill_cart(client, (product, 2))
    _response, first_tab = open_checkout(client)
    _response, second_tab = open_checkout(client)
    assert first_tab == second_tab
    client.post(CHECKOUT, form_data(first_tab))
    second = client.post(CHECKOUT, form_data(second_tab), follow=True)
    order = Order.objects.get()
    assert second.redirect_chain[0][0] == order.get_absolute_url()
    assert "was already placed; it was not placed twice" in second.content.decode()
    assert stock_of(product) == 8
    # The next cart gets a token of its own.
    fill_cart(client, (product, 1))
    _response, next_cart = open_checkout(client)
    assert next_cart != first_tab
    client.post(CHECKOUT, form_data(next_cart))
    assert Order.objects.count() == 2
    assert stock_of(product) == 7


def test_a_session_whose_save_was_lost_after_placing_is_not_stuck(login, member, product):
    """The order committed but the session's save failed (the database restarting): the
    session still holds the cart and its token. Sending that token again answers with
    the order already placed and spends the token, so the next checkout page carries a
    new one (the scale-out test's primary restart found the loop)."""
    client = login(member)
    fill_cart(client, (product, 1))
    _response, token = open_checkout(client)
    saved = {key: client.session[key] for key in ("cart", "checkout_tokens", "checkout_cart_token")}
    client.post(CHECKOUT, form_data(token))
    session = client.session
    session.update(saved)  # as if this request's session save had been lost
    session.save()
    again = client.post(CHECKOUT, form_data(token), follow=True)
    assert "was already placed; it was not placed twice" in again.content.decode()
    _response, next_token = open_checkout(client)
    assert next_token != token
    assert Order.objects.count() == 1 and stock_of(product) == 9


def test_a_token_that_was_never_issued_is_refused(login, member, product):
    client = login(member)
    fill_cart(client, (product, 2))
    response = client.post(CHECKOUT, form_data("made-up-token"))
    assert response.status_code == 200
    assert "This checkout page has expired." in response.content.decode()
    assert response.context["checkout_token"] != "made-up-token"
    assert Order.objects.count() == 0
    assert stock_of(product) == 10


def test_another_members_token_does_not_reveal_their_order(login, member, other_member, product):
    theirs = OrderFactory(customer=other_member)
    Order.objects.filter(pk=theirs.pk).update(checkout_token="their-token")
    client = login(member)
    fill_cart(client, (product, 1))
    response = client.post(CHECKOUT, form_data("their-token"))
    assert response.status_code == 200
    assert theirs.number not in response.content.decode()
    assert Order.objects.filter(customer=member).count() == 0


def test_stock_running_out_before_checkout_sends_the_member_back_to_the_cart(
    login, member, product
):
    client = login(member)
    fill_cart(client, (product, 3))
    _response, token = open_checkout(client)
    Product.objects.filter(pk=product.pk).update(stock=2)
    response = client.post(CHECKOUT, form_data(token), follow=True)
    assert response.redirect_chain[-1][0] == reverse("orders:cart")
    assert "Sorry, only 2 of Mug left in stock." in response.content.decode()
    assert Order.objects.count() == 0
    assert stock_of(product) == 2


def test_a_service_refusal_shows_on_the_form(login, member, product, monkeypatch):
    def sold_out(*args, **kwargs):
        raise InsufficientStock("Sorry, not enough stock: Mug (0 left).")

    monkeypatch.setattr("orders.views.services.place_order", sold_out)
    client = login(member)
    fill_cart(client, (product, 1))
    _response, token = open_checkout(client)
    response = client.post(CHECKOUT, form_data(token))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Sorry, not enough stock: Mug (0 left)."]
    assert response.context["checkout_token"] == token
    assert Order.objects.count() == 0
    assert client.session["cart"] == {str(product.pk): 1}


def test_checkout_refused_when_total_changed_since_page_shown(client, member, settings):
    """A price raised while the member looked at the checkout page places nothing."""
    settings.MALL_FREE_SHIPPING_FROM = Decimal("1000.00")
    item = ProductFactory(sku="SPK-1", price=Decimal("229.00"), stock=5)
    client.force_login(member)
    client.post(reverse("orders:cart-add"), {"product": item.pk, "quantity": 1})
    page = client.get(reverse("orders:checkout"))
    token = page.context["checkout_token"]
    Product.objects.filter(pk=item.pk).update(price=Decimal("999.00"))
    data = {**ADDRESS, "payment_method": "cod", "note": "", "checkout_token": token}
    response = client.post(reverse("orders:checkout"), {**data, "expected_total": "239.00"})
    assert response.status_code == 200
    assert "The total changed from ¥239.00 to ¥1,009.00" in response.content.decode()
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=item.pk).stock == 5
    response = client.post(reverse("orders:checkout"), {**data, "expected_total": "1009.00"})
    assert response.status_code == 302
    assert Order.objects.get().total == Decimal("1009.00")


def test_checkout_refused_when_cart_changed_even_at_the_same_total(client, member):
    """Swapping a line for another of the same price in another tab places nothing."""
    small = ProductFactory(sku="TEE-S", price=Decimal("69.00"), stock=5)
    medium = ProductFactory(sku="TEE-M", price=Decimal("69.00"), stock=5)
    client.force_login(member)
    client.post(reverse("orders:cart-add"), {"product": small.pk, "quantity": 1})
    page = client.get(reverse("orders:checkout"))
    shown = {
        "checkout_token": page.context["checkout_token"],
        "cart_signature": page.context["cart_signature"],
        "expected_total": "79.00",
    }
    client.post(reverse("orders:cart-update"), {"remove": str(small.pk)})
    client.post(reverse("orders:cart-add"), {"product": medium.pk, "quantity": 1})
    data = {**ADDRESS, "payment_method": "cod", "note": "", **shown}
    response = client.post(reverse("orders:checkout"), data)
    assert response.status_code == 200
    assert "Your cart changed since this page was shown" in response.content.decode()
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=medium.pk).stock == 5
    data["cart_signature"] = response.context["cart_signature"]
    response = client.post(reverse("orders:checkout"), data)
    assert response.status_code == 302
    assert Order.objects.get().lines.get().sku == "TEE-M"
