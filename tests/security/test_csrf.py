"""CSRF protection on every POST (issue 6, item 3).

With a client that enforces CSRF checks (as a browser session would meet them), a POST
without the token is refused with 403 at every URL of the site, the Django admin's
included, and nothing changes. For each form of the site the same POST *with* the
token is then accepted and does its work, which proves the 403 came from the missing
token and not from a wrong body.
"""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from orders import services
from orders.cod_settlement import read_settlement_file
from orders.models import Order, Payment, Remittance, Status
from staff.views.settlements import SESSION_KEY as SETTLEMENT_SESSION_KEY
from tests import factories
from tests.security.conftest import database_state
from tests.security.urlconf import fill, walk
from tests.staff.helpers import allocate, confirm, pay, place, reload

pytestmark = pytest.mark.django_db


def csrf_client(user=None):
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def token_for(client):
    """Load a page with a form so the client holds a CSRF cookie; return the token."""
    client.get("/accounts/login/")
    return client.cookies["csrftoken"].value


def admin_body(route):
    """A body that would really act on an admin page (delete confirmation, change form)."""
    return {"post": "yes"} if route.endswith("/delete/") else {"name": "Changed"}


@pytest.mark.parametrize("namespace,name,route", list(walk()), ids=[r[2] or "home" for r in walk()])
def test_post_without_token_is_refused_everywhere(world, namespace, name, route):
    """Every URL, as a user who could otherwise use it: 403, and nothing changed."""
    path = fill(namespace, name, route, world)
    if namespace == "orders" or route.startswith("accounts/"):
        user = world.users["member"]
    else:
        user = world.users["superuser"]
    client = csrf_client(user)
    before = database_state()
    response = client.post(path, admin_body(route) if namespace == "admin" else {})
    assert response.status_code == 403, f"POST {path}: {response.status_code}"
    assert database_state() == before


# --- each form: refused without the token, accepted with it ----------------------------------


def _address(**changes):
    return {**factories.ADDRESS, **changes}


def case_login(world):
    def check(client):
        return client.get("/account/orders/").status_code == 200

    body = {"username": "member", "password": factories.PASSWORD}
    return None, "/accounts/login/", body, check


def case_logout(world):
    def check(client):
        return client.get("/account/orders/").status_code == 302

    return world.users["member"], "/accounts/logout/", {}, check


def case_register(world):
    body = {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "password1": "a-long-unusual-passphrase-42",
        "password2": "a-long-unusual-passphrase-42",
    }

    def check(client):
        return get_user_model().objects.filter(username="newcomer").exists()

    return None, "/accounts/register/", body, check


def case_set_language(world):
    def check(client):
        return client.cookies.get("django_language") and client.cookies[
            "django_language"
        ].value == ("zh-hans")

    return None, "/i18n/setlang/", {"language": "zh-hans", "next": "/"}, check


def case_cart_add(world):
    def check(client):
        return client.session.get("cart") == {str(world.product.pk): 1}

    return None, "/cart/add/", {"product": world.product.pk, "quantity": 1}, check


def case_checkout(world):
    def prepare(client, token):
        client.post(
            "/cart/add/", {"product": world.product.pk, "quantity": 1, "csrfmiddlewaretoken": token}
        )
        page = client.get("/checkout/").content.decode()
        return {
            "checkout_token": re.search(r'name="checkout_token" value="([^"]+)"', page).group(1),
            "payment_method": "cod",
            **factories.ADDRESS,
        }

    count = Order.objects.count()

    def check(client):
        return Order.objects.count() == count + 1

    return world.users["other_member"], "/checkout/", prepare, check


def case_member_edit(world):
    order = world.submitted
    body = {
        **_address(city="Suzhou"),
        "payment_method": "cod",
        "version": order.version,
        f"qty-{world.product.pk}": 1,
    }

    def check(client):
        return reload(order).city == "Suzhou"

    return world.users["member"], f"/account/orders/{order.number}/edit/", body, check


def case_member_cancel(world):
    order = world.submitted

    def check(client):
        return reload(order).status == Status.CANCELLED

    return world.users["member"], f"/account/orders/{order.number}/cancel/", {}, check


def _staff_case(action, role, make_order, body, expect):
    def case(world):
        order = make_order(world)
        data = body(world, order) if callable(body) else body

        def check(client):
            return expect(reload(order))

        return world.users[role], f"/staff/orders/{order.number}/{action}/", data, check

    return case


def _submitted(world):
    return place(world.users["member"], lines=[(world.product, 1)])


def _confirmed(world):
    return confirm(_submitted(world), world.users["order_admin"])


