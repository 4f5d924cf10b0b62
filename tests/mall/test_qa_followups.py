"""Catalogue fixes from the QA pass: control characters in the storefront search, and the
Django admin's product form that must not write back stock that orders reserved meanwhile."""

import re

import pytest
from django.contrib.admin.models import LogEntry

from mall.models import Product
from orders import services
from tests.factories import ADDRESS, ProductFactory

pytestmark = pytest.mark.django_db


# --- 9. storefront search: NUL and other control characters ---------------------------------


def names(response):
    page = response.context["page"]
    return [p.name for p in page.object_list] if page else None


@pytest.fixture
def two_products():
    ProductFactory(name="Jasmine Tea", sku="TS-TEA")
    ProductFactory(name="Carbon Steel Wok", sku="KT-WOK")


@pytest.mark.parametrize("query", ["\x00", "\x00\x00 \x1f", "\u200b", "\t\x7f\n", " \x00 "])
def test_a_search_of_only_control_characters_shows_the_prompt(client, two_products, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert response.context["query"] == ""
    assert names(response) is None  # nothing searched, nothing listed
    html = response.content.decode()
    assert "Search the shop" in html
    assert "Results for" not in html


def test_control_characters_are_dropped_from_a_real_search(client, two_products):
    response = client.get("/search/", {"q": "te\x00a\u200b"})
    assert response.context["query"] == "tea"
    assert names(response) == ["Jasmine Tea"]
    assert "\x00" not in response.content.decode()
    spaced = client.get("/search/", {"q": "steel\x00\twok"})
    assert spaced.context["query"] == "steel wok"
    assert client.get("/search/", {"q": "\tsteel  wok\n"}).context["query"] == "steel wok"


# --- 13. the admin's product form and stock reserved meanwhile -------------------------------


def input_value(page, name):
    """The ``value`` of the page's ``<input name=name>`` (``""`` when it has none)."""
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page.text).group(0)
    value = re.search(r'\bvalue="([^"]*)"', tag)
    return value.group(1) if value else ""


def admin_post_data(page, **changes):
    """The POST of a simple product's change form as the page showed it, with ``changes``."""
    form = page.context["adminform"].form
    product = form.instance
    data = {
        "sku": product.sku,
        # The admin edits names and descriptions per language, side by side.
        "name_en": product.name,
        "name_zh_hans": product.name,
        "slug": product.slug,
        "position": str(product.position),
        "price": "" if product.price is None else str(product.price),
        "sale_price": "",
        "sale_starts_0": "",
        "sale_starts_1": "",
        "sale_ends_0": "",
        "sale_ends_1": "",
        "stock": input_value(page, "stock"),
        "stock_seen": input_value(page, "stock_seen"),
        "parent": "",
        "attributes": "{}",
        "short_description_en": "",
        "short_description_zh_hans": "",
        "description_en": "",
        "description_zh_hans": "",
        "image_urls": "[]",
        "_save": "Save",
    }
    for flag in ("is_visible", "in_stock", "is_variable"):
        if getattr(product, flag):
            data[flag] = "on"
    if "name" in changes:
        changes["name_en"] = changes.pop("name")
    data.update(changes)
    return data


def order_two(member, product):
    services.place_order(member, lines=[(product, 2)], address=dict(ADDRESS), payment_method="cod")
    return Product.objects.get(pk=product.pk).stock


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def change_url(product):
    return f"/admin/mall/product/{product.pk}/change/"


def test_saving_without_touching_stock_keeps_what_orders_reserved(admin_client, member):
    knife = ProductFactory(name="Chef's Knife", stock=15)
    page = admin_client.get(change_url(knife))
    assert 'name="stock_seen" value="15"' in page.text
    assert order_two(member, knife) == 13  # a member orders while the page is open

    response = admin_client.post(
        change_url(knife), admin_post_data(page, name="Chef's Knife 20 cm")
    )

    assert response.status_code == 302
    knife.refresh_from_db()
    assert (knife.name, knife.stock) == ("Chef's Knife 20 cm", 13)
    entry = LogEntry.objects.get(object_id=str(knife.pk))
    assert "Name" in entry.get_change_message()
    assert "Stock" not in entry.get_change_message()


