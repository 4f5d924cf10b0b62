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


# --------------------------------------------------------------------------- XLSX formulas


def formula_workbook(path, *, cached):
    """An XLSX file whose line 3 has ``=1+1`` as its Regular price; ``cached``: with the
    result stored as Excel and LibreOffice store it (openpyxl writes the formula only)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["SKU", "Name", "Regular price", "Stock"])
    sheet.append(["F-PLAIN", "Plain", 10, 4])
    sheet.append(["F-SUM", "Summed", "=1+1", 5])
    workbook.save(path)
    if cached:
        # Add the stored result (<v>2</v>) to the formula cell, as a spreadsheet would.
        import zipfile

        with zipfile.ZipFile(path) as package:
            parts = {name: package.read(name) for name in package.namelist()}
        sheet_xml = parts["xl/worksheets/sheet1.xml"].decode()
        assert "<f>1+1</f><v />" in sheet_xml
        parts["xl/worksheets/sheet1.xml"] = sheet_xml.replace(
            "<f>1+1</f><v />", "<f>1+1</f><v>2</v>"
        ).encode()
        with zipfile.ZipFile(path, "w") as package:
            for name, data in parts.items():
                package.writestr(name, data)
    return path


def test_an_xlsx_formula_without_a_stored_value_is_rejected_with_its_line(tmp_path):
    path = formula_workbook(tmp_path / "formula.xlsx", cached=False)

    out, err, error = run_import(path)

    assert error is not None
    assert (
        "rejected line 3 (SKU F-SUM): Regular price is a formula without a value: save the "
        "file in Excel or LibreOffice first (which stores the results) or paste values only"
    ) in err
    assert "created 1, updated 0, skipped 0, rejected 1" in out
    assert not Product.objects.with_sku("F-SUM").exists()
    assert product("F-PLAIN").price == Decimal("10.00")


def test_an_xlsx_formula_with_a_stored_value_imports_that_value(tmp_path):
    path = formula_workbook(tmp_path / "formula.xlsx", cached=True)

    out, err, error = run_import(path)

    assert error is None, err
    assert "created 2, updated 0, skipped 0, rejected 0" in out
    assert (product("F-SUM").price, product("F-SUM").stock) == (Decimal("2.00"), 5)


def test_the_same_formula_in_a_csv_file_is_rejected_with_its_line(tmp_path):
    path = tmp_path / "formula.csv"
    path.write_text("SKU,Name,Regular price\nF-PLAIN,Plain,10\nF-SUM,Summed,=1+1\n")

    _out, err, error = run_import(path)

    assert error is not None
    assert "rejected line 3 (SKU F-SUM): unparseable regular price '=1+1'" in err


# --------------------------------------------------------------------------- encodings


def test_a_latin1_french_file_is_said_to_look_western_european():
    # "Crème brûlée façon" in ISO-8859-1 reads without a flaw as Windows-1250 too.
    _out, _err, error = run_import(FILES / "wc_fr_latin1.csv")

    message = str(error)
    assert "the file is not UTF-8 text: it looks like Windows-1252 / ISO-8859-1 (Western" in (
        message
    )
    assert "Central European" not in message
    assert "CSV UTF-8" in message
    assert not Product.objects.exists()


def test_a_central_european_file_is_still_named_so(tmp_path):
    path = tmp_path / "pl.csv"
    path.write_bytes("SKU,Name,Regular price\nPL-1,Żółć gęślą jaźń,10\n".encode("cp1250"))

    _out, _err, error = run_import(path)

    assert "it looks like Windows-1250 (Central European)" in str(error)
