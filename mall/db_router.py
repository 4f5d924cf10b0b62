"""Primary and read replicas (issue 15; DESIGN "Past one machine").

``DatabaseChoiceMiddleware`` decides, once per request, where the shop's own tables are
read: a GET of one of the heavy read-only pages (``REPLICA_VIEWS``: the order list, its
export, the reports and the dashboard counts) reads a replica, taken in turn (round
robin) among those that answer and lag at most ``MALL_REPLICA_MAX_LAG_S``; everything
else reads the primary (``default``): every POST, every action page and every page the
same browser opens within ``MALL_READ_YOUR_WRITES_S`` after one of its writes (a cookie
stamped on the write's response). ``ReplicaRouter`` applies the choice; every write goes
to the primary, and so do the reads of sessions, users and login attempts (only the
``ROUTED_APPS`` tables are ever read from a replica).

A replica that fails in the middle of a page is marked down and the page is served again
from the primary. A lost primary (restarting, unreachable) becomes a 503 page that says
nothing was saved and to try again, never a 500: a checkout sent again carries the same
one-time token, so it finds the order if the first attempt did commit.
"""

import contextlib
import contextvars
import itertools
import logging
import sys
import threading
import time

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

logger = logging.getLogger(__name__)

PRIMARY = "default"
# The pages that read a replica (URL names), GET and HEAD only.
REPLICA_VIEWS = frozenset(
    {"staff:order-list", "staff:order-export", "staff:reports", "staff:dashboard"}
)
# The apps whose tables a replica page reads there (auth, sessions, axes: primary).
ROUTED_APPS = frozenset({"orders", "mall", "staff"})
# Tables read on the primary even then: the reports' roll-ups and their generations,
# which must be the current ones (``orders.report_days``).
PRIMARY_ONLY_MODELS = frozenset({"orders.reportday"})
WROTE_COOKIE = "mall_wrote"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_reading_from = contextvars.ContextVar("mall_reading_from", default=None)
_health = {}  # alias -> (checked_at monotonic, usable: bool, lag seconds or None)
_health_lock = threading.Lock()
_turn = itertools.count()

LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9)
END
"""


def replica_lag(alias):
    """Seconds replica ``alias`` is behind the primary (0 when it has replayed all it
    received). Raises ``DatabaseError`` when it cannot be reached."""
    with connections[alias].cursor() as cursor:
        cursor.execute(LAG_SQL)
        return float(cursor.fetchone()[0])


def replica_usable(alias):
    """Whether ``alias`` answers and lags at most ``MALL_REPLICA_MAX_LAG_S``; the answer is
    kept ``MALL_REPLICA_CHECK_S`` seconds per process."""
    now = time.monotonic()
    checked = _health.get(alias)
    if checked and now - checked[0] < settings.MALL_REPLICA_CHECK_S:
        return checked[1]
    try:
        lag = replica_lag(alias)
        usable = lag <= settings.MALL_REPLICA_MAX_LAG_S
        if not usable:
            logger.warning("replica %s lags %.1f s: reads go elsewhere", alias, lag)
    except DatabaseError:
        logger.warning("replica %s is unreachable: reads go elsewhere", alias)
        connections[alias].close()
        lag, usable = None, False
    with _health_lock:
        _health[alias] = (now, usable, lag)
    return usable


def mark_down(alias):
    """Skip replica ``alias`` until its next health check is due."""
    with _health_lock:
        _health[alias] = (time.monotonic(), False, None)
    with contextlib.suppress(DatabaseError):
        connections[alias].close()


def choose_replica():
    """The next usable replica alias in turn, or ``None`` (read the primary)."""
    aliases = settings.DATABASE_REPLICA_ALIASES
    if not aliases:
        return None
    start = next(_turn)
    for offset in range(len(aliases)):
        alias = aliases[(start + offset) % len(aliases)]
        if replica_usable(alias):
            return alias
    return None


@contextlib.contextmanager
def reading_replica():
    """Within the block the shop's tables are read from a usable replica, if any (a
    worker's export or report); writes still go to the primary."""
    token = _reading_from.set(choose_replica())
    try:
        yield
    finally:
        _reading_from.reset(token)


