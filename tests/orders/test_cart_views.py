"""The session cart through its pages: add, change, remove, and every refusal.

A refusal leaves the session cart exactly as it was and shows a message saying why.
"""

from decimal import Decimal

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse

from orders.cart import Cart, CartError
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

ADD = reverse("orders:cart-add")
UPDATE = reverse("orders:cart-update")
CART = reverse("orders:cart")


def cart_of(client):
    return dict(client.session.get("cart", {}))


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def add(client, product, quantity="1", follow=True, **extra):
    data = {"product": product.pk if hasattr(product, "pk") else product, "quantity": quantity}
    data.update(extra)
    return client.post(ADD, data, follow=follow)


def test_add_puts_the_product_in_the_session_and_goes_back_to_next(client, product):
    response = add(client, product, "2", follow=False, next=CART)
    assert response.status_code == 302
    assert response["Location"] == CART
    assert cart_of(client) == {str(product.pk): 2}


def test_add_twice_adds_up_and_the_header_counts_units(client, product):
    add(client, product, "2")
    other = ProductFactory(price=Decimal("12.50"), stock=None)
    response = add(client, other, "3", next=CART)
    assert cart_of(client) == {str(product.pk): 2, str(other.pk): 3}
    assert response.context["cart_count"] == 5
    response = add(client, product, "1", next=CART)
    assert cart_of(client)[str(product.pk)] == 3
    assert "Added 1 × Mug to your cart. Your cart holds 6 items." in messages_of(response)


def test_add_without_next_goes_to_the_product_page(client, product):
    response = add(client, product, "1", follow=False)
    assert response["Location"] == product.get_absolute_url()


def test_add_ignores_an_offsite_next(client, product):
    response = add(client, product, "1", follow=False, next="https://evil.example/")
    assert response["Location"] == product.get_absolute_url()


def test_add_without_quantity_adds_one(client, product):
    client.post(ADD, {"product": product.pk})
    assert cart_of(client) == {str(product.pk): 1}


def test_get_on_add_is_not_allowed(client, product):
    assert client.get(ADD).status_code == 405
    assert cart_of(client) == {}


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"is_visible": False}, "This product is not available."),  # hidden: no name
        ({"in_stock": False}, "Sorry, Lamp is not available."),
        ({"price": None}, "Sorry, Lamp is not available."),
        ({"stock": 0}, "Sorry, Lamp is out of stock."),
        ({"is_variable": True, "price": None}, "Lamp comes in several versions"),
    ],
    ids=["hidden", "taken-off-sale", "no-price", "out-of-stock", "variable-parent"],
)
def test_add_refuses_what_cannot_be_bought(client, attrs, message):
    lamp = ProductFactory(name="Lamp", **attrs)
    response = add(client, lamp, "1", next=CART)
    assert cart_of(client) == {}
    assert any(message in m for m in messages_of(response))


def test_add_refuses_a_variation_of_a_hidden_parent(client):
    parent = ProductFactory(name="Hoodie", is_variable=True, price=None, is_visible=False)
    blue = ProductFactory(name="Hoodie", parent=parent, attributes={"Color": "Blue"})
    response = add(client, blue, "1", next=CART)
    assert cart_of(client) == {}
    assert messages_of(response) == ["This product is not available."]


def test_add_accepts_a_variation_of_a_visible_parent(client):
    parent = ProductFactory(name="Hoodie", is_variable=True, price=None)
    blue = ProductFactory(name="Hoodie", parent=parent, attributes={"Color": "Blue"})
    add(client, blue, "1")
    assert cart_of(client) == {str(blue.pk): 1}


def test_add_refuses_more_than_the_stock_left(client, product):
    add(client, product, "8")
    response = add(client, product, "3", next=CART)
    assert cart_of(client) == {str(product.pk): 8}
    assert "Sorry, only 10 of Mug left in stock." in messages_of(response)


def test_add_refuses_more_than_the_line_limit(client, settings):
    settings.MALL_MAX_LINE_QUANTITY = 5
    unlimited = ProductFactory(name="Pen", stock=None)
    add(client, unlimited, "5")
    response = add(client, unlimited, "1", next=CART)
    assert cart_of(client) == {str(unlimited.pk): 5}
    assert "You can order at most 5 of one item." in messages_of(response)


@pytest.mark.parametrize("quantity", ["abc", "-1", "0", "1e9", "2.5", "99999999999999999999"])
def test_add_refuses_a_bad_quantity(client, product, quantity):
    response = add(client, product, quantity, next=CART)
    assert response.status_code == 200
    assert cart_of(client) == {}
    assert any(m.startswith("Could not add to the cart.") for m in messages_of(response))


@pytest.mark.parametrize("product_id", ["999999", "abc", ""])
def test_add_refuses_an_unknown_product(client, product_id):
    response = client.post(ADD, {"product": product_id, "quantity": "1", "next": CART}, follow=True)
    assert response.status_code == 200
    assert cart_of(client) == {}
    assert messages_of(response)


def test_cart_page_shows_lines_money_and_the_free_shipping_rule(client, product, settings):
    settings.MALL_SHIPPING_FEE = Decimal("10.00")
    settings.MALL_FREE_SHIPPING_FROM = Decimal("199.00")
    add(client, product, "3")
    response = client.get(CART)
    assert response.status_code == 200
    assert response.context["subtotal"] == Decimal("150.00")
    assert response.context["shipping_fee"] == Decimal("10.00")
    assert response.context["total"] == Decimal("160.00")
    assert response.context["missing_for_free_shipping"] == Decimal("49.00")
    html = response.content.decode()
    assert "¥150.00" in html and "¥160.00" in html
    assert "Add ¥49.00 more to get free shipping." in html
    assert f'for="id_qty-{product.pk}"' in html
    assert reverse("orders:checkout") in html


