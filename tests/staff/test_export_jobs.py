"""Large exports made in the background (issue 15): a list longer than
``MALL_EXPORT_INLINE_ROWS`` becomes an export job with a progress page and a download;
the file holds exactly what the direct export would."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import ExportJob
from staff.tasks import make_export
from tests import factories
from tests.factories import ProductFactory
from tests.staff.helpers import place

pytestmark = pytest.mark.django_db

EXPORT = reverse("staff:order-export")


@pytest.fixture
def three_orders(member):
    product = ProductFactory(price=Decimal("20.00"), stock=None)
    return [place(member, lines=[(product, n)]) for n in (1, 2, 3)]


@pytest.fixture
def background(settings, tmp_path):
    settings.MALL_EXPORT_INLINE_ROWS = 2
    settings.MEDIA_ROOT = tmp_path


def start(client, django_capture_on_commit_callbacks, params):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(EXPORT, params)
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:export-job", args=[job.pk])
    return job


def test_a_long_list_is_exported_in_the_background_with_progress_and_download(
    login, admin_user, three_orders, background, django_capture_on_commit_callbacks
):
    client = login(admin_user)
    job = start(client, django_capture_on_commit_callbacks, {"q": ""})
    job.refresh_from_db()
    assert (job.state, job.rows_total, job.rows_done, job.percent) == ("done", 3, 3, 100)
    assert (job.user, job.file_format) == (admin_user, "csv")
    page = client.get(reverse("staff:export-job", args=[job.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "3 orders." in text
    assert reverse("staff:export-download", args=[job.pk]) in text
    assert 'http-equiv="refresh"' not in text  # finished: no more refreshing
    download = client.get(reverse("staff:export-download", args=[job.pk]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert sorted(row["Order number"] for row in rows) == sorted(o.number for o in three_orders)
    assert sorted(row["Total"] for row in rows) == ["30.00", "50.00", "70.00"]
    # Run again (a redelivered task): nothing is made twice.
    name = ExportJob.objects.get().file.name
    assert make_export(job.pk) == "done"
    assert ExportJob.objects.get().file.name == name


def test_a_background_xlsx_has_every_order_and_line(
    login, admin_user, three_orders, background, django_capture_on_commit_callbacks
):
    from openpyxl import load_workbook

    client = login(admin_user)
    job = start(client, django_capture_on_commit_callbacks, {"format": "xlsx"})
    download = client.get(reverse("staff:export-download", args=[job.pk]))
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    orders = list(workbook.worksheets[0].iter_rows(min_row=2, values_only=True))
    lines = list(workbook.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert sorted(row[0] for row in orders) == sorted(o.number for o in three_orders)
    assert sorted(row[4] for row in lines) == [1, 2, 3]


def test_an_unfinished_export_shows_progress_and_is_only_its_owners(
    login, admin_user, three_orders, background, client
):
    job = ExportJob.objects.create(user=admin_user, rows_total=4, rows_done=1, state="running")
    page = login(admin_user).get(reverse("staff:export-job", args=[job.pk]))
    text = page.content.decode()
    assert "1 of 4 orders written." in text
    assert 'value="25"' in text and 'http-equiv="refresh"' in text
    assert client.get(reverse("staff:export-download", args=[job.pk])).status_code == 404
    other = factories.order_admin(username="otheradmin")
    client.force_login(other)
    assert client.get(reverse("staff:export-job", args=[job.pk])).status_code == 404


def test_a_short_list_is_still_downloaded_at_once(login, admin_user, three_orders, settings):
    settings.MALL_EXPORT_INLINE_ROWS = 3
    response = login(admin_user).get(EXPORT)
    assert response.status_code == 200
    assert ExportJob.objects.count() == 0


def test_a_finished_export_whose_file_is_gone_says_so_instead_of_failing(
    login, admin_user, three_orders, background, django_capture_on_commit_callbacks
):
    from tests.staff.helpers import messages_of

    client = login(admin_user)
    job = start(client, django_capture_on_commit_callbacks, {"q": ""})
    job.refresh_from_db()
    job.file.storage.delete(job.file.name)  # removed, or on storage this process cannot see
    response = client.get(reverse("staff:export-download", args=[job.pk]), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("staff:export-job", args=[job.pk])
    assert messages_of(response) == [
        "The file of this export is no longer there: please make the export again."
    ]


def test_an_unexpected_failure_is_told_plainly_never_as_an_exception(admin_user, monkeypatch):
    from staff.views import export

    job = ExportJob.objects.create(user=admin_user, query="", file_format="csv")

    def broken(*args, **kwargs):
        raise FileNotFoundError("/srv/secret/path/orders.csv")

    monkeypatch.setattr(export, "write_csv", broken)
    with pytest.raises(FileNotFoundError):  # logged by the task runner and raised
        make_export(job.pk)
    job.refresh_from_db()
    assert job.state == "failed"
    assert "secret" not in job.error and "FileNotFoundError" not in job.error
    assert job.error.startswith("Something went wrong on the server")
