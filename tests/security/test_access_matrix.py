"""Who gets what at every URL of the site (issue 6, item 3).

``ACCESS`` below is the explicit table: every route of the URLconf (walked recursively,
the Django admin and i18n included) × every role → the expected status code of a GET
and, for the routes that take a POST, of a POST. A route without a row fails
``test_every_url_has_a_rule``, so a new page cannot ship without someone deciding who
may open it. Every cell also checks that nothing in the database changed: the POSTs
send an empty (or invalid) form, so even a role that may take the action only gets the
form back or a refusal message.

Codes: ``LOGIN`` is a redirect to the sign-in page (with ``?next=``), ``ADMIN_LOGIN`` to
the admin's; ``302`` any other redirect (a refusal message, or "you are signed in
already"). Parameters are filled with real objects (``urlconf.fill``): the member's own
submitted order on the member pages, an order allocated to the logistics user on the
back-office pages.
"""

import pytest
from django.contrib.messages import get_messages

from tests.security.conftest import ROLES, database_state
from tests.security.urlconf import ADMIN, fill, rule_key, walk
from tests.staff.helpers import place

pytestmark = pytest.mark.django_db

LOGIN = "login"
ADMIN_LOGIN = "admin-login"


def every(code):
    return dict.fromkeys(ROLES, code)


def row(anonymous, member, other_member, order_admin, finance, logistics, superuser):
    """One row of expected codes, in the order of ``ROLES``."""
    return dict(
        zip(
            ROLES,
            (anonymous, member, other_member, order_admin, finance, logistics, superuser),
            strict=True,
        )
    )


# Every row(): anonymous, member, other member, order admin, finance, logistics, superuser.
MEMBER_ONLY = row(LOGIN, 200, 404, 404, 404, 404, 404)
STAFF_PAGE = row(LOGIN, 403, 403, 200, 200, 200, 200)
SIGNED_IN = row(LOGIN, 200, 200, 200, 200, 200, 200)
ANONYMOUS_ONLY = row(200, 302, 302, 302, 302, 302, 302)