def test_cart_page_free_shipping_from_the_threshold(client, settings):
    settings.MALL_FREE_SHIPPING_FROM = Decimal("199.00")
    expensive = ProductFactory(price=Decimal("199.00"))
    add(client, expensive, "1")
    response = client.get(CART)
    assert response.context["shipping_fee"] == Decimal("0.00")
    assert response.context["total"] == Decimal("199.00")


def test_empty_cart_page(client):
    response = client.get(CART)
    assert response.status_code == 200
    assert "Your cart is empty." in response.content.decode()


def test_update_sets_quantities_and_zero_removes(client, product):
    other = ProductFactory(stock=None)
    add(client, product, "1")
    add(client, other, "4")
    response = client.post(UPDATE, {f"qty-{product.pk}": "3", f"qty-{other.pk}": "0"}, follow=True)
    assert cart_of(client) == {str(product.pk): 3}
    assert "Your cart is updated." in messages_of(response)


def test_update_is_all_or_nothing(client, product):
    other = ProductFactory(stock=None)
    add(client, product, "1")
    add(client, other, "1")
    response = client.post(UPDATE, {f"qty-{product.pk}": "11", f"qty-{other.pk}": "5"}, follow=True)
    assert cart_of(client) == {str(product.pk): 1, str(other.pk): 1}
    assert any("only 10 of Mug left" in m for m in messages_of(response))


@pytest.mark.parametrize("quantity", ["abc", "-1", "1e9", "", "100000"])
def test_update_refuses_a_bad_quantity(client, product, quantity):
    add(client, product, "2")
    response = client.post(UPDATE, {f"qty-{product.pk}": quantity}, follow=True)
    assert response.status_code == 200
    assert cart_of(client) == {str(product.pk): 2}
    assert any(m.startswith("Your cart was not changed.") for m in messages_of(response))


def test_remove_button_removes_one_line(client, product):
    other = ProductFactory(stock=None)
    add(client, product, "1")
    add(client, other, "2")
    response = client.post(UPDATE, {"remove": str(product.pk)}, follow=True)
    assert cart_of(client) == {str(other.pk): 2}
    assert "Removed Mug from your cart." in messages_of(response)


def test_remove_of_something_not_in_the_cart_changes_nothing(client, product):
    add(client, product, "1")
    client.post(UPDATE, {"remove": "abc"})
    client.post(UPDATE, {"remove": "424242"})
    assert cart_of(client) == {str(product.pk): 1}


def test_vanished_products_are_dropped_silently(client, product):
    doomed = ProductFactory(stock=None)
    add(client, product, "1")
    add(client, doomed, "1")
    doomed.delete()
    response = client.get(CART)
    assert [line.product.pk for line in response.context["lines"]] == [product.pk]
    assert cart_of(client) == {str(product.pk): 1}


def test_an_item_taken_off_sale_after_adding_blocks_checkout(client, login, member, product):
    login(member)
    add(client, product, "2")
    product.is_visible = False
    product.save()
    response = client.get(CART)
    assert response.context["has_problems"] is True
    assert response.context["subtotal"] == Decimal("0.00")
    assert "Sorry, Mug is not available." in response.content.decode()
    response = client.get(reverse("orders:checkout"), follow=True)
    assert response.redirect_chain[-1][0] == CART


def test_lowering_a_line_over_the_stock_left_is_allowed(client, product):
    add(client, product, "8")
    product.stock = 5
    product.save()
    assert client.get(CART).context["has_problems"] is True
    client.post(UPDATE, {f"qty-{product.pk}": "5"})
    assert cart_of(client) == {str(product.pk): 5}
    assert client.get(CART).context["has_problems"] is False


def test_malformed_session_data_is_ignored(client, product):
    session = client.session
    session["cart"] = {str(product.pk): 2, "x": 3, "7": "many", "8": -1, "9": True}
    session.save()
    response = client.get(CART)
    assert response.status_code == 200
    assert [(line.product.pk, line.quantity) for line in response.context["lines"]] == [
        (product.pk, 2)
    ]


def test_cart_class_refuses_and_leaves_the_session_alone(product):
    session = SessionStore()
    cart = Cart(session)
    cart.add(product, 2)
    with pytest.raises(CartError):
        cart.add(product, 9)
    with pytest.raises(CartError):
        cart.set(product, 11)
    with pytest.raises(CartError):
        cart.add(product, 0)
    assert session["cart"] == {str(product.pk): 2}
    assert cart.set(product, 0) == 0
    assert session["cart"] == {}


def test_add_to_cart_on_a_listing_stays_on_the_listing(client, product):
    """The home grid's "Add to cart" adds and comes back to the same page and card."""
    listing = client.get("/?page=1").text
    assert f'name="next" value="/?page=1#product-{product.pk}"' in listing
    response = client.post(
        "/cart/add/",
        {"product": product.pk, "quantity": "1", "next": f"/?page=1#product-{product.pk}"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/?page=1#product-{product.pk}"
    assert cart_of(client) == {str(product.pk): 1}
    page = client.get("/?page=1")
    assert "Added 1 × Mug to your cart. Your cart holds 1 item." in messages_of(page)
