"""The order list: status tabs, filters, search, dates in the shop's time zone, sort,
pagination, bad query strings, and a query count that does not grow with the orders."""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order, PaymentMethod, Status
from tests.factories import ADDRESS, ProductFactory, UserFactory, logistics_person
from tests.staff.helpers import allocate, at_shop_time, confirm, pay, place

pytestmark = pytest.mark.django_db

LIST = reverse("staff:order-list")
# Every order: a bare LIST opens on the queue of the user's role (test_role_queues).
ALL = {"sort": "-placed_at"}


@pytest.fixture
def shop_tz(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


def numbers(response):
    return {o.number for o in response.context["orders"]}


@pytest.fixture
def orders(member, admin_user, finance_user, logistics_user):
    """Four orders in different states, members, payment methods and addresses."""
    zhang = UserFactory(username="zhang", email="zhang.wei@example.cn")
    submitted = place(member)
    confirmed = confirm(
        place(
            zhang,
            payment_method=PaymentMethod.BANK_TRANSFER,
            address=dict(ADDRESS, recipient="张伟", phone="139-1234-5678", city="杭州"),
        ),
        admin_user,
    )
    allocated = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    paid = confirm(
        place(
            member,
            payment_method=PaymentMethod.POSTAL_REMITTANCE,
            lines=[(ProductFactory(price=Decimal("80.00")), 3)],
        ),
        admin_user,
    )
    pay(paid, finance_user)
    return {
        "submitted": submitted,
        "confirmed": confirmed,
        "allocated": allocated,
        "paid": Order.objects.get(pk=paid.pk),
    }


def test_list_shows_rows_with_labels_and_tabs_with_counts(login, admin_user, orders):
    response = login(admin_user).get(LIST, ALL)
    assert response.status_code == 200
    assert numbers(response) == {o.number for o in orders.values()}
    tabs = {t["label"]: t["count"] for t in response.context["tabs"]}
    assert tabs["All"] == 4
    assert tabs["Awaiting confirmation"] == 1
    assert tabs["Confirmed"] == 2
    assert tabs["Allocated to delivery"] == 1
    assert tabs["Shipped"] == 0
    html = response.content.decode()
    row = orders["confirmed"]
    for text in (
        row.number,
        "张伟",
        "139-1234-5678",
        "杭州",
        "¥110.00",
        "Bank transfer",
        "Confirmed",
        "Unpaid",
        "zhang.wei@example.cn",
    ):
        assert text in html, text
    for raw in (">submitted<", ">bank_transfer<", ">partially_paid<", ">unpaid<"):
        assert raw not in html


def test_tabs_count_within_the_other_filters(login, admin_user, orders):
    response = login(admin_user).get(LIST, {"payment_method": "cod", "status": "allocated"})
    assert numbers(response) == {orders["allocated"].number}
    tabs = {t["label"]: t["count"] for t in response.context["tabs"]}
    assert (tabs["All"], tabs["Awaiting confirmation"], tabs["Allocated to delivery"]) == (2, 1, 1)
    active = [t["label"] for t in response.context["tabs"] if t["active"]]
    assert active == ["Allocated to delivery"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "submitted"}, {"submitted"}),
        ({"status": "confirmed"}, {"confirmed", "paid"}),
        ({"payment_status": "paid"}, {"paid"}),
        ({"payment_status": "unpaid"}, {"submitted", "confirmed", "allocated"}),
        ({"payment_method": "bank_transfer"}, {"confirmed"}),
        ({"payment_method": "cod", "status": "submitted"}, {"submitted"}),
        ({"assigned_to": "null"}, {"submitted", "confirmed", "paid"}),
        ({"queue": "awaiting_confirmation"}, {"submitted"}),
        ({"queue": "awaiting_allocation"}, {"confirmed", "paid"}),
        ({"queue": "awaiting_prepayment"}, {"confirmed"}),
    ],
)
def test_filters(login, admin_user, orders, params, expected):
    response = login(admin_user).get(LIST, params)
    assert response.context["form"].errors == {}
    assert numbers(response) == {orders[name].number for name in expected}


