"""The member e-mail outbox and its tasks (issue 15): one e-mail per order event, sent
once however often its task runs, failures kept for staff with a retry button."""

import smtplib
import threading

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.urls import reverse

from orders import services, tasks
from orders.exceptions import InvalidInput, NotPermitted
from orders.models import OutboxEmail
from tests.factories import ADDRESS, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mug(db):
    return ProductFactory(sku="MUG-9", name="Mug", price="50.00", stock=10)


@pytest.fixture
def flaky_mail(monkeypatch):
    """The mail backend fails the first ``fail[0]`` sends as an SMTP server would."""
    fail = [1]
    real = EmailBackend.send_messages

    def send_messages(self, messages):
        if fail[0] > 0:
            fail[0] -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    return fail


def place(member, mug, callbacks):
    with callbacks(execute=True):
        return services.place_order(
            member, lines=[(mug, 1)], address=dict(ADDRESS), payment_method="cod"
        )


def test_placing_writes_one_outbox_row_and_sends_it_once_in_process(
    member, mug, django_capture_on_commit_callbacks
):
    order = place(member, mug, django_capture_on_commit_callbacks)
    email = OutboxEmail.objects.get()
    assert (email.order, email.kind, email.state, email.attempts) == (order, "placed", "sent", 1)
    assert email.event == order.events.get(kind="placed")
    assert email.sent_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers[tasks.EMAIL_ID_HEADER] == str(email.pk)
    # The task running again (a redelivered message) sends nothing more.
    assert tasks.deliver_email(email.pk) == "sent"
    assert tasks.send_email_task.apply(args=(email.pk,)).get() == "sent"
    assert len(mail.outbox) == 1
    assert OutboxEmail.objects.get().attempts == 1


def test_a_lost_stamp_is_not_sent_again(member, mug, django_capture_on_commit_callbacks):
    # Sent, then the database lost the stamp (the primary restarted before the commit):
    # the note in the cache keeps the next run from sending it twice.
    order = place(member, mug, django_capture_on_commit_callbacks)
    email = order.emails.get()
    OutboxEmail.objects.filter(pk=email.pk).update(state="pending", sent_at=None)
    assert tasks.deliver_email(email.pk) == "sent"
    assert len(mail.outbox) == 1


