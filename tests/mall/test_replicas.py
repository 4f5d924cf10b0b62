"""Primary and read replicas (issue 15): which page reads where, lag and health checks,
read-your-writes, and a lost database as a "please try again" page. The scale-out test
(tests/scaleout) proves the same against a real streaming replica."""

import json
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve, reverse

from mall import db_router
from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_health():
    db_router._health.clear()
    yield
    db_router._health.clear()


def run_middleware(request):
    """Pass ``request`` through the middleware; return (database read, response)."""
    seen = []

    def get_response(req):
        req.resolver_match = resolve(req.path)
        middleware.process_view(req, req.resolver_match.func, (), {})
        seen.append(db_router.reading_from())
        return HttpResponse("ok")

    middleware = db_router.DatabaseChoiceMiddleware(get_response)
    response = middleware(request)
    return seen[0], response


@pytest.fixture
def one_replica(monkeypatch, settings):
    settings.DATABASE_REPLICA_ALIASES = ["replica1"]
    monkeypatch.setattr(db_router, "replica_usable", lambda alias: True)


def test_list_pages_read_the_replica_everything_else_the_primary(one_replica, settings):
    settings.MALL_DATABASE_HEADER = True
    factory = RequestFactory()
    for name in ("staff:order-list", "staff:order-export", "staff:reports", "staff:dashboard"):
        used, response = run_middleware(factory.get(reverse(name)))
        assert (name, used, response["X-Mall-Database"]) == (name, "replica1", "replica1")
    for path in ("/staff/orders/ABCD-EFGH/", "/checkout/", "/account/orders/"):
        assert run_middleware(factory.get(path))[0] == "default"
    # A POST to a list address (a bulk action) reads and writes the primary.
    assert run_middleware(factory.post(reverse("staff:order-list")))[0] == "default"


def test_a_write_sends_the_same_browser_to_the_primary_for_a_while(one_replica, settings):
    settings.MALL_READ_YOUR_WRITES_S = 6
    factory = RequestFactory()
    _used, response = run_middleware(factory.post("/checkout/"))
    cookie = response.cookies[db_router.WROTE_COOKIE]
    assert 5 < float(cookie.value) - time.time() <= 6.01
    assert cookie["httponly"] is True
    after = factory.get(reverse("staff:order-list"))
    after.COOKIES[db_router.WROTE_COOKIE] = cookie.value
    assert run_middleware(after)[0] == "default"
    later = factory.get(reverse("staff:order-list"))
    later.COOKIES[db_router.WROTE_COOKIE] = f"{time.time() - 1:.3f}"
    assert run_middleware(later)[0] == "replica1"
    garbage = factory.get(reverse("staff:order-list"))
    garbage.COOKIES[db_router.WROTE_COOKIE] = "not-a-time"
    assert run_middleware(garbage)[0] == "replica1"


def test_router_reads_only_the_shops_tables_from_the_replica():
    router = db_router.ReplicaRouter()
    token = db_router._reading_from.set("replica1")
    try:
        assert router.db_for_read(Order) == "replica1"
        assert router.db_for_read(get_user_model()) == "default"  # sign-in, sessions
        assert router.db_for_write(Order) == "default"
    finally:
        db_router._reading_from.reset(token)
    assert router.db_for_read(Order) == "default"
    assert router.allow_migrate("replica1", "orders") is False
    assert router.allow_migrate("default", "orders") is True


def test_replicas_taken_in_turn_and_unusable_ones_skipped(monkeypatch, settings):
    settings.DATABASE_REPLICA_ALIASES = ["replica1", "replica2", "replica3"]
    usable = {"replica1": True, "replica2": False, "replica3": True}
    monkeypatch.setattr(db_router, "replica_usable", lambda alias: usable[alias])
    chosen = {db_router.choose_replica() for _ in range(6)}
    assert chosen == {"replica1", "replica3"}
    usable.update(replica1=False, replica3=False)
    assert db_router.choose_replica() is None
    settings.DATABASE_REPLICA_ALIASES = []
    assert db_router.choose_replica() is None