def test_filter_by_assignee(login, admin_user, orders, logistics_user):
    other = logistics_person()
    response = login(admin_user).get(LIST, {"assigned_to": logistics_user.pk})
    assert numbers(response) == {orders["allocated"].number}
    assert numbers(login(admin_user).get(LIST, {"assigned_to": other.pk})) == set()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("number", {"confirmed"}),  # exact order number
        ("number-lower", {"confirmed"}),
        ("number-compact", {"confirmed"}),
        ("张", {"confirmed"}),  # recipient, in part
        ("li we", {"submitted", "allocated", "paid"}),
        ("1234-56", {"confirmed"}),  # phone, in part, as typed
        ("13912345678", {"confirmed"}),  # phone digits without the dashes
        ("0013 8000", {"submitted", "allocated", "paid"}),
        ("zhang.wei@EXAMPLE", {"confirmed"}),  # member e-mail, in part
        ("nobody-at-all", set()),
    ],
)
def test_search(login, admin_user, orders, query, expected):
    number = orders["confirmed"].number
    query = {
        "number": number,
        "number-lower": number.lower(),
        "number-compact": number.replace("-", " ").lower(),
    }.get(query, query)
    response = login(admin_user).get(LIST, {"q": query})
    assert numbers(response) == {orders[name].number for name in expected}


def test_search_by_part_of_the_number(login, admin_user, orders):
    renumbered = {
        "confirmed": "7KQ2-M9XD",
        "paid": "H99C-5649",
        "submitted": "ABCD-EFGH",
        "allocated": "WXYZ-2345",
    }
    for name, number in renumbered.items():
        Order.objects.filter(pk=orders[name].pk).update(number=number)
    client = login(admin_user)
    for query, expected in [
        ("5649", {"paid"}),
        ("h99c", {"paid"}),
        ("7KQ2-M9", {"confirmed"}),
        ("q2m9", {"confirmed"}),  # across the dash, typed without it
        ("2 m9x", {"confirmed"}),
        ("9C5", {"paid"}),
        ("KQ2-M9XDZ", set()),
    ]:
        assert numbers(client.get(LIST, {"q": query})) == {renumbered[name] for name in expected}, (
            query
        )


def test_dates_are_days_in_the_shop_time_zone(login, admin_user, member, shop_tz):
    late = place(member)  # 23:30 in Shanghai on 10 March is 15:30 UTC the same day
    early = place(member)  # 00:30 in Shanghai on 11 March is 16:30 UTC on 10 March
    before = place(member)
    Order.objects.filter(pk=late.pk).update(placed_at=at_shop_time(2025, 3, 10, 23, 30))
    Order.objects.filter(pk=early.pk).update(placed_at=at_shop_time(2025, 3, 11, 0, 30))
    Order.objects.filter(pk=before.pk).update(placed_at=at_shop_time(2025, 3, 9, 23, 59))
    client = login(admin_user)

    day = {"placed_from": "2025-03-10", "placed_to": "2025-03-10"}
    assert numbers(client.get(LIST, day)) == {late.number}
    assert numbers(client.get(LIST, {"placed_from": "2025-03-11"})) == {early.number}
    assert numbers(client.get(LIST, {"placed_to": "2025-03-09"})) == {before.number}
    both = {"placed_from": "2025-03-10", "placed_to": "2025-03-11"}
    assert numbers(client.get(LIST, both)) == {late.number, early.number}


def test_sort(login, admin_user, orders):
    client = login(admin_user)
    by_total = [o.total for o in client.get(LIST, {"sort": "total"}).context["orders"]]
    assert by_total == sorted(by_total)
    assert by_total[-1] == Decimal("240.00")
    by_total_desc = [o.total for o in client.get(LIST, {"sort": "-total"}).context["orders"]]
    assert by_total_desc == sorted(by_total, reverse=True)
    by_number = [o.number for o in client.get(LIST, {"sort": "number"}).context["orders"]]
    assert by_number == sorted(by_number)
    by_status = [o.status for o in client.get(LIST, {"sort": "status"}).context["orders"]]
    assert by_status == [Status.SUBMITTED, Status.CONFIRMED, Status.CONFIRMED, Status.ALLOCATED]
    oldest_first = [o.pk for o in client.get(LIST, {"sort": "placed_at"}).context["orders"]]
    newest_first = [o.pk for o in client.get(LIST, ALL).context["orders"]]
    assert oldest_first == list(reversed(newest_first))


BAD_QUERIES = [
    {"page": "abc"},
    {"page": "99999"},
    {"page": "-1"},
    {"page": "0"},
    {"placed_from": "2025-13-45"},
    {"placed_to": "yesterday"},
    {"placed_from": "0001-01-01"},
    {"placed_to": "9999-12-31"},
    {"placed_from": "2025-03-10", "placed_to": "2025-03-01"},
    {"sort": "evil"},
    {"sort": "customer__password"},
    {"status": "nope"},
    {"payment_status": "PAID"},
    {"payment_method": "bitcoin"},
    {"assigned_to": "abc"},
    {"assigned_to": "99999999999999999999999999"},
    {"queue": "everything"},
    {"q": "x" * 500},
    {"q": "bad\x00byte"},
    {"q": "%' OR 1=1 --"},
]


