"""``manage.py setup_demo``: the demo catalogue and the demo accounts."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Q

from mall.models import Category, Product
from orders.models import FINANCE, LOGISTICS, ORDER_ADMINS, Order, Payment, Status
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

    assert "Demo catalogue (en) imported: created 39, updated 0, skipped 0, rejected 0" in out
    assert "Demo catalogue (zh-hans) imported: created 0, updated 39, skipped 0, rejected 0" in out
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


def test_is_idempotent_and_keeps_a_changed_password():
    setup_demo()
    admin = User.objects.get(username="admin1")
    admin.set_password("changed-by-someone")
    admin.save()

    out = setup_demo()

    assert "Catalogue already has products: demo catalogue not imported." in out
    assert Product.objects.count() == 39
    assert User.objects.filter(username__in=ACCOUNTS).count() == 5
    # Set only when the account is created: a run never signs the demo staff out.
    assert User.objects.get(username="admin1").check_password("changed-by-someone")
    assert User.objects.get(username="admin1").groups.count() == 1
    assert User.objects.get(username="finance1").check_password("finance1-demo-pass")


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


def test_the_demo_catalogue_is_complete_in_both_languages():
    setup_demo()
    for model in (Product, Category):
        for code in ("en", "zh_hans"):
            empty = model.objects.filter(
                Q(**{f"name_{code}__isnull": True}) | Q(**{f"name_{code}": ""})
            )
            assert not empty.exists(), (model.__name__, code, list(empty))
    wok = Product.objects.get(sku="KT-WOK")
    assert (wok.name_en, wok.name_zh_hans) == ("Carbon Steel Wok", "碳钢铁锅")
    assert wok.description_zh_hans == "已开锅；请手洗，洗后在灶上烘干。"
    # The Chinese run named the same categories, it made no new ones.
    assert Category.objects.count() == 19
    assert sorted(c.name_zh_hans for c in wok.categories.all()) == ["锅具刀具"]
    assert Category.objects.get(name_en="Kitchen").name_zh_hans == "厨房"
    gift = Product.objects.get(sku="TS-GIFTSET")
    assert sorted(c.name_zh_hans for c in gift.categories.all()) == ["茶叶", "零食"]


def test_seeds_demo_orders_in_every_state_once():
    out = setup_demo()
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)
    assert set(Order.objects.values_list("payment_status", flat=True)) >= {
        "unpaid",
        "partially_paid",
        "paid",
    }
    assert set(Order.objects.values_list("language", flat=True)) == {"zh-hans", "en"}
    # Through the services: every order has its "placed" event, payments are entries.
    assert all(o.events.filter(kind="placed").exists() for o in Order.objects.all())
    assert Payment.objects.filter(kind="payment").count() == 2
    assert "Demo orders placed: 11" in out
    delivered = Order.objects.get(status="delivered")
    assert delivered.cod_collection.remittance is None  # the cash is with the courier
    count = Order.objects.count()

    assert "no demo orders placed" in setup_demo()
    assert Order.objects.count() == count
