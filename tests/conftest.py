"""Shared fixtures: users for each role, products, orders, and signed-in clients."""

import pytest
from django.conf import settings

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
