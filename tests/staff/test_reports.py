"""``/staff/reports/``: the page, its range picker, charts and the CSV / XLSX downloads."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from orders import services
from orders.models import Order, PaymentMethod
from tests import factories
from tests.staff.helpers import at_shop_time

pytestmark = pytest.mark.django_db

URL = reverse("staff:reports")
DAY_A = datetime.date(2026, 3, 10)
DAY_B = datetime.date(2026, 3, 11)


def at(day, hour, minute=0):
    return at_shop_time(day.year, day.month, day.day, hour, minute)


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def two_days():
    """A 23:30 and a 00:30 order (shop time), both confirmed an hour later; the 23:30
    one paid 110.00 by bank transfer on day A."""
    finance = factories.finance_clerk(username="till")
    late = factories.OrderFactory(confirmed=True, payment_method=PaymentMethod.BANK_TRANSFER)
    early = factories.OrderFactory(confirmed=True)
    Order.objects.filter(pk=late.pk).update(
        placed_at=at(DAY_A, 23, 30), confirmed_at=at(DAY_B, 0, 30)
    )
    Order.objects.filter(pk=early.pk).update(
        placed_at=at(DAY_B, 0, 30), confirmed_at=at(DAY_B, 1, 30)
    )
    services.record_payment(
        finance,
        Order.objects.get(pk=late.pk),
        amount=Decimal("110.00"),
        method="bank_transfer",
        reference="=HYPERLINK(1)",
        received_on=DAY_A,
    )
    return late, early


def get(client, **params):
    return client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")


def test_page_shows_days_charts_and_tables(login, admin_user, two_days, english):
    response = get(login(admin_user), **{"from": "2026-03-10", "to": "2026-03-11"})
    assert response.status_code == 200
    report = response.context["report"]
    assert [(d.day, d.placed, d.confirmed) for d in report.days] == [
        (DAY_A, 1, 0),
        (DAY_B, 1, 2),
    ]
    body = response.content.decode()
    # Two charts, each an inline SVG with one bar per day and series, and a table beside.
    assert body.count("<svg ") == 2
    assert 'aria-label="Orders per day by outcome"' in body
    assert 'aria-label="Money received per day by method"' in body
    orders_chart = response.context["charts"]["orders"]
    assert orders_chart["rows"] == [["2026-03-10", 1, 0, 0, 0], ["2026-03-11", 1, 2, 0, 0]]
    money_chart = response.context["charts"]["money"]
    assert money_chart["headers"][1:] == ["Cash on delivery", "Bank transfer"]
    assert money_chart["rows"] == [["2026-03-10", "0.00", "110.00"], ["2026-03-11", "0.00", "0.00"]]
    assert "Orders by business day" in body and "Finance clerks" in body
    assert (
        f'href="{URL}?from=2026-03-10&amp;to=2026-03-11&amp;download=days&amp;format=xlsx"' in body
    )
    # The reports link in the menu, marked as the current page.
    assert f'<a href="{URL}" aria-current="page">Reports</a>' in body


def test_no_dates_means_the_last_seven_days(login, finance_user, english):
    response = get(login(finance_user))
    assert response.status_code == 200
    report = response.context["report"]
    today = timezone.localdate()
    assert (report.first, report.last) == (today - datetime.timedelta(days=6), today)
    assert len(report.days) == 7


def test_the_range_picker_sends_what_the_view_reads_and_shows_the_range(
    login, finance_user, english
):
    import re

    client = login(finance_user)
    page = get(client).content.decode()
    today = timezone.localdate()
    inputs = re.findall(r'<input[^>]*type="date"[^>]*>', page)
    names = [re.findall(r'\bname="([^"]+)"', tag) for tag in inputs]
    assert names == [["from"], ["to"]]  # one name each: the one a browser submits
    # No dates asked: the boxes show the last 7 days the page reports on.
    assert f'value="{today - datetime.timedelta(days=6):%Y-%m-%d}"' in inputs[0]
    assert f'value="{today:%Y-%m-%d}"' in inputs[1]
    # What the form submits is what the view reads.
    report = get(client, **{"from": "2026-03-01", "to": "2026-03-15"}).context["report"]
    assert (report.first, report.last) == (datetime.date(2026, 3, 1), datetime.date(2026, 3, 15))


def test_one_date_means_that_day(login, admin_user, two_days, english):
    report = get(login(admin_user), **{"from": "2026-03-11"}).context["report"]
    assert (report.first, report.last) == (DAY_B, DAY_B)
    report = get(login(admin_user), to="2026-03-10").context["report"]
    assert (report.first, report.last) == (DAY_A, DAY_A)


def test_presets_link_to_their_ranges(login, admin_user, english):
    response = get(login(admin_user))
    presets = {p["label"]: p["url"] for p in response.context["presets"]}
    today = timezone.localdate()
    assert presets["Today"] == f"{URL}?from={today}&to={today}"
    first = today.replace(day=1)
    assert presets["This month"] == f"{URL}?from={first}&to={today}"
    assert set(presets) == {"Today", "Yesterday", "Last 7 days", "This month", "Last month"}


@pytest.mark.parametrize(
    "params,message",
    [
        ({"from": "yesterday"}, "Enter a valid date."),
        ({"to": "2026-02-30"}, "Enter a valid date."),
        ({"from": "2026-03-11", "to": "2026-03-10"}, "The “to” date is before the “from” date."),
        ({"from": "2016-01-01", "to": "2026-01-01"}, "Choose at most 366 days."),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "Choose at most 366 days."),
        ({"from": "9999-12-31"}, "Choose dates between 2000-01-01 and 2099-12-31."),
        ({"from": "2026-03-10", "download": "secrets"}, "Select a valid choice."),
        ({"from": "2026-03-10", "download": "days", "format": "pdf"}, "Select a valid choice."),
    ],
)
def test_bad_ranges_say_why_and_compute_nothing(login, admin_user, english, params, message):
    response = get(login(admin_user), **params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response.context["report"] is None
    assert message in response.content.decode()
    assert "The report was not made:" in response.content.decode()


def test_a_full_leap_year_is_allowed(login, admin_user, english):
    response = get(login(admin_user), **{"from": "2024-01-01", "to": "2024-12-31"})
    assert response.status_code == 200
    assert len(response.context["report"].days) == 366


def test_csv_download(login, finance_user, two_days, english):
    response = get(
        login(finance_user), **{"from": "2026-03-10", "to": "2026-03-11", "download": "days"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="days-20260310-20260311.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Day", "Orders placed", "Confirmed", "Invalid"]
    header = rows[0]
    assert len(rows) == 4  # header, two days, total
    a, b, total = (dict(zip(header, row, strict=True)) for row in rows[1:])
    assert (a["Day"], a["Orders placed"], a["Confirmed"], a["Confirmation rate"]) == (
        "2026-03-10",
        "1",
        "0",
        "1.0",
    )
    assert (b["Day"], b["Orders placed"], b["Confirmed"], b["Goods value placed"]) == (
        "2026-03-11",
        "1",
        "2",
        "100.00",
    )
    assert b["Placing to confirmation, median (h)"] == "1.0"
    assert a["Placing to confirmation, median (h)"] == ""  # nothing confirmed on A
    assert (total["Day"], total["Orders placed"], total["Goods value placed"]) == (
        "Total",
        "2",
        "200.00",
    )


def test_xlsx_download_types(login, finance_user, two_days, english):
    client = login(finance_user)
    response = get(
        client, **{"from": "2026-03-10", "to": "2026-03-11", "download": "money", "format": "xlsx"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Day",
        "Received: Cash on delivery",
        "Received: Bank transfer",
        "Received in all",
        "Refunds: credit notes",
        "Refunds: money back",
    )
    assert rows[1] == (datetime.datetime(2026, 3, 10), 0, 110, 110, 0, 0)
    assert rows[3][0] == "Total"
    day_cell, money_cell = sheet["A2"], sheet["C2"]
    assert day_cell.is_date and day_cell.number_format == "yyyy-mm-dd"
    assert money_cell.data_type == "n" and money_cell.number_format == "#,##0.00"

    # People: names are text, never formulas, even when they look like one.
    clerk = factories.finance_clerk(username="sums", first_name="=SUM(A1)", last_name="")
    services.record_payment(
        clerk,
        factories.OrderFactory(confirmed=True, payment_method="bank_transfer"),
        amount=Decimal("1.00"),
        method="bank_transfer",
        reference="X1",
        received_on=timezone.localdate(),
    )
    today = str(timezone.localdate())
    response = get(client, **{"from": today, "to": today, "download": "clerks", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    names = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    row = names["=SUM(A1)"]
    assert sheet.cell(row=row, column=1).data_type == "s"
    assert sheet.cell(row=row, column=2).value == 1
    assert sheet.cell(row=row, column=3).value == 1
    assert sheet.cell(row=row, column=3).data_type == "n"
    # The same table as CSV: the name is made safe for spreadsheets.
    response = get(client, **{"from": today, "to": today, "download": "clerks"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["'=SUM(A1)", "1", "1.00", "0", "0.00", "0", "0.00"] in rows


def test_xlsx_rates_and_hours_are_numbers(login, admin_user, two_days, english):
    response = get(
        login(admin_user),
        **{"from": "2026-03-10", "to": "2026-03-11", "download": "days", "format": "xlsx"},
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    rate = sheet.cell(row=3, column=header.index("Confirmation rate") + 1)
    assert (rate.value, rate.number_format) == (1, "0.0%")
    hours = sheet.cell(row=3, column=header.index("Placing to confirmation, median (h)") + 1)
    assert hours.value == 1.0 and hours.data_type == "n"
    empty = sheet.cell(row=2, column=header.index("Placing to confirmation, median (h)") + 1)
    assert empty.value is None


@pytest.mark.parametrize("role", ["logistics_user", "member"])
def test_logistics_and_members_are_refused(request, login, role):
    response = login(request.getfixturevalue(role)).get(URL)
    assert response.status_code == 403


def test_logistics_menu_has_no_reports_link(login, logistics_user, admin_user):
    body = login(logistics_user).get(reverse("staff:dashboard")).content.decode()
    assert URL not in body
    body = login(admin_user).get(reverse("staff:dashboard")).content.decode()
    assert f'href="{URL}"' in body


def test_anonymous_goes_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_a_quiet_range_says_so_and_the_clerks_table_says_what_it_counts(
    login, finance_user, english
):
    page = get(login(finance_user), **{"from": "2026-02-01", "to": "2026-02-03"})
    body = page.content.decode()
    assert page.context["quiet"] is True
    assert "no money was recorded in these days: the tables below are all zeros." in body
    assert "entries voided later included" in body


def test_an_empty_chart_has_a_zero_to_one_axis():
    import re

    from staff.charts import _draw

    days = [datetime.date(2026, 2, d) for d in (1, 2, 3)]
    svg = _draw(days, [("Placed", [0, 0, 0])], title="Orders", line=None, ylabel="", integer=True)
    ticks = re.findall(r">(\d+(?:\.\d+)?)<", svg)
    assert "0.054" not in svg and ticks[:2] == ["0", "1"]


def test_cash_table_shows_cod_collected_by_carriers_not_settled(
    login, finance_user, admin_user, english
):
    """The cash table's "now" rows on the page, in the CSV and in the XLSX: a carrier's
    delivered COD parcel (110.00, no settlement file yet) apart from the parcels out."""
    carried = factories.OrderFactory(shipped=True)
    services.record_delivery(admin_user, carried, received_by="Door")
    factories.OrderFactory(shipped=True)  # still out: 110.00
    client = login(finance_user)
    today = timezone.localdate().isoformat()
    label = "Cash on delivery collected by carriers, not settled yet (now)"

    page = get(client, **{"from": today, "to": today})
    assert page.status_code == 200 and label in page.content.decode()

    response = get(client, **{"from": today, "to": today, "download": "cash"})
    rows = {
        row[0]: row[1:] for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    }
    assert rows[label] == ["1", "110.00"]
    assert rows["Cash on delivery out for delivery, not collected (now)"] == ["1", "110.00"]

    response = get(client, **{"from": today, "to": today, "download": "cash", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = {row[0]: row[1:] for row in sheet.iter_rows(values_only=True)}
    assert values[label] == (1, 110)  # numbers, not text
