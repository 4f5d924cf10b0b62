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
QUERY_KEYS = ["page", "q", "next", "payment", "courier", "sort", "status", "language"]


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