def _paid(world):
    order = _confirmed(world)
    pay(order, world.users["finance"])
    return reload(order)


STAFF_CASES = {
    "confirm": _staff_case(
        "confirm",
        "order_admin",
        _submitted,
        lambda w, o: {"version": o.version, "call_note": "Address checked."},
        lambda o: o.status == Status.CONFIRMED,
    ),
    "invalidate": _staff_case(
        "invalidate",
        "order_admin",
        _submitted,
        {"reason": "Fake address."},
        lambda o: o.status == Status.INVALID,
    ),
    "cancel": _staff_case(
        "cancel",
        "order_admin",
        _submitted,
        {"reason": "Asked by phone."},
        lambda o: o.status == Status.CANCELLED,
    ),
    "allocate": _staff_case(
        "allocate",
        "order_admin",
        _confirmed,
        lambda w, o: {"assignee": w.users["logistics"].pk},
        lambda o: o.status == Status.ALLOCATED,
    ),
    "ship": _staff_case(
        "ship",
        "logistics",
        lambda w: reload(world_allocated(w)),
        {"carrier": "Own fleet", "tracking_number": "WB-1"},
        lambda o: o.status == Status.SHIPPED,
    ),
    "payment": _staff_case(
        "payment",
        "finance",
        _confirmed,
        lambda w, o: {
            "amount": str(o.total),
            "method": "cod",
            "reference": "R-1",
            "received_on": timezone.localdate().isoformat(),
        },
        lambda o: o.payments.count() == 1,
    ),
    "refund": _staff_case(
        "refund",
        "finance",
        _paid,
        lambda w, o: {"amount": str(o.total), "reference": "RF-1", "kind": "money_back"},
        lambda o: o.payments.filter(kind=Payment.Kind.REFUND).count() == 1,
    ),
    "void": _staff_case(
        "void",
        "finance",
        _paid,
        lambda w, o: {"payment": o.payments.get().pk, "reason": "Typed twice."},
        lambda o: o.payments.filter(voided_at__isnull=False).count() == 1,
    ),
    "call": _staff_case(
        "call",
        "order_admin",
        _submitted,
        {"outcome": "no_answer"},
        lambda o: o.events.filter(kind="call_logged").exists(),
    ),
}


def _shipped(world):
    order = world_allocated(world)
    return services.ship_order(world.users["order_admin"], order, carrier=Order.OWN_DELIVERY_STAFF)


STAFF_CASES.update(
    {
        "attempt": _staff_case(
            "attempt",
            "logistics",
            _shipped,
            {"outcome": "not_home", "note": "Rang twice."},
            lambda o: o.events.filter(kind="delivery_attempted").count() == 1,
        ),
        "deliver": _staff_case(
            "deliver",
            "logistics",
            _shipped,
            {"collected_amount": "100.00", "received_by": "Li Wei"},
            lambda o: o.status == Status.DELIVERED,
        ),
        "return": _staff_case(
            "return",
            "order_admin",
            _shipped,
            {"reason": "Refused at the door.", "restock_choice": "all"},
            lambda o: o.status == Status.RETURNED,
        ),
    }
)


def case_staff_edit(world):
    order = _submitted(world)
    body = {
        **_address(city="Suzhou"),
        "payment_method": "cod",
        "note": "",
        "version": order.version,
        "reason": "As the member asked on the phone.",
        f"qty-{world.product.pk}": 2,
    }

    def check(client):
        return reload(order).version == order.version + 1

    return world.users["order_admin"], f"/staff/orders/{order.number}/edit/", body, check


def case_staff_new(world):
    body = {
        **_address(),
        "step": "order",
        "member": world.users["member"].pk,
        "token": "csrf-phone-order",
        "payment_method": "cod",
        f"add-{world.product.pk}": 1,
    }

    def check(client):
        return Order.objects.filter(checkout_token="csrf-phone-order").exists()

    return world.users["order_admin"], "/staff/orders/new/", body, check


def world_allocated(world):
    return allocate(_confirmed(world), world.users["order_admin"], world.users["logistics"])


class RewindingUpload(SimpleUploadedFile):
    """An uploaded file the test client can send twice (it reads from the start each time)."""

    def read(self, *args):
        self.seek(0)
        return super().read(*args)


SETTLEMENT_CSV = "运单号,代收金额,状态,日期\nSF-CSRF-1,60.00,已签收,\n".encode()


def _shipped_by_sf(world):
    """An order of 60.00 (one mug and shipping) out with SF Express, waybill SF-CSRF-1."""
    order = _confirmed(world)
    assert order.total == Decimal("60.00")
    admin = world.users["order_admin"]
    order = services.allocate_order(admin, order, assignee=world.users["logistics"])
    return services.ship_order(admin, order, carrier="SF Express", tracking_number="SF-CSRF-1")


