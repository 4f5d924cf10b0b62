"""The confirmation desk's pages (issue 11): call-backs and the "Calls due" queue, ageing
and attempts in the list, the "reached afterwards" tick, the invalidation suggestion,
who is calling, changing an order for the member and taking an order by phone."""

import datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from mall.models import Product
from orders import services
from orders.models import Order, OrderEvent, Status
from tests.factories import ADDRESS, ProductFactory, UserFactory
from tests.staff.helpers import messages_of, place, reload

pytestmark = pytest.mark.django_db

LIST = "/staff/orders/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def url(name, order):
    return reverse(f"staff:order-{name}", args=[order.number])


def numbers(response):
    return [o.number for o in response.context["orders"]]


def queue(client, key):
    return numbers(client.get(LIST, {"queue": key}))


# --- call-backs and the queues -------------------------------------------------------------


def test_call_back_leaves_the_queue_and_comes_back_in_calls_due(login, member, admin_user):
    first = place(member)
    second = place(member)
    client = login(admin_user)
    when = timezone.localtime() + datetime.timedelta(minutes=10)
    client.post(
        url("call", first),
        {"outcome": "call_back", "call_back_at": when.strftime("%Y-%m-%dT%H:%M"), "note": ""},
    )
    assert reload(first).call_back_at is not None
    assert queue(client, "awaiting_confirmation") == [second.number]
    assert queue(client, "calls_due") == []
    # Time passes: the call-back is due (moved in the database, not slept).
    Order.objects.filter(pk=first.pk).update(
        call_back_at=timezone.now() - datetime.timedelta(minutes=12)
    )
    assert queue(client, "calls_due") == [first.number]
    assert set(queue(client, "awaiting_confirmation")) == {first.number, second.number}
    dashboard = {q["key"]: q for q in client.get("/staff/").context["queues"]}
    assert dashboard["calls_due"]["count"] == 1
    assert dashboard["calls_due"]["waiting"] == "due 12 min ago"
    page = client.get(url("detail", first)).content.decode()
    assert "Call back at" in page and "due 12 min ago" in page


def test_calls_due_lists_the_oldest_call_back_first(member, admin_user, login):
    orders = [place(member) for _ in range(3)]
    now = timezone.now()
    for minutes, order in zip((5, 30, 15), orders, strict=True):
        Order.objects.filter(pk=order.pk).update(
            call_back_at=now - datetime.timedelta(minutes=minutes)
        )
    assert queue(login(admin_user), "calls_due") == [
        orders[1].number,
        orders[2].number,
        orders[0].number,
    ]


