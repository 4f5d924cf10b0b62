"""Member-side fixes from the QA pass: "My orders" past the last page, adding a hidden
product to the cart, and long unbroken text on the member's order page (in Chromium)."""

import pytest
from django.urls import reverse

from orders.models import Order
from tests.factories import ADDRESS, OrderFactory, ProductFactory

LIST = reverse("orders:list")
ADD = reverse("orders:cart-add")
CART = reverse("orders:cart")


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- 8. "My orders": a page past the end or not a number -------------------------------------


@pytest.fixture
def twenty_five_orders(member):
    product = ProductFactory(stock=None)
    return [OrderFactory(customer=member, lines=[(product, 1)]) for _ in range(25)]


@pytest.mark.parametrize(
    ("page", "shown", "rows"),
    # Paginator.get_page, as on the staff list: no number → the first page, any other page
    # that does not exist (0 and below too) → the last.
    [("3", 2, 5), ("999999", 2, 5), ("last", 2, 5), ("0", 2, 5), ("abc", 1, 20), ("", 1, 20)],
)
@pytest.mark.django_db
def test_my_orders_out_of_range_page_shows_the_nearest_page(
    login, member, twenty_five_orders, page, shown, rows
):
    response = login(member).get(LIST, {"page": page})
    assert response.status_code == 200
    assert response.context["page_obj"].number == shown
    assert len(response.context["orders"]) == rows
    assert f"Page {shown} of 2" in response.content.decode()


@pytest.mark.django_db
def test_my_orders_second_page_holds_the_oldest(login, member, twenty_five_orders):
    response = login(member).get(LIST, {"page": "2"})
    oldest = set(Order.objects.filter(customer=member).order_by("placed_at", "pk")[:5])
    assert set(response.context["orders"]) == oldest


@pytest.mark.django_db
def test_my_orders_with_no_orders_and_a_bad_page(login, member):
    response = login(member).get(LIST, {"page": "7"})
    assert response.status_code == 200
    assert "You have not placed any orders yet." in response.content.decode()


# --- 10. adding a hidden or unknown product --------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["hidden", "hidden-parent", "unknown"])
def test_adding_a_hidden_product_does_not_name_it_and_lands_on_the_cart(client, kind):
    knife = ProductFactory(name="Chef's Knife", slug="chefs-knife", is_visible=kind == "unknown")
    if kind == "hidden-parent":
        knife.is_variable, knife.price = True, None
        knife.save()
        knife = ProductFactory(name="Chef's Knife", parent=knife, attributes={"Size": "20 cm"})
    product_id = knife.pk + 1000 if kind == "unknown" else knife.pk

    response = client.post(ADD, {"product": product_id, "quantity": "1"}, follow=True)

    assert response.redirect_chain == [(CART, 302)]
    assert response.status_code == 200
    assert messages_of(response) == ["This product is not available."]
    html = response.content.decode()
    assert "Chef" not in html
    assert "Knife" not in html
    assert dict(client.session.get("cart", {})) == {}


@pytest.mark.django_db
def test_adding_a_hidden_product_goes_back_to_a_safe_next_but_never_to_its_own_page(client):
    knife = ProductFactory(name="Chef's Knife", slug="chefs-knife", is_visible=False)
    listing = reverse("search") + "?q=knife"

    back = client.post(ADD, {"product": knife.pk, "next": listing})
    assert back["Location"] == listing
    offsite = client.post(ADD, {"product": knife.pk, "next": "https://evil.example/"})
    assert offsite["Location"] == CART
    own_page = client.post(ADD, {"product": knife.pk, "next": knife.get_absolute_url()})
    assert own_page["Location"] == CART
    assert dict(client.session.get("cart", {})) == {}


@pytest.mark.django_db
def test_a_visible_product_that_cannot_be_bought_is_still_named(client):
    lamp = ProductFactory(name="Lamp", stock=0)
    response = client.post(ADD, {"product": lamp.pk, "next": CART}, follow=True)
    assert messages_of(response) == ["Sorry, Lamp is out of stock."]


# --- 4. long unbroken text on the member's order page ----------------------------------------


LONG_ADDRESS = dict(
    ADDRESS,
    recipient="R" * 100,
    address_line="A" * 255,
    city="C" * 100,
    region="G" * 100,
)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_long_unbroken_address_does_not_widen_the_members_pages(page_width, member, width):
    order = OrderFactory(
        customer=member,
        address=LONG_ADDRESS,
        note="N" * 1000,
        lines=[(ProductFactory(name="P" * 200, sku="S" * 90), 1)],
    )
    for path in (LIST, order.get_absolute_url(), reverse("orders:edit", args=[order.number])):
        assert page_width(member, path, width) == width, path
