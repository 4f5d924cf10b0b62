"""The catalogue in the Django admin."""

import pytest

from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_product_list_search_and_filters(client, superuser):
    client.force_login(superuser)
    ProductFactory(sku="KT-WOK", name="Carbon Steel Wok")
    ProductFactory(sku="TS-TEA", name="Jasmine Tea")

    response = client.get("/admin/mall/product/?q=kt-wok")

    assert response.status_code == 200
    assert "Carbon Steel Wok" in response.text
    assert "Jasmine Tea" not in response.text
    assert client.get("/admin/mall/product/?is_visible__exact=0").status_code == 200


def test_variations_inline_on_the_parent(client, superuser):
    client.force_login(superuser)
    parent = ProductFactory(sku="SHIRT", is_variable=True, price=None)
    ProductFactory(sku="SHIRT-S", parent=parent, attributes={"Size": "S"})
    simple = ProductFactory(sku="MUG")

    parent_page = client.get(f"/admin/mall/product/{parent.pk}/change/")
    simple_page = client.get(f"/admin/mall/product/{simple.pk}/change/")

    assert parent_page.status_code == 200
    assert 'value="SHIRT-S"' in parent_page.text
    assert simple_page.status_code == 200
    assert "variations-TOTAL_FORMS" not in simple_page.text


def test_category_admin(client, superuser):
    client.force_login(superuser)
    clothing = CategoryFactory(name="Clothing")
    CategoryFactory(name="Hoodies", parent=clothing)

    response = client.get("/admin/mall/category/?q=hood")

    assert response.status_code == 200
    assert "Hoodies" in response.text


def test_members_cannot_open_the_admin(client, member):
    client.force_login(member)

    response = client.get("/admin/mall/product/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_product_form_reads_full_width_sku_prices_and_counts(rf, superuser):
    # Staff on a Chinese input method type ＫＴ－ＷＯＫ, １２．５０, １５.
    from decimal import Decimal

    from django.contrib import admin

    from mall.models import Product

    request = rf.get("/admin/mall/product/add/")
    request.user = superuser
    form = admin.site._registry[Product].get_form(request)()

    assert form.fields["sku"].clean("ＫＴ－ＷＯＫ\u3000") == "KT-WOK"
    assert form.fields["price"].clean("１２．５０") == Decimal("12.50")
    assert form.fields["sale_price"].clean(" ９．９０ ") == Decimal("9.90")
    assert form.fields["stock"].clean("１５") == 15
    assert form.fields["position"].clean("３") == 3
