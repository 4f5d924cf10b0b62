"""Long COD settlement files (issue 15): a file with more rows than
``MALL_IMPORT_INLINE_ROWS`` is kept and read, matched and applied by a worker; its page
(``/staff/cod-settlements/jobs/<id>/``) shows the progress, the same preview as a short
file's, and the outcome. Without a broker the work runs in-process after the commit."""

import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.models import Payment, SettlementJob, Status
from staff.tasks import apply_settlement_job, queue_settlement_apply
from tests import factories
from tests.orders.cash_helpers import money_state
from tests.staff import test_settlement_pages as pages
from tests.staff.helpers import messages_of, reload
from tests.staff.test_settlement_pages import SF, csv_file, today, upload

# The settlement pages' fixtures: a finance clerk in English, three SF Express parcels.
english, finance, parcels = pages.english, pages.finance, pages.parcels

pytestmark = pytest.mark.django_db


@pytest.fixture
def background(settings, tmp_path):
    settings.MALL_IMPORT_INLINE_ROWS = 1
    settings.MEDIA_ROOT = tmp_path


def start(client, capture, file, carrier=SF):
    with capture(execute=True):
        response = upload(client, file, carrier)
    job = SettlementJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:cod-settlement-job", args=[job.pk])
    return job, response["Location"]


def apply(client, capture, url, data=None):
    with capture(execute=True):
        return client.post(url, data or {})


def test_a_long_file_is_matched_and_applied_by_a_worker(
    finance, parcels, background, django_capture_on_commit_callbacks
):
    before = money_state()
    job, url = start(
        finance,
        django_capture_on_commit_callbacks,
        csv_file(f"SF1001,110.00,已签收,{today()}", f"SF1002,,拒收,{today()}", bom=True),
    )
    job.refresh_from_db()
    assert (job.state, job.rows_total, job.rows_done, job.percent) == ("ready", 2, 2, 100)
    assert (job.carrier, job.filename, job.error) == (SF, "settlement.csv", "")
    assert money_state() == before  # reading and matching change nothing

    html = finance.get(url).content.decode()
    assert "2 rows can be applied (¥110.00)" in html
    assert "0 rows with a problem" in html
    for key in ("delivered", "refused"):
        assert f'href="/staff/orders/{parcels[key].number}/"' in html
    assert ">refused<" in html and ">delivered<" in html
    assert "¥110.00" in html
    assert 'name="apply_good_rows"' not in html
    assert f'action="{url}"' in html
    assert 'http-equiv="refresh"' not in html  # waiting for the user: no refreshing

    applied = apply(finance, django_capture_on_commit_callbacks, url)

    assert applied.status_code == 302 and applied["Location"] == url
    assert reload(parcels["delivered"]).status == Status.DELIVERED
    assert Payment.objects.get(reference="SF Express:SF1001").amount == 110
    assert reload(parcels["refused"]).status == Status.RETURNED
    assert parcels["product"].__class__.objects.get(pk=parcels["product"].pk).stock == 10
    job.refresh_from_db()
    assert job.state == "applied" and job.finished_at is not None
    assert job.outcome == (
        "Settlement file settlement.csv of SF Express applied: 2 rows "
        "(1 delivered, ¥110.00 received; 1 returned)."
    )
    page = finance.get(url).content.decode()
    assert job.outcome in page and ">Apply<" not in page


def test_a_job_applied_twice_applies_once(
    finance, parcels, background, django_capture_on_commit_callbacks
):
    job, url = start(
        finance,
        django_capture_on_commit_callbacks,
        csv_file("SF1001,110.00,delivered,", "SF1002,,refused,"),
    )
    apply(finance, django_capture_on_commit_callbacks, url)
    finance.get(url)
    after = money_state()

    again = apply(finance, django_capture_on_commit_callbacks, url)

    assert again.status_code == 302 and again["Location"] == url
    assert messages_of(finance.get(url)) == [
        "This file was applied already: nothing was done again."
    ]
    # A redelivered message, or a second queueing, does nothing either.
    assert apply_settlement_job(job.pk) == "applied"
    assert queue_settlement_apply(job, False) is False
    assert money_state() == after
    assert Payment.objects.filter(reference="SF Express:SF1001").count() == 1


