"""The back-office list's speed-ups change nothing a member of staff sees.

``staff.views.OrderPaginator`` fetches a page as "the rows whose keys are on this page"
and takes its count from the status tabs; the search finds members by e-mail first
(``staff/filters.py``). Each page must hold exactly the orders plain slicing gives, in
the same order, for every sort and both fetch paths, and the list must not count the
table a second time.
"""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders import selectors
from orders.models import Order
from staff.filters import STATUS_RANK
from staff.views import OrderPaginator

LIST = "/staff/orders/"
SORTS = {
    "": ("-placed_at", "-pk"),
    "placed_at": ("placed_at", "pk"),
    "-total": ("-total", "-pk"),
    "total": ("total", "pk"),
    "number": ("number", "pk"),
    "status": None,  # by the life cycle, see below
}


@pytest.fixture
def book(db):
    call_command("seed_orders", orders=130, seed=3, now="2025-06-01T12:00:00+08:00", verbosity=0)


def expected(sort, status=None):
    qs = Order.objects.all()
    if status:
        qs = qs.filter(status=status)
    if sort == "status":
        qs = qs.annotate(status_rank=STATUS_RANK).order_by("status_rank", "-placed_at", "-pk")
    else:
        qs = qs.order_by(*SORTS[sort])
    return list(qs.values_list("number", flat=True))


def page_numbers(client, **params):
    response = client.get(LIST, {k: v for k, v in params.items() if v})
    assert response.status_code == 200
    return [o.number for o in response.context["orders"]], response


@pytest.mark.parametrize("few", [0, 2000], ids=["keys-by-offset", "all-keys-first"])
@pytest.mark.parametrize("sort", list(SORTS))
def test_every_page_holds_what_plain_slicing_gives(book, superuser, login, monkeypatch, sort, few):
    monkeypatch.setattr(OrderPaginator, "few", few)
    client = login(superuser)
    everything = expected(sort)
    assert len(everything) == 130
    seen = []
    for page in (1, 2, 3):
        numbers, response = page_numbers(client, sort=sort, page=page)
        assert numbers == everything[(page - 1) * 50 : page * 50]
        assert response.context["page_obj"].paginator.count == 130
        seen += numbers
    assert seen == everything


@pytest.mark.parametrize("few", [0, 2000], ids=["keys-by-offset", "all-keys-first"])
def test_a_filtered_list_pages_and_counts_the_filtered_rows(
    book, superuser, login, monkeypatch, few
):
    monkeypatch.setattr(OrderPaginator, "few", few)
    client = login(superuser)
    delivered = expected("", status="delivered")  # the largest tab
    assert len(delivered) > 50
    first, response = page_numbers(client, status="delivered")
    second, _response = page_numbers(client, status="delivered", page=2)
    assert first + second == delivered[:100]
    assert response.context["page_obj"].paginator.count == len(delivered)
    assert {t["count"] for t in response.context["tabs"] if t["active"]} == {len(delivered)}


def test_the_list_counts_once_through_the_tabs_not_again_for_the_pages(book, superuser, login):
    client = login(superuser)
    with CaptureQueriesContext(connection) as queries:
        page_numbers(client, status="delivered")
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    # One query counts every tab (selectors.status_counts): the archive's capped.
    assert len(counts) == 1 and f"LIMIT {selectors.TAB_COUNT_CAP + 1}" in counts[0].upper()


def test_search_by_member_email_finds_their_orders_only(book, superuser, login):
    order = Order.objects.select_related("customer").order_by("pk")[7]
    email = order.customer.email
    theirs = set(Order.objects.filter(customer=order.customer).values_list("number", flat=True))
    numbers, response = page_numbers(login(superuser), q=email.upper())
    assert set(numbers) == theirs
    assert response.context["page_obj"].paginator.count == len(theirs)


def test_archive_tabs_are_capped_and_their_pages_still_page(book, superuser, login, monkeypatch):
    """Past ``TAB_COUNT_CAP`` an archive tab says "N+" and its list pages without a count:
    the rows are still exactly plain slicing's, the next page is known, a page past the
    end gives the first page; the working queues stay exact."""
    from orders import selectors

    monkeypatch.setattr(selectors, "TAB_COUNT_CAP", 40)
    client = login(superuser)
    delivered = expected("", status="delivered")  # the largest tab
    assert 50 < len(delivered) < 100  # two pages
    first, response = page_numbers(client, status="delivered")
    tabs = {t["label"]: t["count"] for t in response.context["tabs"]}
    assert (tabs["Delivered"], tabs["Delivered"].capped) == (40, True)
    assert tabs["All"].capped
    confirmed = Order.objects.filter(status="confirmed").count()
    assert (tabs["Confirmed"], tabs["Confirmed"].capped) == (confirmed, False)
    html = response.content.decode()
    assert '<span class="staff-tab-count">40+</span>' in html
    assert "40+ orders" in html and "Last" not in html
    assert response.context["page_obj"].has_next()
    second, second_response = page_numbers(client, status="delivered", page=2)
    assert first + second == delivered
    assert not second_response.context["page_obj"].has_next()
    assert second_response.context["page_obj"].has_previous()
    past, past_response = page_numbers(client, status="delivered", page=7)
    assert past == first
    # A newcomer's trial: the page says why it shows the first page (only then).
    assert "There is no page 7 in this list; here is the first page." in (
        past_response.content.decode()
    )
    assert "here is the first page" not in response.content.decode()


# Session, user, tab counts, page rows, the couriers (once: the assignee filter and the
# bulk allocation share them): five for a superuser (no permission query); a search adds
# its member lookup, and a list of at most ``OrderPaginator.few`` counted rows reads its
# keys in a query of its own first.
PINNED_QUERIES = 5


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "-placed_at"},
        {},  # the role's queue: awaiting confirmation
        {"status": "delivered", "page": "2"},  # capped: paged without a count
        {"status": "confirmed", "sort": "total"},
        {"q": "Wang"},
    ],
    ids=["page-1", "awaiting-queue", "capped-archive-page-2", "working-tab", "search"],
)
@pytest.mark.parametrize("cap", [10_000, 40])
def test_the_list_query_count_is_pinned(book, superuser, login, monkeypatch, params, cap):
    """The same number of queries whatever the view, the page, the book's size and
    whether the tabs are capped (issue 16): the counts are one query, the page one."""
    from orders import selectors

    monkeypatch.setattr(selectors, "TAB_COUNT_CAP", cap)
    client = login(superuser)
    client.get(LIST, params)  # the session and the caches warm
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, params)
    assert response.status_code == 200 and response.context["orders"]
    paginator = response.context["page_obj"].paginator
    keys_first = not paginator.capped and paginator.count <= OrderPaginator.few
    expected = PINNED_QUERIES + ("q" in params) + keys_first
    assert len(queries) == expected, [q["sql"][:80] for q in queries.captured_queries]


@pytest.mark.parametrize("selective", [False, True])
def test_the_working_queues_stay_exact_past_the_cap(db, selective):
    """A newcomer's trial: with the archive's cap at 1,000 a busy day's confirmed or
    awaiting orders read "1,000+"; the working queues are always counted exactly."""
    from tests.factories import OrderFactory

    made = [OrderFactory(confirmed=True).pk for _n in range(3)]
    made += [OrderFactory().pk for _n in range(3)]
    mine = Order.objects.filter(pk__in=made)
    counts = selectors.status_counts(mine, cap=2, selective=selective)
    for key in ("confirmed", "submitted", selectors.AWAITING):
        assert (int(counts[key]), counts[key].capped) == (3, False), key
