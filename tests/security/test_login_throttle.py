"""Sign-in attempts are throttled by django-axes (issue 6, item 3).

After ``AXES_FAILURE_LIMIT`` failed sign-ins for one username from one address, the
sign-in page answers with the lock-out page (``registration/locked_out.html``) and even
the right password is refused until the cool-off (``AXES_COOLOFF_TIME``) has passed.
"""

import datetime

import pytest
from axes.models import AccessAttempt, AccessAttemptExpiration
from django.conf import settings
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db

LOCKED_OUT = "Too many failed sign-ins"


def sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def signed_in(client):
    return client.get("/account/orders/").status_code == 200


def fail_until_locked(client, username):
    """Fail ``AXES_FAILURE_LIMIT`` times; return the responses."""
    return [sign_in(client, username, "wrong password") for _ in range(settings.AXES_FAILURE_LIMIT)]


def test_the_limit_is_configured():
    assert 3 <= settings.AXES_FAILURE_LIMIT <= 10
    assert settings.AXES_COOLOFF_TIME  # a lock-out ends by itself
    assert settings.AXES_LOCKOUT_TEMPLATE == "registration/locked_out.html"


def test_failures_below_the_limit_show_the_form_error(member):
    client = Client()
    for response in fail_until_locked(client, "member")[:-1]:
        assert response.status_code == 200
        assert LOCKED_OUT not in response.content.decode()
        assert response.context["form"].non_field_errors()
    assert not signed_in(client)


def test_lock_out_after_the_limit_even_with_the_right_password(member):
    client = Client()
    responses = fail_until_locked(client, "member")
    locked = responses[-1]
    assert locked.status_code == 429
    page = locked.content.decode()
    assert LOCKED_OUT in page
    assert "try again in 15 minutes" in page  # AXES_COOLOFF_TIME = 0.25 h
    assert AccessAttempt.objects.get(username="member").failures_since_start == (
        settings.AXES_FAILURE_LIMIT
    )

    right = sign_in(client, "member", factories.PASSWORD)
    assert right.status_code == 429
    assert LOCKED_OUT in right.content.decode()
    assert not signed_in(client)
    # A fresh client (same address) is locked out too: the lock is on username + address.
    other = Client()
    assert sign_in(other, "member", factories.PASSWORD).status_code == 429
    assert not signed_in(other)


def test_other_accounts_are_not_locked(member, other_member):
    client = Client()
    fail_until_locked(client, "member")
    response = sign_in(client, "other", factories.PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_the_right_password_works_after_the_cool_off(member):
    client = Client()
    fail_until_locked(client, "member")
    assert sign_in(client, "member", factories.PASSWORD).status_code == 429

    # Let the cool-off pass: move the recorded failures back in time.
    past = datetime.timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - past)
    for expiration in AccessAttemptExpiration.objects.all():
        AccessAttemptExpiration.objects.filter(pk=expiration.pk).update(
            expires_at=expiration.expires_at - past
        )

    response = sign_in(client, "member", factories.PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)
    assert not AccessAttempt.objects.filter(username="member").exists()  # reset on success
