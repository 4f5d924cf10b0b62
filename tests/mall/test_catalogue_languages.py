"""The catalogue in two languages (issue 14): shown in the visitor's language with a
fallback, searched in both, imported one language per run matched by SKU."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from mall.models import Category, Product
from tests.factories import ProductFactory
from tests.mall.test_storefront import product_names

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea(db):
    category = Category.objects.create(name_en="Tea", name_zh_hans="茶叶", slug="tea")
    product = ProductFactory(
        sku="TS-JASMINE",
        name_en="Jasmine Green Tea",
        name_zh_hans="茉莉花茶",
        description_en="Brew at 80 °C.",
        description_zh_hans="80 °C 水冲泡。",
        price="68.00",
    )
    product.categories.add(category)
    return product


def test_pages_show_the_visitor_s_language(client, tea):
    chinese = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert product_names(chinese) == ["茉莉花茶"]
    assert product_names(english) == ["Jasmine Green Tea"]
    assert "茶叶" in chinese.text and "茶叶" not in english.text
    detail = client.get(f"/product/{tea.slug}/", HTTP_ACCEPT_LANGUAGE="zh-hans").text
    assert "80 °C 水冲泡。" in detail and "Brew at" not in detail
    assert "¥68.00" in detail


def test_a_missing_translation_falls_back_to_the_other_language(client):
    ProductFactory(sku="EA-CABLE", name_en="USB-C Cable", name_zh_hans=None, price="9.90")
    assert product_names(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")) == ["USB-C Cable"]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("query", ["茉莉", "jasmine", "TS-JAS"])
def test_search_matches_either_language_whatever_the_page_s(client, tea, language, query):
    ProductFactory(sku="KT-WOK", name_en="Carbon Steel Wok", name_zh_hans="碳钢铁锅")
    response = client.get("/search/", {"q": query}, HTTP_ACCEPT_LANGUAGE=language)
    expected = "茉莉花茶" if language == "zh-hans" else "Jasmine Green Tea"
    assert product_names(response) == [expected]


def test_search_finds_nothing_for_a_name_in_neither_language(client, tea):
    assert product_names(client.get("/search/", {"q": "乌龙"})) == []


def _import(path, language):
    out = io.StringIO()
    call_command("import_products", str(path), "--language", language, stdout=out)
    return out.getvalue()


def test_importer_fills_one_language_per_run_matched_by_sku(write_csv):
    english = write_csv(
        [
            {
                "Type": "simple",
                "SKU": "TS-JASMINE",
                "Name": "Jasmine Green Tea",
                "Description": "Brew at 80 °C.",
                "Regular price": "68.00",
                "Stock": "50",
                "Categories": "Tea & Snacks > Tea, Tea & Snacks > Snacks",
                "Published": "1",
                "Visibility in catalog": "visible",
                "In stock?": "1",
            },
            {
                "Type": "simple",
                "SKU": "TS-SEEDS",
                "Name": "Sunflower Seeds",
                "Regular price": "15.00",
                "Categories": "Tea & Snacks > Snacks",
                "Published": "1",
                "Visibility in catalog": "visible",
                "In stock?": "1",
            },
        ],
        name="en.csv",
    )
    chinese = write_csv(
        [
            {
                "Type": "simple",
                "SKU": "TS-JASMINE",
                "Name": "茉莉花茶",
                "Description": "80 °C 水冲泡。",
                "Regular price": "68.00",
                "Stock": "50",
                "Categories": "茶叶零食 > 茶叶, 茶叶零食 > 零食",
                "Published": "1",
                "Visibility in catalog": "visible",
                "In stock?": "1",
            },
            {
                "Type": "simple",
                "SKU": "TS-SEEDS",
                "Name": "瓜子",
                "Regular price": "15.00",
                "Categories": "茶叶零食 > 零食",
                "Published": "1",
                "Visibility in catalog": "visible",
                "In stock?": "1",
            },
        ],
        name="zh.csv",
    )
    _import(english, "en")
    out = _import(chinese, "zh-hans")

    assert "created 0" in out and "new category" not in out
    assert Product.objects.count() == 2 and Category.objects.count() == 3
    tea = Product.objects.get(sku="TS-JASMINE")
    assert (tea.name_en, tea.name_zh_hans) == ("Jasmine Green Tea", "茉莉花茶")
    assert (tea.description_en, tea.description_zh_hans) == ("Brew at 80 °C.", "80 °C 水冲泡。")
    assert (tea.price, tea.stock) == (Decimal("68.00"), 50)
    names = {c.name_en: c.name_zh_hans for c in Category.objects.all()}
    assert names == {"Tea & Snacks": "茶叶零食", "Tea": "茶叶", "Snacks": "零食"}
    assert sorted(c.name_en for c in tea.categories.all()) == ["Snacks", "Tea"]

    # Running the English file again changes nothing in Chinese.
    _import(english, "en")
    tea.refresh_from_db()
    assert (tea.name_en, tea.name_zh_hans) == ("Jasmine Green Tea", "茉莉花茶")
    assert Category.objects.count() == 3


def test_the_admin_edits_both_languages_side_by_side(client, superuser, tea):
    client.force_login(superuser)
    page = client.get(f"/admin/mall/product/{tea.pk}/change/").text
    for field in ("name_zh_hans", "name_en", "description_zh_hans", "description_en"):
        assert f'name="{field}"' in page
    assert 'value="茉莉花茶"' in page and 'value="Jasmine Green Tea"' in page
    category_page = client.get(f"/admin/mall/category/{tea.categories.get().pk}/change/").text
    assert 'name="name_zh_hans"' in category_page and 'name="name_en"' in category_page