@pytest.mark.parametrize(
    "params", BAD_QUERIES, ids=lambda p: "&".join(f"{k}={v[:20]!r}" for k, v in p.items())
)
def test_bad_query_strings_are_ignored_or_reported_never_a_500(login, admin_user, orders, params):
    client = login(admin_user)
    response = client.get(LIST, params)
    assert response.status_code == 200
    export = client.get(reverse("staff:order-export"), params)
    if set(params) - {"page", "q"} or params.get("q", "")[:1] in ("x", "b"):
        assert response.context["form"].errors, params
        assert "Some filters were ignored because they are not valid" in response.content.decode()
        # The export refuses rather than export every order; the list says which filter.
        assert export.status_code == 302
        location = urlsplit(export["Location"])
        assert location.path == LIST
        assert parse_qs(location.query) == {key: [value] for key, value in params.items()}
    else:
        assert response.context["form"].errors == {}
        assert export.status_code == 200
        b"".join(export.streaming_content)


def test_bad_filter_is_ignored_and_the_others_still_apply(login, admin_user, orders):
    response = login(admin_user).get(LIST, {"status": "nope", "payment_method": "bank_transfer"})
    assert "status" in response.context["form"].errors
    assert numbers(response) == {orders["confirmed"].number}


def test_pagination_50_per_page(login, admin_user, member):
    product = ProductFactory(stock=None)
    for _ in range(53):
        place(member, lines=[(product, 1)])
    client = login(admin_user)
    first = client.get(LIST, ALL)
    assert len(first.context["orders"]) == 50
    assert first.context["page_obj"].paginator.num_pages == 2
    second = client.get(LIST, {"page": "2"})
    assert len(second.context["orders"]) == 3
    assert not numbers(first) & numbers(second)
    assert client.get(LIST, {"page": "99999"}).context["page_obj"].number == 2
    assert client.get(LIST, {"page": "abc"}).context["page_obj"].number == 1


def _list_queries(client, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, params or ALL)
    assert response.status_code == 200
    return len(queries), response


def test_query_count_does_not_grow_with_the_orders(login, admin_user, logistics_user, member):
    product = ProductFactory(stock=None)
    client = login(admin_user)

    def make(count):
        for _ in range(count):
            order = place(UserFactory(), lines=[(product, 1)])
            allocate(confirm(order, admin_user), admin_user, logistics_user)

    filters = {"q": "Li", "status": "allocated", "assigned_to": logistics_user.pk, "sort": "total"}
    make(3)
    few, response = _list_queries(client)
    assert len(response.context["orders"]) == 3
    few_filtered, response = _list_queries(client, filters)
    assert len(response.context["orders"]) == 3
    make(27)
    many, response = _list_queries(client)
    assert len(response.context["orders"]) == 30
    many_filtered, response = _list_queries(client, filters)
    assert len(response.context["orders"]) == 30
    assert many == few
    assert many_filtered == few_filtered
    # 8, plus the bulk "allocate to" control: the role's permissions (services.may_ever)
    # and the list of couriers.
    assert few <= 10


@pytest.mark.parametrize(
    "role,expected_query",
    [
        ("admin_user", {"queue": "awaiting_confirmation", "sort": "placed_at"}),
        ("finance_user", {"queue": "awaiting_prepayment", "sort": "placed_at"}),
        ("logistics_user", {"status": "allocated", "sort": "placed_at"}),
        ("superuser", {"queue": "awaiting_confirmation", "sort": "placed_at"}),
    ],
)
def test_role_queues(
    request, login, admin_user, finance_user, logistics_user, role, expected_query
):
    """A bare /staff/orders/ opens on the work waiting for the role; "All" is one click."""
    member = UserFactory()
    submitted = place(member)
    prepaid = confirm(place(member, payment_method="bank_transfer"), admin_user)
    allocated = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    expected = {
        "admin_user": {submitted.number},
        "finance_user": {prepaid.number},
        "logistics_user": {allocated.number},
        "superuser": {submitted.number},
    }[role]
    client = login(request.getfixturevalue(role))

    response = client.get(LIST)
    assert response.status_code == 200
    assert numbers(response) == expected
    assert {k: v for k, v in response.context["filterset"].data.items() if v} == expected_query
    assert "Show all orders" in response.text

    everything = client.get(LIST + response.context["all_orders_url"])
    visible = {allocated.number} if role == "logistics_user" else None
    assert numbers(everything) == (visible or {submitted.number, prepaid.number, allocated.number})
    assert "Show all orders" not in everything.text


