"""Shared fixtures: users for each role, products, orders, and signed-in clients."""

import pytest

from tests import factories


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
