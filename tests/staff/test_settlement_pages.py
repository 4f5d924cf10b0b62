"""The COD settlement pages: upload a carrier's file, preview every row and problem, apply
once (``/staff/cod-settlements/`` and ``/staff/cod-settlements/<token>/``)."""

import io
import re

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, Payment, Status
from staff.views.settlements import DONE_KEY, SESSION_KEY
from tests.orders.cash_helpers import money_state, mug, shipped_by
from tests.staff.helpers import messages_of, reload


def today():
    """The shop's day now, as a settlement file writes it (a row may not predate its order)."""
    return timezone.localdate().isoformat()


pytestmark = pytest.mark.django_db

UPLOAD = "/staff/cod-settlements/"
SF = "SF Express"


@pytest.fixture
def english(client):
    def _as(user):
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return _as


@pytest.fixture
def finance(english, finance_user):
    return english(finance_user)


def csv_file(*lines, name="settlement.csv", bom=False):
    text = "运单号,代收金额,状态,日期\n" + "\n".join(lines) + "\n"
    return SimpleUploadedFile(name, (b"\xef\xbb\xbf" if bom else b"") + text.encode())


def upload(client, file, carrier=SF):
    return client.post(UPLOAD, {"carrier": carrier, "file": file})


def token_of(response):
    match = re.fullmatch(r"/staff/cod-settlements/([\w-]+)/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


@pytest.fixture
def parcels(admin_user):
    """Two COD parcels out with SF Express (110.00 each) and one back at the shop."""
    product = mug()
    delivered = shipped_by(SF, admin_user, waybill="SF1001")
    refused = shipped_by(SF, admin_user, waybill="SF1002", lines=[(product, 2)])
    gone = shipped_by(SF, admin_user, waybill="SF1003")
    from orders import services

    services.record_return(admin_user, gone, reason="Lost, came back.")
    return {"delivered": delivered, "refused": refused, "gone": reload(gone), "product": product}


def test_upload_form(finance):
    html = finance.get(UPLOAD).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'list="settlement-carriers"' in html and '<option value="SF Express">' in html
    assert 'aria-current="page">COD settlements<' in html


def test_upload_preview_apply(finance, parcels):
    response = upload(
        finance, csv_file(f"SF1001,110.00,已签收,{today()}", f"SF1002,,拒收,{today()}", bom=True)
    )
    assert response.status_code == 302
    token = token_of(response)
    before = money_state()

    preview = finance.get(response["Location"])

    assert money_state() == before  # a preview changes nothing
    html = preview.content.decode()
    assert "2 rows can be applied (¥110.00)" in html
    assert "0 rows with a problem" in html
    for key in ("delivered", "refused"):
        assert f'href="/staff/orders/{parcels[key].number}/"' in html
    assert 'name="apply_good_rows"' not in html
    assert ">refused<" in html and ">delivered<" in html

    applied = finance.post(response["Location"], {"token": token})

    assert applied.status_code == 302 and applied["Location"] == UPLOAD
    assert reload(parcels["delivered"]).status == Status.DELIVERED
    assert Payment.objects.get(reference="SF Express:SF1001").amount == 110
    assert reload(parcels["refused"]).status == Status.RETURNED
    assert parcels["product"].__class__.objects.get(pk=parcels["product"].pk).stock == 10
    (text,) = messages_of(finance.get(UPLOAD))
    assert text == (
        "Settlement file settlement.csv of SF Express applied: 2 rows "
        "(1 delivered, ¥110.00 received; 1 returned)."
    )
    assert token not in finance.session[SESSION_KEY]
    assert token in finance.session[DONE_KEY]


def test_a_second_apply_of_the_same_token_does_nothing_and_says_so(finance, parcels):
    response = upload(finance, csv_file("SF1001,110.00,delivered,"))
    finance.post(response["Location"], {})
    finance.get(UPLOAD)  # reads the "applied" message
    before = money_state()

    again = finance.post(response["Location"], {})

    assert again.status_code == 302 and again["Location"] == UPLOAD
    assert money_state() == before
    assert messages_of(finance.get(UPLOAD)) == [
        "This file was applied already: nothing was done again."
    ]
    assert Payment.objects.filter(reference="SF Express:SF1001").count() == 1
    # And the preview of a used token is gone too.
    assert finance.get(response["Location"])["Location"] == UPLOAD


def test_problems_are_shown_and_block_the_file_until_ticked(finance, parcels):
    response = upload(
        finance,
        csv_file(
            "SF1001,110.00,delivered,",
            "SF1002,100.00,delivered,",
            "NOPE,110.00,delivered,",
            "SF1003,110.00,delivered,",
            "SF1001,abc,lost,2026-02-30",
        ),
    )
    preview = finance.get(response["Location"]).content.decode()

    assert "1 row can be applied (¥110.00)" in preview
    assert "4 rows with a problem" in preview
    problems = re.findall(r'<tr class="staff-problem">\s*<td class="num">(\d+)</td>', preview)
    assert problems == ["3", "4", "5", "6"]
    assert f"amount ¥100.00 differs from the ¥110.00 due on {parcels['refused'].number}" in (
        preview
    )
    assert "unknown waybill NOPE for SF Express" in preview
    assert f"order {parcels['gone'].number} is not out for delivery (Returned)" in preview
    assert "abc is not an amount" in preview and "outcome lost is not delivered" in preview
    assert "Apply only the 1 good row" in preview
    before = money_state()

    refused = finance.post(response["Location"], {})

    assert refused.status_code == 302 and refused["Location"] == response["Location"]
    assert money_state() == before
    (text,) = messages_of(finance.get(UPLOAD))
    assert text.startswith("Nothing was applied: 4 row(s) have a problem.")

    done = finance.post(response["Location"], {"apply_good_rows": "on"})

    assert done["Location"] == UPLOAD
    assert reload(parcels["delivered"]).status == Status.DELIVERED
    assert reload(parcels["refused"]).status == Status.SHIPPED
    (text,) = messages_of(finance.get(UPLOAD))
    assert text.endswith("4 rows with a problem were left out (lines 3, 4, 5, 6).")


def test_a_file_with_nothing_to_apply_offers_no_button(finance, parcels):
    response = upload(finance, csv_file("NOPE,110.00,delivered,"))
    html = finance.get(response["Location"]).content.decode()
    assert "No row of this file can be applied." in html
    assert ">Apply<" not in html


def test_xlsx_upload(finance, parcels):
    book = openpyxl.Workbook()
    book.active.append(["waybill", "amount", "outcome", "date"])
    book.active.append(["SF1001", 110, "delivered", today()])
    data = io.BytesIO()
    book.save(data)
    response = upload(finance, SimpleUploadedFile("s.xlsx", data.getvalue()))
    finance.post(response["Location"], {})
    assert reload(parcels["delivered"]).status == Status.DELIVERED


@pytest.mark.parametrize(
    "file,error",
    [
        (SimpleUploadedFile("e.csv", b""), "The submitted file is empty."),
        (
            SimpleUploadedFile("h.csv", "运单号,状态\n".encode()),
            "The file has a header but no rows.",
        ),
        (
            SimpleUploadedFile("g.csv", "运单号,状态\nSF1,已签收\n".encode("gbk")),
            "It looks like GBK/GB18030",
        ),
        (SimpleUploadedFile("o.xls", b"\xd0\xcf\x11\xe0"), "Old .xls workbooks are not read"),
        (SimpleUploadedFile("p.pdf", b"%PDF-1.4\x00\x01"), "The file is not"),
    ],
)
def test_file_errors_are_one_message_on_the_upload_form(finance, parcels, file, error):
    before = money_state()
    response = upload(finance, file)
    assert response.status_code == 200
    assert money_state() == before
    html = response.content.decode()
    assert error in html
    assert 'class="errorlist' in html
    assert SESSION_KEY not in finance.session


def test_a_file_over_10_mb_is_refused(finance, parcels, settings):
    big = SimpleUploadedFile("big.csv", b"x" * (10 * 1024 * 1024 + 1))
    response = upload(finance, big)
    assert response.status_code == 200
    assert "The file is larger than 10 MB: split it." in response.content.decode()


@pytest.mark.parametrize("carrier", ["", "own", "x" * 101, "a\x00b"])
def test_bad_carrier(finance, parcels, carrier):
    response = upload(finance, csv_file("SF1001,110.00,delivered,"), carrier=carrier)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert SESSION_KEY not in finance.session


def test_an_unknown_token_says_the_preview_expired(finance, parcels):
    before = money_state()
    for method in ("get", "post"):
        response = getattr(finance, method)("/staff/cod-settlements/made-up/")
        assert response.status_code == 302 and response["Location"] == UPLOAD
    assert money_state() == before
    texts = messages_of(finance.get(UPLOAD))
    assert texts == ["This preview has expired or was replaced: upload the file again."] * 2


def test_only_three_previews_are_kept(finance, parcels):
    tokens = [token_of(upload(finance, csv_file("SF1001,110.00,delivered,"))) for _ in range(4)]
    assert list(finance.session[SESSION_KEY]) == tokens[1:]


@pytest.mark.parametrize("role", ["admin_user", "logistics_user", "member"])
def test_settlements_are_for_finance_only(request, client, parcels, role):
    client.force_login(request.getfixturevalue(role))
    before = money_state()
    assert client.get(UPLOAD).status_code == 403
    assert upload(client, csv_file("SF1001,110.00,delivered,")).status_code == 403
    assert client.post("/staff/cod-settlements/abc/", {}).status_code == 403
    assert money_state() == before
    assert Order.objects.get(pk=parcels["delivered"].pk).status == Status.SHIPPED


def test_url_names():
    assert reverse("staff:cod-settlement-preview", args=["abc"]) == "/staff/cod-settlements/abc/"
