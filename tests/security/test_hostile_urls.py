"""Hostile values in URLs: path parameters and query strings of every page (issue 6, item 2).

Property-based: every route of the site outside the Django admin, with each of its
parameters (order number, slug) replaced by hostile text, and hostile query-string values
(``page``, ``q``, ``next``, ``payment``, ``courier``…), fetched as a member and as the
superuser. Never a server error, never a change to the database.
"""

from urllib.parse import quote, urlencode

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.security.conftest import database_state
from tests.security.hostile import rolled_back, value
from tests.security.urlconf import ADMIN, rule_key, walk

pytestmark = pytest.mark.django_db

ROUTES = sorted(route for namespace, _name, route in walk() if rule_key(namespace, route) != ADMIN)
PARAMETERS = ["<str:number>", "<str:slug>"]
QUERY_KEYS = [
    "page",
    "q",
    "next",
    "payment",
    "courier",
    "sort",
    "status",
    "language",
    "order",
    "date",
]


@settings(max_examples=80)  # one request per example: cheap, and there are many routes
@given(
    route=st.sampled_from(ROUTES),
    parameter=value(),
    query=st.dictionaries(st.sampled_from(QUERY_KEYS), value(), max_size=3),
    role=st.sampled_from(["member", "superuser"]),
)
# Once a 500 on PostgreSQL: a NUL in an order number or a product slug reached the query.
@example(route="account/orders/<str:number>/", parameter="\x00", query={}, role="member")
@example(route="staff/orders/<str:number>/", parameter="\x00", query={}, role="superuser")
@example(route="product/<str:slug>/", parameter="a\x00", query={}, role="member")
@example(route="search/", parameter="", query={"q": "\x00"}, role="member")
def test_hostile_urls_never_fail(world, route, parameter, query, role):
    path = "/" + route
    for name in PARAMETERS:
        path = path.replace(name, quote(parameter, safe="") or "x")
    if query:
        path += "?" + urlencode(query)
    with rolled_back():
        client = world.client(role)
        before = database_state()
        response = client.get(path)
        assert response.status_code in (200, 302, 400, 403, 404, 405), response.status_code
        assert database_state() == before


# The courier's pages take a list of order numbers (``?order=…&order=…``) and a day.
SELECTION_PAGES = [
    "/staff/deliveries/run-sheet/",
    "/staff/deliveries/picking-list/",
    "/staff/orders/print/",
    "/staff/deliveries/",
]


@given(
    page=st.sampled_from(SELECTION_PAGES),
    numbers=st.lists(value(), max_size=4),
    many=st.sampled_from([0, 199, 200, 201, 1000]),
    extra=st.dictionaries(st.sampled_from(["courier", "date"]), value(), max_size=2),
    role=st.sampled_from(["order_admin", "finance", "logistics"]),
)
@example(page="/staff/deliveries/run-sheet/", numbers=["\x00"], many=0, extra={}, role="logistics")
@example(
    page="/staff/orders/print/",
    numbers=[],
    many=201,
    extra={"date": "0000-00-00"},
    role="order_admin",
)
def test_order_selection_pages_never_fail(world, page, numbers, many, extra, role):
    """Hostile order numbers (and too many of them), couriers and days: 200, nothing changed,
    and a selection over 200 orders shows none of them."""
    query = [("order", n) for n in numbers] + [("order", f"N{i:07d}") for i in range(many)]
    query += [(key, v) for key, v in extra.items()]
    if many > 200 and page != "/staff/deliveries/":
        query.append(("order", world.allocated.number))
    with rolled_back():
        client = world.client(role, HTTP_ACCEPT_LANGUAGE="en")
        before = database_state()
        answer = client.get(page + "?" + urlencode(query))
        assert answer.status_code == 200, answer.status_code
        assert database_state() == before
        if many > 200 and page != "/staff/deliveries/":
            html = answer.content.decode()
            assert "Choose at most 200 orders at a time." in html
            assert world.allocated.number not in html


# --- the reports' range (issue 12) ---------------------------------------------------------

REPORT_DATES = st.one_of(
    value(),
    st.dates().map(str),
    st.sampled_from(["0000-00-00", "0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01"]),
)


@settings(max_examples=60)
@given(
    query=st.dictionaries(
        st.sampled_from(["from", "to", "download", "format"]), REPORT_DATES, max_size=4
    ),
    role=st.sampled_from(["finance", "superuser"]),
)
@example(query={"from": "2026-03-11", "to": "2026-03-10"}, role="finance")
@example(query={"from": "2016-01-01", "to": "2026-01-01"}, role="finance")
@example(query={"from": "9999-12-31", "to": "9999-12-31"}, role="superuser")
@example(query={"from": "2000-01-01", "to": "\x00"}, role="superuser")
def test_hostile_report_ranges_never_fail(world, query, role):
    """Any ``?from=&to=`` (and download choice): a page or a file, never a 500; a range
    the page refuses is said on the page."""
    with rolled_back():
        client = world.client(role)
        before = database_state()
        response = client.get("/staff/reports/?" + urlencode(query), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, response.status_code
        if response["Content-Type"].startswith("text/html"):
            form = response.context["form"]
            assert (response.context["report"] is None) == bool(form.errors)
            if form.errors:
                assert "The report was not made:" in response.content.decode()
        else:
            assert response["Content-Disposition"].startswith("attachment; filename=")
        assert database_state() == before