def test_call_back_without_a_time_or_in_the_past_changes_nothing(login, member, admin_user):
    order = place(member)
    client = login(admin_user)
    past = (timezone.localtime() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    for body in ({"outcome": "call_back"}, {"outcome": "call_back", "call_back_at": past}):
        response = client.post(url("call", order), body, follow=True)
        assert response.status_code == 200
        assert reload(order).call_back_at is None
        assert not order.events.filter(kind=OrderEvent.Kind.CALL_LOGGED).exists()
    assert messages_of(response) == ["The call-back time is in the past."]


def test_the_call_form_offers_no_reached_outcome(login, member, admin_user):
    order = place(member)
    form = login(admin_user).get(url("detail", order)).context["forms"]["call"]
    assert [v for v, _label in form.fields["outcome"].choices] == [
        "no_answer",
        "wrong_number",
        "call_back",
    ]


# --- ageing and attempts ------------------------------------------------------------------


def test_list_shows_age_attempts_and_highlights_late_orders(
    login, member, admin_user, settings, django_assert_max_num_queries
):
    settings.MALL_CONFIRM_TARGET_HOURS = 24
    late = place(member)
    fresh = place(member)
    Order.objects.filter(pk=late.pk).update(placed_at=timezone.now() - datetime.timedelta(hours=30))
    for outcome in ("no_answer", "wrong_number"):
        services.log_call(admin_user, late, outcome=outcome)
    client = login(admin_user)
    response = client.get(LIST, {"queue": "awaiting_confirmation"})
    rows = {o.number: o for o in response.context["orders"]}
    assert (rows[late.number].call_attempts, rows[late.number].unanswered_calls) == (2, 2)
    assert rows[fresh.number].call_attempts == 0
    html = response.content.decode()
    assert html.count('class="staff-overdue"') == 1
    assert "waiting 30 h · 2 calls" in html
    dashboard = {q["key"]: q for q in client.get("/staff/").context["queues"]}
    assert dashboard["awaiting_confirmation"]["overdue"] == 1
    assert "1 waiting longer than 24 h" in client.get("/staff/").content.decode()


def test_awaiting_tab_counts_what_it_lists_a_future_call_back_stays_out(
    login, member, admin_user, settings
):
    """The "Awaiting confirmation" tab is the awaiting-confirmation queue (issue 11's rule):
    an order whose call-back is still to come is neither counted nor listed there, in the
    role's default view as in "All orders"; once due it is back, and overdue is the
    dashboard's rule (``selectors.overdue_q``), not the template's."""
    settings.MALL_CONFIRM_TARGET_HOURS = 24
    waiting, later, due = place(member), place(member), place(member)
    Order.objects.filter(pk__in=[waiting.pk, later.pk, due.pk]).update(
        placed_at=timezone.now() - datetime.timedelta(hours=30)
    )
    now = timezone.now()
    Order.objects.filter(pk=later.pk).update(call_back_at=now + datetime.timedelta(hours=2))
    Order.objects.filter(pk=due.pk).update(call_back_at=now - datetime.timedelta(minutes=5))
    client = login(admin_user)
    for params in ({}, {"sort": "-placed_at"}, {"payment_method": "cod"}):
        response = client.get(LIST, params)
        tab = next(t for t in response.context["tabs"] if t["label"] == "Awaiting confirmation")
        assert tab["count"] == 2, params
        listed = client.get(LIST + tab["url"])
        assert sorted(numbers(listed)) == sorted([waiting.number, due.number]), params
        assert listed.context["page_obj"].paginator.count == 2
        active = [t["label"] for t in listed.context["tabs"] if t["active"]]
        assert active == ["Awaiting confirmation"]
        assert listed.content.decode().count('class="staff-overdue"') == 2
    all_orders = client.get(LIST, {"sort": "-placed_at"})
    assert {t["label"]: t["count"] for t in all_orders.context["tabs"]}["All"] == 3
    assert later.number in numbers(all_orders)
    assert not {o.number: o for o in all_orders.context["orders"]}[later.number].overdue
    dashboard = {q["key"]: q for q in client.get("/staff/").context["queues"]}
    assert (dashboard["awaiting_confirmation"]["count"], dashboard["calls_due"]["count"]) == (2, 1)
    assert dashboard["awaiting_confirmation"]["overdue"] == 2


def test_unanswered_calls_suggest_marking_the_order_invalid(login, member, admin_user, settings):
    settings.MALL_MAX_CALL_ATTEMPTS = 3
    order = place(member)
    client = login(admin_user)
    for _n in range(3):
        assert client.get(url("detail", order)).context["desk"]["suggest_invalid_url"] == ""
        services.log_call(admin_user, order, outcome="no_answer")
    link = client.get(url("detail", order)).context["desk"]["suggest_invalid_url"]
    assert urlsplit(link).path == url("invalidate", order)
    reason = parse_qs(urlsplit(link).query)["reason"][0]
    assert reason == "Member unreachable: 3 calls unanswered."
    form = client.get(link).context["form"]
    assert form.initial["reason"] == reason
    assert reload(order).status == Status.SUBMITTED  # a suggestion, never automatic


# --- confirm: the call that reached the member ---------------------------------------------


def test_confirm_after_no_answer_shows_and_needs_the_tick(login, member, admin_user):
    order = place(member)
    services.log_call(admin_user, order, outcome="no_answer")
    client = login(admin_user)
    assert client.get(url("detail", order)).context["forms"]["confirm"].needs_tick is True
    body = {"version": order.version, "call_note": "Reached on the second try."}
    response = client.post(url("confirm", order), body, follow=True)
    assert reload(order).status == Status.SUBMITTED
    assert "I reached the member afterwards" in messages_of(response)[0]
    client.post(url("confirm", order), {**body, "reached_after_failed": "on"})
    assert reload(order).status == Status.CONFIRMED
    event = order.events.get(kind=OrderEvent.Kind.CONFIRMED)
    assert event.data["reached_after_failed"] is True
    assert event.note == "Reached on the second try."


# --- who is calling now ---------------------------------------------------------------------


def test_being_called_notice_for_other_admins(login, client, member, admin_user):
    other_admin = UserFactory(username="zhao", first_name="Zhao", last_name="Min")
    from django.contrib.auth.models import Group

    other_admin.groups.add(Group.objects.get(name="Order admins"))
    order = place(member)
    from django.test import Client

    second = Client()
    second.force_login(other_admin)
    second.cookies.load({"django_language": "en"})
    second.get(url("detail", order))
    first = login(admin_user)
    page = first.get(url("detail", order))
    assert page.context["desk"]["caller"]["name"] == "Zhao Min"
    assert "Being called by Zhao Min since" in page.content.decode()
    assert "being called by Zhao Min" in first.get(LIST).content.decode()
    assert second.get(url("detail", order)).context["desk"]["caller"] is None
    # Logging a call ends the notice; anyone may still act meanwhile.
    second.post(url("call", order), {"outcome": "no_answer"})
    assert first.get(url("detail", order)).context["desk"]["caller"] is None


# --- change the order for the member -------------------------------------------------------


def test_admin_changes_the_order_for_the_member_and_confirms_it(
    login, member, admin_user, django_capture_on_commit_callbacks
):
    mug = ProductFactory(sku="MUG-RED", name="Red mug", price=Decimal("50.00"), stock=10)
    tea = ProductFactory(sku="TEA-1", name="Green tea", price=Decimal("20.00"), stock=5)
    member.email = "li@example.com"
    member.save()
    order = place(member, lines=[(mug, 2)])
    client = login(admin_user)
    page = client.get(url("edit", order), {"find": "green"})
    assert page.status_code == 200
    assert [p.sku for p, _field in page.context["form"].add_fields()] == ["TEA-1"]
    sku_page = client.get(url("edit", order), {"find": "tea-1"})
    assert [p.sku for p, _field in sku_page.context["form"].add_fields()] == ["TEA-1"]
    body = {
        **ADDRESS,
        "city": "Suzhou",
        "payment_method": "cod",
        "note": "",
        "version": order.version,
        "reason": "As the member asked on the phone.",
        f"qty-{mug.pk}": "1",
        f"add-{tea.pk}": "3",
    }
    with django_capture_on_commit_callbacks(execute=True):
        with_mail = client.post(url("edit", order), body, follow=True)
    order = reload(order)
    assert order.version == 2 and order.city == "Suzhou"
    assert sorted(order.lines.values_list("sku", "quantity")) == [("MUG-RED", 1), ("TEA-1", 3)]
    assert order.total == Decimal("120.00")
    assert (Product.objects.get(pk=mug.pk).stock, Product.objects.get(pk=tea.pk).stock) == (9, 2)
    html = with_mail.content.decode()
    assert "Changed for the member" in html and "As the member asked on the phone." in html
    assert [m.to for m in mail.outbox] == [["li@example.com"]]
    confirm = client.post(
        url("confirm", order), {"version": order.version, "call_note": "Read back."}
    )
    assert confirm.status_code == 302
    assert reload(order).status == Status.CONFIRMED


def test_admin_edit_without_reason_or_beyond_stock_keeps_the_form(login, member, admin_user):
    mug = ProductFactory(sku="MUG-RED", price=Decimal("50.00"), stock=3)
    order = place(member, lines=[(mug, 1)])
    client = login(admin_user)
    body = {
        **ADDRESS,
        "payment_method": "cod",
        "note": "",
        "version": order.version,
        "reason": "",
        f"qty-{mug.pk}": "2",
    }
    response = client.post(url("edit", order), body)
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    response = client.post(url("edit", order), {**body, "reason": "Asked", f"qty-{mug.pk}": "9"})
    assert response.status_code == 200
    assert "not enough stock" in str(response.context["form"].non_field_errors())
    assert response.context["form"]["reason"].value() == "Asked"
    assert reload(order).version == 1
    assert Product.objects.get(pk=mug.pk).stock == 2


def test_admin_edit_of_a_confirmed_order_is_refused_with_a_message(login, member, admin_user):
    order = services.confirm_order(admin_user, place(member), expected_version=1, call_note="OK.")
    client = login(admin_user)
    response = client.get(url("edit", order), follow=True)
    assert messages_of(response) == ["The order is already confirmed."]
    assert reload(order).version == order.version


# --- orders taken by phone -----------------------------------------------------------------


def test_admin_takes_a_phone_order_for_a_new_member(login, admin_user):
    mug = ProductFactory(sku="MUG-RED", name="Red mug", price=Decimal("50.00"), stock=10)
    client = login(admin_user)
    found = client.get("/staff/orders/new/", {"member_q": "138 0013"})
    assert found.context["members"] == []
    created = client.post(
        "/staff/orders/new/",
        {"step": "member", "name": "Wang Fang", "phone": "138 0013 8000", "email": ""},
    )
    assert created.status_code == 302
    member = UserFactory._meta.model.objects.get(username="13800138000")
    assert not member.has_usable_password()
    assert created["Location"] == f"/staff/orders/new/?member={member.pk}"
    page = client.get("/staff/orders/new/", {"member": member.pk, "find": "red"})
    form = page.context["form"]
    assert form.initial["recipient"] == "Wang Fang"
    assert form.initial["phone"] == "13800138000"
    assert [p.sku for p, _f in form.add_fields()] == ["MUG-RED"]
    body = {
        **ADDRESS,
        "recipient": "Wang Fang",
        "step": "order",
        "member": member.pk,
        "token": form.initial["token"],
        "payment_method": "cod",
        "note": "",
        f"add-{mug.pk}": "2",
        "confirm_now": "on",
        "call_note": "Items and address read back.",
    }
    response = client.post("/staff/orders/new/", body, follow=True)
    order = Order.objects.get(customer=member)
    assert order.status == Status.CONFIRMED
    assert order.total == Decimal("110.00")
    assert Product.objects.get(pk=mug.pk).stock == 8
    placed, confirmed = order.events.order_by("pk")
    assert (placed.kind, placed.actor, placed.data["for_member"]["id"]) == (
        "placed",
        admin_user,
        member.pk,
    )
    assert (confirmed.kind, confirmed.note) == ("confirmed", "Items and address read back.")
    assert messages_of(response) == [f"Order {order.number} is placed for Wang Fang and confirmed."]
    # The same form posted twice places one order.
    client.post("/staff/orders/new/", body)
    assert Order.objects.filter(customer=member).count() == 1
    # The member is found again by phone, and the address comes from the last order.
    again = client.get("/staff/orders/new/", {"member_q": "13800138000"})
    assert again.context["members"] == [member]
    prefilled = client.get("/staff/orders/new/", {"member": member.pk}).context["form"]
    assert prefilled.initial["address_line"] == ADDRESS["address_line"]


def test_phone_order_page_is_for_order_admins_only(login, finance_user, logistics_user, member):
    for user in (finance_user, logistics_user):
        client = login(user)
        assert client.get("/staff/orders/new/").status_code == 403
        assert (
            client.post(
                "/staff/orders/new/", {"step": "member", "name": "X", "phone": "13800138000"}
            ).status_code
            == 403
        )
    assert not UserFactory._meta.model.objects.filter(username="13800138000").exists()
