"""Back-office fixes from the QA pass: the order sheet's state banners, sorting both ways,
allocating from a stale page, partial-number and username search, the empty action box,
the export with a bad filter, the subnav per role and the refund-due queue."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from orders import services
from orders.models import Order, OrderEvent, Payment, PaymentMethod, PaymentStatus, Status
from staff.filters import SORT_CHOICES
from tests.factories import ADDRESS, OrderFactory, ProductFactory, UserFactory, order_admin
from tests.staff.helpers import allocate, confirm, messages_of, pay, place, reload, snapshot

pytestmark = pytest.mark.django_db

LIST = reverse("staff:order-list")
# Every order: a bare LIST opens on the queue of the user's role (test_role_queues).
ALL = {"sort": "-placed_at"}
DASHBOARD = reverse("staff:dashboard")


def url(name, order):
    return reverse(f"staff:order-{name}", args=[order.number])


def refund_all(order, finance, reference="RF-1"):
    return services.record_refund(
        finance, order, amount=order.total, reference=reference, credit_note=False
    )


# --- 1. the printable order sheet -----------------------------------------------------------


def test_sheet_of_a_cancelled_order_says_do_not_deliver_and_collects_nothing(
    login, member, admin_user
):
    order = services.cancel_order(admin_user, place(member), reason="Member asked.")
    html = login(admin_user).get(url("print", order)).content.decode()
    assert html.count("CANCELLED — DO NOT DELIVER") == 2  # at the top and where cash would be
    assert "Status: <strong>Cancelled</strong>" in html
    assert "Payment: <strong>Unpaid</strong> (Cash on delivery)" in html
    assert "courier collects" not in html
    assert "collect nothing" not in html
    assert "staff-sheet-collect" not in html
    assert "NOT CONFIRMED YET" not in html


def test_sheet_of_an_invalid_prepaid_order_says_do_not_deliver(login, member, admin_user):
    order = services.invalidate_order(
        admin_user, place(member, payment_method=PaymentMethod.BANK_TRANSFER), reason="Fake."
    )
    html = login(admin_user).get(url("print", order)).content.decode()
    assert "INVALID — DO NOT DELIVER" in html
    assert "Status: <strong>Invalid</strong>" in html
    assert "Prepaid" not in html
    assert "staff-sheet-collect" not in html


def test_sheet_of_a_submitted_order_says_not_confirmed_yet(login, member, admin_user):
    order = place(member)
    html = login(admin_user).get(url("print", order)).content.decode()
    assert "NOT CONFIRMED YET" in html
    assert "Status: <strong>Awaiting confirmation</strong>" in html
    assert "DO NOT DELIVER" not in html
    assert "the courier collects: <strong>¥110.00</strong>" in html


def test_sheet_of_a_confirmed_paid_order_has_no_banner(login, member, admin_user, finance_user):
    order = confirm(place(member), admin_user)
    pay(order, finance_user)
    html = login(admin_user).get(url("print", order)).content.decode()
    assert "staff-sheet-banner" not in html
    assert "Status: <strong>Confirmed</strong>" in html
    assert "Payment: <strong>Paid</strong>" in html
    assert "already paid in full: collect nothing" in html


# --- 2. sorting by every column, both ways --------------------------------------------------


@pytest.fixture
def three_orders(member, admin_user):
    """A submitted, a confirmed and a cancelled order with known numbers and totals."""
    submitted = place(member)
    confirmed = confirm(place(member), admin_user)
    cancelled = services.cancel_order(admin_user, place(member), reason="No.")
    for order, number in (
        (submitted, "BBBB-2222"),
        (confirmed, "AAAA-3333"),
        (cancelled, "CCCC-4444"),
    ):
        Order.objects.filter(pk=order.pk).update(number=number)
    return {"submitted": "BBBB-2222", "confirmed": "AAAA-3333", "cancelled": "CCCC-4444"}


@pytest.mark.parametrize(
    ("column", "first_click", "second_click"),
    [
        (
            "number",
            ["AAAA-3333", "BBBB-2222", "CCCC-4444"],
            ["CCCC-4444", "BBBB-2222", "AAAA-3333"],
        ),
        (
            "status",
            ["BBBB-2222", "AAAA-3333", "CCCC-4444"],
            ["CCCC-4444", "AAAA-3333", "BBBB-2222"],
        ),
    ],
)
def test_clicking_a_header_twice_sorts_the_other_way_without_errors(
    login, admin_user, three_orders, column, first_click, second_click
):
    client = login(admin_user)
    once = client.get(LIST + client.get(LIST, ALL).context["sort_links"][column]["url"])
    assert once.context["form"].errors == {}
    assert [o.number for o in once.context["orders"]] == first_click
    assert once.context["sort_links"][column]["arrow"] == "▲"

    twice = client.get(LIST + once.context["sort_links"][column]["url"])
    assert twice.context["form"].errors == {}
    assert "Some filters were ignored" not in twice.content.decode()
    assert twice.context["filterset"].current_sort == f"-{column}"
    assert [o.number for o in twice.context["orders"]] == second_click
    assert twice.context["sort_links"][column]["arrow"] == "▼"


def test_every_header_link_is_a_sort_the_filter_accepts(login, admin_user, three_orders):
    accepted = {value for value, _label in SORT_CHOICES}
    client = login(admin_user)
    seen = set()
    for start in sorted(accepted):
        response = client.get(LIST, {"sort": start})
        assert response.context["form"].errors == {}, start
        for link in response.context["sort_links"].values():
            seen.add(re.search(r"sort=(-?\w+)", link["url"]).group(1))
    # Every header link is an accepted sort; the one sort no header offers is the
    # "Calls due" queue's own (call-back time), chosen in the sort box.
    assert seen == accepted - {"call_back_at"}
    assert {"-number", "number", "-status", "status"} <= seen


# --- 3. allocating from a stale page ---------------------------------------------------------


def test_allocating_to_the_person_who_already_has_it_says_so(
    login, member, admin_user, logistics_user
):
    order = confirm(place(member), admin_user)
    client = login(admin_user)
    page = client.get(url("detail", order))  # the admin opens the page: nobody assigned yet
    offered = [
        getattr(value, "value", value)
        for value, _ in page.context["forms"]["allocate"].fields["assignee"].choices
    ]
    assert logistics_user.pk in offered

    allocate(order, order_admin(username="admin2"), logistics_user)  # meanwhile, elsewhere
    before = snapshot(order)

    response = client.post(url("allocate", order), {"assignee": logistics_user.pk}, follow=True)
    assert response.redirect_chain == [(url("detail", order), 302)]
    assert messages_of(response) == ["The order is already assigned to this person."]
    assert "Select a valid choice" not in response.content.decode()
    assert snapshot(order) == before
    assert OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.REALLOCATED).count() == 0

    # The page now marks who has it, and still offers everyone.
    choices = {
        getattr(value, "value", value): str(label)
        for value, label in response.context["forms"]["allocate"].fields["assignee"].choices
    }
    assert choices[logistics_user.pk] == (
        f"{logistics_user.get_full_name()} ({logistics_user.username}) — has it now"
    )


# --- 5. search by part of the number and by username ----------------------------------------


def test_search_finds_part_of_the_number_and_the_members_username(login, member, admin_user):
    wang = UserFactory(username="wangfang88", first_name="Fang", last_name="Wang")
    theirs = place(wang)
    mine = place(member)
    Order.objects.filter(pk=theirs.pk).update(number="H99C-5649")
    Order.objects.filter(pk=mine.pk).update(number="K7M2-XY3Q")
    client = login(admin_user)

    def found(query):
        return [o.number for o in client.get(LIST, {"q": query}).context["orders"]]

    assert found("5649") == ["H99C-5649"]
    assert found("h99c") == ["H99C-5649"]
    assert found("9c56") == ["H99C-5649"]  # across the dash
    assert found("wangfang") == ["H99C-5649"]  # username, as the Member column shows it
    assert found("WANGFANG88") == ["H99C-5649"]
    assert found("member") == ["K7M2-XY3Q"]
    assert found("fang") == ["H99C-5649"]  # first name
    assert found("zzzz-9") == []


# --- 6. nothing to do: say so -----------------------------------------------------------------


def test_finance_on_a_cancelled_refunded_order_may_still_record_a_late_transfer(
    login, member, admin_user, finance_user
):
    order = confirm(place(member), admin_user)
    pay(order, finance_user)
    refund_all(order, finance_user)
    order = services.cancel_order(admin_user, reload(order), reason="Out of stock.")
    assert (order.status, order.payment_status) == (Status.CANCELLED, PaymentStatus.REFUNDED)

    response = login(finance_user).get(url("detail", order))
    # DESIGN "Money: one rule": a late transfer still arrives on a cancelled order.
    assert response.context["allowed"] == {"payment", "void"}
    html = response.content.decode()
    box = html[
        html.index('id="actions-title"') : html.index("</section>", html.index("actions-title"))
    ]
    assert "Record a payment received" in box
    assert "Nothing for you to do on this order now." not in box


def test_the_nothing_to_do_line_is_absent_when_there_is_something(
    login, member, admin_user, finance_user
):
    order = confirm(place(member), admin_user)
    html = login(finance_user).get(url("detail", order)).content.decode()
    assert "Record a payment received" in html
    assert "Nothing for you to do on this order now." not in html


# --- 7. the export refuses a bad filter ---------------------------------------------------------


def test_export_with_a_bad_filter_is_refused_and_the_list_says_why(login, member, admin_user):
    place(member)
    client = login(admin_user)
    response = client.get(
        reverse("staff:order-export"), {"status": "bogus", "q": "li"}, follow=True
    )
    ((target, code),) = response.redirect_chain
    assert code == 302
    assert target.startswith(LIST + "?")
    assert "status=bogus" in target and "q=li" in target
    assert messages_of(response) == ["The export was not made: fix the filters first."]
    html = response.content.decode()
    assert "Some filters were ignored because they are not valid" in html
    assert response["Content-Type"].startswith("text/html")

    good = client.get(reverse("staff:order-export"), {"status": "submitted"})
    assert good.status_code == 200
    assert good["Content-Type"] == "text/csv; charset=utf-8"
    assert len(b"".join(good.streaming_content).decode("utf-8-sig").splitlines()) == 2


# --- 11. the subnav shows what each role can open -------------------------------------------------


@pytest.mark.parametrize(
    "role,extra",
    [
        ("admin_user", {"Cash", "E-mail outbox"}),  # the outbox: issue 15
        ("finance_user", {"Cash", "COD settlements"}),
        ("logistics_user", set()),
    ],
)
def test_every_subnav_link_opens_for_the_role(request, login, role, extra):
    user = request.getfixturevalue(role)
    client = login(user)
    html = client.get(DASHBOARD).content.decode()
    nav = re.search(r'<nav class="subnav staff-subnav".*?</nav>', html, re.S).group(0)
    links = {label: href for href, label in re.findall(r'href="([^"]+)"[^>]*>([^<]+)</a>', nav)}
    expected = {"Dashboard", "Orders", "Deliveries"} | extra
    if role != "logistics_user":
        expected.add("Reports")  # issue 12: order admins and finance
    assert set(links) == expected
    for label, href in links.items():
        assert client.get(href).status_code == 200, label


def test_finance_opens_a_couriers_deliveries_from_the_subnav(
    login, member, admin_user, finance_user, logistics_user
):
    order = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    client = login(finance_user)
    response = client.get(reverse("staff:deliveries"), {"courier": logistics_user.pk})
    assert response.status_code == 200
    assert [o.number for o in response.context["to_deliver"]] == [order.number]
    assert response.context["to_deliver"][0].to_collect == Decimal("110.00")


# --- 12. the refund-due queue ------------------------------------------------------------------


@pytest.fixture
def money_on_a_cancelled_order(member, admin_user, finance_user):
    """A cancelled order still holding 110.00: its refund was voided after the cancel."""
    order = confirm(place(member), admin_user)
    pay(order, finance_user)
    refund = refund_all(order, finance_user)
    services.cancel_order(admin_user, reload(order), reason="Out of stock.")
    services.void_payment(finance_user, refund, reason="The bank returned the refund.")
    order = reload(order)
    assert (order.status, order.payment_status) == (Status.CANCELLED, PaymentStatus.PAID)
    return order


@pytest.mark.parametrize("role", ["admin_user", "finance_user"])
def test_refund_due_queue_on_the_dashboard_and_in_the_list(
    request, login, member, admin_user, money_on_a_cancelled_order, role
):
    confirm(place(member), admin_user)  # an ordinary order: not in the queue
    services.cancel_order(admin_user, place(member), reason="No money involved.")
    client = login(request.getfixturevalue(role))

    response = client.get(DASHBOARD)
    queue = {q["key"]: q for q in response.context["queues"]}["refund_due"]
    assert queue["count"] == 1
    html = response.content.decode()
    assert "Refund due (money held beyond what is owed)" in html
    assert 'href="/staff/orders/?queue=refund_due&amp;sort=placed_at"' in html

    listing = client.get(queue["url"])
    assert listing.context["form"].errors == {}
    assert [o.number for o in listing.context["orders"]] == [money_on_a_cancelled_order.number]
    assert "queue: Refund due (money held beyond what is owed)" in (listing.content.decode())


def test_finance_refunds_what_the_queue_shows_and_it_leaves_the_queue(
    login, finance_user, money_on_a_cancelled_order
):
    order = money_on_a_cancelled_order
    client = login(finance_user)
    detail = client.get(url("detail", order))
    assert "refund" in detail.context["allowed"]
    assert detail.context["money"]["credit_due"] == Decimal("110.00")

    client.post(
        url("refund", order), {"amount": "110.00", "reference": "RF-2", "kind": "money_back"}
    )
    assert reload(order).payment_status == PaymentStatus.REFUNDED
    assert Payment.objects.filter(order=order, kind="refund", voided_at__isnull=True).count() == 1
    queue = {q["key"]: q for q in client.get(DASHBOARD).context["queues"]}["refund_due"]
    assert queue["count"] == 0


# --- 4. long unbroken text does not widen the back-office pages (Chromium) ------------------


LONG_ADDRESS = dict(
    ADDRESS, recipient="R" * 100, address_line="A" * 255, city="C" * 100, region="G" * 100
)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_long_unbroken_text_keeps_staff_pages_at_the_window_width(
    page_width, member, admin_user, logistics_user, width
):
    product = ProductFactory(name="P" * 200, sku="S" * 90, stock=None)
    submitted = OrderFactory(
        customer=member, address=LONG_ADDRESS, note="N" * 1000, lines=[(product, 1)]
    )
    on_the_road = allocate(
        confirm(
            OrderFactory(customer=member, address=LONG_ADDRESS, lines=[(product, 1)]), admin_user
        ),
        admin_user,
        logistics_user,
    )
    shipped = allocate(
        confirm(
            OrderFactory(customer=member, address=LONG_ADDRESS, lines=[(product, 1)]), admin_user
        ),
        admin_user,
        logistics_user,
    )
    services.ship_order(admin_user, shipped, carrier="K" * 100, tracking_number="T" * 100)
    paths = [
        LIST,
        url("detail", submitted),
        url("detail", on_the_road),
        f"{reverse('staff:deliveries')}?courier={logistics_user.pk}",
    ]
    if width >= 800:  # the order sheet is an A4 page, not a phone page
        paths += [url("print", submitted), url("print", on_the_road)]
    for path in paths:
        assert page_width(admin_user, path, width) == width, path
    assert page_width(logistics_user, reverse("staff:deliveries"), width) == width