def test_changing_stock_that_orders_moved_is_refused_and_shows_the_new_figure(admin_client, member):
    knife = ProductFactory(name="Chef's Knife", stock=15)
    page = admin_client.get(change_url(knife))
    order_two(member, knife)

    response = admin_client.post(
        change_url(knife), admin_post_data(page, stock="20", name="Renamed")
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["stock"] == [
        "Stock changed to 13 since you opened this page (orders were placed or cancelled). "
        "Enter the new figure again."
    ]
    knife.refresh_from_db()
    assert (knife.name, knife.stock) == ("Chef's Knife", 13)  # nothing saved
    assert LogEntry.objects.count() == 0
    # The page now shows the figure as it is, and counts it as seen.
    assert 'name="stock" value="13"' in response.text
    assert 'name="stock_seen" value="13"' in response.text

    # Entering the figure again on that page is accepted.
    again = admin_client.post(change_url(knife), admin_post_data(response, stock="18"))
    assert again.status_code == 302
    knife.refresh_from_db()
    assert knife.stock == 18


def test_a_normal_stock_edit_is_saved(admin_client):
    knife = ProductFactory(name="Chef's Knife", stock=15)
    page = admin_client.get(change_url(knife))

    response = admin_client.post(change_url(knife), admin_post_data(page, stock="40"))

    assert response.status_code == 302
    knife.refresh_from_db()
    assert knife.stock == 40
    assert "Stock" in LogEntry.objects.get(object_id=str(knife.pk)).get_change_message()

    page = admin_client.get(change_url(knife))
    assert admin_client.post(change_url(knife), admin_post_data(page, stock="")).status_code == 302
    knife.refresh_from_db()
    assert knife.stock is None  # no longer tracked


def test_a_post_without_the_seen_figure_is_refused(admin_client):
    knife = ProductFactory(name="Chef's Knife", stock=15)
    data = admin_post_data(admin_client.get(change_url(knife)), stock="3")
    del data["stock_seen"]

    response = admin_client.post(change_url(knife), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "This page is out of date: reload it and save again."
    ]
    knife.refresh_from_db()
    assert knife.stock == 15


def test_a_variation_saved_on_its_parents_page_keeps_its_reserved_stock(admin_client, member):
    parent = ProductFactory(name="Hoodie", sku="HOODIE", is_variable=True, price=None, stock=None)
    blue = ProductFactory(
        name="Hoodie", sku="HOODIE-BLUE", parent=parent, attributes={"Color": "Blue"}, stock=15
    )
    page = admin_client.get(change_url(parent))
    assert 'name="variations-0-stock_seen" value="15"' in page.text
    assert order_two(member, blue) == 13

    data = admin_post_data(page, name="Hoodie (cotton)", is_variable="on")
    data.update(
        {
            "variations-TOTAL_FORMS": "1",
            "variations-INITIAL_FORMS": "1",
            "variations-MIN_NUM_FORMS": "0",
            "variations-MAX_NUM_FORMS": "1000",
            "variations-0-id": str(blue.pk),
            "variations-0-parent": str(parent.pk),
            "variations-0-sku": blue.sku,
            "variations-0-slug": blue.slug,
            "variations-0-attributes": '{"Color": "Blue"}',
            "variations-0-price": "50.00",
            "variations-0-sale_price": "",
            "variations-0-stock": "15",
            "variations-0-stock_seen": "15",
            "variations-0-in_stock": "on",
            "variations-0-is_visible": "on",
            "variations-0-position": "0",
        }
    )
    response = admin_client.post(change_url(parent), data)

    assert response.status_code == 302
    blue.refresh_from_db()
    parent.refresh_from_db()
    assert (parent.name, blue.stock) == ("Hoodie (cotton)", 13)

    page = admin_client.get(change_url(parent))
    data["variations-0-stock"], data["variations-0-stock_seen"] = "30", "15"
    response = admin_client.post(change_url(parent), data)
    assert response.status_code == 200
    assert "Stock changed to 13 since you opened this page" in response.text
    blue.refresh_from_db()
    assert blue.stock == 13