def test_one_email_per_event_and_kind(member, admin_user, mug, django_capture_on_commit_callbacks):
    order = place(member, mug, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_order(admin_user, order, expected_version=1, call_note="OK.")
    rows = list(order.emails.order_by("pk").values_list("kind", "event__kind", "state"))
    assert rows == [("placed", "placed", "sent"), ("confirmed", "confirmed", "sent")]
    assert [m.subject for m in mail.outbox] == [
        f"We received your order {order.number}",
        f"Your order {order.number} is confirmed",
    ]


def test_the_worker_task_retries_an_smtp_failure_and_sends_once(
    member, mug, flaky_mail, django_capture_on_commit_callbacks
):
    flaky_mail[0] = 2
    order = place(member, mug, django_capture_on_commit_callbacks)  # in-process: fails once
    email = order.emails.get()
    assert (email.state, email.attempts) == ("failed", 1)
    assert "SMTPServerDisconnected" in email.last_error
    assert mail.outbox == []
    # The worker's task: one more failure, retried with back-off, then sent.
    assert tasks.send_email_task.apply(args=(email.pk,)).get() == "sent"
    email.refresh_from_db()
    assert (email.state, email.attempts, email.last_error) == ("sent", 3, "")
    assert len(mail.outbox) == 1


def test_retry_delay_backs_off():
    assert 1.5 <= tasks.retry_delay(0) <= 2.5
    assert 6 <= tasks.retry_delay(2) <= 10
    assert tasks.retry_delay(20) <= 750


def test_without_a_reachable_broker_the_email_is_sent_in_process(
    member, mug, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.MALL_EMAIL_RELAY_S = 0  # handed over in the request (the relay: tests below)
    tasks.send_email_task.app.conf.broker_url = settings.CELERY_BROKER_URL
    try:
        order = place(member, mug, django_capture_on_commit_callbacks)
    finally:
        tasks.send_email_task.app.conf.broker_url = None
    assert order.emails.get().state == "sent"
    assert len(mail.outbox) == 1


def test_with_a_broker_the_email_goes_to_the_worker(
    member, mug, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CELERY_BROKER_URL = "redis://broker.example:6379/1"
    queued = []
    monkeypatch.setattr(
        tasks.send_email_task, "apply_async", lambda args: queued.append(args) or None
    )
    order = place(member, mug, django_capture_on_commit_callbacks)
    assert tasks._relay.flush(timeout=5)
    email = order.emails.get()
    assert queued == [(email.pk,)]
    assert (email.state, email.attempts) == ("pending", 0)
    assert mail.outbox == []


def test_the_relay_hands_over_outside_the_request_in_one_message_per_window(
    member, mug, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """Issue 16: the request only queues the id; the relay thread publishes the e-mails
    committed within ``MALL_EMAIL_RELAY_S`` as one message for the worker."""
    settings.CELERY_BROKER_URL = "redis://broker.example:6379/1"
    settings.MALL_EMAIL_RELAY_S = 0.3
    published = []

    def record(name):
        def apply_async(args, **kwargs):
            published.append((name, args, threading.current_thread().name))

        return apply_async

    monkeypatch.setattr(tasks.send_email_task, "apply_async", record("one"))
    monkeypatch.setattr(tasks.send_emails_task, "apply_async", record("batch"))
    first = place(member, mug, django_capture_on_commit_callbacks)
    second = place(member, mug, django_capture_on_commit_callbacks)
    assert tasks._relay.flush(timeout=5)
    ids = [first.emails.get().pk, second.emails.get().pk]
    assert published == [("batch", (ids,), "outbox-relay")]


def test_a_batch_sends_each_email_and_hands_a_failure_on_alone(
    member, mug, monkeypatch, flaky_mail, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    flaky_mail[0] = 0
    first = place(member, mug, django_capture_on_commit_callbacks)
    second = place(member, mug, django_capture_on_commit_callbacks)
    ids = [first.emails.get().pk, second.emails.get().pk]
    OutboxEmail.objects.filter(pk__in=ids).update(state="pending", sent_at=None)
    cache.clear()  # forget that they were handed to the backend
    mail.outbox.clear()
    retried = []
    monkeypatch.setattr(
        tasks.send_email_task,
        "apply_async",
        lambda args, **kw: retried.append((args, kw["retries"], kw["countdown"] > 0)),
    )
    flaky_mail[0] = 1  # the first send of the batch fails
    tasks.send_emails_task(ids)
    # Handed on alone; the batch's attempt counts as the first, the back-off goes on.
    assert retried == [((ids[0],), 1, True)]
    states = dict(OutboxEmail.objects.filter(pk__in=ids).values_list("pk", "state"))
    assert states == {ids[0]: "failed", ids[1]: "sent"}
    assert len(mail.outbox) == 1


def test_retry_email_service(
    member, admin_user, finance_user, mug, flaky_mail, django_capture_on_commit_callbacks
):
    order = place(member, mug, django_capture_on_commit_callbacks)
    email = order.emails.get()
    assert email.state == "failed"
    with pytest.raises(NotPermitted):
        services.retry_email(finance_user, email.pk)
    with pytest.raises(InvalidInput):
        services.retry_email(admin_user, "not-a-number")
    assert list(services.failed_emails()) == [email]
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_email(admin_user, email.pk)
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1
    # A sent e-mail is never sent again.
    with pytest.raises(InvalidInput, match="not waiting for a retry"):
        services.retry_email(admin_user, email.pk)
    assert len(mail.outbox) == 1


def test_outbox_page_lists_failed_emails_and_retries(
    client, member, admin_user, mug, flaky_mail, django_capture_on_commit_callbacks
):
    order = place(member, mug, django_capture_on_commit_callbacks)
    sent_order = OrderFactory(customer=member, lines=[(mug, 1)])
    email = order.emails.get()
    client.force_login(admin_user)
    page = client.get(reverse("staff:outbox"))
    assert page.status_code == 200
    text = page.content.decode()
    assert order.number in text and "SMTPServerDisconnected" in text
    assert sent_order.number not in text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff:outbox-retry", args=[email.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:outbox")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"The e-mail “Order placed” of order {order.number} is being sent again."
    ]
    assert order.emails.get().state == "sent"
    assert "No failed e-mails." in client.get(reverse("staff:outbox")).content.decode()
