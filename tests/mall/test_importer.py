"""``manage.py import_products``: the real WooCommerce sample, our demo catalogue, bad files."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest

from mall.catalogue import offer_for
from mall.importer import import_products
from mall.models import Category, Product
from tests.mall.conftest import DEMO_CATALOGUE
from tests.woocommerce import run_import

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def category_paths():
    return sorted(category.full_name for category in Category.objects.all())


# --------------------------------------------------------------------------- the real file


@pytest.mark.django_db
class TestWooCommerceSample:
    def test_counts_and_skipped_rows(self, wc_sample):
        out, err, error = run_import(wc_sample)

        assert error is None
        assert err == ""
        assert "created 22, updated 0, skipped 2, rejected 0" in out
        assert Product.objects.count() == 22
        assert "skipped line 17 (SKU cc-logo-collection): grouped product" in out
        assert "skipped line 18 (SKU cp-donation): external product" in out
        assert not Product.objects.filter(sku__in=["cc-logo-collection", "cp-donation"]).exists()

    def test_category_tree(self, wc_sample):
        run_import(wc_sample)

        assert category_paths() == [
            "Clothing",
            "Clothing > Accessories",
            "Clothing > Hoodies",
            "Clothing > Tshirts",
            "Music",
        ]
        # "Donation" belonged only to the skipped external product.
        assert not Category.objects.filter(name="Donation").exists()
        hoodies = Category.objects.get(name="Hoodies")
        assert hoodies.parent == Category.objects.get(name="Clothing")
        assert sorted(hoodies.products.values_list("sku", flat=True)) == [
            "cc-hoodie",
            "cc-hoodie-with-logo",
            "cc-hoodie-with-pocket",
        ]

    def test_prices_stock_and_images(self, wc_sample):
        run_import(wc_sample)

        beanie = Product.objects.get(sku="cc-beanie")
        assert (beanie.price, beanie.sale_price) == (Decimal("20.00"), Decimal("18.00"))
        assert beanie.current_price() == Decimal("18.00")
        assert beanie.stock is None  # blank Stock: not tracked
        assert beanie.in_stock is True
        assert beanie.is_purchasable
        assert beanie.image_urls == [
            "https://classiccommerce.cc/wp-content/downloads/sample-data-images/beanie.png"
        ]
        sunglasses = Product.objects.get(sku="cc-sunglasses")
        assert (sunglasses.price, sunglasses.sale_price) == (Decimal("90.00"), None)
        belt = Product.objects.get(sku="cc-belt")
        assert belt.current_price() == Decimal("55.00")
        # Virtual/downloadable products are ordinary purchasable products.
        album = Product.objects.get(sku="cc-album")
        assert album.price == Decimal("15.00") and album.is_purchasable
        assert album.slug == "album"

    def test_variable_products_and_their_variations(self, wc_sample):
        run_import(wc_sample)

        hoodie = Product.objects.get(sku="cc-hoodie")
        assert hoodie.is_variable
        assert (hoodie.price, hoodie.sale_price) == (None, None)
        assert not hoodie.is_purchasable
        variations = {v.sku: v for v in hoodie.variations.all()}
        assert set(variations) == {
            "cc-hoodie-red",
            "cc-hoodie-green",
            "cc-hoodie-blue",
            "cc-hoodie-red-logo",
            "cc-hoodie-blue-logo",
            "cc-hoodie-green-logo",
        }
        red = variations["cc-hoodie-red"]
        assert red.attributes == {"Color": "Red", "Logo": "No"}
        assert (red.price, red.sale_price) == (Decimal("45.00"), Decimal("42.00"))
        assert red.name == "Hoodie"
        assert red.display_name in {"Hoodie – Red, No", "Hoodie – No, Red"}
        assert red.is_purchasable
        assert red.get_absolute_url() == hoodie.get_absolute_url() == "/product/hoodie/"

        tee = Product.objects.get(sku="cc-tee")
        # A blank attribute value means "any size": the variation fixes only the colour.
        assert sorted((v.sku, v.attributes["Color"]) for v in tee.variations.all()) == [
            ("cc-t-shirt-blue", "Blue"),
            ("cc-t-shirt-green", "Green"),
            ("cc-t-shirt-red", "Red"),
        ]
        assert all(v.attributes == {"Color": v.attributes["Color"]} for v in tee.variations.all())
        assert Product.objects.filter(parent__isnull=False).count() == 9

    def test_hidden_product_is_imported_but_not_listed(self, wc_sample, client):
        run_import(wc_sample)

        hidden = Product.objects.get(sku="cc-hoodie-with-pocket")
        assert hidden.is_visible is False
        assert (hidden.price, hidden.sale_price) == (Decimal("45.00"), Decimal("35.00"))
        listed = set(Product.objects.listed().values_list("sku", flat=True))
        assert "cc-hoodie-with-pocket" not in listed
        assert len(listed) == 12  # 22 products - 9 variations - 1 hidden
        response = client.get("/")
        assert response.status_code == 200
        assert "Hoodie with Pocket and" in response.text  # the visible one
        assert ">Hoodie with Pocket<" not in response.text
        assert client.get("/product/hoodie-with-pocket/").status_code == 404

    def test_reimport_changes_nothing(self, wc_sample, django_assert_max_num_queries):
        run_import(wc_sample)
        before = {
            p.sku: (p.pk, p.slug, p.updated_at, p.price, p.parent_id) for p in Product.objects.all()
        }
        categories = category_paths()

        # 10, plus the category pairing of a language run (mall.import_languages), plus
        # one: stored products are matched from their ids and SKUs, and read whole one
        # write batch at a time (a 50,000-row file's instances do not fit the memory budget).
        with django_assert_max_num_queries(12):
            out, _err, error = run_import(wc_sample)

        assert error is None
        assert "created 0, updated 0, skipped 2, rejected 0, unchanged 22" in out
        after = {
            p.sku: (p.pk, p.slug, p.updated_at, p.price, p.parent_id) for p in Product.objects.all()
        }
        assert after == before
        assert category_paths() == categories

    def test_first_import_is_query_light(self, wc_sample, django_assert_max_num_queries):
        # Constant per file: 5 category inserts, 2 bulk inserts of products, reads, and
        # the language run's look-up of products to pair categories with (none here).
        with django_assert_max_num_queries(17):
            report = import_products(wc_sample)
        assert len(report.created) == 22

    def test_dry_run_writes_nothing(self, wc_sample):
        out, _err, error = run_import(wc_sample, "--dry-run")

        assert error is None
        assert "Dry run: nothing was written." in out
        assert "created 22, updated 0, skipped 2, rejected 0" in out
        assert Product.objects.count() == 0
        assert Category.objects.count() == 0


# --------------------------------------------------------------------------- our demo file


@pytest.mark.django_db
class TestDemoCatalogue:
    def test_counts(self):
        out, err, error = run_import(DEMO_CATALOGUE)

        assert error is None, err
        assert "created 39, updated 0, skipped 0, rejected 0" in out
        assert Product.objects.count() == 39
        assert Product.objects.filter(is_variable=True).count() == 2
        assert Product.objects.filter(parent__isnull=False).count() == 9
        assert Product.objects.listed().count() == 29
        assert Category.objects.count() == 19

    def test_category_tree(self):
        run_import(DEMO_CATALOGUE)

        roots = sorted(Category.objects.filter(parent=None).values_list("name", flat=True))
        assert roots == [
            "Clothing",
            "Electronics Accessories",
            "Home & Living",
            "Kitchen",
            "Stationery",
            "Tea & Snacks",
        ]
        # An escaped comma (\,) belongs to the category name.
        pens = Category.objects.get(name="Pens, Pencils & Markers")
        assert pens.full_name == "Stationery > Pens, Pencils & Markers"
        assert sorted(pens.products.values_list("sku", flat=True)) == ["ST-BRUSHES", "ST-GELPENS"]
        gift = Product.objects.get(sku="TS-GIFTSET")
        assert sorted(c.full_name for c in gift.categories.all()) == [
            "Tea & Snacks > Snacks",
            "Tea & Snacks > Tea",
        ]

    def test_products(self):
        run_import(DEMO_CATALOGUE)

        tea = Product.objects.get(sku="TS-JASMINE")
        assert tea.name == "Jasmine Green Tea"
        assert tea.slug == "jasmine-green-tea"
        assert (tea.price, tea.stock) == (Decimal("68.00"), 50)
        assert Product.objects.get(sku="HL-TOWEL").stock is None
        clock = Product.objects.get(sku="HL-CLOCK")
        assert (clock.in_stock, clock.stock, clock.is_purchasable) == (False, 0, False)
        knife = Product.objects.get(sku="KT-KNIFE")
        assert knife.is_visible is False
        duvet = Product.objects.get(sku="HL-DUVET")
        assert duvet.description.startswith(
            "Breathable long-staple cotton that gets softer with every wash.\nMachine washable"
        )
        practice = Product.objects.get(sku="ST-PRACTICE")
        assert practice.price == Decimal("9.90") and practice.is_purchasable

    def test_sale_window_in_shop_time_zone(self):
        run_import(DEMO_CATALOGUE)

        cooker = Product.objects.get(sku="KT-RICECOOKER")
        assert cooker.sale_starts == datetime.datetime(2025, 1, 1, tzinfo=SHANGHAI)
        assert cooker.sale_ends == datetime.datetime(
            2030, 12, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI
        )
        inside = datetime.datetime(2030, 12, 31, 23, 0, tzinfo=SHANGHAI)
        before = datetime.datetime(2024, 12, 31, 23, 59, tzinfo=SHANGHAI)
        after = datetime.datetime(2031, 1, 1, 0, 0, 1, tzinfo=SHANGHAI)
        assert cooker.current_price(inside) == Decimal("349.00")
        assert cooker.current_price(before) == Decimal("399.00")
        assert cooker.current_price(after) == Decimal("399.00")

    def test_variations_by_sku_and_by_id_before_their_parent(self):
        run_import(DEMO_CATALOGUE)

        tee = Product.objects.get(sku="CL-TEE")
        assert tee.is_variable and tee.price is None
        assert [v.sku for v in tee.variations.order_by("position")] == [
            "CL-TEE-S-WHT",
            "CL-TEE-M-WHT",
            "CL-TEE-L-WHT",
            "CL-TEE-S-BLK",
            "CL-TEE-M-BLK",
            "CL-TEE-L-BLK",
        ]
        assert Product.objects.get(sku="CL-TEE-L-BLK").attributes == {
            "Size": "L",
            "Colour": "Black",
        }
        jacket = Product.objects.get(sku="CL-JACKET")
        # Parent given as id:1019, and the first variation row comes before the parent row.
        navy_m = Product.objects.get(sku="CL-JACKET-NAVY-M")
        assert navy_m.parent == jacket
        assert navy_m.attributes == {"Colour": "Navy", "Size": "M"}
        assert jacket.variations.count() == 3
        assert offer_for(Product.objects.get(sku="CL-JACKET-NAVY-L")).price == Decimal("599.00")

    def test_reimport_changes_nothing(self):
        run_import(DEMO_CATALOGUE)
        stamps = dict(Product.objects.values_list("sku", "updated_at"))

        out, _err, error = run_import(DEMO_CATALOGUE)

        assert error is None
        assert "created 0, updated 0, skipped 0, rejected 0, unchanged 39" in out
        assert dict(Product.objects.values_list("sku", "updated_at")) == stamps
        assert Product.objects.count() == 39 and Category.objects.count() == 19


# --------------------------------------------------------------------------- bad input


def broken_rows():
    return [
        # line 2-3: a good row whose quoted description spans two lines
        {
            "ID": "10",
            "Type": "simple",
            "SKU": "GOOD-1",
            "Name": "Good mug",
            "Published": "1",
            "Description": "First line\nsecond line",
            "Regular price": "12.50",
            "Stock": "4",
            "Categories": "Kitchen > Mugs",
        },
        {"Type": "simple", "SKU": "", "Name": "Nameless", "Regular price": "5"},  # line 4
        {"Type": "simple", "SKU": "BAD-PRICE", "Name": "X", "Regular price": "abc"},  # 5
        {"Type": "simple", "SKU": "BAD-STOCK", "Name": "Y", "Regular price": "5", "Stock": "-3"},
        {"Type": "variation", "SKU": "ORPHAN", "Name": "Z", "Parent": "NO-SUCH"},  # line 7
        {  # line 8: a variation naming its parent by ID; the parent row comes later
            "Type": "variation",
            "SKU": "VAR-M",
            "Name": "Shirt - M",
            "Parent": "id:900",
            "Regular price": "30",
            "Attribute 1 name": "Size",
            "Attribute 1 value(s)": "M",
        },
        {  # line 9
            "ID": "900",
            "Type": "variable",
            "SKU": "SHIRT",
            "Name": "Shirt",
            "Categories": "Clothing",
            "Attribute 1 name": "Size",
            "Attribute 1 value(s)": "S, M",
        },
        {"Type": "grouped", "SKU": "SET", "Name": "Set"},  # line 10
        {  # line 11
            "Type": "simple, virtual",
            "SKU": "GOOD-2",
            "Name": "Gift card",
            "Regular price": "100",
            "Categories": "Gifts\\, Cards > Digital, Kitchen",
            "Published": "-1",
        },
    ]


@pytest.mark.django_db
class TestBadInput:
    def test_bad_rows_are_reported_with_line_numbers_and_the_rest_imports(self, write_csv):
        path = write_csv(broken_rows())

        out, err, error = run_import(path)

        assert error is not None and error.returncode == 1
        assert "3 rows rejected; the other rows were imported." in str(error)
        assert err.splitlines() == [
            "rejected line 4: no SKU and no ID",
            "rejected line 5 (SKU BAD-PRICE): unparseable regular price 'abc'",
            "rejected line 7 (SKU ORPHAN): unknown parent NO-SUCH",
        ]
        assert "skipped line 10 (SKU SET): grouped product" in out
        # Oversold in the source shop: imported as 0, and the report says so.
        assert (
            "warning line 6 (SKU BAD-STOCK): stock -3: oversold by 3 in the source shop; "
            "imported as 0"
        ) in out
        assert Product.objects.get(sku="BAD-STOCK").stock == 0
        assert "created 5, updated 0, skipped 1, rejected 3" in out
        assert sorted(Product.objects.values_list("sku", flat=True)) == [
            "BAD-STOCK",
            "GOOD-1",
            "GOOD-2",
            "SHIRT",
            "VAR-M",
        ]
        good = Product.objects.get(sku="GOOD-1")
        assert good.description == "First line\nsecond line"
        assert (good.price, good.stock) == (Decimal("12.50"), 4)
        variation = Product.objects.get(sku="VAR-M")
        assert variation.parent == Product.objects.get(sku="SHIRT")
        assert variation.attributes == {"Size": "M"}
        gift = Product.objects.get(sku="GOOD-2")
        assert gift.is_visible is False  # Published -1: a draft
        assert sorted(c.full_name for c in gift.categories.all()) == [
            "Gifts, Cards > Digital",
            "Kitchen",
        ]

    def test_variation_of_a_rejected_parent_is_rejected(self, write_csv):
        path = write_csv(
            [
                {"Type": "variable", "SKU": "P", "Name": "Parent", "Stock": "lots"},
                {"Type": "variation", "SKU": "P-1", "Name": "Parent - 1", "Parent": "P"},
                {"Type": "variation", "SKU": "Q-1", "Name": "Q", "Parent": "GOODS"},
                {"Type": "simple", "SKU": "GOODS", "Name": "Goods", "Regular price": "1"},
            ]
        )

        _out, err, error = run_import(path)

        assert error is not None
        assert err.splitlines() == [
            "rejected line 2 (SKU P): unparseable stock 'lots'",
            "rejected line 3 (SKU P-1): its parent P (line 2) was rejected",
            "rejected line 4 (SKU Q-1): its parent GOODS (line 5) is not a variable product",
        ]
        assert list(Product.objects.values_list("sku", flat=True)) == ["GOODS"]

    def test_variation_before_its_parent_that_is_rejected_later_is_rejected(self, write_csv):
        # The parent's row is rejected only when products are sorted out (a new product
        # needs a name), after the variation above it had found it.
        path = write_csv(
            [
                {"Type": "variation", "SKU": "P-1", "Parent": "P", "Regular price": "5"},
                {"Type": "variable", "SKU": "P"},
                {"Type": "simple", "SKU": "GOODS", "Name": "Goods", "Regular price": "1"},
            ]
        )

        _out, err, error = run_import(path)

        assert error is not None
        assert err.splitlines() == [
            "rejected line 2 (SKU P-1): its parent P (line 3) was rejected",
            "rejected line 3 (SKU P): no name",
        ]
        assert list(Product.objects.values_list("sku", flat=True)) == ["GOODS"]

    def test_same_sku_twice_the_later_row_updates_and_bad_dates(self, write_csv):
        path = write_csv(
            [
                {"SKU": "A", "Name": "A", "Regular price": "1"},
                {"SKU": "A", "Name": "A again", "Regular price": "2"},
                {"SKU": "B", "Name": "B", "Regular price": "9", "Date sale price ends": "soon"},
                {
                    "SKU": "C",
                    "Name": "C",
                    "Regular price": "9",
                    "Sale price": "5",
                    "Date sale price starts": "2030-02-01",
                    "Date sale price ends": "2030-01-01",
                },
            ]
        )

        out, err, error = run_import(path)

        assert error is not None
        assert err.splitlines() == [
            "rejected line 4 (SKU B): unparseable sale end date 'soon' "
            "(expected YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS])",
            "rejected line 5 (SKU C): the sale ends before it starts",
        ]
        # As in WooCommerce, a second row for the same SKU updates the product.
        assert (
            "warning line 3 (SKU A): the same product as line 2: this later row updates it" in out
        )
        assert (Product.objects.get().name, Product.objects.get().price) == (
            "A again",
            Decimal("2.00"),
        )

    def test_bom_column_order_and_escaped_cells(self, write_csv):
        header = ["Regular price", "Categories", "Name", "In stock?", "SKU", "Stock", "Type"]
        path = write_csv(
            [
                {
                    "SKU": "'-DASH",  # WooCommerce escapes a leading "-" with a quote
                    "Name": "Dash &amp; Co",
                    "Regular price": "19,90",  # a shop whose decimal separator is a comma
                    "Categories": "Home &amp; Garden > Tools",
                    "In stock?": "0",
                    "Stock": "",
                    "Type": "simple",
                },
            ],
            header=header,
            bom=True,
        )

        _out, err, error = run_import(path)

        assert error is None, err
        product = Product.objects.get()
        assert product.sku == "-DASH"
        assert product.name == "Dash & Co"
        assert product.price == Decimal("19.90")
        assert (product.in_stock, product.stock) == (False, None)
        assert product.categories.get().full_name == "Home & Garden > Tools"

    def test_reimport_with_a_changed_price_updates_in_place(self, write_csv):
        rows = [{"SKU": "MUG", "Name": "Mug", "Regular price": "10", "Categories": "Kitchen"}]
        run_import(write_csv(rows))
        mug = Product.objects.get()

        rows[0]["Regular price"] = "12"
        rows[0]["Categories"] = "Kitchen, Gifts"
        out, _err, error = run_import(write_csv(rows))

        assert error is None
        assert "created 0, updated 1, skipped 0, rejected 0, unchanged 0" in out
        updated = Product.objects.get()
        assert (updated.pk, updated.slug, updated.price) == (mug.pk, "mug", Decimal("12.00"))
        assert sorted(c.name for c in updated.categories.all()) == ["Gifts", "Kitchen"]

    def test_slugs_are_unique(self, write_csv):
        path = write_csv(
            [
                {"SKU": "T1", "Name": "Green Tea", "Regular price": "1"},
                {"SKU": "T2", "Name": "Green tea", "Regular price": "1"},
                {"SKU": "T3", "Name": "茉莉花茶", "Regular price": "1"},
            ]
        )

        run_import(path)

        assert dict(Product.objects.values_list("sku", "slug")) == {
            "T1": "green-tea",
            "T2": "green-tea-2",
            "T3": "茉莉花茶",
        }

    def test_dry_run_with_rejections_writes_nothing_and_fails(self, write_csv):
        _out, _err, error = run_import(write_csv(broken_rows()), "--dry-run")

        assert error is not None and error.returncode == 1
        assert Product.objects.count() == 0
        assert Category.objects.count() == 0

    def test_file_that_is_not_utf8_is_refused(self, tmp_path):
        path = tmp_path / "gbk.csv"
        path.write_bytes("SKU,Name,Regular price\nT1,茉莉花茶,10\n".encode("gbk"))

        _out, _err, error = run_import(path)

        assert error is not None
        assert "not UTF-8" in str(error)
        assert Product.objects.count() == 0

    def test_file_without_the_required_columns_is_refused(self, tmp_path):
        path = tmp_path / "orders.csv"
        path.write_text("Order,Total\n1,10\n", encoding="utf-8")

        _out, _err, error = run_import(path)

        assert error is not None
        assert "not a WooCommerce product export: no SKU or ID column" in str(error)
        assert "(the header reads: Order, Total)" in str(error)
        assert Product.objects.count() == 0

    def test_missing_file(self, tmp_path):
        _out, _err, error = run_import(tmp_path / "nope.csv")

        assert error is not None
        assert "no such file" in str(error)
