"""The importer after a newcomer's trial of issue 13: full-width codes, formula cells in
XLSX, the encoding a Latin-1 file is said to be in, the language of the messages."""

import datetime
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation

from mall.models import Product
from tests.woocommerce import product, run_import

FILES = Path(__file__).parent / "files"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


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


# --------------------------------------------------------------------------- messages


def catalogue_msgids():
    """The msgids of the Chinese catalogue and of this branch's snippets (merged later)."""
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    ids = set()
    for path in [root / "locale/zh_Hans/LC_MESSAGES/django.po", *root.glob("po-snippets/*.po")]:
        with path.open("rb") as handle:
            for message in read_po(handle):
                ids.add(message.id if isinstance(message.id, str) else message.id[0])
    return ids


MIXED = (
    "ID,Type,SKU,Name,Regular price,Parent,Attribute 1 name,Attribute 1 value(s)\n"
    ",variation,ORPHAN,Orphan,5,NO-SUCH,Size,S\n"  # line 2: unknown parent
    ",variation,LOST,Lost,5,,Size,S\n"  # line 3: a variation without a Parent
    ",simple,NAMELESS,,5,,,\n"  # line 4: no name
    ",simple,BAD,Bad,abc,,,\n"  # line 5: unparseable price (read before the override)
    ",simple,GOOD,Good,5,,,\n"
)


def test_the_catalogue_language_does_not_change_the_language_of_the_messages(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED, encoding="utf-8")

    with translation.override("zh-hans"):
        out, err, error = run_import(path, "--language", "en", "--dry-run")
        expected = [
            translation.gettext("rejected %(note)s")
            % {"note": f"{translation.gettext('line %(line)d') % {'line': line}} (SKU {sku})"}
            + ": "
            + reason
            for line, sku, reason in [
                (
                    2,
                    "ORPHAN",
                    translation.gettext("unknown parent %(parent)s") % {"parent": "NO-SUCH"},
                ),
                (3, "LOST", translation.gettext("a variation without a Parent")),
                (4, "NAMELESS", translation.gettext("no name")),
                (
                    5,
                    "BAD",
                    translation.gettext("unparseable %(label)s %(value)r")
                    % {"label": translation.gettext("regular price"), "value": "abc"},
                ),
            ]
        ]
        dry_run = translation.gettext("Dry run: nothing was written.")
        rejected = translation.ngettext(
            "%(count)d row rejected; the other rows were checked.",
            "%(count)d rows rejected; the other rows were checked.",
            4,
        ) % {"count": 4}

    # The reasons the catalogue translates already come out in Chinese, all of them.
    assert "未知的父商品 NO-SUCH" in err
    assert "规格款式缺少父商品（Parent）" in err and "缺少名称" in err
    assert "unknown parent" not in err and "no name" not in err
    assert err.splitlines() == expected
    assert dry_run in out
    assert str(error) == rejected
    # ... and the command's own sentences are translatable strings of the catalogue.
    msgids = catalogue_msgids()
    for msgid in (
        "rejected %(note)s",
        "skipped %(note)s",
        "warning %(note)s",
        "new category %(name)s",
        "Dry run: nothing was written.",
        "%(count)d row rejected; the other rows were checked.",
        "%(count)d row rejected; the other rows were imported.",
        "created %(created)d, updated %(updated)d, skipped %(skipped)d, rejected %(rejected)d, "
        "unchanged %(unchanged)d",
    ):
        assert msgid in msgids, msgid
    assert not Product.objects.exists()


def test_an_import_in_the_shops_language_writes_the_english_names_under_english(tmp_path):
    # The messages stay Chinese, and the names still go to the catalogue language given.
    path = tmp_path / "names.csv"
    path.write_text("SKU,Name,Regular price\nEN-1,Jasmine tea,5\n", encoding="utf-8")

    with translation.override("zh-hans"):
        out, err, error = run_import(path, "--language", "en")

    assert error is None, err
    item = Product.objects.get()
    with translation.override("en"):
        assert Product.objects.get().name == "Jasmine tea"
    assert item.sku == "EN-1"
