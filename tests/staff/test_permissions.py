"""Who may open which back-office page and take which action (DESIGN: "Roles", "URLs").

Every staff URL and action × anonymous, member, order admin, finance, logistics. A
refusal (login redirect, 403, 404, 405) changes nothing: status, version, events,
payments, assignee and shipment are compared before and after.
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.models import Order, PaymentStatus, Status
from tests.staff.helpers import allocate, confirm, pay, place, reload, snapshot

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "member", "admin", "finance", "logistics"]
LOGIN = reverse("login")


@pytest.fixture
def actors(member, other_member, admin_user, finance_user, logistics_user):
    """Role name → user; "member" is a signed-in member who does not own the orders."""
    return {
        "anonymous": None,
        "member": other_member,
        "admin": admin_user,
        "finance": finance_user,
        "logistics": logistics_user,
    }


def client_as(client, user):
    if user is not None:
        client.force_login(user)
    return client


# --- pages -----------------------------------------------------------------------------------

PAGES = ["dashboard", "order-list", "order-export", "deliveries", "order-detail", "order-print"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_pages(client, actors, member, admin_user, logistics_user, role, page):
    order = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    before = snapshot(order)
    args = [order.number] if page in ("order-detail", "order-print") else []
    response = client_as(client, actors[role]).get(reverse(f"staff:{page}", args=args))
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN + "?next=/staff/")
    elif role == "member":
        assert response.status_code == 403
        assert b"You do not have access to this page" in response.content
    else:
        assert response.status_code == 200
    assert snapshot(order) == before


@pytest.mark.parametrize("page", ["order-detail", "order-print"])
def test_logistics_gets_404_for_an_order_not_assigned_to_them(
    client, member, admin_user, logistics_user, page
):
    unassigned = confirm(place(member), admin_user)
    someone_elses = allocate(confirm(place(member), admin_user), admin_user, _courier())
    client.force_login(logistics_user)
    for order in (unassigned, someone_elses):
        assert client.get(reverse(f"staff:{page}", args=[order.number])).status_code == 404


def _courier():
    from tests.factories import logistics_person

    return logistics_person()


def test_logistics_list_and_export_show_only_their_orders(
    client, member, admin_user, logistics_user
):
    mine = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    theirs = allocate(confirm(place(member), admin_user), admin_user, _courier())
    submitted = place(member)
    client.force_login(logistics_user)
    listing = client.get(reverse("staff:order-list"))
    assert [o.number for o in listing.context["orders"]] == [mine.number]
    export = b"".join(client.get(reverse("staff:order-export")).streaming_content).decode()
    assert mine.number in export
    assert theirs.number not in export and submitted.number not in export


def test_unknown_order_is_404(login, admin_user):
    client = login(admin_user)
    assert client.get(reverse("staff:order-detail", args=["NOPE-NOPE"])).status_code == 404
    assert client.post(reverse("staff:order-confirm", args=["NOPE-NOPE"])).status_code == 404


# --- actions -----------------------------------------------------------------------------------

# Which roles may take each action (DESIGN: "Roles"); logistics ships assigned orders only.
MAY = {
    "confirm": {"admin"},
    "invalidate": {"admin"},
    "cancel": {"admin"},
    "call": {"admin"},
    "allocate": {"admin"},
    "ship": {"admin", "logistics"},
    "payment": {"finance"},
    "refund": {"finance"},
    "void": {"finance"},
    "attempt": {"admin", "logistics"},
    "deliver": {"admin", "logistics"},
    "return": {"admin"},
}


def arrange(action, member, admin_user, finance_user, logistics_user):
    """Return ``(order, post data, check)`` with the order in a state the action needs."""
    if action in ("confirm", "invalidate", "cancel", "call"):
        order = place(member)
        data = {
            "confirm": {"version": order.version, "call_note": "Address checked."},
            "invalidate": {"reason": "Fake address."},
            "cancel": {"reason": "Member asked."},
            "call": {"outcome": "no_answer", "note": "Rang twice."},
        }[action]
        expected = {
            "confirm": Status.CONFIRMED,
            "invalidate": Status.INVALID,
            "cancel": Status.CANCELLED,
            "call": Status.SUBMITTED,
        }[action]

        def check(after, before):
            assert after["status"] == expected
            assert after["events"] == before["events"] + 1
            if action == "call":
                assert after["version"] == before["version"]

        return order, data, check
    if action == "allocate":
        order = confirm(place(member), admin_user)

        def check(after, before):
            assert after["status"] == Status.ALLOCATED
            assert after["assigned_to"] == logistics_user.pk

        return order, {"assignee": logistics_user.pk}, check
    if action == "ship":
        order = allocate(confirm(place(member), admin_user), admin_user, logistics_user)

        def check(after, before):
            assert after["status"] == Status.SHIPPED
            assert (after["carrier"], after["tracking_number"]) == ("SF Express", "SF123")

        return order, {"carrier": "SF Express", "tracking_number": "SF123"}, check
    if action in ("attempt", "deliver", "return"):
        order = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
        order = services.ship_order(admin_user, order, carrier=Order.OWN_DELIVERY_STAFF)
        data = {
            "attempt": {"outcome": "not_home", "note": "Rang twice."},
            "deliver": {"collected_amount": "110.00", "received_by": "Li Wei"},
            "return": {"reason": "Refused at the door.", "restock_choice": "all"},
        }[action]
        expected = {
            "attempt": Status.SHIPPED,
            "deliver": Status.DELIVERED,
            "return": Status.RETURNED,
        }[action]

        def check(after, before):
            assert after["status"] == expected
            assert after["events"] == before["events"] + 1
            if action == "attempt":
                assert after["version"] == before["version"]

        return order, data, check
    if action == "payment":
        order = confirm(place(member), admin_user)
        data = {
            "amount": "110.00",
            "method": "cod",
            "reference": "R-1",
            "received_on": timezone.localdate().isoformat(),
        }

        def check(after, before):
            assert after["payment_status"] == PaymentStatus.PAID
            assert after["payments"] == 1

        return order, data, check
    order = confirm(place(member), admin_user)
    payment = pay(order, finance_user)
    order = reload(order)
    if action == "refund":

        def check(after, before):
            # Money back: the 10.00 is owed again (DESIGN "Money: one rule").
            assert after["payment_status"] == PaymentStatus.PARTIALLY_PAID
            assert after["payments"] == 2

        return order, {"amount": "10.00", "reference": "RF-1", "kind": "money_back"}, check

    def check(after, before):
        assert after["payment_status"] == PaymentStatus.UNPAID
        assert after["voided"] == 1

    return order, {"payment": payment.pk, "reason": "Typed twice."}, check


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(MAY))
def test_actions(client, actors, member, admin_user, finance_user, logistics_user, role, action):
    order, data, check = arrange(action, member, admin_user, finance_user, logistics_user)
    before = snapshot(order)
    url = reverse(f"staff:order-{action}", args=[order.number])
    response = client_as(client, actors[role]).post(url, data)
    after = snapshot(order)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)
        assert after == before
    elif role not in MAY[action]:
        assert response.status_code == 403
        assert after == before
    else:
        assert response.status_code == 302
        assert response["Location"] == reverse("staff:order-detail", args=[order.number])
        check(after, before)


ONLY_POST = ["confirm", "allocate", "ship", "payment", "refund", "call", "attempt", "deliver"]


@pytest.mark.parametrize("action", ONLY_POST)
def test_get_on_a_post_only_action_is_405(client, member, admin_user, finance_user, action):
    order = confirm(place(member), admin_user)
    before = snapshot(order)
    user = finance_user if action in ("payment", "refund") else admin_user
    client.force_login(user)
    assert client.get(reverse(f"staff:order-{action}", args=[order.number])).status_code == 405
    assert snapshot(order) == before


@pytest.mark.parametrize("action", ["cancel", "invalidate"])
def test_destructive_actions_show_a_confirmation_page_first(login, member, admin_user, action):
    order = place(member)
    before = snapshot(order)
    response = login(admin_user).get(reverse(f"staff:order-{action}", args=[order.number]))
    assert response.status_code == 200
    assert b'name="reason"' in response.content and b"csrfmiddlewaretoken" in response.content
    assert snapshot(order) == before


def test_void_shows_the_entry_on_a_confirmation_page_first(login, member, admin_user, finance_user):
    order = confirm(place(member), admin_user)
    payment = pay(order, finance_user, amount=Decimal("30.00"), reference="BANK-77")
    before = snapshot(order)
    client = login(finance_user)
    url = reverse("staff:order-void", args=[order.number])
    response = client.get(url, {"payment": payment.pk})
    assert response.status_code == 200
    assert b"BANK-77" in response.content and "¥30.00" in response.content.decode()
    for bad in ("", "abc", "999999", "9" * 30):
        response = client.get(url, {"payment": bad})
        assert response.status_code == 302
    assert snapshot(order) == before


def test_confirmation_page_for_an_action_impossible_now_redirects_with_the_reason(
    login, member, admin_user, finance_user
):
    order = confirm(place(member), admin_user)
    pay(order, finance_user)
    before = snapshot(order)
    response = login(admin_user).get(
        reverse("staff:order-cancel", args=[order.number]), follow=True
    )
    assert "Money is held for this order: record the refund before cancelling it." in [
        str(m) for m in response.context["messages"]
    ]
    assert snapshot(order) == before


def test_action_refused_by_state_is_a_message_and_changes_nothing(login, member, admin_user):
    order = confirm(place(member), admin_user)
    before = snapshot(order)
    response = login(admin_user).post(
        reverse("staff:order-confirm", args=[order.number]),
        {"version": order.version, "call_note": "Again."},
        follow=True,
    )
    assert response.status_code == 200
    assert "The order is already confirmed." in [str(m) for m in response.context["messages"]]
    assert snapshot(order) == before


def test_logistics_ships_only_their_own_assigned_order(client, member, admin_user, logistics_user):
    theirs = allocate(confirm(place(member), admin_user), admin_user, _courier())
    mine = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    before = snapshot(theirs)
    client.force_login(logistics_user)
    data = {"carrier": "Own delivery staff", "tracking_number": "W-1"}
    response = client.post(reverse("staff:order-ship", args=[theirs.number]), data)
    assert response.status_code == 404
    assert snapshot(theirs) == before

    response = client.post(reverse("staff:order-ship", args=[mine.number]), data)
    assert response.status_code == 302
    mine = reload(mine)
    assert mine.status == Status.SHIPPED
    # The typed name of the shop's own couriers is stored as the carrier value "own".
    assert (mine.carrier, mine.tracking_number) == (Order.OWN_DELIVERY_STAFF, "W-1")


def test_detail_shows_only_the_actions_allowed_now(login, member, admin_user, finance_user):
    order = place(member)
    urls = {a: reverse(f"staff:order-{a}", args=[order.number]) for a in MAY}

    page = login(admin_user).get(reverse("staff:order-detail", args=[order.number]))
    html = page.content.decode()
    for action in ("confirm", "call", "invalidate", "cancel"):
        assert urls[action] in html, action
    for action in ("allocate", "ship", "payment", "refund", "void"):
        assert urls[action] not in html, action
    # Confirm, call and "I am calling now" are forms here; invalidate and cancel ask on a
    # page of their own.
    assert html.count('method="post" action="/staff/') == 3
    assert reverse("staff:order-calling", args=[order.number]) in html
    assert f'name="version" value="{order.version}"' in html

    page = login(finance_user).get(reverse("staff:order-detail", args=[order.number]))
    html = page.content.decode()
    assert page.context["allowed"] == set()
    for url in urls.values():
        assert url not in html
    assert "Nothing for you to do on this order now." in html
