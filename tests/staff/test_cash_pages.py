"""The cash pages: couriers' cash in hand and remittances (``/staff/cash/``), and
recording what one courier hands over (``/staff/cash/remit/<courier id>/``).

What finance sees and is told, what each role may open, and that every refused post
changes nothing and shows the form again with what was typed.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.models import CodCollection, PaymentStatus, Remittance
from tests.factories import UserFactory, finance_clerk, logistics_person
from tests.orders.cash_helpers import collected, money_state
from tests.staff.helpers import messages_of, reload

pytestmark = pytest.mark.django_db

CASH = "/staff/cash/"


def remit_url(courier):
    return reverse("staff:cash-remit", args=[courier.pk])


@pytest.fixture
def english(client):
    """A client reading English pages, signed in as whoever ``english(user)`` names."""

    def _as(user):
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return _as


@pytest.fixture
def courier(db):
    return logistics_person(username="wang", first_name="Wang", last_name="Fang")


@pytest.fixture
def held(courier, admin_user):
    """Two orders delivered by Wang Fang: 110.00 and 100.00 (a short collection)."""
    return [collected(courier, admin_user), collected(courier, admin_user, amount="100.00")]


def test_only_urls_as_documented():
    assert reverse("staff:cash") == CASH
    assert reverse("staff:cod-settlements") == "/staff/cod-settlements/"


# --- /staff/cash/ ------------------------------------------------------------------------------


def test_cash_page_lists_cash_in_hand_and_links_the_hand_over(english, finance_user, held):
    page = english(finance_user).get(CASH)

    assert page.status_code == 200
    html = page.content.decode()
    row = re.search(r"<tr[^>]*>\s*<td>Wang Fang</td>.*?</tr>", html, re.DOTALL).group(0)
    assert "¥210.00" in row
    assert '<td class="num">2</td>' in row
    assert f'href="{remit_url(held[0].assigned_to)}"' in row
    assert "Record hand-over" in row
    assert "staff-overdue" not in row  # collected just now
    assert "No remittances recorded yet." in html
    assert 'aria-current="page">Cash<' in html  # the subnav entry


def test_cash_held_past_24_hours_is_highlighted(english, finance_user, held):
    CodCollection.objects.filter(pk=held[0].cod_collection.pk).update(
        collected_at=timezone.now() - datetime.timedelta(hours=30)
    )
    html = english(finance_user).get(CASH).content.decode()
    row = re.search(r'<tr class="staff-overdue">.*?</tr>', html, re.DOTALL).group(0)
    assert "Wang Fang" in row and "over 24 h" in row and "waiting 30 h" in row


def test_order_admin_sees_the_cash_but_may_not_record(english, admin_user, held):
    html = english(admin_user).get(CASH).content.decode()
    assert "¥210.00" in html
    assert "Record hand-over" not in html
    assert english(admin_user).get(remit_url(held[0].assigned_to)).status_code == 403


@pytest.mark.parametrize("role", ["logistics_user", "member"])
def test_cash_page_is_refused_to_others(request, client, role, held):
    client.force_login(request.getfixturevalue(role))
    assert client.get(CASH).status_code == 403


def test_subnav_shows_cash_to_finance_and_admins_only(english, request):
    for role, shown in [("finance_user", True), ("admin_user", True), ("logistics_user", False)]:
        html = english(request.getfixturevalue(role)).get("/staff/").content.decode()
        assert (f'href="{CASH}"' in html) is shown, role
        assert ('href="/staff/cod-settlements/"' in html) is (role == "finance_user"), role


def remit(finance, courier, collections, counted, note=""):
    return services.record_remittance(
        finance,
        courier=courier,
        collections=[c.cod_collection.pk for c in collections],
        counted_amount=Decimal(counted),
        note=note,
    )


def test_remittances_newest_first_filtered_and_paginated(english, finance_user, admin_user):
    wang = logistics_person(username="wang2", first_name="Wang", last_name="Two")
    li = logistics_person(username="li", first_name="Li", last_name="Na")
    for _ in range(26):
        remit(finance_user, wang, [collected(wang, admin_user)], "110.00")
    short = remit(finance_user, li, [collected(li, admin_user)], "100.00", note="Short 10.")
    client = english(finance_user)

    first = client.get(CASH).content.decode()
    assert "27 remittances" in first
    assert "Page 1 of 2" in first
    numbers = re.findall(r'<td class="staff-number">([^<]+)</td>', first)
    assert len(numbers) == 25 and numbers[0] == short.number
    row = re.search(r'<tr class="staff-difference">.*?</tr>', first, re.DOTALL).group(0)
    assert "-¥10.00" in row and "Short 10." in row and "Li Na" in row

    second = client.get(CASH, {"page": 2}).content.decode()
    assert len(re.findall(r'<td class="staff-number">', second)) == 2

    only_li = client.get(CASH, {"courier": li.pk}).content.decode()
    assert re.findall(r'<td class="staff-number">([^<]+)</td>', only_li) == [short.number]
    assert "1 remittance" in only_li

    # A courier id that is nobody's, or not a number, shows everything with the error.
    for bad in ("999999", "abc", "1e9"):
        page = client.get(CASH, {"courier": bad})
        assert page.status_code == 200
        assert "27 remittances" in page.content.decode()
    assert client.get(CASH, {"page": "99"}).status_code == 200


# --- /staff/cash/remit/<id>/ ------------------------------------------------------------------


def test_remit_form_lists_the_collections_all_ticked(english, finance_user, courier, held):
    html = english(finance_user).get(remit_url(courier)).content.decode()

    for order in held:
        pk = order.cod_collection.pk
        assert re.search(rf'name="collections" value="{pk}"[^>]*checked', html)
        assert f'href="/staff/orders/{order.number}/"' in html
    assert "¥110.00" in html and "¥100.00" in html
    assert re.search(r'id="remit-expected">¥210.00<', html)
    assert 'name="counted"' in html and 'value="210.00"' in html


def test_remit_records_and_redirects_with_the_number(english, finance_user, courier, held):
    ids = [o.cod_collection.pk for o in held]
    response = english(finance_user).post(
        remit_url(courier), {"collections": ids, "counted": "210.00", "note": ""}
    )

    assert response.status_code == 302 and response["Location"] == CASH
    remittance = Remittance.objects.get()
    assert (remittance.expected, remittance.counted, remittance.difference) == (
        Decimal("210.00"),
        Decimal("210.00"),
        Decimal("0.00"),
    )
    page = english(finance_user).get(CASH)
    (text,) = messages_of(page)
    assert text == (
        f"Remittance {remittance.number} recorded: 2 collections of Wang Fang, ¥210.00 counted."
    )
    assert reload(held[0]).payment_status == PaymentStatus.PAID
    assert reload(held[1]).payment_status == PaymentStatus.PARTIALLY_PAID
    assert "No courier holds collected cash right now." in page.content.decode()


def test_only_the_ticked_collections_are_handed_over(english, finance_user, courier, held):
    english(finance_user).post(
        remit_url(courier), {"collections": [held[1].cod_collection.pk], "counted": "100.00"}
    )
    assert list(Remittance.objects.get().collections.all()) == [
        CodCollection.objects.get(order=held[1])
    ]
    assert CodCollection.objects.get(order=held[0]).remittance is None


def test_a_differing_count_asks_for_confirmation_first(english, finance_user, courier, held):
    client = english(finance_user)
    ids = [o.cod_collection.pk for o in held]
    before = money_state()

    shown = client.post(
        remit_url(courier), {"collections": ids, "counted": "200.00", "note": "Short 10."}
    )

    assert shown.status_code == 200
    html = shown.content.decode()
    assert money_state() == before
    assert "The cash counted differs from the ticked collections by -¥10.00." in html
    assert "Record with this difference" in html
    assert re.search(r'name="confirm_difference" value="-10.00"', html)
    assert "Short 10." in html and 'value="200.00"' in html  # what was typed stays
    assert [text for text in messages_of(shown) if "differs" in text]

    # Confirmed, but with another count: asked again, still nothing recorded.
    again = client.post(
        remit_url(courier),
        {
            "collections": ids,
            "counted": "205.00",
            "note": "Short 5.",
            "confirm_difference": "-10.00",
        },
    )
    assert again.status_code == 200 and money_state() == before
    assert re.search(r'name="confirm_difference" value="-5.00"', again.content.decode())

    done = client.post(
        remit_url(courier),
        {
            "collections": ids,
            "counted": "205.00",
            "note": "Short 5.",
            "confirm_difference": "-5.00",
        },
    )
    assert done.status_code == 302
    remittance = Remittance.objects.get()
    assert remittance.difference == Decimal("-5.00") and remittance.note == "Short 5."
    (text,) = messages_of(client.get(CASH))
    assert text.endswith("Difference from the ¥210.00 expected: -¥5.00.")


def test_a_confirmed_difference_without_a_note_is_refused(english, finance_user, courier, held):
    client = english(finance_user)
    ids = [o.cod_collection.pk for o in held]
    before = money_state()

    response = client.post(
        remit_url(courier),
        {"collections": ids, "counted": "200.00", "note": "", "confirm_difference": "-10.00"},
    )

    assert response.status_code == 200
    assert money_state() == before
    (text,) = messages_of(response)
    assert text == ("The counted cash differs from the collections by -10.00: say why in the note.")
    html = response.content.decode()
    assert 'value="200.00"' in html
    assert "differs from the ticked collections by -¥10.00" in html  # still shown


def test_already_remitted_meanwhile_is_told_and_changes_nothing(
    english, finance_user, courier, held
):
    ids = [o.cod_collection.pk for o in held]
    remit(finance_clerk(username="other-clerk"), courier, held[:1], "110.00")
    before = money_state()

    response = english(finance_user).post(
        remit_url(courier), {"collections": ids, "counted": "210.00", "note": "Counted twice"}
    )

    assert response.status_code == 200
    assert money_state() == before
    (text,) = messages_of(response)
    assert text.startswith("Some of this cash was recorded as handed over meanwhile")
    html = response.content.decode()
    assert 'value="210.00"' in html and "Counted twice" in html
    # Only what is still in hand is listed now.
    assert f'value="{held[0].cod_collection.pk}"' not in html
    assert f'value="{held[1].cod_collection.pk}"' in html


@pytest.mark.parametrize(
    "body",
    [
        {"counted": "210.00"},  # nothing ticked
        {"collections": ["abc"], "counted": "210.00"},
        {"collections": ["-1"], "counted": "210.00"},
        {"collections": ["99999999999"], "counted": "210.00"},
        {"collections": "TICKED", "counted": "-1"},
        {"collections": "TICKED", "counted": "1e400"},
        {"collections": "TICKED", "counted": "12.345"},
        {"collections": "TICKED", "counted": "99999999999999"},
        {"collections": "TICKED", "counted": ""},
        {"collections": "TICKED", "counted": "210.00", "note": "x" * 1001},
    ],
)
def test_bad_input_shows_the_form_and_changes_nothing(english, finance_user, courier, held, body):
    ids = [o.cod_collection.pk for o in held]
    body = {k: (ids if v == "TICKED" else v) for k, v in body.items()}
    before = money_state()

    response = english(finance_user).post(remit_url(courier), body)

    assert response.status_code == 200
    assert money_state() == before
    assert "Nothing was recorded: please correct the form below." in messages_of(response)
    assert 'class="errorlist' in response.content.decode()


def test_another_couriers_collection_in_a_hand_made_post(
    english, finance_user, admin_user, courier, held
):
    other = collected(logistics_person(username="li"), admin_user)
    before = money_state()
    response = english(finance_user).post(
        remit_url(courier),
        {"collections": [held[0].cod_collection.pk, other.cod_collection.pk], "counted": "220.00"},
    )
    assert response.status_code == 200
    assert money_state() == before
    assert messages_of(response) == ["Some of that cash is not in this courier's hands."]


def test_remit_page_for_unknown_or_non_logistics_ids_is_404(english, finance_user, courier):
    client = english(finance_user)
    member = UserFactory(username="someone")
    for pk in (member.pk, finance_user.pk, 999999):
        assert client.get(f"/staff/cash/remit/{pk}/").status_code == 404
        assert client.post(f"/staff/cash/remit/{pk}/", {"counted": "1"}).status_code == 404
    page = client.get(remit_url(courier))
    assert page.status_code == 200
    assert "This courier holds no collected cash" in page.content.decode()


def test_a_former_courier_still_holding_cash_can_hand_it_over(english, finance_user, courier, held):
    courier.groups.clear()
    assert english(finance_user).get(remit_url(courier)).status_code == 200


@pytest.mark.parametrize("role", ["admin_user", "logistics_user", "member"])
def test_remit_is_refused_to_other_roles(request, client, courier, held, role):
    client.force_login(request.getfixturevalue(role))
    before = money_state()
    ids = [o.cod_collection.pk for o in held]
    assert client.get(remit_url(courier)).status_code == 403
    assert (
        client.post(remit_url(courier), {"collections": ids, "counted": "210.00"}).status_code
        == 403
    )
    assert money_state() == before


def test_anonymous_goes_to_sign_in(client, courier):
    for path in (CASH, remit_url(courier)):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_cash_page_queries_do_not_grow_with_couriers_or_remittances(
    english, finance_user, admin_user
):
    """The page costs the same number of queries for 1 courier and remittance as for 4."""

    def add(n):
        person = logistics_person(username=f"q-courier-{n}")
        collected(person, admin_user)
        remit(finance_user, person, [collected(person, admin_user)], "110.00")

    client = english(finance_user)
    add(0)
    with CaptureQueriesContext(connection) as small:
        assert client.get(CASH).status_code == 200
    for n in range(1, 4):
        add(n)
    with CaptureQueriesContext(connection) as large:
        assert client.get(CASH).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