def test_lagging_or_unreachable_replica_is_unusable_and_the_answer_is_kept(monkeypatch, settings):
    settings.MALL_REPLICA_MAX_LAG_S = 5
    settings.MALL_REPLICA_CHECK_S = 60
    asked = []

    def lag(alias):
        asked.append(alias)
        if alias == "down":
            raise OperationalError("connection refused")
        return {"fresh": 0.2, "behind": 9.0}[alias]

    monkeypatch.setattr(db_router, "replica_lag", lag)
    monkeypatch.setattr(db_router, "connections", {"down": type("C", (), {"close": print})()})
    assert db_router.replica_usable("fresh") is True
    assert db_router.replica_usable("behind") is False
    assert db_router.replica_usable("down") is False
    assert db_router.replica_usable("fresh") is True  # kept: not asked again
    assert asked == ["fresh", "behind", "down"]
    settings.MALL_REPLICA_CHECK_S = 0
    assert db_router.replica_usable("behind") is False
    assert asked == ["fresh", "behind", "down", "behind"]


@pytest.mark.postgres  # pg_is_in_recovery() is PostgreSQL's
def test_replica_lag_on_the_primary_is_zero():
    assert db_router.replica_lag("default") == 0


def test_a_lost_database_in_a_view_is_a_try_again_page(client, admin_user, monkeypatch):
    def lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("orders.selectors.dashboard_queues", lost)
    client.force_login(admin_user)
    response = client.get(reverse("staff:dashboard"))
    assert response.status_code == 503
    text = response.content.decode()
    assert "Please try again" in text
    assert "nothing was done" in text


def test_server_error_handler_turns_a_lost_database_into_503():
    request = RequestFactory().get("/")
    try:
        raise OperationalError("the database system is starting up")
    except OperationalError:
        response = db_router.server_error(request)
    assert response.status_code == 503
    assert "Please try again" in response.content.decode()
    try:
        raise ValueError("a bug")
    except ValueError:
        response = db_router.server_error(request)
    assert response.status_code == 500


def test_healthz_checks_database_and_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content)["database"] == "ok"
    assert json.loads(response.content)["cache"] == "ok"


@pytest.mark.parametrize("engine", ["mall.sessions.db", "mall.sessions.cached_db"])
def test_a_lost_database_while_saving_a_session_is_not_a_deleted_session(engine, monkeypatch):
    from importlib import import_module

    from django.contrib.sessions.backends.base import UpdateError
    from django.contrib.sessions.models import Session

    store = import_module(engine).SessionStore()
    store["cart"] = {"1": 1}
    store.save()
    assert Session.objects.filter(session_key=store.session_key).exists()

    def lost(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    with monkeypatch.context() as patch:
        patch.setattr(Session, "save", lost)
        store["cart"] = {"1": 2}
        with pytest.raises(OperationalError):  # → the "please try again" page, not a 400
            store.save()
    # A session really deleted meanwhile is still Django's UpdateError (→ 400).
    Session.objects.filter(session_key=store.session_key).delete()
    with pytest.raises(UpdateError):
        store.save()


def test_report_rollups_are_read_on_the_primary_and_never_kept_from_a_replica(monkeypatch):
    import datetime

    from orders import report_days
    from orders.models import ReportDay

    router = db_router.ReplicaRouter()
    token = db_router._reading_from.set("replica1")
    try:
        assert router.db_for_read(ReportDay) == "default"
        report_days.store({datetime.date(2026, 1, 5): {"placed": 3}}, seen={})
    finally:
        db_router._reading_from.reset(token)
    assert not ReportDay.objects.exists()
    report_days.store({datetime.date(2026, 1, 5): {"placed": 3}}, seen={})
    assert ReportDay.objects.get().figures["placed"] == 3


def test_redis_down_while_signing_in_is_a_try_again_page_not_a_500(client, member, monkeypatch):
    from redis.exceptions import ConnectionError as RedisDown

    from tests.factories import PASSWORD

    def down(*args, **kwargs):
        raise RedisDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    # Signing in rotates the session key, which deletes the old one from the cache.
    monkeypatch.setattr(
        "django.contrib.sessions.backends.base.SessionBase.cycle_key", down, raising=True
    )
    response = client.post("/accounts/login/", {"username": member.username, "password": PASSWORD})
    assert response.status_code == 503
    assert "Please try again" in response.content.decode()
    request = RequestFactory().get("/")
    try:
        raise RedisDown("Connection refused")
    except RedisDown:
        assert db_router.server_error(request).status_code == 503
