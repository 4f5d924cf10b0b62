"""Names written as their readers expect (``mall.people``): family name first for a
Chinese, Japanese or Korean name, given name first otherwise, in every language."""

import pytest
from django.utils import translation

from mall.people import full_name, person_name
from tests.factories import UserFactory


@pytest.mark.parametrize(
    ("given", "family", "written"),
    [
        ("小明", "王", "王小明"),
        ("Wei", "Li", "Wei Li"),
        ("", "王", "王"),
        ("Min", "", "Min"),
        ("  芳 ", " 陈", "陈芳"),
        ("太郎", "山田", "山田太郎"),
        ("민준", "김", "김민준"),
        ("", "", ""),
    ],
)
def test_full_name_follows_the_names_script(given, family, written):
    assert full_name(given, family) == written


@pytest.mark.django_db
def test_person_name_reads_the_same_on_chinese_and_english_pages():
    chinese = UserFactory(username="wxm", first_name="小明", last_name="王")
    nameless = UserFactory(username="courier9", first_name="", last_name="")
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert person_name(chinese) == "王小明"
            assert person_name(nameless) == "courier9"
            assert person_name(nameless, username_fallback=False) == ""
            assert person_name(None) == ""


@pytest.mark.django_db
def test_an_allocation_event_names_the_courier_family_name_first(member, admin_user):
    from orders import services
    from tests.staff.helpers import confirm, place

    courier = UserFactory(username="c-zhao", first_name="敏", last_name="赵")
    from django.contrib.auth.models import Group

    courier.groups.add(Group.objects.get(name="Logistics"))
    order = services.allocate_order(
        admin_user, confirm(place(member), admin_user), assignee=courier
    )
    assert order.events.latest("pk").data["to_name"] == "赵敏"
