"""``manage.py setup_demo``: the demo catalogue and the demo accounts."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from mall.models import Product
from orders.models import FINANCE, LOGISTICS, ORDER_ADMINS
from orders.selectors import staff_roles
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

User = get_user_model()

ACCOUNTS = {
    "root": "root-demo-pass",
    "admin1": "admin1-demo-pass",
    "finance1": "finance1-demo-pass",
    "courier1": "courier1-demo-pass",
    "member1": "member1-demo-pass",
}


def setup_demo(*args):
    out = io.StringIO()
    call_command("setup_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def debug_on(settings):
    settings.DEBUG = True


def test_imports_the_catalogue_and_creates_the_accounts():
    out = setup_demo()

    assert "Demo catalogue imported: created 39, updated 0, skipped 0, rejected 0" in out
    assert Product.objects.listed().count() == 29
    for username, password in ACCOUNTS.items():
        assert f"{username}" in out and f"password: {password}" in out
        assert User.objects.get(username=username).check_password(password)
    roles = {name: set(staff_roles(User.objects.get(username=name))) for name in ACCOUNTS}
    assert roles["admin1"] == {ORDER_ADMINS}
    assert roles["finance1"] == {FINANCE}
    assert roles["courier1"] == {LOGISTICS}
    assert roles["member1"] == set()
    root = User.objects.get(username="root")
    assert (root.is_superuser, root.is_staff) == (True, True)
    assert (User.objects.get(username="admin1").is_staff) is False


def test_is_idempotent_and_restores_the_passwords():
    setup_demo()
    admin = User.objects.get(username="admin1")
    admin.set_password("changed-by-someone")
    admin.save()

    out = setup_demo()

    assert "Catalogue already has products: demo catalogue not imported." in out
    assert Product.objects.count() == 39
    assert User.objects.filter(username__in=ACCOUNTS).count() == 5
    assert User.objects.get(username="admin1").check_password("admin1-demo-pass")
    assert User.objects.get(username="admin1").groups.count() == 1


def test_does_not_import_into_a_stocked_catalogue():
    ProductFactory(sku="OWN-1")

    setup_demo()

    assert list(Product.objects.values_list("sku", flat=True)) == ["OWN-1"]


def test_refuses_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="published passwords"):
        setup_demo()

    assert not User.objects.filter(username__in=ACCOUNTS).exists()
    assert Product.objects.count() == 0
