"""Storefront pages: home, category, product, search; prices, stock notes, query counts."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from mall.catalogue import offer_for
from mall.models import Product
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

CART_ADD = reverse("orders:cart-add")


def product_names(response):
    """Names of the product cards on a listing page, in order."""
    return re.findall(r'<h3 class="product-title"><a href="[^"]+">([^<]+)</a>', response.text)


def cart_forms(html):
    """(product pk, quantity) of each add-to-cart form on a page."""
    forms = re.findall(rf'<form[^>]+action="{CART_ADD}"[^>]*>(.*?)</form>', html, re.S)
    found = []
    for form in forms:
        assert "csrfmiddlewaretoken" in form
        pk = re.search(r'name="product" value="(\d+)"', form)
        quantity = re.search(
            r'name="quantity"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="quantity"', form
        )
        found.append(
            (
                int(pk.group(1)) if pk else None,
                quantity and int(quantity.group(1) or quantity.group(2)),
            )
        )
    return found


@pytest.fixture
def variable_shirt():
    """A variable product with three variations: in stock, low stock and out of stock."""
    clothing = CategoryFactory(name="Clothing", slug="clothing")
    shirt = ProductFactory(
        sku="SHIRT", name="Shirt", slug="shirt", is_variable=True, price=None, stock=None
    )
    shirt.categories.add(clothing)
    small = ProductFactory(
        sku="SHIRT-S",
        name="Shirt",
        slug="shirt-s",
        parent=shirt,
        price="30.00",
        stock=20,
        attributes={"Size": "S"},
        position=1,
    )
    medium = ProductFactory(
        sku="SHIRT-M",
        name="Shirt",
        slug="shirt-m",
        parent=shirt,
        price="30.00",
        sale_price="25.00",
        stock=2,
        attributes={"Size": "M"},
        position=2,
    )
    large = ProductFactory(
        sku="SHIRT-L",
        name="Shirt",
        slug="shirt-l",
        parent=shirt,
        price="32.00",
        stock=0,
        in_stock=False,
        attributes={"Size": "L"},
        position=3,
    )
    return shirt, small, medium, large


class TestHome:
    def test_lists_visible_products_only(self, client, variable_shirt):
        ProductFactory(name="Visible mug", price="50.00")
        ProductFactory(name="Hidden mug", is_visible=False)

        response = client.get("/")

        assert response.status_code == 200
        assert product_names(response) == ["Shirt", "Visible mug"]
        assert "Hidden mug" not in response.text
        assert "SHIRT-S" not in response.text  # variations show on their parent only
        assert "¥50.00" in response.text
        assert 'href="/category/clothing/"' in response.text  # the category sidebar

    def test_cards_add_to_cart_or_choose_options(self, client, variable_shirt):
        shirt = variable_shirt[0]
        mug = ProductFactory(name="Mug", slug="mug", stock=3)
        ProductFactory(name="Sold out", stock=0)
        ProductFactory(name="Stopped", in_stock=False)

        html = client.get("/").text

        assert cart_forms(html) == [(mug.pk, 1)]  # only the purchasable simple product
        assert f'href="{shirt.get_absolute_url()}">Choose options' in html
        assert "Only 3 left" in html
        assert html.count("Out of stock") == 2
        # The variable product shows its lowest current price.
        assert re.search(r'From</span> <span class="price-now on-sale">¥25.00</span>', html)

    def test_paginated_24_per_page(self, client):
        for number in range(30):
            ProductFactory(name=f"Item {number:02d}")

        first = client.get("/")
        second = client.get("/?page=2")
        beyond = client.get("/?page=99")
        junk = client.get("/?page=abc")

        assert len(product_names(first)) == 24
        assert product_names(second) == [f"Item {n}" for n in range(24, 30)]
        assert product_names(beyond) == product_names(second)  # the nearest page, not a 500
        assert product_names(junk) == product_names(first)
        assert 'href="?page=2"' in first.text

    def test_empty_catalogue(self, client):
        response = client.get("/")

        assert response.status_code == 200
        assert "The catalogue is empty for now." in response.text

    @pytest.mark.parametrize("products", [3, 30])
    def test_query_count_does_not_grow_with_products(
        self, client, django_assert_num_queries, products
    ):
        category = CategoryFactory()
        for _ in range(products):
            ProductFactory().categories.add(category)
        parent = ProductFactory(is_variable=True, price=None)
        for _ in range(3):
            ProductFactory(parent=parent)

        # category tree, count, products, their categories, their variations
        with django_assert_num_queries(5):
            response = client.get("/")
        assert response.status_code == 200

    def test_query_count_signed_in(self, client, member, django_assert_num_queries):
        for _ in range(10):
            ProductFactory()
        client.force_login(member)

        # + session, user, and the staff-role check of the header
        with django_assert_num_queries(8):
            client.get("/")


class TestCategory:
    def test_includes_products_of_subcategories(self, client):
        home = CategoryFactory(name="Home", slug="home-living")
        decor = CategoryFactory(name="Decor", slug="decor", parent=home)
        kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
        vase = ProductFactory(name="Vase")
        vase.categories.add(decor)
        cushion = ProductFactory(name="Cushion")
        cushion.categories.add(home, decor)  # listed once although in two of the categories
        ProductFactory(name="Wok").categories.add(kitchen)
        ProductFactory(name="Hidden lamp", is_visible=False).categories.add(decor)

        response = client.get("/category/home-living/")

        assert response.status_code == 200
        assert product_names(response) == ["Cushion", "Vase"]
        assert '<a class="chip" href="/category/decor/">Decor</a>' in response.text
        assert product_names(client.get("/category/decor/")) == ["Cushion", "Vase"]
        assert 'aria-current="page">Decor</li>' in client.get("/category/decor/").text

    def test_unknown_category_is_404(self, client):
        assert client.get("/category/nope/").status_code == 404

    def test_query_count(self, client, django_assert_num_queries):
        parent = CategoryFactory()
        child = CategoryFactory(parent=parent)
        for _ in range(12):
            ProductFactory().categories.add(child)

        with django_assert_num_queries(5):
            response = client.get(f"/category/{parent.slug}/")
        assert len(product_names(response)) == 12


class TestProduct:
    def test_simple_product_page(self, client):
        category = CategoryFactory(name="Tea", slug="tea")
        tea = ProductFactory(
            sku="TEA-1",
            name="Jasmine Green Tea 茉莉花茶",
            slug="jasmine-green-tea-茉莉花茶",
            price="68.00",
            stock=4,
            description="Fragrant.\nBrew at 80 °C.",
        )
        tea.categories.add(category)
        other = ProductFactory(name="Longjing")
        other.categories.add(category)

        response = client.get(tea.get_absolute_url())

        assert response.status_code == 200
        assert '<h1 id="product-title">Jasmine Green Tea 茉莉花茶</h1>' in response.text
        assert "¥68.00" in response.text
        assert "Only 4 left" in response.text
        assert "Fragrant.<br>Brew at 80 °C." in response.text
        assert cart_forms(response.text)[0] == (tea.pk, 1)
        assert 'max="4"' in response.text
        assert '<a href="/category/tea/">Tea</a>' in response.text  # breadcrumbs
        assert "Longjing" in response.text  # you may also like

    def test_sale_price_with_regular_price_struck_through(self, client):
        mug = ProductFactory(slug="mug", price="50.00", sale_price="40.00")

        html = client.get(mug.get_absolute_url()).text

        assert '<span class="price-now on-sale">¥40.00</span>' in html
        assert re.search(r"<del class=\"price-was\">.*¥50.00</del>", html)

    def test_sale_price_outside_its_window_is_not_shown(self, client):
        now = timezone.now()
        mug = ProductFactory(
            slug="mug",
            price="50.00",
            sale_price="40.00",
            sale_starts=now - datetime.timedelta(days=10),
            sale_ends=now - datetime.timedelta(days=1),
        )

        html = client.get(mug.get_absolute_url()).text

        assert '<span class="price-now">¥50.00</span>' in html
        assert "¥40.00" not in html

    def test_out_of_stock_product_has_no_add_button(self, client):
        clock = ProductFactory(slug="clock", stock=0)

        html = client.get(clock.get_absolute_url()).text

        assert "Out of stock" in html
        assert cart_forms(html) == []

    def test_variable_product_lists_its_variations(self, client, variable_shirt):
        shirt, small, medium, large = variable_shirt

        response = client.get("/product/shirt/")

        assert response.status_code == 200
        html = response.text
        options = re.findall(r'<option value="(\d+)"([^>]*)>([^<]*)</option>', html)
        assert [(int(pk), text) for pk, _attrs, text in options] == [
            (small.pk, "Size: S — ¥30.00 — in stock"),
            (medium.pk, "Size: M — ¥25.00 (was ¥30.00) — only 2 left"),
            (large.pk, "Size: L — ¥32.00 — out of stock"),
        ]
        assert "selected" in options[0][1]
        assert "disabled" in options[2][1]
        form = re.search(rf'<form[^>]+action="{CART_ADD}".*?</form>', html, re.S).group(0)
        assert 'name="product"' in form and 'name="quantity"' in form
        assert "csrfmiddlewaretoken" in form
        for sku in ("SHIRT-S", "SHIRT-M", "SHIRT-L"):
            assert sku in html  # the options table

    def test_variable_product_with_every_variation_sold_out(self, client, variable_shirt):
        _shirt, small, medium, _large = variable_shirt
        Product.objects.filter(pk__in=[small.pk, medium.pk]).update(stock=0)

        html = client.get("/product/shirt/").text

        assert "Out of stock" in html
        assert "Add to cart" not in html

    def test_variation_url_is_404_and_points_to_the_parent(self, client, variable_shirt):
        shirt, small, _medium, _large = variable_shirt

        assert client.get("/product/shirt-s/").status_code == 404
        assert small.get_absolute_url() == "/product/shirt/"

    def test_hidden_and_unknown_products_are_404(self, client):
        ProductFactory(slug="secret", is_visible=False)

        assert client.get("/product/secret/").status_code == 404
        assert client.get("/product/nope/").status_code == 404

    def test_query_count(self, client, variable_shirt, django_assert_num_queries):
        for _ in range(6):
            ProductFactory().categories.add(variable_shirt[0].categories.get())

        # product, its categories, its variations, the category tree, related (+2 prefetches)
        with django_assert_num_queries(7):
            response = client.get("/product/shirt/")
        assert response.status_code == 200


class TestSearch:
    def test_by_sku_or_name_any_case(self, client, variable_shirt):
        ProductFactory(sku="KT-WOK", name="Carbon Steel Wok 铁锅")
        ProductFactory(sku="TS-1", name="Jasmine Tea")
        ProductFactory(sku="TS-2", name="Hidden Tea", is_visible=False)

        assert product_names(client.get("/search/?q=kt-wok")) == ["Carbon Steel Wok 铁锅"]
        assert product_names(client.get("/search/?q=TEA")) == ["Jasmine Tea"]
        assert product_names(client.get("/search/?q=铁锅")) == ["Carbon Steel Wok 铁锅"]
        # A variation's SKU finds its parent, listed once.
        assert product_names(client.get("/search/?q=shirt-")) == ["Shirt"]

    def test_no_match(self, client):
        response = client.get("/search/?q=zzz")

        assert response.status_code == 200
        assert "Nothing matches “zzz”" in response.text

    def test_empty_query_shows_a_prompt(self, client):
        response = client.get("/search/?q=+++")

        assert response.status_code == 200
        assert "Search the shop" in response.text
        assert product_names(response) == []

    def test_paginated(self, client):
        for number in range(26):
            ProductFactory(name=f"Tea {number:02d}")

        assert len(product_names(client.get("/search/?q=tea"))) == 24
        second = client.get("/search/?q=tea&page=2")
        assert product_names(second) == ["Tea 24", "Tea 25"]
        assert 'href="?q=tea&amp;page=1"' in second.text


class TestOffer:
    def test_variable_offer_is_the_cheapest_buyable_variation(self, variable_shirt):
        shirt = Product.objects.prefetch_related("variations").get(pk=variable_shirt[0].pk)
        shirt.visible_variations = list(shirt.variations.all())

        offer = offer_for(shirt)

        assert (offer.price, offer.regular, offer.on_sale, offer.from_price) == (
            Decimal("25.00"),
            Decimal("30.00"),
            True,
            True,
        )
        assert offer.available is False  # a variation must be chosen
        assert offer.out_of_stock is False