# route -> {"get": expected by role, "post": expected by role (or absent), "data": POST body}
ACCESS = {
    # storefront, open to all
    "": {"get": every(200)},
    "category/<str:slug>/": {"get": every(200)},
    "product/<str:slug>/": {"get": every(200)},
    "search/": {"get": every(200)},
    # accounts
    "accounts/login/": {"get": every(200), "post": every(200)},  # empty form: errors shown
    "accounts/logout/": {"get": every(405), "post": every(302)},
    "accounts/register/": {"get": ANONYMOUS_ONLY, "post": ANONYMOUS_ONLY},
    "i18n/setlang/": {"get": every(302), "post": every(302)},
    # password change (members and staff) and reset by e-mail; empty forms: errors shown
    "accounts/password/change/": {"get": SIGNED_IN, "post": SIGNED_IN},
    "accounts/password/change/done/": {"get": SIGNED_IN},
    "accounts/password/reset/": {"get": every(200), "post": every(200)},
    "accounts/password/reset/sent/": {"get": every(200)},
    "accounts/reset/<uidb64>/<token>/": {"get": every(200), "post": every(200)},  # bad link
    "accounts/reset/done/": {"get": every(200)},
    # the account page and the member's saved addresses: anyone else's is a 404
    "account/": {"get": SIGNED_IN, "post": SIGNED_IN},
    "account/addresses/new/": {"get": SIGNED_IN, "post": SIGNED_IN},
    "account/addresses/<int:address_id>/": {"get": MEMBER_ONLY, "post": MEMBER_ONLY},
    "account/addresses/<int:address_id>/delete/": {  # without confirm=yes: a message
        "get": row(LOGIN, 405, 405, 405, 405, 405, 405),
        "post": row(LOGIN, 302, 404, 404, 404, 404, 404),
    },
    "account/addresses/<int:address_id>/default/": {  # already the default: a message
        "get": row(LOGIN, 405, 405, 405, 405, 405, 405),
        "post": row(LOGIN, 302, 404, 404, 404, 404, 404),
    },
    # cart and checkout (the cart holds one item for every role)
    "cart/": {"get": every(200)},
    "cart/add/": {"get": every(405), "post": every(302)},  # refused with a message
    "cart/update/": {"get": every(405), "post": every(302)},
    "checkout/": {"get": SIGNED_IN, "post": SIGNED_IN},  # no token: "page expired"
    # the member's orders: anyone else's is a 404
    "account/orders/": {"get": SIGNED_IN},
    "account/orders/<str:number>/": {"get": MEMBER_ONLY},
    "account/orders/<str:number>/edit/": {"get": MEMBER_ONLY, "post": MEMBER_ONLY},
    "account/orders/<str:number>/cancel/": {
        "get": MEMBER_ONLY,
        "post": MEMBER_ONLY,
        "data": {"reason": "x" * 1001},  # too long: the form comes back, nothing cancelled
    },
    # back office: pages
    "staff/": {"get": STAFF_PAGE},
    "staff/orders/": {"get": STAFF_PAGE},
    "staff/orders/export/": {"get": STAFF_PAGE},
    "staff/deliveries/": {"get": STAFF_PAGE},
    "staff/deliveries/run-sheet/": {"get": STAFF_PAGE},
    "staff/deliveries/picking-list/": {"get": STAFF_PAGE},
    "staff/orders/print/": {"get": STAFF_PAGE},
    # Bulk allocation: order admins only; an empty form is refused with a message.
    "staff/orders/bulk/allocate/": {
        "get": row(LOGIN, 403, 403, 405, 403, 403, 405),
        "post": row(LOGIN, 403, 403, 302, 403, 403, 302),
    },
    "staff/reports/": {"get": row(LOGIN, 403, 403, 200, 200, 403, 200)},  # issue 12
    # The e-mail outbox (issue 15): order admins only; nothing failed → the retry refused.
    "staff/outbox/": {"get": row(LOGIN, 403, 403, 200, 403, 403, 200)},
    "staff/outbox/<int:pk>/retry/": {
        "get": row(LOGIN, 403, 403, 405, 403, 403, 405),
        "post": row(LOGIN, 403, 403, 302, 403, 403, 302),
    },
    "healthz": {"get": every(200)},
    # A large export's progress page and file (issue 15): only its owner's; none here.
    "staff/exports/<int:job_id>/": {"get": row(LOGIN, 403, 403, 404, 404, 404, 404)},
    "staff/exports/<int:job_id>/download/": {"get": row(LOGIN, 403, 403, 404, 404, 404, 404)},
    "staff/orders/<str:number>/": {"get": STAFF_PAGE},
    "staff/orders/<str:number>/print/": {"get": STAFF_PAGE},
    # back office: one POST endpoint per action. 403: the role may never take it;
    # 405: GET on a POST-only action; 302: refused now (message); 200: the form with errors.
    "staff/orders/<str:number>/confirm/": {
        "get": row(LOGIN, 403, 403, 405, 403, 403, 405),
        "post": row(LOGIN, 403, 403, 302, 403, 403, 302),  # allocated: confirm refused
    },
    "staff/orders/<str:number>/invalidate/": {
        "get": row(LOGIN, 403, 403, 302, 403, 403, 302),
        "post": row(LOGIN, 403, 403, 302, 403, 403, 302),
    },
    "staff/orders/<str:number>/cancel/": {
        "get": row(LOGIN, 403, 403, 200, 403, 403, 200),
        "post": row(LOGIN, 403, 403, 200, 403, 403, 200),
    },
    "staff/orders/<str:number>/allocate/": {
        "get": row(LOGIN, 403, 403, 405, 403, 403, 405),
        "post": row(LOGIN, 403, 403, 200, 403, 403, 200),
    },
    "staff/orders/<str:number>/ship/": {
        "get": row(LOGIN, 403, 403, 405, 403, 405, 405),
        "post": row(LOGIN, 403, 403, 200, 403, 200, 200),
    },
    "staff/orders/<str:number>/payment/": {
        "get": row(LOGIN, 403, 403, 403, 405, 403, 405),
        "post": row(LOGIN, 403, 403, 403, 200, 403, 200),
    },
    "staff/orders/<str:number>/refund/": {
        "get": row(LOGIN, 403, 403, 403, 405, 403, 405),
        "post": row(LOGIN, 403, 403, 403, 302, 403, 302),  # nothing held: refused
    },
    "staff/orders/<str:number>/void/": {
        "get": row(LOGIN, 403, 403, 403, 302, 403, 302),  # no entry chosen: message
        "post": row(LOGIN, 403, 403, 403, 302, 403, 302),  # no entries to void
    },
    "staff/orders/<str:number>/call/": {
        "get": row(LOGIN, 403, 403, 405, 403, 403, 405),
        "post": row(LOGIN, 403, 403, 200, 403, 403, 200),
    },
    "staff/orders/<str:number>/calling/": {
        "get": row(LOGIN, 403, 403, 405, 403, 403, 405),
        "post": row(LOGIN, 403, 403, 302, 403, 403, 302),
    },
    # After shipping (the allocated order has not shipped: refused with a message).
    "staff/orders/<str:number>/attempt/": {
        "get": row(LOGIN, 403, 403, 405, 403, 405, 405),
        "post": row(LOGIN, 403, 403, 302, 403, 302, 302),
    },
    "staff/orders/<str:number>/deliver/": {
        "get": row(LOGIN, 403, 403, 405, 403, 405, 405),
        "post": row(LOGIN, 403, 403, 302, 403, 302, 302),
    },
    "staff/orders/<str:number>/return/": {
        "get": row(LOGIN, 403, 403, 302, 403, 403, 302),  # confirmation page: refused now
        "post": row(LOGIN, 403, 403, 302, 403, 403, 302),
    },
    # finance's cash pages (order admins may look at the cash, only finance records)
    "staff/cash/": {"get": row(LOGIN, 403, 403, 200, 200, 403, 200)},
    "staff/cash/remit/<int:courier_id>/": {
        "get": row(LOGIN, 403, 403, 403, 200, 403, 200),
        "post": row(LOGIN, 403, 403, 403, 200, 403, 200),  # nothing ticked: the form again
    },
    "staff/cod-settlements/": {
        "get": row(LOGIN, 403, 403, 403, 200, 403, 200),
        "post": row(LOGIN, 403, 403, 403, 200, 403, 200),  # no file: the form with errors
    },
    # A long settlement file's page (issue 15): finance only, its uploader's only; none here.
    "staff/cod-settlements/jobs/<int:job_id>/": {
        "get": row(LOGIN, 403, 403, 403, 404, 403, 404),
        "post": row(LOGIN, 403, 403, 403, 404, 403, 404),
    },
    "staff/cod-settlements/<str:token>/": {
        "get": row(LOGIN, 403, 403, 403, 302, 403, 302),  # unknown token: "expired"
        "post": row(LOGIN, 403, 403, 403, 302, 403, 302),
    },
    # issue 11: change for the member (the allocated order: refused with a message) and
    # orders taken by phone (an empty POST: the form comes back with its errors).
    "staff/orders/<str:number>/edit/": {
        "get": row(LOGIN, 403, 403, 302, 403, 403, 302),
        "post": row(LOGIN, 403, 403, 302, 403, 403, 302),
    },
    "staff/orders/new/": {
        "get": row(LOGIN, 403, 403, 200, 403, 403, 200),
        "post": row(LOGIN, 403, 403, 200, 403, 403, 200),
    },
    # The Django admin, as a whole: see test_admin_namespace.
    ADMIN: {},
}

