"""Shared fixtures: users for each role, products, orders, and signed-in clients."""

import pytest
from django.conf import settings
from django.utils import translation

from tests import factories


def pytest_collection_modifyitems(config, items):
    """Run ``postgres``-marked tests (real row locks, threads) only on PostgreSQL.

    On SQLite they are deselected, not skipped, and the run says so; CI runs the suite on
    both databases (DESIGN: "Tests that need real row locks run on PostgreSQL only").
    """
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("postgres") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
        config._mall_pg_deselected = len(drop)


def pytest_terminal_summary(terminalreporter, config):
    count = getattr(config, "_mall_pg_deselected", 0)
    if count:
        terminalreporter.write_line(
            f"{count} PostgreSQL-only race tests not run on SQLite "
            "(set DATABASE_URL=postgres://... to run them)."
        )


@pytest.fixture(autouse=True)
def site_language(request, settings):
    """Run each test in one site language: English, unless marked ``language("zh-hans")``.

    The shop's default is Simplified Chinese (``DJANGO_LANGUAGE_CODE``); most tests read
    English text, so they set the language they read here, once for the suite: it becomes
    ``LANGUAGE_CODE`` (what a visitor without a language cookie or ``Accept-Language`` gets)
    and the active language of the test itself. Returns the code.
    """
    marker = request.node.get_closest_marker("language")
    code = marker.args[0] if marker else "en"
    settings.LANGUAGE_CODE = code
    with translation.override(code):
        yield code


@pytest.fixture
def member(db):
    return factories.UserFactory(username="member")


@pytest.fixture
def other_member(db):
    return factories.UserFactory(username="other")


@pytest.fixture
def admin_user(db):
    return factories.order_admin(username="orderadmin")


@pytest.fixture
def finance_user(db):
    return factories.finance_clerk(username="finance")


@pytest.fixture
def logistics_user(db):
    return factories.logistics_person(username="courier")


@pytest.fixture
def superuser(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("root", "root@example.com", factories.PASSWORD)


@pytest.fixture
def product(db):
    return factories.ProductFactory(sku="MUG-1", name="Mug", price="50.00", stock=10)


@pytest.fixture
def login(client):
    """Return a function that signs ``client`` in as a user and returns the client."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture(autouse=True)
def _fresh_cache(settings, request):
    """Each test starts with an empty cache of its own (the project's file cache is shared
    by every process on the machine and outlives a run: limits would carry over)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }
    yield
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Hash test passwords cheaply: PBKDF2's cost is for production, not for the suite."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Hypothesis (property-based tests in tests/security) --------------------------------------
# "ci" (the default) runs a fixed set of examples per test, the same on every run, so the
# suite is repeatable and the whole Hypothesis part stays under a minute per database.
# HYPOTHESIS_PROFILE=explore draws many fresh examples each run, to hunt for new bugs.
import os as _os  # noqa: E402

from hypothesis import HealthCheck  # noqa: E402
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile(
    "ci",
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_hypothesis_settings.register_profile(
    "explore", parent=_hypothesis_settings.get_profile("ci"), max_examples=300, derandomize=False
)
_hypothesis_settings.load_profile(_os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# --- page width in headless Chromium ---------------------------------------------------------


@pytest.fixture
def page_width(browser, live_server):
    """Return ``measure(user, path, width=1280)``: the page's scroll width in Chromium, in px.

    Signs ``user`` in with a session cookie (no login form), opens ``path`` on
    ``live_server`` in a ``width`` x 900 viewport, checks the answer is 200 and returns
    ``document.documentElement.scrollWidth`` (equal to ``width`` unless something is wider
    than the window). Uses the session's ``browser``; mark the test ``e2e`` and
    ``django_db(transaction=True)``.
    """
    from django.db import connections
    from django.test import Client

    cookie = settings.SESSION_COOKIE_NAME
    sessions = {}  # user pk -> session key: one sign-in per user

    def sign_in(user):
        if user.pk not in sessions:
            client = Client()
            client.force_login(user)
            sessions[user.pk] = client.cookies[cookie].value
        return sessions[user.pk]

    def measure(user, path, width=1280):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": 900}
        )
        context.add_cookies([{"name": cookie, "value": sign_in(user), "url": live_server.url}])
        try:
            page = context.new_page()
            response = page.goto(path)
            assert response.status == 200, (path, response.status)
            return page.evaluate("document.documentElement.scrollWidth")
        finally:
            context.close()

    yield measure
    # ORM calls made while Playwright's loop runs in this thread get connections of
    # their own (asgiref's context-local storage): close them, or PostgreSQL refuses
    # to drop the test database at the end of the run.
    connections.close_all()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run, driven by Playwright's sync API.

    Playwright's event loop runs in the test thread, so Django's async-safety check is
    relaxed for the run (``DJANGO_ALLOW_ASYNC_UNSAFE``, as pytest-django's docs advise
    for live-server browser tests); it is removed again afterwards so subprocesses such
    as ``check --deploy`` never inherit it.
    """
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS, chromium_available

    if not chromium_available():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    previous = _os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    _os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield launched
            launched.close()
    finally:
        if previous is None:
            _os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            _os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