def case_remit(world):
    courier = world.users["logistics"]
    admin = world.users["order_admin"]
    order = services.allocate_order(admin, _confirmed(world), assignee=courier)
    order = services.ship_order(admin, order, carrier=Order.OWN_DELIVERY_STAFF)
    order = services.record_delivery(admin, order, collected_amount=order.money_position().due)
    body = {"collections": [order.cod_collection.pk], "counted": str(order.cod_collection.amount)}

    def check(client):
        return Remittance.objects.filter(courier=courier).count() == 1

    return world.users["finance"], f"/staff/cash/remit/{courier.pk}/", body, check


def case_settlement_upload(world):
    _shipped_by_sf(world)
    body = {"carrier": "SF Express", "file": RewindingUpload("sf.csv", SETTLEMENT_CSV)}

    def check(client):
        return bool(client.session.get(SETTLEMENT_SESSION_KEY))

    return world.users["finance"], "/staff/cod-settlements/", body, check


def case_settlement_apply(world):
    order = _shipped_by_sf(world)

    def prepare(client, token):
        session = client.session
        rows = read_settlement_file(SETTLEMENT_CSV, "sf.csv")
        session[SETTLEMENT_SESSION_KEY] = {
            "csrf-case": {
                "carrier": "SF Express",
                "filename": "sf.csv",
                "rows": [row.as_dict() for row in rows],
            }
        }
        session.save()
        return {}

    def check(client):
        return reload(order).status == Status.DELIVERED

    return world.users["finance"], "/staff/cod-settlements/csrf-case/", prepare, check


def case_settlement_job_apply(world):
    """Apply a long settlement file read by a worker (issue 15): the POST queues it."""
    from orders.models import SettlementJob

    _shipped_by_sf(world)
    rows = read_settlement_file(SETTLEMENT_CSV, "sf.csv")
    job = SettlementJob.objects.create(
        user=world.users["finance"],
        carrier="SF Express",
        filename="sf.csv",
        state=SettlementJob.State.READY,
        rows=[row.as_dict() for row in rows],
    )

    def check(client):
        return SettlementJob.objects.get(pk=job.pk).state != SettlementJob.State.READY

    return world.users["finance"], f"/staff/cod-settlements/jobs/{job.pk}/", {}, check


def case_bulk_allocate(world):
    """Allocate two confirmed orders at once (the order list's bulk action)."""
    orders = [_confirmed(world), _confirmed(world)]
    body = {"order": [o.number for o in orders], "assignee": world.users["logistics"].pk}

    def check(client):
        return all(reload(o).status == Status.ALLOCATED for o in orders)

    return world.users["order_admin"], "/staff/orders/bulk/allocate/", body, check


FORM_CASES = {
    "login": case_login,
    "logout": case_logout,
    "register": case_register,
    "set_language": case_set_language,
    "cart-add": case_cart_add,
    "checkout": case_checkout,
    "member-edit": case_member_edit,
    "member-cancel": case_member_cancel,
    **{f"staff-{name}": case for name, case in STAFF_CASES.items()},
    "staff-remit": case_remit,
    "staff-settlement-upload": case_settlement_upload,
    "staff-settlement-apply": case_settlement_apply,
    "staff-settlement-job-apply": case_settlement_job_apply,
    "staff-bulk-allocate": case_bulk_allocate,
    "staff-edit": case_staff_edit,
    "staff-new": case_staff_new,
}


@pytest.mark.parametrize("case", list(FORM_CASES))
def test_form_needs_the_token(world, case):
    user, path, body, check = FORM_CASES[case](world)
    client = csrf_client(user)
    token = token_for(client)
    data = body(client, token) if callable(body) else body

    before = database_state()
    refused = client.post(path, data)
    assert refused.status_code == 403
    assert database_state() == before
    assert not check(client)

    accepted = client.post(path, {**data, "csrfmiddlewaretoken": token})
    assert accepted.status_code in (200, 302)
    assert check(client), f"{case}: the POST with the token did not do its work"


def test_cart_update_needs_the_token(world):
    client = csrf_client()
    token = token_for(client)
    client.post("/cart/add/", {"product": world.product.pk, "csrfmiddlewaretoken": token})
    body = {f"qty-{world.product.pk}": 3}
    assert client.post("/cart/update/", body).status_code == 403
    assert client.session["cart"] == {str(world.product.pk): 1}
    client.post("/cart/update/", {**body, "csrfmiddlewaretoken": token})
    assert client.session["cart"] == {str(world.product.pk): 3}
