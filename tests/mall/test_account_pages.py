"""Accounts people can recover (issue 14): password reset and change, the account page,
saved addresses pre-filling checkout, and where staff land after signing in."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache

from mall.models import Address, Profile
from tests.factories import ADDRESS, PASSWORD, ProductFactory, UserFactory, order_admin

pytestmark = pytest.mark.django_db

User = get_user_model()
NEW_PASSWORD = "a-new-Harbour-pass-42"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def reset_link(message):
    match = re.search(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


class TestPasswordReset:
    def test_the_whole_flow_by_e_mail(self, client):
        member = UserFactory(username="lin", email="lin@example.com")

        response = client.post("/accounts/password/reset/", {"email": "LIN@example.com"})
        assert response.status_code == 302
        assert response["Location"] == "/accounts/password/reset/sent/"
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["lin@example.com"]
        assert message.subject == "Choose a new password for Harbour Mall"
        link = reset_link(message)

        # Django swaps the token for a session marker and redirects to the form.
        response = client.get(link)
        assert response.status_code == 302
        form_url = response["Location"]
        assert form_url.endswith("/set-password/")
        response = client.post(
            form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        )
        assert response.status_code == 302
        assert response["Location"] == "/accounts/reset/done/"

        member.refresh_from_db()
        assert member.check_password(NEW_PASSWORD)
        refused = sign_in(client, "lin", PASSWORD)
        assert refused.status_code == 200 and "_auth_user_id" not in client.session
        assert sign_in(client, "lin", NEW_PASSWORD).status_code == 302
        client.post("/accounts/logout/")

        # The link works once.
        reused = client.get(link, follow=True)
        assert reused.status_code == 200
        assert "This link does not work" in reused.text
        assert 'name="new_password1"' not in reused.text
        member.refresh_from_db()
        assert member.check_password(NEW_PASSWORD)

    def test_an_unknown_address_looks_the_same_and_sends_nothing(self, client):
        response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
        assert response.status_code == 302
        assert response["Location"] == "/accounts/password/reset/sent/"
        assert mail.outbox == []

    def test_the_e_mail_is_in_the_member_s_language(self, client):
        member = UserFactory(username="wang", email="wang@example.com")
        Profile.objects.create(user=member, language="zh-hans")
        client.post("/accounts/password/reset/", {"email": "wang@example.com"})
        message = mail.outbox[0]
        assert message.subject == "为 Harbour Mall 设置新密码"
        assert "wang，您好：" in message.body

    def test_requests_are_throttled(self, client, settings):
        settings.MALL_PASSWORD_RESET_LIMIT = 3
        UserFactory(username="lin", email="lin@example.com")
        for _ in range(3):
            response = client.post("/accounts/password/reset/", {"email": "lin@example.com"})
            assert response.status_code == 302
        response = client.post("/accounts/password/reset/", {"email": "lin@example.com"})
        assert response.status_code == 200
        assert "Too many password reset requests" in response.text
        assert 'value="lin@example.com"' in response.text  # what was typed stays
        # Another address from the same client is refused too (counted per client).
        other = client.post("/accounts/password/reset/", {"email": "x@example.com"})
        assert other.status_code == 200
        assert len(mail.outbox) == 3

    def test_the_sign_in_page_offers_it(self, client):
        assert 'href="/accounts/password/reset/"' in client.get("/accounts/login/").text


class TestPasswordChange:
    @pytest.mark.parametrize("make", [UserFactory, order_admin], ids=["member", "staff"])
    def test_changing_one_s_own_password(self, client, make):
        user = make(username="someone")
        client.force_login(user)
        wrong = client.post(
            "/accounts/password/change/",
            {
                "old_password": "not-it",
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        assert wrong.status_code == 200
        user.refresh_from_db()
        assert user.check_password(PASSWORD)

        response = client.post(
            "/accounts/password/change/",
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        assert response.status_code == 302
        assert response["Location"] == "/accounts/password/change/done/"
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        # Still signed in on this browser.
        assert client.get("/accounts/password/change/done/").status_code == 200


class TestAccountPage:
    def test_saves_name_phone_e_mail_and_language(self, client, member):
        client.force_login(member)
        response = client.post(
            "/account/",
            {
                "first_name": "Wei",
                "last_name": "Li",
                "phone": "139 0000 1111",
                "email": "wei@example.com",
                "language": "zh-hans",
            },
        )
        assert response.status_code == 302 and response["Location"] == "/account/"
        member.refresh_from_db()
        assert (member.first_name, member.last_name, member.email) == (
            "Wei",
            "Li",
            "wei@example.com",
        )
        profile = Profile.objects.get(user=member)
        assert (profile.phone, profile.language) == ("139 0000 1111", "zh-hans")
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
        page = client.get("/account/")
        assert "您的资料已保存。" in page.text
        assert '<html lang="zh-hans">' in page.text

    def test_a_taken_e_mail_is_refused_and_what_was_typed_stays(self, client, member):
        UserFactory(username="other", email="taken@example.com")
        client.force_login(member)
        before = member.email
        response = client.post(
            "/account/",
            {
                "first_name": "Typed name",
                "phone": "139 0000 1111",
                "email": "Taken@example.com",
                "language": "en",
            },
        )
        assert response.status_code == 200
        assert "Another account uses this e-mail address." in response.text
        assert 'value="Typed name"' in response.text
        member.refresh_from_db()
        assert member.email == before and not Profile.objects.filter(user=member).exists()

    def test_a_bad_phone_is_refused(self, client, member):
        client.force_login(member)
        response = client.post(
            "/account/", {"phone": "call me", "email": member.email, "language": "en"}
        )
        assert response.status_code == 200
        assert "Enter a phone number we can call" in response.text

    def test_signing_in_takes_up_the_saved_language(self, client):
        user = UserFactory(username="mei")
        Profile.objects.create(user=user, language="zh-hans")
        response = sign_in(client, "mei", PASSWORD)
        assert response.status_code == 302
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"


class TestSavedAddresses:
    def add(self, client, **overrides):
        return client.post("/account/addresses/new/", {**ADDRESS, **overrides})

    def test_the_first_address_is_the_default_and_a_new_default_replaces_it(self, client, member):
        client.force_login(member)
        assert self.add(client).status_code == 302
        first = Address.objects.get(user=member)
        assert first.is_default
        self.add(client, city="Hangzhou", is_default="on")
        second = Address.objects.get(user=member, city="Hangzhou")
        first.refresh_from_db()
        assert (first.is_default, second.is_default) == (False, True)

        client.post(f"/account/addresses/{first.pk}/default/")
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.is_default, second.is_default) == (True, False)

    def test_checkout_starts_from_the_default_address(self, client, member):
        client.force_login(member)
        Address.objects.create(user=member, is_default=True, **{**ADDRESS, "city": "Suzhou"})
        product = ProductFactory(price="20.00", stock=5)
        client.post("/cart/add/", {"product": product.pk, "quantity": 1})
        page = client.get("/checkout/").text
        assert 'value="Suzhou"' in page
        assert f'value="{ADDRESS["address_line"]}"' in page

    def test_a_bad_address_is_refused_and_kept(self, client, member):
        client.force_login(member)
        response = self.add(client, phone="12", city="Typed city")
        assert response.status_code == 200
        assert 'value="Typed city"' in response.text
        assert not Address.objects.filter(user=member).exists()

    def test_another_member_s_address_is_not_found(self, client, member, other_member):
        theirs = Address.objects.create(user=other_member, is_default=True, **ADDRESS)
        client.force_login(member)
        assert client.get(f"/account/addresses/{theirs.pk}/").status_code == 404
        assert (
            client.post(f"/account/addresses/{theirs.pk}/delete/", {"confirm": "yes"}).status_code
            == 404
        )
        assert Address.objects.filter(pk=theirs.pk).exists()

    def test_deleting_the_default_makes_the_next_one_default(self, client, member):
        client.force_login(member)
        old = Address.objects.create(user=member, is_default=False, **ADDRESS)
        default = Address.objects.create(user=member, is_default=True, **ADDRESS)
        client.post(f"/account/addresses/{default.pk}/delete/")  # no confirm: nothing
        assert Address.objects.filter(pk=default.pk).exists()
        client.post(f"/account/addresses/{default.pk}/delete/", {"confirm": "yes"})
        assert not Address.objects.filter(pk=default.pk).exists()
        old.refresh_from_db()
        assert old.is_default


class TestWhereSigningInLands:
    def test_staff_land_on_the_back_office(self, client):
        order_admin(username="boss")
        response = sign_in(client, "boss", PASSWORD)
        assert response["Location"] == "/staff/"

    def test_members_land_on_the_shop(self, client):
        UserFactory(username="lin")
        assert sign_in(client, "lin", PASSWORD)["Location"] == "/"

    def test_an_explicit_next_wins(self, client):
        order_admin(username="boss")
        response = client.post(
            "/accounts/login/", {"username": "boss", "password": PASSWORD, "next": "/cart/"}
        )
        assert response["Location"] == "/cart/"