# Routes whose page needs something in the cart to be more than "your cart is empty".
NEEDS_CART = {"checkout/", "cart/update/"}


def site_routes():
    """``(namespace, name, route)`` of every URL pattern outside the Django admin."""
    return [entry for entry in walk() if rule_key(entry[0], entry[2]) != ADMIN]


def outcome(response):
    """What a response amounts to: a status code, ``LOGIN`` or ``ADMIN_LOGIN``."""
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/accounts/login/?next="):
            return LOGIN
        if location.startswith("/admin/login/?next="):
            return ADMIN_LOGIN
    return response.status_code


def test_every_url_has_a_rule():
    """A new URL pattern without a row in ``ACCESS`` (or a row for a removed one) fails."""
    keys = {rule_key(namespace, route) for namespace, _name, route in walk()}
    assert keys == set(ACCESS), (
        f"URL patterns without an access rule: {sorted(keys - set(ACCESS))}; "
        f"rules for URLs that no longer exist: {sorted(set(ACCESS) - keys)}"
    )
    # Every route is distinct, so one row can never silently stand for two pages.
    routes = [route for namespace, _name, route in walk() if rule_key(namespace, route) != ADMIN]
    assert len(routes) == len(set(routes))


@pytest.mark.parametrize(
    "namespace,name,route", site_routes(), ids=[r[2] or "home" for r in site_routes()]
)
def test_access(world, namespace, name, route):
    rule = ACCESS[route]
    path = fill(namespace, name, route, world)
    seen, wrong = {}, []
    for method in ("get", "post"):
        if method not in rule:
            continue
        for role in ROLES:
            client = world.client(role)
            if route in NEEDS_CART:
                client.post("/cart/add/", {"product": world.product.pk, "quantity": 1})
            before = database_state()
            if method == "get":
                response = client.get(path)
            else:
                response = client.post(path, rule.get("data", {}))
            got = outcome(response)
            seen[(method, role)] = got
            expected = rule[method][role]
            if got != expected:
                wrong.append(f"{method.upper()} {path} as {role}: {got}, expected {expected}")
            if database_state() != before:
                wrong.append(f"{method.upper()} {path} as {role} changed the database")
            # A refused POST says why on the page it redirects to.
            if (
                method == "post"
                and got == 302
                and route.startswith(("staff/", "account/", "cart/"))
                and not list(get_messages(response.wsgi_request))
            ):
                wrong.append(f"POST {path} as {role}: redirected without a message")
    assert not wrong, "\n".join(wrong)


