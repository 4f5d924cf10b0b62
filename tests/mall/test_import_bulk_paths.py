"""The importer's bulk write paths (issue 13's speed work) build what Django would.

A 50,000-row import creates products through ``_NewProducts`` (Django's positional
constructor) and inserts them with ``_insert_rows``; these tests pin that the result is
the product ``Product(**values)`` and ``save()`` would have made.
"""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from mall.importer import _insert_rows, _NewProducts
from mall.models import Product

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def values(**extra):
    return {
        "sku": "BULK-1",
        "slug": "bulk-1",
        "wc_id": 501,
        "name": "Bulk shirt",
        "short_description": "Short",
        "description": "Long\ntext",
        "price": Decimal("12.50"),
        "sale_price": None,
        "sale_starts": datetime.datetime(2024, 1, 15, tzinfo=SHANGHAI),
        "sale_ends": None,
        "stock": 7,
        "stock_from_parent": False,
        "is_variable": False,
        "attributes": {"Size": "M"},
        "attribute_choices": {},
        "image_urls": ["https://example.com/a.png"],
        "position": 3,
        **extra,
    }


def fields(product):
    return {f.attname: product.__dict__.get(f.attname) for f in Product._meta.concrete_fields}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_new_product_is_built_as_the_keyword_constructor_builds_it(language):
    with translation.override(language):
        fast = _NewProducts().build(values())
        plain = Product(**values())

    assert fields(fast) == fields(plain)
    column = "name_en" if language == "en" else "name_zh_hans"
    assert fast.__dict__[column] == "Bulk shirt"
    # Mutable defaults are the product's own, never shared.
    with translation.override(language):
        other = _NewProducts().build({"sku": "BULK-2", "slug": "bulk-2", "name": "Other"})
    assert other.attributes == {} and other.attributes is not fast.attributes


def test_a_variation_caches_its_parent_as_the_keyword_constructor_does():
    parent = Product.objects.create(sku="PARENT", slug="parent", name="Parent", is_variable=True)
    with translation.override("en"):
        fast = _NewProducts().build(values(parent=parent))

    assert fast.parent_id == parent.pk
    assert fast.parent is parent  # no query: the object is cached


def test_inserted_products_read_back_as_saved_ones(django_assert_num_queries):
    with translation.override("en"):
        built = [
            _NewProducts().build(values()),
            _NewProducts().build(
                values(sku="BULK-2", slug="bulk-2", wc_id=502, name="Second", price=None)
            ),
        ]
        now = timezone.now()
        with django_assert_num_queries(1):  # one INSERT … RETURNING for both
            _insert_rows(built, now)
        saved = Product(**values(sku="SAVED", slug="saved", wc_id=503))
        saved.save()

    first, second = (Product.objects.get(pk=p.pk) for p in built)
    assert [p.pk for p in built] == sorted(p.pk for p in built)
    assert first.sku == "BULK-1" and second.sku == "BULK-2"
    assert (first.created_at, first.updated_at) == (now, now)
    stored = Product.objects.get(sku="SAVED")
    skip = {"id", "sku", "slug", "wc_id", "created_at", "updated_at"}
    assert {k: v for k, v in fields(first).items() if k not in skip} == {
        k: v for k, v in fields(stored).items() if k not in skip
    }
    assert second.price is None and second.name_en == "Second"
