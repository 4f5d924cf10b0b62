"""The confirmation desk (issue 11) against the faults a newcomer's trial found: one phone
one member (with +86, at once), the member found by how they give their name and phone,
lines named in the order's language, the call note kept when the tick is missing, and
"being called by" shared between web processes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

from orders import selectors, services
from orders.exceptions import InvalidInput
from tests.factories import ADDRESS, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_same_phone_with_country_code_is_refused(admin_user):
    """One phone, one member: "+86 133 1234 5678" is the number "133 1234 5678"."""
    services.create_member(admin_user, name="Zhao Liu", phone="133 1234 5678")
    with pytest.raises(InvalidInput):
        services.create_member(admin_user, name="Zhao Liu", phone="+86 133 1234 5678")


def test_member_found_by_full_chinese_name(db):
    """A member named 李 (first) 雷 (last) is found by "李雷" (how the name is said)."""
    li = UserFactory(username="lilei", first_name="李", last_name="雷")
    assert li in selectors.find_members("李雷")


def test_member_found_by_recipient_name_on_their_orders(admin_user, member, product):
    """Members who registered online have no name on their account: the name they give on
    the phone is the recipient of their orders."""
    services.place_order(
        member,
        lines=[(product, 1)],
        address={**ADDRESS, "recipient": "王小明"},
        payment_method="cod",
    )
    assert member in selectors.find_members("王小明")


def test_member_found_by_phone_typed_in_full_width_digits(member, product):
    services.place_order(
        member,
        lines=[(product, 1)],
        address={**ADDRESS, "phone": "138 0013 8000"},
        payment_method="cod",
    )
    assert member in selectors.find_members("１３８００１３８０００")


def test_line_added_by_an_admin_is_named_in_the_order_language(admin_user, member):
    """An admin working in English adds a product to a Chinese member's order: the line
    (and the member's e-mail) should name it in Chinese, as the member's own lines are."""
    tea = ProductFactory(sku="TEA-1", name_en="Jasmine Tea", name_zh_hans="茉莉花茶")
    cup = ProductFactory(sku="CUP-1", name_en="Cup", name_zh_hans="杯子")
    with translation.override("zh-hans"):
        order = services.place_order(
            member, lines=[(cup, 1)], address=ADDRESS, payment_method="cod"
        )
    with translation.override("en"):
        services.edit_order(
            admin_user,
            order,
            expected_version=order.version,
            lines=[(cup, 1), (tea, 1)],
            reason="As the member asked on the phone",
        )
    assert sorted(order.lines.values_list("name", flat=True)) == ["杯子", "茉莉花茶"]


def test_confirm_refused_for_the_missing_tick_keeps_the_call_note(
    admin_user, member, product, login
):
    order = services.place_order(
        member, lines=[(product, 1)], address=ADDRESS, payment_method="cod"
    )
    services.log_call(admin_user, order, outcome="no_answer")
    client = login(admin_user)
    response = client.post(
        f"/staff/orders/{order.number}/confirm/",
        {"version": order.version, "call_note": "Spoke to her at 15:02, all checked"},
        follow=True,
    )
    page = response.content.decode()
    assert "Spoke to her at 15:02, all checked" in page
    assert 'name="reached_after_failed"' in page  # the tick is offered with the reason
    assert response.context["forms"]["confirm"].errors["reached_after_failed"]
    order.refresh_from_db()
    assert order.status == "submitted"


def test_being_called_notice_is_shared_between_web_processes():
    """calling.py keeps "being called by" in the cache "(Redis when REDIS_URL is set)",
    but settings define no CACHES: each gunicorn worker has its own LocMemCache."""
    env = {
        **os.environ,
        "REDIS_URL": "redis://127.0.0.1:6379/6",
        "DJANGO_SETTINGS_MODULE": "mall.settings",
    }
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.CACHES['default']['BACKEND'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out != "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_register_member_twice_at_once_makes_one_member(admin_user):
    """A double click on "Register the member": one member, the other refused (seen live:
    two or three accounts 13600000101, -2, -3, or an IntegrityError 500)."""
    from django.contrib.auth import get_user_model

    from tests.integrity.racing import run_together

    def register():
        return services.create_member(admin_user, name="Twice", phone="136 0000 0101")

    outcomes = run_together(register, register, register)
    assert get_user_model().objects.filter(first_name="Twice").count() == 1
    assert all(o.ok or isinstance(o.error, InvalidInput) for o in outcomes)


def test_the_product_search_finds_a_name_in_either_language():
    from mall.catalogue import find_products

    tea = ProductFactory(sku="TEA-2", name_en="Jasmine Tea", name_zh_hans="茉莉花茶", stock=5)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert find_products("茉莉") == [tea]
            assert find_products("jasmine") == [tea]