def test_rows_escape_what_people_typed(login, admin_user):
    """The rows are written in Python (``staff_tags.order_rows``): every value typed by a
    member is escaped as the template engine would."""
    evil = UserFactory(first_name='<img src=x onerror="1">', email="a&b@example.cn")
    order = place(
        evil,
        address=dict(ADDRESS, recipient="<script>alert(1)</script>", city='"Hang" & zhou'),
    )
    html = login(admin_user).get(LIST, ALL).content.decode()
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;1&quot;&gt;" in html
    assert "a&amp;b@example.cn" in html and "&quot;Hang&quot; &amp; zhou" in html
    assert f'<a href="/staff/orders/{order.number}/">{order.number}</a>' in html


@pytest.mark.parametrize(
    ("query", "likes"),
    [
        ("li we", 1),  # a name: the recipient only (and the members found by name)
        ("Zhang Wei", 1),
        ("ND8R-RMZ7", 2),  # a whole number: recipient and number
        ("q2m9", 5),  # part of a number: recipient, as typed, and the dash in 3 places
        ("0013 8000", 3),  # part of a phone: recipient, phone as typed, its digits alone
    ],
)
def test_a_search_tries_only_the_columns_its_text_can_be_part_of(admin_user, query, likes):
    """Every OR branch costs a scan of its trigram index, and with many PostgreSQL reads
    the whole table instead (issue 16): a name is not looked for in the order numbers."""
    from staff.filters import OrderFilter

    sql = str(OrderFilter({"q": query}, queryset=Order.objects.all()).qs.query).upper()
    assert sql.count(" LIKE ") == likes, sql


def test_a_searched_lists_tabs_are_counted_in_one_pass_with_the_same_result(
    orders, member, monkeypatch
):
    from orders import selectors

    later = orders["submitted"]
    Order.objects.filter(pk=later.pk).update(call_back_at=later.placed_at.replace(year=2999))
    found = Order.objects.filter(customer=member)
    per_status = selectors.status_counts(found)
    with CaptureQueriesContext(connection) as queries:
        one_pass = selectors.status_counts(found, selective=True)
    assert len(queries) == 1 and "COUNT(" not in queries[0]["sql"].upper()
    assert one_pass == per_status
    assert one_pass[Status.SUBMITTED] == found.filter(status=Status.SUBMITTED).count() >= 1
    assert one_pass[selectors.AWAITING] == one_pass[Status.SUBMITTED] - 1  # called back later
    # More matches than the one-pass limit: counted per status, the same figures.
    monkeypatch.setattr(selectors, "SELECTIVE_COUNT_LIMIT", 1)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.status_counts(found, selective=True) == per_status
    assert len(queries) == 2


# --- a newcomer's trial of the search (issue 16) ---------------------------------------------


def _found(client, query):
    return {o.number for o in client.get(LIST, {"q": query}).context["orders"]}


@pytest.mark.parametrize(
    ("family", "given", "queries"),
    [
        ("王", "小明", ["王小明", "王 小明", "小明"]),
        ("Smith", "John", ["John Smith", "Smith John", "john smith"]),
        ("Li", "Si", ["Si Li"]),
    ],
)
def test_a_members_whole_name_finds_their_orders_whoever_receives_them(
    login, admin_user, family, given, queries
):
    buyer = UserFactory(username="buyer-x", first_name=given, last_name=family)
    order = place(buyer, address={**ADDRESS, "recipient": "Anna Recipient"})
    client = login(admin_user)
    for query in queries:
        assert _found(client, query) == {order.number}, query


@pytest.mark.parametrize(
    "query", ["+86 138 0013", "+86 13800138000", "0086 138 0013", "138.0013.8000"]
)
def test_a_phone_said_with_the_country_code_or_dots_finds_it(login, admin_user, member, query):
    order = place(member, address={**ADDRESS, "phone": "138 0013 8000"})
    other = place(member, address={**ADDRESS, "phone": "139 1111 2222"})
    found = _found(login(admin_user), query)
    assert order.number in found and other.number not in found


@pytest.mark.parametrize("dash", ["\u2010", "\u2011", "\u2013", "\u2014", "\u2212", "\uff0d"])
def test_a_number_pasted_with_another_dash_or_an_invisible_character(
    login, admin_user, member, dash
):
    order = place(member)
    client = login(admin_user)
    assert _found(client, order.number.replace("-", dash)) == {order.number}
    assert _found(client, order.number + "\u200b") == {order.number}


def test_a_text_most_members_match_reads_their_orders_by_subquery(
    login, admin_user, member, monkeypatch
):
    from staff import filters

    monkeypatch.setattr(filters, "MEMBER_IDS_INLINE", 0)
    order = place(member)
    assert _found(login(admin_user), member.email) == {order.number}
