"""Hostile input on every form of the site, through real posts (issue 6, item 2).

Property-based (Hypothesis): each example starts from a valid form, replaces or drops
one to three fields with hostile values (``tests/security/hostile.py``) and posts it
with the test client as the user the form is for. Whatever comes:

* never a server error: the status is one the page may answer (200 with the form and its
  errors, or 302 after a message);
* never a partial write: nothing changed, or one order changed as one valid whole with
  exactly one event (``assert_one_whole``), and stock, money and versions stay
  consistent everywhere (``assert_invariants``);
* the page says what happened: a refusal shows form errors or an error message and
  never a success message; a change shows a success message;
* redirects stay on the site, whatever ``next`` says.

Every example runs in a savepoint that is rolled back, so each starts from the same
orders. The quantity and amount bounds (``MALL_MAX_LINE_QUANTITY``,
``MALL_MAX_PAYMENT_AMOUNT``) are checked at the edge at the end of the file.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from mall.models import Product
from orders import services
from orders.cart import Cart
from orders.exceptions import InvalidInput
from orders.forms import CartUpdateForm
from orders.models import Order, Payment, Status
from tests import factories
from tests.security.hostile import (
    apply,
    assert_invariants,
    assert_local_redirect,
    assert_one_whole,
    assert_refusal_shown,
    assert_success_shown,
    feedback,
    fresh_messages,
    mutations,
    rolled_back,
    snapshot,
    stock_ledger,
    value,
)
from tests.staff.helpers import allocate, confirm, pay, place, reload

pytestmark = pytest.mark.django_db

PAGE_STATUSES = (200, 302)
ADDRESS_FIELDS = list(factories.ADDRESS)


@pytest.fixture
def shop(world):
    """``world`` plus products that cannot be bought, and orders in more states."""
    member = world.users["member"]
    admin = world.users["order_admin"]
    world.hidden = factories.ProductFactory(sku="HIDDEN", is_visible=False)
    world.sold_out = factories.ProductFactory(sku="SOLD-OUT", stock=0)
    world.unlimited = factories.ProductFactory(sku="UNLIMITED", stock=None, price="12.50")
    world.confirmed = confirm(place(member, lines=[(world.product, 1)]), admin)
    world.paid = confirm(place(member, lines=[(world.product, 1)]), admin)
    pay(world.paid, world.users["finance"], reference="PAID-1")
    world.paid = reload(world.paid)
    world.other_paid = confirm(place(world.users["other_member"]), admin)
    pay(world.other_paid, world.users["finance"], reference="OTHER-1")
    # Out for delivery with our own courier (the logistics user), cash on delivery 60.00.
    world.shipped = services.ship_order(
        admin,
        allocate(
            confirm(place(member, lines=[(world.product, 1)]), admin),
            admin,
            world.users["logistics"],
        ),
        carrier=Order.OWN_DELIVERY_STAFF,
    )
    return world


def post_and_check(client, path, body, *, judge=True):
    """Post ``body``; check status, one-whole change, invariants and what the page says.

    ``judge=False`` leaves the message check to the caller (changes kept in the session).
    Returns ``(response, before, after)``.
    """
    ledger = stock_ledger()
    before = snapshot()
    fresh_messages(client)
    response = client.post(path, body)
    assert response.status_code in PAGE_STATUSES, response.status_code
    assert_local_redirect(response)
    after = snapshot()
    assert_one_whole(before, after)
    assert_invariants(ledger)
    if not judge:
        pass
    elif after == before:
        assert_refusal_shown(response)
    else:
        assert_success_shown(response)
    return response, before, after


def product_values(shop):
    """Product ids a hand-made post might name: hidden, sold out, missing, unlimited."""
    return st.sampled_from(
        [str(p.pk) for p in (shop.product, shop.hidden, shop.sold_out, shop.unlimited)]
        + ["0", "-1", "999999", str(2**63)]
    )


# --- storefront: cart and checkout -------------------------------------------------------------


def cart(client):
    return dict(client.session.get("cart", {}))


def assert_cart_sane(shop, contents):
    """Only products for sale, whole quantities from 1 to the bound and the stock."""
    limit = settings.MALL_MAX_LINE_QUANTITY
    for key, quantity in contents.items():
        assert key not in {str(shop.hidden.pk), str(shop.sold_out.pk)}, key
        product = Product.objects.get(pk=int(key))
        assert product.is_visible
        assert isinstance(quantity, int) and 1 <= quantity <= limit
        assert product.stock is None or quantity <= product.stock


def reload_product(product):
    return type(product).objects.get(pk=product.pk)


@given(data=st.data())
def test_cart_add(shop, data):
    changes = data.draw(mutations(["product", "quantity", "next"], extra=product_values(shop)))
    with rolled_back():
        client = shop.client(data.draw(st.sampled_from(["anonymous", "member"])))
        body = apply({"product": shop.product.pk, "quantity": "2", "next": "/"}, changes)
        before = cart(client)
        response, _b, _a = post_and_check(client, "/cart/add/", body, judge=False)
        after = cart(client)
        assert response.status_code == 302
        assert_cart_sane(shop, after)
        if after == before:
            assert_refusal_shown(response)
        else:
            assert_success_shown(response)


@given(data=st.data())
def test_cart_update(shop, data):
    key = f"qty-{shop.product.pk}"
    changes = data.draw(mutations([key, f"qty-{shop.unlimited.pk}", "remove", "qty-999"]))
    with rolled_back():
        client = shop.client("member")
        client.post("/cart/add/", {"product": shop.product.pk, "quantity": 2})
        client.post("/cart/add/", {"product": shop.unlimited.pk, "quantity": 1})
        client.get("/cart/")  # shows (and so uses up) the "added" messages
        before = cart(client)
        body = apply({key: "3", f"qty-{shop.unlimited.pk}": "1"}, changes)
        response, _b, _a = post_and_check(client, "/cart/update/", body, judge=False)
        after = cart(client)
        assert response.status_code == 302
        assert_cart_sane(shop, after)
        messages, _errors = feedback(response)
        if after != before:
            assert_success_shown(response)
        elif messages:
            assert_refusal_shown(response)
        elif "remove" in body:
            # Removing a line that is not in the cart (any more): nothing to say.
            assert body["remove"] not in before
        else:
            # Silence is only for a valid form that asks for the quantities already there.
            lines = Cart(client.session).lines()
            form = CartUpdateForm(body, lines=lines)
            assert form.is_valid(), form.errors
            assert {str(k): v for k, v in form.quantities().items()} == before


CHECKOUT_FIELDS = [*ADDRESS_FIELDS, "payment_method", "note", "checkout_token", "expected_total"]


@given(changes=mutations(CHECKOUT_FIELDS))
@example(changes={"checkout_token": "\x00"})  # once a 500 on PostgreSQL
def test_checkout(shop, changes):
    with rolled_back():
        client = shop.client("other_member")
        client.post("/cart/add/", {"product": shop.product.pk, "quantity": 2})
        page = client.get("/checkout/").content.decode()
        token = re.search(r'name="checkout_token" value="([^"]+)"', page).group(1)
        total = re.search(r'name="expected_total" value="([^"]+)"', page).group(1)
        valid = {
            **factories.ADDRESS,
            "payment_method": "cod",
            "note": "",
            "checkout_token": token,
            "expected_total": total,
        }
        body = apply(valid, changes)
        orders = Order.objects.count()
        response, _before, _after = post_and_check(client, "/checkout/", body)
        placed = Order.objects.count() - orders
        assert placed in (0, 1)
        if placed:
            assert response.status_code == 302
            order = Order.objects.latest("pk")
            assert order.customer == shop.users["other_member"]
            assert order.status == Status.SUBMITTED
            assert cart(client) == {}


# --- the member's order: edit and cancel ---------------------------------------------------------


@given(data=st.data())
def test_member_edit(shop, data):
    order = shop.submitted
    quantity = f"qty-{shop.product.pk}"
    fields = [*ADDRESS_FIELDS, "payment_method", "note", "version", quantity, "qty-999"]
    extra = st.sampled_from(["0", "2", str(order.version - 1), str(order.version + 1)])
    changes = data.draw(mutations(fields, extra=extra))
    with rolled_back():
        client = shop.client("member")
        body = apply(
            {
                **factories.ADDRESS,
                "payment_method": "cod",
                "note": "",
                "version": str(order.version),
                quantity: "1",
            },
            changes,
        )
        path = f"/account/orders/{order.number}/edit/"
        _response, before, after = post_and_check(client, path, body)
        if after != before:
            assert reload(order).status == Status.SUBMITTED
            assert reload(order).version == order.version + 1


@given(reason=st.one_of(value(), st.just(None)))
def test_member_cancel(shop, reason):
    order = shop.submitted
    with rolled_back():
        client = shop.client("member")
        body = {} if reason is None else {"reason": reason}
        _response, before, after = post_and_check(
            client, f"/account/orders/{order.number}/cancel/", body
        )
        if after != before:
            assert reload(order).status == Status.CANCELLED


# --- the back office: every action --------------------------------------------------------------


def _payment_body(shop, order):
    return {
        "amount": str(order.total),
        "method": "cod",
        "reference": "R-1",
        "received_on": timezone.localdate().isoformat(),
        "note": "",
    }


ACTIONS = {
    # action: (role, which order, valid body, values for the extra strategy)
    "confirm": (
        "order_admin",
        "submitted",
        lambda s, o: {"version": str(o.version), "call_note": "Address checked."},
        lambda s, o: [str(o.version - 1), str(o.version + 1), "0"],
    ),
    "invalidate": ("order_admin", "submitted", lambda s, o: {"reason": "Fake address."}, None),
    "cancel": ("order_admin", "confirmed", lambda s, o: {"reason": "Asked by phone."}, None),
    "allocate": (
        "order_admin",
        "confirmed",
        lambda s, o: {"assignee": str(s.users["logistics"].pk)},
        lambda s, o: [str(u.pk) for u in s.users.values() if u is not None],
    ),
    "ship": (
        "logistics",
        "allocated",
        lambda s, o: {"carrier": "Own fleet", "tracking_number": "WB-1"},
        None,
    ),
    "payment": (
        "finance",
        "confirmed",
        _payment_body,
        lambda s, o: ["cod", "bank_transfer", "PAID-1", str(o.total), "0.01"],
    ),
    "refund": (
        "finance",
        "paid",
        lambda s, o: {"amount": "10.00", "reference": "RF-1", "note": "", "kind": "money_back"},
        lambda s, o: [str(o.total), str(o.total + Decimal("0.01")), "PAID-1"],
    ),
    "void": (
        "finance",
        "paid",
        lambda s, o: {"payment": str(o.payments.get().pk), "reason": "Typed twice."},
        lambda s, o: [str(p.pk) for p in Payment.objects.all()],
    ),
    "call": (
        "order_admin",
        "submitted",
        lambda s, o: {"outcome": "call_back", "note": "", "call_back_at": _local(hours=2)},
        lambda s, o: [
            "no_answer",
            "wrong_number",
            "reached",
            _local(hours=-1),
            _local(days=15),
            "2999-12-31T23:59",
            "0001-01-01T00:00",
            "2026-02-30T10:00",
            "2026-03-29T02:30",  # a time that does not exist where clocks go forward
        ],
    ),
    # issue 11: an order admin changes the order for the member
    "edit": (
        "order_admin",
        "submitted",
        lambda s, o: {
            **factories.ADDRESS,
            "city": "Suzhou",
            "payment_method": "cod",
            "note": "",
            "version": str(o.version),
            "reason": "As the member asked on the phone.",
            f"qty-{s.product.pk}": "2",
            f"add-{s.unlimited.pk}": "1",
        },
        lambda s, o: [
            str(o.version - 1),
            str(o.version + 1),
            "0",
            str(settings.MALL_MAX_LINE_QUANTITY + 1),
            *[f"add-{p.pk}" for p in (s.hidden, s.sold_out, s.unlimited)],
        ],
    ),
    "attempt": (
        "logistics",
        "shipped",
        lambda s, o: {"outcome": "not_home", "note": "", "next_attempt_on": ""},
        lambda s, o: [
            "other",
            "refused",
            timezone.localdate().isoformat(),
            (timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
            "9999-12-31",
        ],
    ),
    "deliver": (
        "logistics",
        "shipped",
        lambda s, o: {
            "collected_amount": str(o.money_position().due),
            "received_by": "Li Wei",
            "note": "",
        },
        lambda s, o: ["0", "0.00", "-0.01", str(o.money_position().due + Decimal("0.01"))],
    ),
    "return": (
        "order_admin",
        "shipped",
        lambda s, o: {
            "reason": "Refused at the door.",
            "restock_choice": "some",
            f"units-{o.lines.get().pk}": "1",
        },
        lambda s, o: ["all", "none", "some", "0", "1", "2", str(o.lines.get().pk)],
    ),
}


def _local(**delta):
    """A shop-time ``datetime-local`` value ``delta`` from now."""
    return (timezone.localtime() + datetime.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("action", list(ACTIONS))
@given(data=st.data())
def test_staff_action(shop, action, data):
    role, which, make_body, make_extra = ACTIONS[action]
    order = getattr(shop, which)
    valid = {**make_body(shop, order), "next": ""}
    extra = st.sampled_from(make_extra(shop, order)) if make_extra else None
    changes = data.draw(mutations(list(valid), extra=extra))
    with rolled_back():
        client = shop.client(role)
        body = apply(valid, changes)
        _response, before, after = post_and_check(
            client, f"/staff/orders/{order.number}/{action}/", body
        )
        if after != before:
            event_orders = {e[0] for pk, e in after["events"].items() if pk not in before["events"]}
            assert event_orders == {order.pk}


# --- the back office: bulk allocation from the order list ----------------------------------------


@given(data=st.data())
@example(data=None)  # replaced below by the valid post itself
def test_staff_bulk_allocate(shop, data):
    """Hostile posts to the bulk allocation: never a 500, a redirect on the site with one
    message, and each order it changed changed alone with its one allocation event."""
    numbers = [o.number for o in (shop.confirmed, shop.submitted, shop.allocated, shop.paid)]
    valid = {
        "order": [shop.confirmed.number, shop.paid.number],
        "assignee": str(shop.users["logistics"].pk),
        "next": "",
    }
    one_number = st.one_of(value(), st.sampled_from(numbers))
    extra = st.one_of(
        one_number,
        st.lists(one_number, min_size=2, max_size=5),
        st.sampled_from([str(u.pk) for u in shop.users.values() if u is not None]),
    )
    changes = {} if data is None else data.draw(mutations(list(valid), extra=extra))
    with rolled_back():
        client = shop.client("order_admin", HTTP_ACCEPT_LANGUAGE="en")
        ledger = stock_ledger()
        before = snapshot()
        fresh_messages(client)
        response = client.post("/staff/orders/bulk/allocate/", apply(valid, changes))
        assert response.status_code == 302
        assert_local_redirect(response)
        after = snapshot()
        assert_invariants(ledger)
        new_events = [e for pk, e in after["events"].items() if pk not in before["events"]]
        changed_orders = {
            pk for pk, row in after["orders"].items() if before["orders"].get(pk) != row
        }
        assert sorted(e[0] for e in new_events) == sorted(changed_orders)
        assert {e[1] for e in new_events} <= {"allocated", "reallocated"}
        assert all(after["orders"][pk]["status"] == Status.ALLOCATED for pk in changed_orders)
        assert after["payments"] == before["payments"] and after["stock"] == before["stock"]
        messages, _errors = feedback(response)
        assert len(messages) == 1, messages
        level = messages[0][0]
        assert level == "error" if not changed_orders else level in ("success", "warning")
        if data is None:
            assert messages[0][0] == "success" and len(changed_orders) == 2


# --- the back office: an order taken by phone (issue 11) ---------------------------------------

PHONE_ORDER_FIELDS = [*ADDRESS_FIELDS, "payment_method", "note", "member", "token", "step"]


@given(data=st.data())
def test_phone_order(shop, data):
    member = shop.users["member"]
    add = [f"add-{p.pk}" for p in (shop.product, shop.hidden, shop.sold_out, shop.unlimited)]
    fields = [*PHONE_ORDER_FIELDS, *add, "add-999999", "confirm_now", "call_note"]
    extra = st.sampled_from(
        [str(member.pk), str(shop.users["finance"].pk), "0", "on", "member", "order", "1", "2"]
    )
    changes = data.draw(mutations(fields, extra=extra))
    with rolled_back():
        client = shop.client("order_admin")
        body = apply(
            {
                **factories.ADDRESS,
                "payment_method": "cod",
                "note": "",
                "step": "order",
                "member": str(member.pk),
                "token": "phone-order-1",
                add[0]: "1",
                "confirm_now": "on",
                "call_note": "Read back to the member.",
            },
            changes,
        )
        orders = Order.objects.count()
        users = get_user_model().objects.count()
        # Placing and confirming in one step writes two events: checked here, not as one whole.
        ledger = stock_ledger()
        fresh_messages(client)
        response = client.post("/staff/orders/new/", body)
        assert response.status_code in PAGE_STATUSES, response.status_code
        assert_local_redirect(response)
        assert_invariants(ledger)
        placed = Order.objects.count() - orders
        assert placed in (0, 1)
        if placed:
            order = Order.objects.latest("pk")
            assert response.status_code == 302
            assert order.customer == member  # never a staff account (finance offered too)
            assert order.lines.exists()
            assert order.status in (Status.SUBMITTED, Status.CONFIRMED)
            assert order.events.count() == (2 if order.status == Status.CONFIRMED else 1)
        elif get_user_model().objects.count() == users:
            assert_refusal_shown(response)


@given(data=st.data())
def test_phone_order_new_member(shop, data):
    changes = data.draw(mutations(["name", "phone", "email", "step"]))
    with rolled_back():
        client = shop.client("order_admin")
        body = apply(
            {"step": "member", "name": "Wang Fang", "phone": "138 0013 8000", "email": ""},
            changes,
        )
        users = get_user_model().objects.count()
        response, before, after = post_and_check(client, "/staff/orders/new/", body, judge=False)
        assert after == before  # registering a member changes no order
        created = get_user_model().objects.count() - users
        assert created in (0, 1)
        if created:
            user = get_user_model().objects.latest("pk")
            assert not user.has_usable_password()
            assert user.first_name.strip() and "\x00" not in user.first_name
            assert response.status_code == 302
        else:
            assert_refusal_shown(response)


# --- the back office: list and export query strings -------------------------------------------

LIST_KEYS = [
    "status",
    "payment_status",
    "payment_method",
    "assigned_to",
    "placed_from",
    "placed_to",
    "q",
    "sort",
    "page",
    "queue",
    "courier",
]


def query_strings():
    single = st.one_of(value(), st.sampled_from(["confirmed", "paid", "cod", "-total", "1"]))
    return st.dictionaries(
        st.sampled_from(LIST_KEYS), st.one_of(single, st.lists(single, min_size=2, max_size=3))
    )


@given(params=query_strings(), role=st.sampled_from(["order_admin", "finance", "logistics"]))
@example(params={"status": "😀" * 1364}, role="order_admin")  # a query string over 2 KB
@example(params={"placed_from": "0001-01-01", "placed_to": "9999-12-31"}, role="finance")
def test_staff_list_and_export(shop, params, role):
    with rolled_back():
        client = shop.client(role)
        before = snapshot()
        listing = client.get("/staff/orders/", params)
        assert listing.status_code == 200
        form = listing.context["form"]
        if form.errors:
            assert 'class="form-errors' in listing.content.decode()
        export = client.get("/staff/orders/export/", params)
        if form.errors and export.status_code == 400:
            # Back to the list with the same query string would be a redirect longer than
            # Django allows (2048 characters): refused as a bad request, never a 500.
            assert len(export.wsgi_request.META["QUERY_STRING"]) > 1900
        elif form.errors:
            # No file for a bad filter ("every order" is not what was asked for): back to
            # the list, which shows what is wrong.
            assert export.status_code == 302
            assert export["Location"].startswith("/staff/orders/?")
            assert [level for level, _text in feedback(export)[0]] == ["error"]
        else:
            assert export.status_code == 200
            rows = b"".join(export.streaming_content).decode("utf-8").splitlines()
            assert rows[0].startswith("\ufeffOrder number,")
            assert len(rows) - 1 <= Order.objects.count()
        deliveries = client.get("/staff/deliveries/", params)
        assert deliveries.status_code == 200
        assert snapshot() == before


# --- registration ---------------------------------------------------------------------------


PASSWORD = "a-long-unusual-passphrase-42"
REGISTRATION = {
    "username": "newcomer",
    "email": "newcomer@example.com",
    "password1": PASSWORD,
    "password2": PASSWORD,
    "next": "/",
}


@given(
    changes=mutations(
        list(REGISTRATION),
        extra=st.sampled_from(["member", "MEMBER", "member@example.com", "x", PASSWORD]),
    )
)
@example(changes={"next": "😀" * 171})  # a redirect that is long once percent-encoded
@example(changes={"next": "https://evil.example/"})
def test_registration(shop, changes):
    valid = REGISTRATION
    with rolled_back():
        users = get_user_model().objects.count()
        client = shop.client("anonymous")
        before = snapshot()
        response = client.post("/accounts/register/", apply(valid, changes))
        assert response.status_code in PAGE_STATUSES
        assert_local_redirect(response)
        assert snapshot() == before
        created = get_user_model().objects.count() - users
        assert created in (0, 1)
        if created:
            assert response.status_code == 302
            assert_success_shown(response)
            assert client.get("/account/orders/").status_code == 200
        else:
            assert response.status_code == 200
            assert_refusal_shown(response)


# --- the bounds, at the edge -------------------------------------------------------------------

MAX_QTY = settings.MALL_MAX_LINE_QUANTITY
MAX_AMOUNT = settings.MALL_MAX_PAYMENT_AMOUNT


@pytest.fixture
def plenty(db):
    return factories.ProductFactory(sku="PLENTY", stock=10 * MAX_QTY, price="1.00")


def test_cart_quantity_just_over_the_bound_is_refused(world, plenty):
    client = world.client("member")
    fresh_messages(client)
    response = client.post("/cart/add/", {"product": plenty.pk, "quantity": MAX_QTY + 1})
    assert cart(client) == {}
    assert_refusal_shown(response)
    fresh_messages(client)
    response = client.post("/cart/add/", {"product": plenty.pk, "quantity": MAX_QTY})
    assert cart(client) == {str(plenty.pk): MAX_QTY}
    # Adding one more to a full line is refused too, and the line stays as it was.
    fresh_messages(client)
    response = client.post("/cart/add/", {"product": plenty.pk, "quantity": 1})
    assert cart(client) == {str(plenty.pk): MAX_QTY}
    assert_refusal_shown(response)
    fresh_messages(client)
    response = client.post("/cart/update/", {f"qty-{plenty.pk}": MAX_QTY + 1})
    assert cart(client) == {str(plenty.pk): MAX_QTY}
    assert_refusal_shown(response)


def test_edit_quantity_just_over_the_bound_is_refused(world, plenty):
    member = world.users["member"]
    order = place(member, lines=[(plenty, 1)])
    before, stock = snapshot(), reload_product(plenty).stock
    body = {
        **factories.ADDRESS,
        "payment_method": "cod",
        "version": order.version,
        f"qty-{plenty.pk}": MAX_QTY + 1,
    }
    response = world.client("member").post(f"/account/orders/{order.number}/edit/", body)
    assert response.status_code == 200
    assert_refusal_shown(response)
    assert str(MAX_QTY) in response.content.decode()  # "less than or equal to 99"
    assert snapshot() == before and reload_product(plenty).stock == stock

    body[f"qty-{plenty.pk}"] = MAX_QTY
    response = world.client("member").post(f"/account/orders/{order.number}/edit/", body)
    assert response.status_code == 302
    assert order.lines.get().quantity == MAX_QTY
    assert reload_product(plenty).stock == stock + 1 - MAX_QTY


def test_services_refuse_a_quantity_over_the_bound(world, plenty):
    before = snapshot()
    with pytest.raises(InvalidInput):
        services.place_order(
            world.users["member"],
            lines=[(plenty, MAX_QTY + 1)],
            address=factories.ADDRESS,
            payment_method="cod",
        )
    # Two lines of one product are merged, and the sum is bounded too.
    with pytest.raises(InvalidInput):
        services.place_order(
            world.users["member"],
            lines=[(plenty, MAX_QTY), (plenty, 1)],
            address=factories.ADDRESS,
            payment_method="cod",
        )
    assert snapshot() == before


def _payment(order, amount, reference, as_credit=False):
    body = {
        "amount": amount,
        "method": "cod",
        "reference": reference,
        "received_on": timezone.localdate().isoformat(),
    }
    if as_credit:
        body["as_credit"] = "on"
    return body


def test_payment_amount_just_over_the_bound_is_refused(world):
    order = world.allocated
    client = world.client("finance")
    path = f"/staff/orders/{order.number}/payment/"
    before = snapshot()
    over = str(MAX_AMOUNT + Decimal("0.01"))
    fresh_messages(client)
    response = client.post(path, _payment(order, over, "BIG-1"))
    assert response.status_code == 200
    assert_refusal_shown(response)
    assert snapshot() == before

    fresh_messages(client)

    response = client.post(path, _payment(order, str(MAX_AMOUNT), "BIG-1", as_credit=True))
    assert response.status_code == 302
    assert order.payments.get().amount == MAX_AMOUNT
    assert reload(order).payment_status == "paid"  # an over-payment: credit due

    fresh_messages(client)

    refund = client.post(
        f"/staff/orders/{order.number}/refund/",
        {"amount": over, "reference": "RF-BIG", "kind": "money_back"},
    )
    assert refund.status_code == 200
    assert_refusal_shown(refund)
    assert order.payments.count() == 1


def test_services_refuse_an_amount_over_the_bound(world):
    order = world.allocated
    before = snapshot()
    with pytest.raises(InvalidInput):
        services.record_payment(
            world.users["finance"],
            order,
            amount=MAX_AMOUNT + Decimal("0.01"),
            method="cod",
            reference="BIG-2",
            received_on=timezone.localdate(),
        )
    assert snapshot() == before
