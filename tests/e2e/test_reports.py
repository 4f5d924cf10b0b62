"""The reports page in Chromium (issue 12): a finance clerk picks a preset, sees both
charts drawn with data beside their tables, and downloads a table as CSV and XLSX."""

import csv
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from orders import services
from tests import factories
from tests.e2e.helpers import staff_users

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_reports_page_charts_and_downloads(actor, screenshot):
    users = staff_users()
    order = factories.OrderFactory(confirmed=True, payment_method="bank_transfer")
    services.record_payment(
        users["finance"],
        order,
        amount=Decimal("110.00"),
        method="bank_transfer",
        reference="BANK-1",
        received_on=timezone.localdate(),
    )
    factories.OrderFactory(invalid=True)
    clerk = actor("finance")
    clerk.sign_in("fiona", factories.PASSWORD)
    clerk.goto("/staff/")
    page = clerk.page
    clerk.click(page.get_by_role("link", name="Reports"))
    clerk.click(page.get_by_role("link", name="Today"))

    orders_chart = page.get_by_role("img", name="Orders per day by outcome")
    money_chart = page.get_by_role("img", name="Money received per day by method")
    assert orders_chart.is_visible() and money_chart.is_visible()
    # Drawn with data: bars are SVG paths with a height (a 0-height bar has no area).
    assert orders_chart.locator("path").count() > 10
    assert orders_chart.bounding_box()["height"] > 150
    table = page.locator("#chart-money table")
    assert table.locator("tbody tr").count() == 1
    assert "110.00" in table.inner_text()
    screenshot(page, "staff-reports")

    money_section = page.locator("#report-money")
    with page.expect_download() as info:
        money_section.get_by_role("link", name="CSV").click()
    rows = list(csv.reader(io.StringIO(info.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "Day" and rows[1][0] == str(timezone.localdate())
    assert "110.00" in rows[1]

    days_section = page.locator("#report-days")
    with page.expect_download() as info:
        days_section.get_by_role("link", name="XLSX").click()
    sheet = load_workbook(io.BytesIO(info.value.path().read_bytes())).active
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(row=2, column=header.index("Orders placed") + 1).value == 2
    assert sheet.cell(row=2, column=header.index("Invalid") + 1).value == 1
    assert sheet.cell(row=2, column=1).is_date