def test_problems_block_the_long_file_until_ticked(
    finance, parcels, background, django_capture_on_commit_callbacks
):
    job, url = start(
        finance,
        django_capture_on_commit_callbacks,
        csv_file("SF1001,110.00,delivered,", "NOPE,110.00,delivered,", "SF1002,1.00,delivered,"),
    )
    html = finance.get(url).content.decode()
    assert "1 row can be applied (¥110.00)" in html and "2 rows with a problem" in html
    problems = re.findall(r'<tr class="staff-problem">\s*<td class="num">(\d+)</td>', html)
    assert problems == ["3", "4"]
    assert "unknown waybill NOPE for SF Express" in html
    assert "Apply only the 1 good row" in html
    before = money_state()

    apply(finance, django_capture_on_commit_callbacks, url)

    assert money_state() == before
    job.refresh_from_db()
    assert job.state == "ready"
    assert job.error.startswith("Nothing was applied: 2 row(s) have a problem.")
    assert job.error in finance.get(url).content.decode()

    apply(finance, django_capture_on_commit_callbacks, url, {"apply_good_rows": "on"})

    job.refresh_from_db()
    assert job.state == "applied"
    assert job.outcome.endswith("2 rows with a problem were left out (lines 3, 4).")
    assert reload(parcels["delivered"]).status == Status.DELIVERED
    assert reload(parcels["refused"]).status == Status.SHIPPED


def test_an_unreadable_long_file_fails_on_its_page(
    finance, parcels, background, django_capture_on_commit_callbacks
):
    data = "运单号,状态\n".encode("gb18030") + "SF1001,已签收\nSF1002,拒收\n".encode("gb18030")
    job, url = start(finance, django_capture_on_commit_callbacks, SimpleUploadedFile("g.csv", data))
    job.refresh_from_db()
    assert job.state == "failed"
    assert job.error.startswith("The file is not UTF-8 text.")
    page = finance.get(url)
    assert page.status_code == 200
    assert job.error.split(".")[0] in page.content.decode()
    assert "Nothing was applied" in page.content.decode()


def test_a_bad_carrier_is_refused_in_the_request(finance, parcels, background):
    response = upload(finance, csv_file("SF1001,110.00,delivered,", "X,1,delivered,"), "Own")
    assert response.status_code == 200
    assert "own delivery staff" in response.content.decode()
    assert not SettlementJob.objects.exists()


def test_a_job_in_progress_refreshes_itself(finance, parcels, background):
    response = upload(finance, csv_file("SF1001,110.00,delivered,", "SF1002,,refused,"))
    # The callbacks were not run: still waiting for a worker.
    html = finance.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in html
    assert "Waiting for a worker" in html and "0 of 0 rows matched." in html
    assert SettlementJob.objects.get().state == "queued"


def test_only_its_uploader_sees_the_job(
    finance, parcels, background, login, logistics_user, django_capture_on_commit_callbacks
):
    job, url = start(
        finance,
        django_capture_on_commit_callbacks,
        csv_file("SF1001,110.00,delivered,", "SF1002,,refused,"),
    )
    finance.logout()
    other = login(factories.finance_clerk(username="finance2"))
    assert other.get(url).status_code == 404
    assert other.post(url, {}).status_code == 404
    assert login(logistics_user).get(url).status_code == 403
    assert login(logistics_user).post(url, {}).status_code == 403
    job.refresh_from_db()
    assert job.state == "ready"
    assert reload(parcels["delivered"]).status == Status.SHIPPED


def test_a_short_file_stays_in_the_request(finance, parcels, settings):
    settings.MALL_IMPORT_INLINE_ROWS = 2
    response = upload(finance, csv_file("SF1001,110.00,delivered,", "SF1002,,refused,"))
    assert re.fullmatch(r"/staff/cod-settlements/[\w-]+/", response["Location"])
    assert "/jobs/" not in response["Location"]
    assert not SettlementJob.objects.exists()


def test_a_long_xlsx_file_goes_through_the_worker(
    finance, parcels, background, django_capture_on_commit_callbacks
):
    book = openpyxl.Workbook()
    book.active.append(["waybill", "amount", "outcome", "date"])
    book.active.append(["SF1001", 110, "delivered", today()])
    book.active.append(["SF1002", None, "refused", today()])
    data = io.BytesIO()
    book.save(data)
    job, url = start(
        finance, django_capture_on_commit_callbacks, SimpleUploadedFile("s.xlsx", data.getvalue())
    )
    job.refresh_from_db()
    assert (job.state, job.rows_total) == ("ready", 2)
    apply(finance, django_capture_on_commit_callbacks, url)
    assert reload(parcels["delivered"]).status == Status.DELIVERED
    assert reload(parcels["refused"]).status == Status.RETURNED
