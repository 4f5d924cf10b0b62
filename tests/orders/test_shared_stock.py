"""Variations sold from their parent's stock (WooCommerce "Stock = parent", issue 13)."""

from decimal import Decimal

import pytest
from django.contrib.sessions.backends.db import SessionStore

from mall.catalogue import offer_for
from mall.models import Product
from orders import services
from orders.cart import Cart, CartError
from orders.exceptions import InsufficientStock
from tests.factories import ADDRESS, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shirt():
    """A shirt whose three units are shared by its red and blue variations."""
    parent = ProductFactory(sku="SHIRT", name="Shirt", price=None, stock=3, is_variable=True)
    red, blue = (
        ProductFactory(
            sku=f"SHIRT-{colour.upper()}",
            name="Shirt",
            parent=parent,
            attributes={"Colour": colour},
            price=Decimal("20.00"),
            stock=None,
            stock_from_parent=True,
        )
        for colour in ("Red", "Blue")
    )
    return parent, red, blue


def stock_of(sku):
    return Product.objects.get(sku=sku).stock


def test_an_order_reserves_the_parents_units(member, shirt):
    parent, red, blue = shirt

    order = services.place_order(
        member, lines=[(red, 2), (blue, 1)], address=ADDRESS, payment_method="cod"
    )

    assert stock_of("SHIRT") == 0
    assert (stock_of("SHIRT-RED"), stock_of("SHIRT-BLUE")) == (None, None)
    services.cancel_order(member, order, reason="")
    assert stock_of("SHIRT") == 3


def test_two_variations_together_cannot_oversell_the_parent(member, shirt):
    _parent, red, blue = shirt

    with pytest.raises(InsufficientStock):
        services.place_order(
            member, lines=[(red, 2), (blue, 2)], address=ADDRESS, payment_method="cod"
        )

    assert stock_of("SHIRT") == 3  # nothing reserved


def test_the_cart_and_the_offer_count_the_parents_units(shirt):
    parent, red, _blue = shirt
    red = Product.objects.select_related("parent").get(pk=red.pk)
    assert offer_for(red).stock_left == 3
    cart = Cart(SessionStore())

    cart.add(red, 3)

    with pytest.raises(CartError, match="only 3 of Shirt – Red left"):
        cart.set(red, 4)
    Product.objects.filter(pk=parent.pk).update(stock=0)
    red = Product.objects.select_related("parent").get(pk=red.pk)
    assert offer_for(red).out_of_stock
