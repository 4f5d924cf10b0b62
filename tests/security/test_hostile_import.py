"""Hostile rows for ``manage.py import_products`` (issue 6, item 2).

Property-based: a generated WooCommerce-style CSV (written to ``tmp_path``) with random
text in every column, huge / negative / non-numeric prices and stock, odd Unicode, very
long strings, missing and extra cells, and now and then a missing required column. The
command may reject rows or the whole file (``CommandError``), but it never crashes, and
what it writes is exactly what its own dry run reported: the products it said it
created, each with sane values, and nothing for a rejected row or a rejected file.
"""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mall.importer import ImportFileError, import_products
from mall.models import Category, Product
from tests.security.hostile import rolled_back, snapshot, value
from tests.woocommerce import WC_HEADER

pytestmark = pytest.mark.django_db

# The usual export columns, without the second attribute pair.
COLUMNS = WC_HEADER[:-2]
PLAUSIBLE = {
    "ID": st.integers(1, 50).map(str),
    "Type": st.sampled_from(["simple", "variable", "variation", "grouped", "external", ""]),
    "SKU": st.sampled_from(["HX-1", "HX-2", "HX-3", "MUG-1"]),  # MUG-1 exists
    "Name": st.sampled_from(["Hoodie", "Mug", "Hoodie - Red"]),
    "Published": st.sampled_from(["1", "0", "-1"]),
    "Visibility in catalog": st.sampled_from(["visible", "hidden", "catalog"]),
    "In stock?": st.sampled_from(["1", "0"]),
    "Stock": st.sampled_from(["0", "5", "", "2147483647", "2147483648", "1e10"]),
    "Sale price": st.sampled_from(["", "9.99", "0"]),
    "Regular price": st.sampled_from(["12.50", "0", "9999999999.99", "10000000000"]),
    "Categories": st.sampled_from(["Clothing > Hoodies", "Mugs, Kitchen", ""]),
    "Parent": st.sampled_from(["HX-1", "id:1", ""]),
    "Position": st.sampled_from(["0", "3", "2147483648", "-1"]),
}
MAX_PRICE = Decimal("9999999999.99")
MAX_INT = 2**31 - 1  # PositiveIntegerField / IntegerField on PostgreSQL


def cell(column):
    plausible = PLAUSIBLE.get(column)
    return value() if plausible is None else st.one_of(plausible, value())


@st.composite
def csv_files(draw):
    """``(header, rows)``: lists of strings, rows of any length."""
    if draw(st.integers(0, 9)):
        required = ["SKU", "Name"]
    else:  # now and then a required column is missing
        required = sorted(draw(st.sets(st.sampled_from(["SKU", "Name"]))))
    others = draw(st.lists(st.sampled_from(COLUMNS), unique=True, max_size=8))
    header = list(dict.fromkeys([*required, *others]))
    header = draw(st.permutations(header))
    rows = []
    for _ in range(draw(st.integers(1, 4))):
        row = [draw(cell(column)) for column in header]
        cut = draw(st.integers(0, 3))
        if cut == 1:
            row = row[: draw(st.integers(0, len(row)))]  # missing cells
        elif cut == 2:
            row = [*row, draw(value())]  # more cells than the header
        rows.append(row)
    return header, rows


def write(path, header, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def catalogue():
    return {
        "products": {row["id"]: row for row in Product.objects.values()},
        "categories": Category.objects.count(),
    }


def orders():
    return {key: part for key, part in snapshot().items() if key != "stock"}


def assert_sane(product):
    for field in ("price", "sale_price"):
        amount = getattr(product, field)
        assert amount is None or Decimal("0") <= amount <= MAX_PRICE, (field, amount)
    assert product.stock is None or 0 <= product.stock <= MAX_INT
    assert -MAX_INT - 1 <= product.position <= MAX_INT
    assert 0 < len(product.sku) <= 100 and len(product.name) <= 255
    for field in ("sku", "name", "slug", "short_description", "description"):
        assert "\x00" not in getattr(product, field), field
    if product.sale_starts and product.sale_ends:
        assert product.sale_starts <= product.sale_ends


@settings(max_examples=100)  # a small file per example: cheap
@given(data=csv_files(), dry_run=st.booleans())
# Rows that once crashed the importer on PostgreSQL (NUL in text, integers out of range).
@example(data=(["SKU", "Name"], [["\x00", "Hoodie"]]), dry_run=False)
@example(
    data=(["SKU", "Name", "Parent", "Type"], [["HX-2", "H", "A\x00", "variation"]]), dry_run=False
)
@example(data=(["Stock", "Name", "SKU"], [["2147483648", "Hoodie", "HX-1"]]), dry_run=False)
@example(data=(["SKU", "Name", "Position"], [["HX-1", "Hoodie", "-2147483649"]]), dry_run=False)
@example(data=(["SKU", "Name", "Regular price"], [["HX-1", "Hoodie", "1e400"]]), dry_run=False)
# A non-ASCII SKU: SQLite's lower() leaves "À" as it is (issue 13, case-insensitive SKUs).
@example(data=(["Name", "SKU"], [["Hoodie", "À"]]), dry_run=False)
def test_import_never_crashes_and_writes_what_it_reports(tmp_path, product, data, dry_run):
    header, rows = data
    path = tmp_path / "products.csv"
    write(path, header, rows)
    with rolled_back():
        orders_before = orders()
        before = catalogue()
        try:
            report = import_products(path, dry_run=True)
        except ImportFileError:
            report = None
        assert catalogue() == before  # a dry run writes nothing

        out, err = io.StringIO(), io.StringIO()
        args = [str(path), "--dry-run"] if dry_run else [str(path)]
        try:
            call_command("import_products", *args, stdout=out, stderr=err)
        except CommandError as error:
            # A whole-file refusal, or rows rejected (the rest imported).
            assert report is None or report.rejected, error
            if report is None:
                assert str(error).startswith(str(path))
        else:
            assert report is not None and not report.rejected
        after = catalogue()
        assert orders() == orders_before  # an import never touches orders

        if report is None or dry_run:
            assert after == before
            return
        assert re.search(r"created \d+, updated \d+, skipped \d+, rejected \d+", out.getvalue())
        new = {p["sku"] for pk, p in after["products"].items() if pk not in before["products"]}
        assert new == set(report.created)
        changed = {
            p["sku"]
            for pk, p in after["products"].items()
            if pk in before["products"] and before["products"][pk] != p
        }
        assert changed <= set(report.updated)
        rejected_only = {note.sku for note in report.rejected} - set(report.created)
        assert not (new & rejected_only)
        for item in Product.objects.all():
            assert_sane(item)
