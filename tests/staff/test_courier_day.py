"""The courier's day: the deliveries page (shipped and allocated orders, attempts, cash),
the printable run sheet, the picking list and several order sheets at once."""

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.models import CodCollection, Order, OrderEvent, PaymentMethod, Status
from tests.factories import ProductFactory, logistics_person
from tests.staff.helpers import allocate, confirm, pay, place, reload

pytestmark = pytest.mark.django_db

DELIVERIES = reverse("staff:deliveries")
RUN_SHEET = reverse("staff:run-sheet")
PICKING = reverse("staff:picking-list")
PRINT_MANY = reverse("staff:order-print-many")


@pytest.fixture(autouse=True)
def _english(client):
    """These tests read the English words of the pages."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def out(order, admin, courier, *, carrier=Order.OWN_DELIVERY_STAFF, waybill=""):
    """Confirm, allocate to ``courier`` and ship ``order``."""
    order = allocate(confirm(order, admin), admin, courier)
    return services.ship_order(admin, order, carrier=carrier, tracking_number=waybill)


def attempt(order, actor, outcome="not_home", next_attempt_on=None):
    return services.record_delivery_attempt(
        actor, reload(order), outcome=outcome, next_attempt_on=next_attempt_on
    )


@pytest.fixture
def day(member, admin_user, finance_user, logistics_user):
    """A courier's day. Every order is 2 × 50.00 + 10.00 shipping = 110.00 unless said.

    - ``allocated``: cash on delivery, 30.00 paid by transfer: 80.00 to collect;
    - ``own``: cash on delivery out with the courier, two failed attempts: 110.00;
    - ``prepaid``: bank transfer paid in full, out with SF Express: collect nothing;
    - ``carrier_cod``: cash on delivery out with SF Express: the carrier collects;
    - ``tomorrow``: cash on delivery out, the member asked for tomorrow: 110.00;
    - ``delivered``: delivered today, 110.00 taken and still in the courier's hands;
    - ``someone_elses``: out with another courier.
    """
    d = type("Day", (), {})()
    d.allocated = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    pay(d.allocated, finance_user, amount=Decimal("30.00"))
    d.own = out(place(member), admin_user, logistics_user)
    attempt(d.own, logistics_user)
    attempt(d.own, logistics_user, outcome="postponed", next_attempt_on=timezone.localdate())
    prepaid = confirm(place(member, payment_method=PaymentMethod.BANK_TRANSFER), admin_user)
    pay(prepaid, finance_user)
    d.prepaid = services.ship_order(
        admin_user,
        allocate(reload(prepaid), admin_user, logistics_user),
        carrier="SF Express",
        tracking_number="SF-1",
    )
    d.carrier_cod = out(
        place(member), admin_user, logistics_user, carrier="SF Express", waybill="SF-2"
    )
    d.tomorrow = out(place(member), admin_user, logistics_user)
    attempt(
        d.tomorrow,
        logistics_user,
        outcome="postponed",
        next_attempt_on=timezone.localdate() + datetime.timedelta(days=1),
    )
    delivered = out(place(member), admin_user, logistics_user)
    d.delivered = services.record_delivery(
        logistics_user, delivered, collected_amount=Decimal("110.00"), received_by="Li"
    )
    d.someone_elses = out(place(member), admin_user, logistics_person())
    return d


# --- the deliveries page ----------------------------------------------------------------------


def test_deliveries_list_the_couriers_allocated_and_shipped_orders_with_cash(
    login, day, logistics_user
):
    response = login(logistics_user).get(DELIVERIES)
    assert response.status_code == 200
    context = response.context
    assert [o.number for o in context["to_deliver"]] == [day.allocated.number]
    shipped = {o.number: o for o in context["shipped"]}
    assert set(shipped) == {
        day.own.number,
        day.prepaid.number,
        day.carrier_cod.number,
        day.tomorrow.number,
    }
    # Agreed dates first (today before tomorrow), then the rest by shipping time.
    assert [o.number for o in context["shipped"]][:2] == [day.own.number, day.tomorrow.number]

    allocated = context["to_deliver"][0]
    assert allocated.to_collect == Decimal("80.00") and allocated.courier_collects
    assert shipped[day.own.number].to_collect == Decimal("110.00")
    assert shipped[day.own.number].attempts == 2
    assert shipped[day.own.number].next_attempt_on == timezone.localdate()
    assert shipped[day.tomorrow.number].attempts == 1
    assert shipped[day.prepaid.number].to_collect is None
    assert shipped[day.prepaid.number].attempts == 0
    assert shipped[day.carrier_cod.number].to_collect == Decimal("110.00")
    assert shipped[day.carrier_cod.number].courier_collects is False

    # Today: every order except the one agreed for tomorrow; the cash the courier takes
    # (80.00 + 110.00; SF Express collects its own); what they hold since this morning.
    assert context["stops_left"] == 4
    assert context["cash_total"] == Decimal("190.00")
    assert context["cash_in_hand"] == Decimal("110.00")
    assert CodCollection.objects.get(order=day.delivered).amount == Decimal("110.00")

    html = response.content.decode()
    assert day.someone_elses.number not in html
    assert day.delivered.number not in html
    assert 'href="tel:13800138000"' in html
    assert "Collect on delivery <strong>¥80.00</strong>" in html
    # The 30.00 paid shows as less to collect, not as a "Partially paid" badge beside it.
    assert 'class="badge pay-' not in html
    assert "Prepaid: collect nothing" in html
    assert "SF Express collects ¥110.00" in html
    assert "2 attempts so far" in html
    assert "0 attempts so far" in html
    assert f"next attempt {timezone.localdate():%Y-%m-%d}" in html
    assert "2 × " in html
    # The one-tap "leave with own courier" posts the shop's own carrier value.
    ship_url = reverse("staff:order-ship", args=[day.allocated.number])
    leave = re.search(rf'<form method="post" action="{ship_url}">(.*?)</form>', html, re.S)
    assert 'name="carrier" value="own"' in leave.group(1)
    assert f'name="next" value="{DELIVERIES}"' in leave.group(1)
    assert "Leave with own courier" in leave.group(1)


def test_one_tap_forms_post_to_the_order_actions(login, day, logistics_user):
    """Delivered: cash taken empty, the due in its label; failed attempt: outcome buttons.

    The forms post to the order's ``deliver`` and ``attempt`` actions, back to this page.
    """
    html = login(logistics_user).get(DELIVERIES).content.decode()
    deliver = reverse("staff:order-deliver", args=[day.own.number])
    attempt_url = reverse("staff:order-attempt", args=[day.own.number])
    own_form = re.search(rf'<form [^>]*action="{deliver}">(.*?)</form>', html, re.S).group(1)
    assert 'name="collected_amount" value=""' in own_form
    assert "Cash taken (due ¥110.00)" in own_form
    assert 'name="next" value="/staff/deliveries/"' in own_form
    prepaid_deliver = reverse("staff:order-deliver", args=[day.prepaid.number])
    prepaid_form = re.search(
        rf'<form [^>]*action="{prepaid_deliver}">(.*?)</form>', html, re.S
    ).group(1)
    assert "collected_amount" not in prepaid_form  # prepaid: nothing to take
    attempt_form = re.search(rf'<form [^>]*action="{attempt_url}">(.*?)</form>', html, re.S)
    buttons = re.findall(r'name="outcome" value="(\w+)"', attempt_form.group(1))
    assert buttons == ["not_home", "wrong_address", "refused", "postponed", "other"]


def test_deliveries_query_count_is_the_same_for_one_and_five_orders(
    login, member, admin_user, logistics_user, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(logistics_user)

    def add_orders(n):
        for i in range(n):
            order = out(place(member), admin_user, logistics_user)
            attempt(order, logistics_user)
            if i % 2:
                allocate(confirm(place(member), admin_user), admin_user, logistics_user)

    add_orders(1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(DELIVERIES).status_code == 200
    add_orders(4)
    with django_assert_num_queries(len(one)):
        response = client.get(DELIVERIES)
    assert len(response.context["shipped"]) == 5
    assert len(response.context["to_deliver"]) == 2


def test_admin_and_finance_view_anyones_list_a_courier_only_their_own(
    login, day, admin_user, finance_user, logistics_user
):
    other = Order.objects.get(pk=day.someone_elses.pk).assigned_to
    for user in (admin_user, finance_user):
        response = login(user).get(DELIVERIES, {"courier": other.pk})
        assert [o.number for o in response.context["shipped"]] == [day.someone_elses.number]
    response = login(logistics_user).get(DELIVERIES, {"courier": other.pk})
    assert response.context["courier"] == logistics_user
    assert day.someone_elses.number not in response.content.decode()


# --- the run sheet -------------------------------------------------------------------------


def test_run_sheet_of_today_numbers_the_stops_with_totals(login, day, logistics_user):
    response = login(logistics_user).get(RUN_SHEET)
    assert response.status_code == 200
    stops = response.context["stops"]
    # The agreed date first, then by allocation time; tomorrow's stop is not on it.
    assert [o.number for o in stops] == [
        day.own.number,
        day.allocated.number,
        day.prepaid.number,
        day.carrier_cod.number,
    ]
    assert response.context["total_units"] == 8
    assert response.context["total_cash"] == Decimal("190.00")
    html = response.content.decode()
    assert "4 stops" in html and "8 units" in html
    assert "<strong>¥190.00</strong>" in html
    assert "Received by (signature)" in html
    assert 'class="site-header' not in html  # no navigation chrome
    assert "staff-subnav" not in html


def test_run_sheet_of_another_day_and_of_a_selection(login, day, admin_user, logistics_user):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    client = login(admin_user)
    response = client.get(RUN_SHEET, {"courier": logistics_user.pk, "date": tomorrow.isoformat()})
    assert [o.number for o in response.context["stops"]] == [
        day.own.number,
        day.tomorrow.number,
        day.allocated.number,
        day.prepaid.number,
        day.carrier_cod.number,
    ]
    assert response.context["total_cash"] == Decimal("300.00")

    response = client.get(
        RUN_SHEET, {"order": [day.prepaid.number, day.allocated.number, "NOPE-0000"]}
    )
    assert [o.number for o in response.context["stops"]] == [
        day.allocated.number,
        day.prepaid.number,
    ]
    assert response.context["total_units"] == 4
    assert response.context["total_cash"] == Decimal("80.00")
    assert "Order not found: NOPE-0000." in response.content.decode()


def test_run_sheet_defaults_and_bad_input(login, day, admin_user, logistics_user):
    client = login(admin_user)
    response = client.get(RUN_SHEET)  # an order admin carries nothing: choose someone
    assert response.context["stops"] == []
    assert {c.pk for c in response.context["couriers"]} == {
        logistics_user.pk,
        Order.objects.get(pk=day.someone_elses.pk).assigned_to_id,
    }
    response = login(logistics_user).get(RUN_SHEET, {"date": "2024-02-30"})
    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()
    assert "That is not a valid day: the run sheet is for today." in response.content.decode()
    response = client.get(RUN_SHEET, {"order": [f"N{i}" for i in range(201)]})
    assert response.context["stops"] == []
    assert "Choose at most 200 orders at a time." in response.content.decode()


def test_a_courier_cannot_put_another_couriers_orders_on_a_sheet(login, day, logistics_user):
    response = login(logistics_user).get(RUN_SHEET, {"order": [day.someone_elses.number]})
    assert response.context["stops"] == []
    assert f"Order not found: {day.someone_elses.number}." in response.content.decode()


# --- the picking list ------------------------------------------------------------------------


def test_picking_list_adds_up_units_per_sku(login, member, admin_user, logistics_user):
    mug = ProductFactory(sku="MUG-1", name="Mug", price=Decimal("20.00"), stock=None)
    tea = ProductFactory(sku="TEA-9", name="Tea", price=Decimal("30.00"), stock=None)
    bowl = ProductFactory(sku="BOWL-2", name="Bowl", price=Decimal("15.00"), stock=None)
    first = allocate(
        confirm(place(member, lines=[(mug, 2), (tea, 1)]), admin_user), admin_user, logistics_user
    )
    second = allocate(
        confirm(place(member, lines=[(mug, 3), (bowl, 4)]), admin_user), admin_user, logistics_user
    )
    shipped = out(place(member, lines=[(mug, 7)]), admin_user, logistics_user)  # picked already

    response = login(logistics_user).get(PICKING)
    rows = response.context["rows"]
    assert [(r["sku"], r["name"], r["units"]) for r in rows] == [
        ("BOWL-2", "Bowl", 4),
        ("MUG-1", "Mug", 5),
        ("TEA-9", "Tea", 1),
    ]
    mugs = dict(rows[1]["orders"])
    assert mugs == {first.number: 2, second.number: 3}
    assert response.context["total_units"] == 10
    assert shipped.number not in response.content.decode()

    response = login(admin_user).get(PICKING, {"order": [shipped.number, first.number]})
    assert [(r["sku"], r["units"]) for r in response.context["rows"]] == [
        ("MUG-1", 9),
        ("TEA-9", 1),
    ]
    assert response.context["total_units"] == 10


# --- several order sheets ---------------------------------------------------------------------


def test_print_several_order_sheets_one_per_page(login, day, admin_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(admin_user)
    numbers = [day.allocated.number, day.prepaid.number, "ZZZZ-ZZZZ"]
    response = client.get(PRINT_MANY, {"order": numbers})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<main class="staff-sheet">') == 2
    assert html.index(day.allocated.number) < html.index(day.prepaid.number)
    assert "Cash on delivery — the courier collects: <strong>¥80.00</strong>" in html
    assert "Total ¥110.00, already received ¥30.00." in html
    assert "Prepaid (Bank transfer): collect nothing." in html
    assert "Order not found: ZZZZ-ZZZZ." in html
    more = [day.own.number, day.carrier_cod.number, day.tomorrow.number]
    with CaptureQueriesContext(connection) as two:
        client.get(PRINT_MANY, {"order": numbers})
    with CaptureQueriesContext(connection) as five:
        assert client.get(PRINT_MANY, {"order": numbers + more}).status_code == 200
    assert len(five) == len(two)


def test_the_one_tap_forms_do_their_work(login, day, logistics_user):
    """Each one-tap form as the page renders it: the action is recorded, back to the list."""
    client = login(logistics_user)
    html = client.get(DELIVERIES).content.decode()
    assert 'name="delivery_by" value="own"' in html

    left = client.post(
        reverse("staff:order-ship", args=[day.allocated.number]),
        {"delivery_by": "own", "carrier": "own", "next": DELIVERIES},
    )
    assert left.status_code == 302 and left["Location"] == DELIVERIES
    allocated = reload(day.allocated)
    assert (allocated.status, allocated.carrier, allocated.tracking_number) == (
        Status.SHIPPED,
        Order.OWN_DELIVERY_STAFF,
        "",
    )

    tried = client.post(
        reverse("staff:order-attempt", args=[allocated.number]),
        {"outcome": "not_home", "note": "", "next_attempt_on": "", "next": DELIVERIES},
    )
    assert tried["Location"] == DELIVERIES
    delivered = client.post(
        reverse("staff:order-deliver", args=[allocated.number]),
        {"collected_amount": "80.00", "received_by": "", "note": "", "next": DELIVERIES},
    )
    assert delivered["Location"] == DELIVERIES
    assert reload(allocated).status == Status.DELIVERED
    assert CodCollection.objects.get(order=allocated).amount == Decimal("80.00")
    assert (
        OrderEvent.objects.filter(order=allocated, kind=OrderEvent.Kind.DELIVERY_ATTEMPTED).count()
        == 1
    )

    response = client.get(DELIVERIES)
    assert response.context["cash_in_hand"] == Decimal("190.00")  # 110.00 + 80.00
    assert response.context["stops_left"] == 3
    assert response.context["cash_total"] == Decimal("110.00")


def test_run_sheet_of_a_selection_with_closed_orders(login, day, admin_user, logistics_user):
    """A delivered order put on a sheet by hand collects nothing, whatever is still due
    (its cash is already in the courier's hands); a bad day keeps the chosen courier."""
    client = login(admin_user)
    response = client.get(RUN_SHEET, {"order": [day.delivered.number, day.allocated.number]})
    stops = {o.number: o for o in response.context["stops"]}
    assert stops[day.delivered.number].to_collect == Decimal("110.00")  # not remitted yet
    assert stops[day.delivered.number].courier_collects is False
    assert response.context["total_cash"] == Decimal("80.00")
    response = client.get(RUN_SHEET, {"courier": logistics_user.pk, "date": "nope"})
    assert response.context["courier"] == logistics_user
    assert len(response.context["stops"]) == 4


def test_ship_forms_suggest_the_carriers_the_settlement_upload_knows(login, day, logistics_user):
    from orders.models import COMMON_CARRIERS
    from staff.views.settlements import carrier_suggestions

    html = login(logistics_user).get(DELIVERIES).content.decode()
    datalist = re.search(r'<datalist id="carrier-suggestions">(.*?)</datalist>', html, re.S)
    offered = re.findall(r'<option value="([^"]+)">', datalist.group(1))
    assert offered == list(COMMON_CARRIERS)
    assert "China Post EMS" in offered
    assert set(offered) <= set(carrier_suggestions())