def reading_from():
    """The database alias this request reads the shop's tables from."""
    return _reading_from.get() or PRIMARY


class ReplicaRouter:
    """Reads of the shop's tables go where the middleware chose; everything else and
    every write to the primary; migrations run on the primary only."""

    def db_for_read(self, model, **hints):
        alias = _reading_from.get()
        if (
            alias
            and model._meta.app_label in ROUTED_APPS
            and model._meta.label_lower not in PRIMARY_ONLY_MODELS
        ):
            return alias
        return PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


def _wrote_recently(request):
    try:
        return float(request.COOKIES.get(WROTE_COOKIE, "0")) > time.time()
    except ValueError:
        return False


class DatabaseChoiceMiddleware:
    """Chooses the database a page reads (see the module), stamps the read-your-writes
    cookie after a write, and turns a lost database into a "please try again" page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _reading_from.set(None)
        try:
            response = self.get_response(request)
        finally:
            used = _reading_from.get()
            _reading_from.reset(token)
        if request.method not in SAFE_METHODS:
            until = time.time() + settings.MALL_READ_YOUR_WRITES_S
            response.set_cookie(
                WROTE_COOKIE,
                f"{until:.3f}",
                max_age=int(settings.MALL_READ_YOUR_WRITES_S) + 1,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        if settings.MALL_DATABASE_HEADER:
            response["X-Mall-Database"] = used or PRIMARY
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if (
            request.method in ("GET", "HEAD")
            and match is not None
            and match.view_name in REPLICA_VIEWS
            and not _wrote_recently(request)
        ):
            _reading_from.set(choose_replica())
        return None

    def process_exception(self, request, exception):
        if CACHE_DOWN and isinstance(exception, CACHE_DOWN):
            return try_again(request, exception)
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        alias = _reading_from.get()
        if alias and alias != PRIMARY:
            # The replica went away mid-page: skip it and serve the page from the primary.
            logger.warning("replica %s failed mid-page (%s); reading the primary", alias, exception)
            mark_down(alias)
            _reading_from.set(None)
            match = request.resolver_match
            try:
                response = match.func(request, *match.args, **match.kwargs)
                if hasattr(response, "render") and callable(response.render):
                    response = response.render()
                return response
            except (OperationalError, InterfaceError) as again:
                exception = again
        return try_again(request, exception)


# Redis down (sessions and cache with ``REDIS_URL``): the same "please try again" page, never
# a 500 (e.g. signing in rotates the session key through the cache).
try:
    from redis.exceptions import ConnectionError as _RedisDown
    from redis.exceptions import TimeoutError as _RedisSlow

    CACHE_DOWN = (_RedisDown, _RedisSlow)
except ImportError:  # pragma: no cover - redis is a dependency
    CACHE_DOWN = ()


def try_again(request, exception):
    """The 503 "please try again" page for a database (or, with ``REDIS_URL``, the Redis
    holding the sessions and cache) that could not be reached."""
    logger.error("database or cache unreachable on %s: %s", request.path, exception)
    for alias in connections:
        with contextlib.suppress(DatabaseError):
            connections[alias].close()
    # Rendered without the request's context processors: they would ask the database.
    return HttpResponse(render_to_string("try_again.html"), status=503)


def server_error(request):
    """``handler500``: a database lost outside a view (a session saved after the page, a
    middleware's query) is a 503 "please try again" too; anything else is Django's 500."""
    exception = sys.exc_info()[1]
    if isinstance(exception, OperationalError | InterfaceError) or (
        CACHE_DOWN and isinstance(exception, CACHE_DOWN)
    ):
        return try_again(request, exception)
    return defaults.server_error(request)
