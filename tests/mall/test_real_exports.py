"""``manage.py import_products`` on what real WooCommerce shops export (issue 13).

Each test imports a small file under ``tests/mall/files/`` written like a real export
(or made here, for binary and oddly encoded files) and checks the catalogue it leaves.
"""

import datetime
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from openpyxl import Workbook

from mall import wc_headers
from mall.importer import _COLUMNS, _header_key, import_products
from mall.models import Category, Product
from tests.woocommerce import product, run_import

FILES = Path(__file__).parent / "files"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- sale dates


def test_sale_dates_in_every_format_woocommerce_writes():
    out, err, error = run_import(FILES / "wc_sale_dates.csv")

    assert error is None, err
    assert "created 6, updated 0, skipped 0, rejected 0" in out
    at = datetime.datetime
    assert product("D-MIDNIGHT").sale_starts == at(2024, 1, 15, 0, 0, tzinfo=SHANGHAI)
    assert product("D-MIDNIGHT").sale_ends == at(2030, 1, 31, 23, 59, 59, tzinfo=SHANGHAI)
    assert product("D-NOSECONDS").sale_starts == at(2024, 1, 15, 9, 30, tzinfo=SHANGHAI)
    assert product("D-T").sale_starts == at(2024, 1, 15, 8, 0, tzinfo=SHANGHAI)
    # An explicit UTC offset is kept: 20:00 at +08:00 is 12:00 UTC.
    assert product("D-T").sale_ends == at(2030, 1, 31, 12, 0, tzinfo=datetime.UTC)
    # A date-only end includes the whole day.
    assert product("D-DAY").sale_ends == at(2030, 1, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert product("D-SLASH").sale_starts == at(2024, 1, 5, 7, 5, tzinfo=SHANGHAI)
    assert product("D-UNIX").sale_starts == at(2024, 1, 14, 16, 0, tzinfo=datetime.UTC)
    # The midnight sale is on now.
    assert product("D-MIDNIGHT").current_price() == Decimal("8.00")


# --------------------------------------------------------------------------- Stock = parent


def test_stock_parent_makes_the_variation_draw_on_its_parents_units():
    out, err, error = run_import(FILES / "wc_stock_parent.csv")

    assert error is None, err
    assert "created 4, updated 0, skipped 0, rejected 0" in out
    tee, red, blue, own = (product(s) for s in ("TEE", "TEE-RED", "TEE-BLUE", "TEE-OWN"))
    assert (tee.stock, tee.is_variable) == (12, True)
    assert (red.stock_from_parent, red.stock) == (True, None)
    assert (blue.stock_from_parent, blue.stock) == (True, None)
    assert red.available_stock == blue.available_stock == 12
    assert red.available(12) and not red.available(13)
    assert (own.stock_from_parent, own.available_stock) == (False, 4)
    assert red.is_purchasable


def test_stock_parent_on_a_simple_product_is_rejected(tmp_path):
    path = tmp_path / "simple_parent.csv"
    path.write_text("Type,SKU,Name,Stock,Regular price\nsimple,S-1,Mug,parent,5\n")

    _out, err, error = run_import(path)

    assert error is not None
    assert "rejected line 2 (SKU S-1): Stock 'parent' on a product that is not a variation" in err
    assert not Product.objects.exists()


# --------------------------------------------------------------------------- no SKU


def test_rows_without_sku_are_keyed_by_their_woocommerce_id():
    out, err, error = run_import(FILES / "wc_no_sku.csv")

    assert error is not None  # the last row has neither SKU nor ID
    assert err.splitlines() == ["rejected line 5: no SKU and no ID"]
    assert "created 3, updated 0, skipped 0, rejected 1" in out
    album = Product.objects.get(wc_id=31)
    assert (album.sku, album.name, album.price) == ("WC-31", "Album", Decimal("15.00"))
    red = Product.objects.get(wc_id=33)
    assert red.parent == Product.objects.get(wc_id=32, is_variable=True)
    assert (red.sku, red.attributes) == ("WC-33", {"Color": "Red"})

    # Re-import: matched by ID, nothing duplicated, nothing changed.
    out, _err, _error = run_import(FILES / "wc_no_sku.csv")
    assert "created 0, updated 0, skipped 0, rejected 1, unchanged 3" in out
    assert Product.objects.count() == 3


def test_a_sku_given_later_in_woocommerce_replaces_the_generated_one(tmp_path):
    run_import(FILES / "wc_no_sku.csv")
    album = Product.objects.get(wc_id=31)
    path = tmp_path / "album.csv"
    path.write_text("ID,SKU,Name,Regular price\n31,ALBUM-1,Album,16\n")

    out, err, error = run_import(path)

    assert error is None, err
    assert "created 0, updated 1" in out
    album.refresh_from_db()
    assert (album.sku, album.price, album.wc_id) == ("ALBUM-1", Decimal("16.00"), 31)


# --------------------------------------------------------------------------- translated headers


@pytest.mark.parametrize(
    ("name", "sku", "expected"),
    [
        ("wc_fr_FR.csv", "FR-BONNET", ("Bonnet", Decimal("15.00"), Decimal("12.50"), 7)),
        ("wc_de_DE.csv", "DE-MUETZE", ("Mütze", Decimal("1250.00"), None, 5)),
        ("wc_ru_RU.csv", "RU-SHAPKA", ("Шапка", Decimal("350.00"), None, 9)),
        ("wc_zh_CN.csv", "ZH-TEE-M", ("T恤", Decimal("99.00"), None, 6)),
        ("wc_es_ES.csv", "ES-GORRO", ("Gorro", Decimal("19.95"), None, 4)),
    ],
)
def test_headers_in_the_shops_admin_language(name, sku, expected):
    _out, err, error = run_import(FILES / name)

    assert error is None, err
    item = product(sku)
    assert (item.name, item.price, item.sale_price, item.stock) == expected
    assert item.categories.exists() or item.parent_id


@pytest.mark.parametrize(
    ("name", "parent_sku", "variation_sku", "texts", "money", "attribute"),
    [
        (
            "wc_zh_TW.csv",
            "TW-TEE",
            "TW-TEE-M",
            ("T恤", "純棉短袖", "柔軟舒適", "服飾 > 上衣"),
            (Decimal("99.00"), Decimal("79.00")),
            {"尺寸": "M"},
        ),
        (
            "wc_ja.csv",
            "JA-TEE",
            "JA-TEE-M",
            ("Tシャツ", "綿の半袖", "やわらかい", "衣類 > トップス"),
            (Decimal("99.00"), Decimal("79.00")),
            {"サイズ": "M"},
        ),
        (
            "wc_pt_BR.csv",
            "BR-CAMISETA",
            "BR-CAMISETA-M",
            ("Camiseta", "Algodão", "Macia", "Roupas > Camisetas"),
            (Decimal("99.90"), Decimal("79.90")),
            {"Tamanho": "M"},
        ),
    ],
)
def test_every_column_of_a_zh_tw_ja_pt_br_export(
    name, parent_sku, variation_sku, texts, money, attribute
):
    # A header row as WooCommerce's Traditional Chinese, Japanese and Brazilian
    # Portuguese translations write it: every column lands in its field.
    out, err, error = run_import(FILES / name)

    assert error is None, err
    assert "created 2, updated 0, skipped 0, rejected 0" in out
    parent = product(parent_sku)
    name_text, short, description, category = texts
    assert (parent.name, parent.short_description, parent.description) == (
        name_text,
        short,
        description,
    )
    assert parent.categories.get().full_name == category
    assert parent.image_urls == [f"https://example.com/{parent_sku.lower()}.png"]
    assert parent.is_variable and parent.wc_id is not None
    variation = product(variation_sku)
    assert variation.parent == parent
    assert (variation.price, variation.sale_price, variation.stock) == (*money, 6)
    assert variation.in_stock is False  # the "In stock?" column, translated, says 0
    assert variation.attributes == attribute
    assert variation.position == 2
    assert variation.sale_starts == datetime.datetime(2024, 1, 15, tzinfo=SHANGHAI)
    assert variation.sale_ends == datetime.datetime(
        2030, 1, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI
    )


def test_the_zh_tw_ja_pt_br_headers_are_those_of_woocommerces_language_packs():
    # The strings read from the language packs named in mall.wc_headers, one per field.
    read = {
        "zh_TW": {
            "id": "代碼",
            "visibility": "目錄的可見度",
            "short_description": "簡短內容說明",
            "sale_starts": "折扣價開始日期",
            "sale_ends": "折扣價結束日期",
            "price": "原價",
            "in_stock": "有庫存？",
            "parent": "上層",
        },
        "ja": {
            "short_description": "簡単な説明",
            "price": "標準価格",
            "in_stock": "在庫の有無",
            "parent": "親",
        },
        "pt_BR": {
            "sale_starts": "Data de preço promocional começa em",
            "sale_ends": "Data de preço promocional termina em",
            "attribute_value": "Valores do atributo {n}",
            "in_stock": "Em estoque?",
            "parent": "Ascendente",
            "type": "Tipo",
            "categories": "Categorias",
        },
    }
    for locale, fields in read.items():
        for field, header in fields.items():
            assert wc_headers.TRANSLATED[locale][field][0] == header, (locale, field)
            if "{n}" not in header:
                assert _COLUMNS[_header_key(header)] == field


def test_french_variations_and_categories():
    run_import(FILES / "wc_fr_FR.csv")

    pull_s = product("FR-PULL-S")
    assert pull_s.parent == product("FR-PULL")
    assert (pull_s.name, pull_s.attributes, pull_s.price) == (
        "Pull",
        {"Taille": "S"},
        Decimal("39.90"),
    )
    assert product("FR-BONNET").categories.get().full_name == "Vêtements > Accessoires"
    assert product("FR-BONNET").sale_starts == datetime.datetime(2024, 1, 15, tzinfo=SHANGHAI)


def test_every_language_of_the_table_maps_the_required_columns():
    # Each translated table names SKU or ID, Name and Regular price, and no header means
    # two different fields.
    seen = {}
    for field, header, locale in wc_headers.all_headers():
        key = _header_key(header)
        if "{n}" not in key:
            assert seen.setdefault(key, field) == field, (locale, header)
    for locale, fields in wc_headers.TRANSLATED.items():
        names = {**wc_headers.ENGLISH, **fields}
        for field in ("sku", "name", "price", "parent", "attribute_name", "attribute_value"):
            assert names[field], (locale, field)
        assert _COLUMNS[_header_key(names["price"][0])] == "price"


# --------------------------------------------------------------------------- renamed parent


def test_variations_take_the_parents_current_name(tmp_path):
    run_import(FILES / "wc_stock_parent.csv")  # parent "V-Neck T-Shirt"
    assert product("TEE-OWN").display_name == "V-Neck T-Shirt – Red"

    # The shop renamed the parent; only its row is in the new file.
    out, err, error = run_import(FILES / "wc_renamed_parent.csv")
    assert error is None, err
    assert product("VNECK-RED").display_name == "T-Shirt – Red"  # not "V-Neck T-Shirt - Red – Red"

    source = (FILES / "wc_stock_parent.csv").read_text()
    renamed = source.replace("700,variable,TEE,V-Neck T-Shirt", "700,variable,TEE,Tee")
    target = tmp_path / "renamed.csv"
    target.write_text("\n".join(renamed.splitlines()[:2]) + "\n")  # the parent row only
    out, err, error = run_import(target)
    assert error is None, err
    assert {p.name for p in Product.objects.filter(parent=product("TEE"))} == {"Tee"}
    assert "updated 4" in out  # the parent and its three stored variations


# --------------------------------------------------------------------------- numbers


def test_a_thousands_separator_is_read_by_the_files_other_prices():
    out, err, error = run_import(FILES / "wc_thousands.csv")

    assert error is None, err
    # The file writes 19,90: its comma is the decimal mark, so 1,250 is 1.25.
    assert product("T-AMBIG").price == Decimal("1.25")
    assert (
        "warning line 3 (SKU T-AMBIG): regular price '1,250' read as 1.25: the file's other "
        "prices use ',' as the decimal point"
    ) in out
    assert product("T-AMBIG").stock == 1250  # a stock is whole: 1,250 units


def test_an_ambiguous_price_with_nothing_to_settle_it_is_rejected_with_both_readings():
    out, err, error = run_import(FILES / "wc_thousands_alone.csv")

    assert error is not None
    assert err.splitlines() == [
        "rejected line 2 (SKU T-ALONE): regular price '1,250' is ambiguous: 1250.00 if ',' "
        "separates thousands, 1.25 if it is the decimal point; write it without a thousands "
        "separator"
    ]
    assert product("T-CLEAR").price == Decimal("2500.00")
    assert not Product.objects.with_sku("T-ALONE").exists()


def test_skus_are_one_product_in_any_letter_case(tmp_path):
    out, err, error = run_import(FILES / "wc_case_skus.csv")

    assert error is None, err
    assert Product.objects.count() == 1
    item = Product.objects.get()
    # The later row wins, as in WooCommerce, spelling included.
    assert (item.sku, item.name, item.price) == ("T-DUP", "Duplicate upper", Decimal("12.00"))
    assert (
        "warning line 3 (SKU T-DUP): SKU T-DUP is t-dup of line 2 in another letter case: "
        "this row updates the same product"
    ) in out
    # The database refuses a second spelling too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(sku="T-Dup", name="Other", slug="other")
    # A later file in another spelling updates the same product; the stored SKU stays.
    path = tmp_path / "case.csv"
    path.write_text("SKU,Name,Regular price\nt-DuP,Duplicate upper,13\n")
    out, _err, _error = run_import(path)
    assert "created 0, updated 1" in out
    assert (Product.objects.get().sku, Product.objects.get().price) == ("T-DUP", Decimal("13.00"))


# --------------------------------------------------------------------------- any value


def test_an_any_value_attribute_becomes_the_customers_choice():
    out, err, error = run_import(FILES / "wc_any_value.csv")

    assert error is None, err
    red = product("cc-tee-red")
    assert red.attributes == {"Color": "Red"}
    assert red.attribute_choices == {"Size": ["Large", "Medium", "Small"]}
    assert product("cc-tee").attribute_choices == {
        "Color": ["Blue", "Red"],
        "Size": ["Large", "Medium", "Small"],
    }


# --------------------------------------------------------------------------- partial files


def test_a_partial_file_updates_only_its_columns():
    run_import(FILES / "wc_full.csv")
    teapot = product("PART-1")
    assert (teapot.is_visible, teapot.stock, teapot.sale_price) == (False, 8, Decimal("9.00"))

    out, err, error = run_import(FILES / "wc_price_only.csv")  # SKU,Name,Regular price

    assert error is None, err
    assert "created 0, updated 1" in out
    teapot = product("PART-1")
    assert teapot.price == Decimal("15.00")
    # Untouched: stock tracking, sale, description, categories, images, visibility.
    assert (teapot.stock, teapot.sale_price, teapot.in_stock) == (8, Decimal("9.00"), True)
    assert (teapot.short_description, teapot.description) == ("Small teapot.", "Holds 500 ml.")
    assert teapot.categories.get().full_name == "Kitchen > Tea"
    assert teapot.image_urls == ["https://example.com/teapot.png"]
    assert teapot.is_visible is False  # a withdrawn product stays withdrawn
    assert not Product.objects.listed().filter(pk=teapot.pk).exists()


def test_an_empty_cell_in_a_present_column_clears_the_field(tmp_path):
    run_import(FILES / "wc_full.csv")
    path = tmp_path / "clear.csv"
    path.write_text("SKU,Stock,Sale price,Categories,Published,Short description\nPART-1,,,,,\n")

    _out, err, error = run_import(path)

    assert error is None, err
    teapot = product("PART-1")
    assert (teapot.stock, teapot.sale_price, teapot.short_description) == (None, None, "")
    assert not teapot.categories.exists()
    assert teapot.is_visible is False  # an empty Published cell says nothing
    assert teapot.name == "Teapot"


# --------------------------------------------------------------------------- unusable files


def refused(path):
    out, err, error = run_import(path)
    assert error is not None and error.returncode == 1
    assert Product.objects.count() == 0 and Category.objects.count() == 0
    return str(error)


def test_an_empty_file_is_refused():
    assert refused(FILES / "wc_empty.csv").endswith("the file is empty")


def test_a_header_only_file_is_refused():
    assert refused(FILES / "wc_header_only.csv").endswith(
        "the file has a header but no product rows"
    )


def test_a_folder_is_refused(tmp_path):
    assert refused(tmp_path).endswith(f"{tmp_path} is a folder, not a file")


def test_an_unreadable_file_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "secret.csv"
    path.write_text("SKU,Name\nA,B\n")
    opened = Path.open

    def denied(self, *args, **kwargs):
        if self == path:  # as chmod 000 would, for a user other than root
            raise PermissionError(13, "Permission denied")
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    assert "cannot be read (permission denied)" in refused(path)


def test_a_file_in_another_encoding_names_it_and_says_how_to_re_export(tmp_path):
    path = tmp_path / "gbk.csv"
    text = "SKU,Name,Regular price\n" + "".join(
        f"T{n},茉莉花茶 特级 绿茶 礼盒装 第{n}号,10\n" for n in range(30)
    )
    path.write_bytes(text.encode("gb18030"))

    message = refused(path)

    assert "the file is not UTF-8 text: it looks like GB18030 / GBK (Simplified Chinese)" in message
    assert "CSV UTF-8" in message


def test_a_utf16_tab_separated_export_is_read(tmp_path):
    # Excel's "Unicode Text" (and some Windows tools) save UTF-16 with a BOM and tabs.
    path = tmp_path / "unicode.txt"
    path.write_bytes("SKU\tName\tRegular price\nU-1\t茉莉花茶\t68\n".encode("utf-16"))

    _out, err, error = run_import(path)

    assert error is None, err
    assert (product("U-1").name, product("U-1").price) == ("茉莉花茶", Decimal("68.00"))


def test_an_old_xls_workbook_is_refused(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert "old Excel .xls workbook" in refused(path)


def test_a_file_over_the_row_limit_is_refused_whole(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("SKU,Name,Regular price\n" + "".join(f"B{n},B,1\n" for n in range(6)))
    with override_settings(MALL_IMPORT_MAX_ROWS=5):
        message = refused(path)
    assert "more than 5 rows (MALL_IMPORT_MAX_ROWS)" in message


def test_an_xlsx_export_imports_by_the_same_rules(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ID", "Type", "SKU", "Name", "Regular price", "Stock", "Date sale price starts"])
    sheet.append([5, "simple", 1001, "Numbered SKU", 19.9, 3.0, datetime.datetime(2024, 1, 15)])
    sheet.append([6, "simple", "X-2", "Oversold", 5, -2, None])
    path = tmp_path / "products.xlsx"
    workbook.save(path)

    out, err, error = run_import(path)

    assert error is None, err
    numbered = product("1001")
    assert (numbered.price, numbered.stock, numbered.wc_id) == (Decimal("19.90"), 3, 5)
    assert numbered.sale_starts == datetime.datetime(2024, 1, 15, tzinfo=SHANGHAI)
    assert product("X-2").stock == 0
    assert "oversold by 2 in the source shop" in out


def test_a_damaged_xlsx_is_refused(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"not really a zip" * 10)
    assert "not a workbook that can be read" in refused(path)


def test_import_products_api_raises_for_a_refused_file(tmp_path):
    from mall.importer import ImportFileError

    with pytest.raises(ImportFileError, match="is a folder"):
        import_products(tmp_path)
