"""CSV export: exactly the filtered list (all pages), UTF-8 with a BOM, one header row,
one row per order, money as plain decimals."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import PaymentMethod
from tests.factories import ADDRESS, ProductFactory
from tests.staff.helpers import allocate, confirm, pay, place

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
