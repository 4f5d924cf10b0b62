"""Reports kept computed by a worker (issue 15): the page shows the refreshed figures
with their time while they are fresh, and computes them itself otherwise."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import reports
from staff.tasks import cached_report, refresh_reports
from tests.staff.helpers import place

pytestmark = pytest.mark.django_db

URL = reverse("staff:reports")


def test_refreshed_report_is_served_while_fresh(login, admin_user, member, settings):
    settings.MALL_REPORT_MAX_AGE_S = 600
    place(member)
    # today, yesterday, last 7 days, this month, last month (on the 1st, today = this month)
    assert refresh_reports() == len({reports.preset_range(name) for name in reports.PRESETS})
    place(member)  # after the refresh: the served figures do not count it yet
    client = login(admin_user)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    report = response.context["report"]
    assert report.totals.placed == 1
    assert response.context["report_as_of"] is not None
    assert "refreshed every few minutes" in response.content.decode()
    # Too old: the page computes the figures itself, both orders counted.
    settings.MALL_REPORT_MAX_AGE_S = 0
    today = timezone.localdate()
    assert cached_report(today - datetime.timedelta(days=6), today) is None
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["report"].totals.placed == 2
    assert response.context["report_as_of"] is None


def test_without_a_refresh_the_page_computes(login, admin_user, member):
    place(member)
    response = login(admin_user).get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["report"].totals.placed == 1
    assert response.context["report_as_of"] is None
