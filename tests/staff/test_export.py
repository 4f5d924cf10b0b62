"""CSV export: exactly the filtered list (all pages), UTF-8 with a BOM, one header row,
one row per order, money as plain decimals."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import PaymentMethod
from tests.factories import ADDRESS, ProductFactory
from tests.staff.helpers import allocate, confirm, pay, place
from tests.staff.helpers import reload as reload_order

pytestmark = pytest.mark.django_db

EXPORT = reverse("staff:order-export")


def download(client, params=None):
    response = client.get(EXPORT, params or {})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    body = b"".join(response.streaming_content)
    return body, list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_export_has_bom_header_and_one_row_per_order(login, admin_user, finance_user, member):
    product = ProductFactory(price=Decimal("59.25"), stock=None)
    chinese = confirm(
        place(
            member,
            lines=[(product, 2)],
            payment_method=PaymentMethod.BANK_TRANSFER,
            address=dict(ADDRESS, recipient="张伟", city="杭州", address_line="西湖区文三路 90 号"),
        ),
        admin_user,
    )
    pay(chinese, finance_user, amount=Decimal("50.50"))
    other = place(member)

    body, rows = download(login(admin_user))
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Order number,Placed,Status,Status code,")
    assert len(lines) == 3  # one header row, one row per order
    by_number = {row["Order number"]: row for row in rows}
    assert set(by_number) == {chinese.number, other.number}
    row = by_number[chinese.number]
    assert row["Recipient"] == "张伟"
    assert row["City"] == "杭州"
    assert row["Address"] == "西湖区文三路 90 号"
    assert (row["Subtotal"], row["Shipping fee"], row["Total"]) == ("118.50", "10.00", "128.50")
    assert (row["Net received"], row["Balance due"]) == ("50.50", "78.00")
    assert (row["Status"], row["Status code"]) == ("Confirmed", "confirmed")
    assert (row["Payment status"], row["Payment status code"]) == (
        "Partially paid",
        "partially_paid",
    )
    assert (row["Payment method"], row["Payment method code"]) == ("Bank transfer", "bank_transfer")
    assert row["Member e-mail"] == member.email
    assert by_number[other.number]["Net received"] == "0.00"


def test_export_is_exactly_the_filtered_list_across_all_pages(
    login, admin_user, member, logistics_user
):
    product = ProductFactory(stock=None)
    submitted = [place(member, lines=[(product, 1)]) for _ in range(55)]
    allocated = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    client = login(admin_user)

    _body, rows = download(client, {"status": "submitted", "page": "2"})
    assert sorted(r["Order number"] for r in rows) == sorted(o.number for o in submitted)

    _body, rows = download(client, {"q": allocated.number})
    assert [r["Order number"] for r in rows] == [allocated.number]
    assert rows[0]["Delivery person"] == logistics_user.get_full_name()

    listing = client.get(reverse("staff:order-list"), {"sort": "number", "status": "submitted"})
    _body, rows = download(client, {"sort": "number", "status": "submitted"})
    assert [r["Order number"] for r in rows][:50] == [o.number for o in listing.context["orders"]]


def test_export_neutralises_spreadsheet_formulas(login, admin_user, member):
    order = place(member, address=dict(ADDRESS, recipient="=HYPERLINK(1)", address_line="@SUM(A1)"))
    _body, rows = download(login(admin_user))
    assert rows[0]["Order number"] == order.number
    assert rows[0]["Recipient"] == "'=HYPERLINK(1)"
    assert rows[0]["Address"] == "'@SUM(A1)"


# --------------------------------------------------------------------------- XLSX (issue 13)


def download_xlsx(client, params=None):
    from openpyxl import load_workbook

    response = client.get(EXPORT, {**(params or {}), "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    assert response["Content-Disposition"].endswith('.xlsx"')
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_xlsx_keeps_phone_postcode_and_waybill_digits_as_text(
    login, admin_user, member, logistics_user
):
    from orders import services

    mug = ProductFactory(sku="0012-MUG", name="Mug", price=Decimal("25.50"), stock=None)
    tea = ProductFactory(sku="TEA", name="Tea", price=Decimal("40.00"), stock=None)
    order = place(
        member,
        lines=[(mug, 2), (tea, 1)],
        address=dict(ADDRESS, phone="02155551234", postcode="010010"),
    )
    mobile = place(member, address=dict(ADDRESS, phone="13800138000", recipient="=HYPERLINK(1)"))
    order = allocate(confirm(order, admin_user), admin_user, logistics_user)
    services.ship_order(admin_user, order, carrier="SF Express", tracking_number="9876543210987654")

    book = download_xlsx(login(admin_user), {"sort": "number"})

    assert book.sheetnames == ["Orders", "Lines"]
    orders_sheet = book["Orders"]
    header = [cell.value for cell in orders_sheet[1]]
    assert header[:3] == ["Order number", "Placed", "Status"]
    rows = {row[0].value: dict(zip(header, row, strict=True)) for row in orders_sheet.iter_rows(2)}
    assert set(rows) == {order.number, mobile.number}
    shipped = rows[order.number]
    for column, value in (
        ("Phone", "02155551234"),
        ("Postcode", "010010"),
        ("Waybill number", "9876543210987654"),
        ("Order number", order.number),
    ):
        assert (shipped[column].value, shipped[column].data_type) == (value, "s"), column
        assert shipped[column].number_format == "@"
    assert rows[mobile.number]["Phone"].value == "13800138000"
    # A member's text is never a formula in the workbook.
    assert rows[mobile.number]["Recipient"].value == "=HYPERLINK(1)"
    assert rows[mobile.number]["Recipient"].data_type == "s"
    total = shipped["Total"]
    assert (total.value, total.data_type, total.number_format) == (101.0, "n", "0.00")
    placed = shipped["Placed"]
    assert isinstance(placed.value, datetime.datetime)
    local = timezone.localtime(reload_order(order).placed_at)
    assert placed.value == local.replace(tzinfo=None, microsecond=placed.value.microsecond)

    other = mobile.lines.get()
    lines = [[cell.value for cell in row] for row in book["Lines"].iter_rows()]
    assert lines[0] == [
        "Order number",
        "SKU",
        "Name",
        "Chosen attributes",
        "Quantity",
        "Unit price",
        "Line total",
    ]
    assert sorted(lines[1:]) == sorted(
        [
            [order.number, "0012-MUG", "Mug", None, 2, 25.5, 51.0],
            [order.number, "TEA", "Tea", None, 1, 40.0, 40.0],
            [
                mobile.number,
                other.sku,
                other.name,
                None,
                other.quantity,
                50.0,
                50.0 * other.quantity,
            ],
        ]
    )


def test_xlsx_follows_the_filters_and_the_access_rules(login, admin_user, member, client):
    submitted = place(member)
    confirm(place(member), admin_user)

    book = download_xlsx(login(admin_user), {"status": "submitted"})
    assert [row[0].value for row in book["Orders"].iter_rows(2)] == [submitted.number]
    assert {row[0].value for row in book["Lines"].iter_rows(2)} == {submitted.number}

    client.logout()
    response = client.get(EXPORT, {"format": "xlsx"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert login(member).get(EXPORT, {"format": "xlsx"}).status_code == 403


def test_an_unknown_format_is_refused_with_a_message_not_sent_as_csv(login, admin_user, member):
    from tests.staff.helpers import messages_of

    place(member)
    client = login(admin_user)
    for asked in ("xls", "pdf"):
        response = client.get(EXPORT, {"format": asked, "status": "submitted"}, follow=True)
        assert response.redirect_chain[-1][0].startswith(reverse("staff:order-list"))
        assert "status=submitted" in response.redirect_chain[-1][0]
        assert messages_of(response) == [
            f"No export was made: the format is csv or xlsx, not “{asked}”."
        ]
    upper = client.get(EXPORT, {"format": "XLSX"})
    assert upper["Content-Type"].startswith("application/vnd.openxmlformats")
