"""Bulk actions of the order list: tick orders, allocate them to one courier (each through
the service, a refusal reported without stopping the others), print, run sheet, picking."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from orders.models import Order, OrderEvent, Status
from staff.templatetags.staff_tags import person
from tests.factories import logistics_person
from tests.staff.helpers import allocate, confirm, messages_of, place, reload, snapshot

pytestmark = pytest.mark.django_db

LIST = reverse("staff:order-list")
BULK_ALLOCATE = reverse("staff:order-bulk-allocate")


@pytest.fixture(autouse=True)
def _english(client):
    """These tests read the English words of the pages."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def allocated_events(order):
    return list(
        OrderEvent.objects.filter(order=order, kind__in=["allocated", "reallocated"]).values_list(
            "kind", "actor__username", "data"
        )
    )


def test_bulk_allocate_with_one_refusal_among_three(login, member, admin_user, logistics_user):
    first = confirm(place(member), admin_user)
    not_confirmed = place(member)
    second = confirm(place(member), admin_user)
    client = login(admin_user)
    before = snapshot(not_confirmed)

    response = client.post(
        BULK_ALLOCATE,
        {
            "order": [first.number, not_confirmed.number, second.number],
            "assignee": logistics_user.pk,
            "next": f"{LIST}?status=confirmed",
        },
        follow=True,
    )

    assert response.redirect_chain == [(f"{LIST}?status=confirmed", 302)]
    name = person(logistics_user)
    for order in (first, second):
        order = reload(order)
        assert order.status == Status.ALLOCATED
        assert order.assigned_to == logistics_user
        assert allocated_events(order) == [
            (
                "allocated",
                "orderadmin",
                {"from": None, "from_name": None, "to": "courier", "to_name": name},
            )
        ]
    assert snapshot(not_confirmed) == before
    assert reload(not_confirmed).status == Status.SUBMITTED
    (text,) = messages_of(response)
    assert text == (
        f"2 orders allocated to {name}: {first.number}, {second.number}. "
        f"1 order not allocated: {not_confirmed.number} "
        "(Only confirmed orders can be allocated.)"
    )


def test_bulk_allocate_reassigns_and_reports_unknown_numbers(
    login, member, admin_user, logistics_user
):
    other = logistics_person(first_name="Wang", last_name="Fang")
    with_other = allocate(confirm(place(member), admin_user), admin_user, other)
    already_theirs = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    client = login(admin_user)
    response = client.post(
        BULK_ALLOCATE,
        {
            "order": [with_other.number, already_theirs.number, "NOPE-NOPE", with_other.number],
            "assignee": logistics_user.pk,
        },
        follow=True,
    )
    assert response.redirect_chain == [(LIST, 302)]
    assert reload(with_other).assigned_to == logistics_user
    assert allocated_events(with_other)[-1][0] == "reallocated"
    assert len(allocated_events(already_theirs)) == 1
    (text,) = messages_of(response)
    assert text.startswith(f"1 order allocated to {person(logistics_user)}: {with_other.number}. ")
    assert "2 orders not allocated: NOPE-NOPE (not found); " in text
    assert f"{already_theirs.number} (The order is already assigned to this person.)" in text


def test_bulk_allocate_refuses_more_than_200_orders(login, member, admin_user, logistics_user):
    order = confirm(place(member), admin_user)
    numbers = [order.number] + [f"X{i:07d}" for i in range(200)]
    before = snapshot(order)
    response = login(admin_user).post(
        BULK_ALLOCATE, {"order": numbers, "assignee": logistics_user.pk}, follow=True
    )
    assert messages_of(response) == ["Choose at most 200 orders at a time."]
    assert snapshot(order) == before


@pytest.mark.parametrize(
    "body,message",
    [
        ({"order": ["{n}"]}, "Choose the delivery person to allocate the orders to."),
        ({"order": ["{n}"], "assignee": "abc"}, "Select a valid choice."),
        ({"assignee": "{courier}"}, "Tick the orders to allocate first."),
        ({"order": ["", " "], "assignee": "{courier}"}, "Tick the orders to allocate first."),
    ],
)
def test_bulk_allocate_bad_input_changes_nothing(
    login, member, admin_user, logistics_user, body, message
):
    order = confirm(place(member), admin_user)
    fill = {"n": order.number, "courier": logistics_user.pk}
    data = {
        key: [v.format(**fill) for v in value] if isinstance(value, list) else value.format(**fill)
        for key, value in body.items()
    }
    before = snapshot(order)
    response = login(admin_user).post(BULK_ALLOCATE, data, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    (text,) = messages_of(response)
    assert text.startswith(message)
    assert snapshot(order) == before


def test_bulk_allocate_is_for_roles_that_may_allocate(
    login, member, admin_user, finance_user, logistics_user
):
    order = confirm(place(member), admin_user)
    before = snapshot(order)
    for user in (finance_user, logistics_user):
        response = login(user).post(
            BULK_ALLOCATE, {"order": [order.number], "assignee": logistics_user.pk}
        )
        assert response.status_code == 403
    assert snapshot(order) == before
    assert login(admin_user).get(BULK_ALLOCATE).status_code == 405


def test_order_list_offers_the_bulk_actions_by_role(login, member, admin_user, finance_user):
    order = confirm(place(member), admin_user)
    courier = logistics_person(first_name="Zhao", last_name="Lei")
    html = login(admin_user).get(LIST, {"sort": "-placed_at"}).content.decode()  # all orders
    assert f'<input type="checkbox" name="order" value="{order.number}"' in html
    assert 'id="bulk-all"' in html
    assert f'<option value="{courier.pk}">Zhao Lei</option>' in html
    assert f'formaction="{BULK_ALLOCATE}"' in html
    assert re.search(r'formaction="/staff/orders/print/" formtarget="_blank"', html)
    assert 'formaction="/staff/deliveries/run-sheet/"' in html
    assert 'formaction="/staff/deliveries/picking-list/"' in html

    html = login(finance_user).get(LIST, {"sort": "-placed_at"}).content.decode()
    assert f'value="{order.number}"' in html  # may print the sheets
    assert f'formaction="{BULK_ALLOCATE}"' not in html  # may not allocate
    assert 'name="assignee"' not in html


def test_the_selection_reaches_the_run_sheet_and_the_picking_list(
    login, member, admin_user, logistics_user
):
    order = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    client = login(admin_user)
    sheet = client.get(reverse("staff:run-sheet"), {"order": [order.number]})
    assert [o.number for o in sheet.context["stops"]] == [order.number]
    picking = client.get(reverse("staff:picking-list"), {"order": [order.number]})
    assert [r["units"] for r in picking.context["rows"]] == [2]
    assert Order.objects.get(pk=order.pk).status == Status.ALLOCATED