# --- the Django admin, as a whole --------------------------------------------------------------

NOT_ADMIN_STAFF = ("member", "other_member", "order_admin", "finance", "logistics")


def admin_routes():
    return [entry for entry in walk() if rule_key(entry[0], entry[2]) == ADMIN]


def test_admin_has_its_own_routes():
    """The admin rule below covers a real set of pages (the walk found them)."""
    names = {name for _namespace, name, _route in admin_routes()}
    assert {"index", "login", "orders_order_changelist", "orders_payment_change"} <= names


@pytest.mark.parametrize("namespace,name,route", admin_routes(), ids=[r[2] for r in admin_routes()])
def test_admin_namespace(world, namespace, name, route):
    """Only ``is_staff`` users get into the admin: everyone else goes to the admin sign-in.

    The staff roles of the back office do not have ``is_staff`` (DESIGN: "Roles"), so for
    the admin they are like any member. The superuser gets the index (200) and never a
    server error anywhere.
    """
    path = fill(namespace, name, route, world)
    wrong = []
    for role in ROLES:
        before = database_state()
        response = world.client(role).get(path)
        got = outcome(response)
        if name == "login":
            expected = {200} if role != "superuser" else {302}  # signed in: on to the index
        elif name == "logout":
            # Sign-out is POST only; who is not admin staff is sent to the admin's front.
            expected = {405} if role == "superuser" else {302}
        elif role == "superuser":
            expected = {200} if name == "index" else {200, 302, 403, 404}
        else:
            expected = {ADMIN_LOGIN}
        if got not in expected:
            allowed = sorted(map(str, expected))
            wrong.append(f"GET {path} as {role}: {got}, expected one of {allowed}")
        if database_state() != before:
            wrong.append(f"GET {path} as {role} changed the database")
    assert not wrong, "\n".join(wrong)


# --- scope inside the back office ------------------------------------------------------------


def test_logistics_sees_only_the_orders_allocated_to_them(world):
    """Another courier's order (or one not allocated) is a 404 for a logistics person,
    on every page and action that names an order, even the ones they may take."""
    other_courier_order = place(world.users["member"], lines=[(world.product, 1)])
    client = world.client("logistics")
    wrong = []
    for namespace, name, route in site_routes():
        if namespace != "staff" or "<str:number>" not in route:
            continue
        path = "/" + route.replace("<str:number>", other_courier_order.number)
        before = database_state()
        got = client.get(path).status_code
        posted = client.post(path, {"carrier": "X", "tracking_number": "1"}).status_code
        # A role that may never take an action is told so (403) before the order is looked up.
        mine_to_take = (
            "order-detail",
            "order-print",
            "order-ship",
            "order-attempt",
            "order-deliver",
        )
        expected = 404 if name in mine_to_take else 403
        if name in ("order-detail", "order-print"):
            ok = got == expected and posted == 405
        else:  # POST endpoints: a GET may be refused as a method first
            ok = got in (expected, 405) and posted == expected
        if not ok:
            wrong.append(f"{path}: GET {got}, POST {posted}, expected {expected}")
        if database_state() != before:
            wrong.append(f"{path} changed the database")
    assert not wrong, "\n".join(wrong)
    assert (
        world.client("logistics").get(f"/staff/orders/{world.allocated.number}/").status_code == 200
    )
