"""The importer after a newcomer's trial of issue 13: full-width codes, formula cells in
XLSX, the encoding a Latin-1 file is said to be in, the language of the messages."""

import datetime
import io
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from mall.models import Product

FILES = Path(__file__).parent / "files"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


def run_import(path, *args):
    """Run the command; return (stdout, stderr, CommandError or None)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_products", str(path), *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def product(sku):
    return Product.objects.with_sku(sku).select_related("parent").get()


# --------------------------------------------------------------------------- full width


def test_full_width_codes_prices_stock_and_dates_are_read_in_nfkc():
    out, err, error = run_import(FILES / "wc_fullwidth_codes.csv")

    assert error is None, err
    assert "created 4, updated 0, skipped 0, rejected 0" in out
    # ｔ－ｄｕｐ is the third spelling of one product, stored in its normal form.
    dup = Product.objects.with_sku("t-dup").get()
    assert (dup.sku, dup.name, dup.price) == ("t-dup", "Duplicate full-width", Decimal("14.00"))
    assert "warning line 4 (SKU t-dup): SKU t-dup is T-DUP of line 3 in another letter case" in out
    assert not Product.objects.filter(sku__contains="ｄ").exists()
    # The full-width ID, parent references, price, sale price, dates and stock.
    shirt = product("FW-SHIRT")
    assert shirt.wc_id == 742
    small = product("FW-SHIRT-S")
    assert small.parent == shirt
    assert (small.price, small.sale_price, small.stock) == (
        Decimal("12.50"),
        Decimal("10.00"),
        5,
    )
    assert small.sale_starts == datetime.datetime(2024, 1, 15, tzinfo=SHANGHAI)
    assert small.sale_ends == datetime.datetime(2030, 1, 31, 0, 0, tzinfo=SHANGHAI)
    medium = product("FW-SHIRT-M")
    assert (medium.parent, medium.stock) == (shirt, 0)
    assert "warning line 7 (SKU FW-SHIRT-M): stock -1: oversold by 1" in out


def test_a_full_width_sku_in_a_later_file_updates_the_stored_product(tmp_path):
    run_import(FILES / "wc_case_skus.csv")
    path = tmp_path / "again.csv"
    path.write_text("SKU,Name,Regular price\nＴ－ＤＵＰ,Again,１５\n", encoding="utf-8")

    out, err, error = run_import(path)

    assert error is None, err
    assert "created 0, updated 1" in out
    item = Product.objects.get()
    assert (item.sku, item.name, item.price) == ("T-DUP", "Again", Decimal("15.00"))
