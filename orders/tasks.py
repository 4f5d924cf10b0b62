"""Background work (issue 15; DESIGN "Past one machine"): member e-mails from the outbox.

Every task here is idempotent and acknowledged late (``CELERY_TASK_ACKS_LATE``): a
worker killed mid-task leaves its message to be delivered again, and the second run
finds what the first one finished. ``enqueue_email`` is the one entry point the services
use: with ``CELERY_BROKER_URL`` it hands the e-mail to a worker; without a broker (the
embedded default, ``make run`` and the tests) or when the broker cannot be reached, the
same work runs in this process right away (it is called after the commit).
"""

import contextlib
import logging
import random
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.utils import timezone

from orders import notifications

logger = logging.getLogger(__name__)

# Header naming the outbox row on every message sent (the scale-out test counts by it).
EMAIL_ID_HEADER = "X-Mall-Email-Id"
# How long the cache remembers an e-mail handed to the backend (longer than every retry).
SENT_MEMORY_S = 7 * 24 * 3600


class SendFailed(Exception):
    """The mail backend refused or failed a message; the outbox row says why."""


def deliver_email(email_id):
    """Send outbox e-mail ``email_id`` unless it was sent already; return its state.

    The row is locked (``select_for_update``) from the check to the ``sent_at`` stamp, so
    two runs of the same task, at once or one after the other, send one message; a run
    killed before the send leaves the row unstamped (its transaction rolls back) for the
    next run to send. Right after the send a note goes to the cache (Redis in
    production), so a run whose stamp was lost with the database (sent, then the commit
    failed) is stamped by the next run without sending again. A
    member without an address: ``skipped``. An unknown id: ``None``. A backend failure
    is recorded on the row (``failed``, ``attempts``, ``last_error``) and raised as
    ``SendFailed`` after the commit, for the caller to retry.
    """
    from orders.models import OutboxEmail

    State = OutboxEmail.State
    failure = None
    with transaction.atomic():
        email = OutboxEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None:
            return None
        if email.sent_at is not None or email.state in (
            State.SENT,
            State.SKIPPED,
            State.SUPERSEDED,
        ):
            return email.state
        email.attempts += 1
        email.last_attempt_at = timezone.now()
        try:
            message = notifications.build_order_email(email.order_id, email.kind)
            if message is None:
                email.state = State.SKIPPED
            else:
                if not _handed_over(email.pk):
                    message.extra_headers[EMAIL_ID_HEADER] = str(email.pk)
                    message.send()
                    _note_handed_over(email.pk)
                email.state = State.SENT
                email.sent_at = timezone.now()
                email.last_error = ""
        except Exception as exc:  # any backend or rendering error: kept for staff to see
            notifications.logger.exception(
                "order %s: could not send the %s e-mail", email.order_id, email.kind
            )
            email.state = State.FAILED
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            failure = exc
        email.save(update_fields=["state", "attempts", "last_attempt_at", "sent_at", "last_error"])
    if failure is not None:
        raise SendFailed(str(failure)) from failure
    return email.state


def _sent_key(email_id):
    return f"outbox-sent:{email_id}"


def _handed_over(email_id):
    """Whether an earlier run handed ``email_id`` to the backend but lost its database
    commit (the primary restarting between the send and the stamp): noted in the cache."""
    try:
        return bool(cache.get(_sent_key(email_id)))
    except Exception:  # the cache is a second guard; the row lock is the first
        return False


def _note_handed_over(email_id):
    with contextlib.suppress(Exception):
        cache.set(_sent_key(email_id), 1, SENT_MEMORY_S)


def retry_delay(retries):
    """Seconds before retry number ``retries`` + 1: 2, 4, 8... with jitter, at most 600."""
    return min(600, 2 ** (retries + 1)) * random.uniform(0.75, 1.25)  # noqa: S311


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="orders.send_email")
def send_email_task(self, email_id):
    """Celery task: send outbox e-mail ``email_id`` once; retry an SMTP failure with
    back-off (``MALL_EMAIL_MAX_RETRIES`` times). The row keeps the last error."""
    try:
        return deliver_email(email_id)
    except (SendFailed, DatabaseError) as exc:  # SMTP refused, or the database restarting
        if self.request.retries >= settings.MALL_EMAIL_MAX_RETRIES:
            if isinstance(exc, DatabaseError):
                raise
            return "failed"
        raise self.retry(exc=exc, countdown=retry_delay(self.request.retries)) from exc


def enqueue_email(email_id):
    """Have outbox e-mail ``email_id`` sent: by a worker when a broker is configured,
    else (or when the broker is unreachable) here and now. Never raises; call it after
    the commit that wrote the row (``transaction.on_commit``)."""
    if settings.CELERY_BROKER_URL:
        try:
            send_email_task.apply_async((email_id,))
            return
        except Exception:
            logger.exception("outbox e-mail %s: broker unreachable, sending in-process", email_id)
    try:
        deliver_email(email_id)
    except SendFailed:
        pass  # recorded on the row; the staff outbox page offers the retry
    except Exception:
        logger.exception("outbox e-mail %s: could not be sent", email_id)


@shared_task(name="orders.send_pending_emails")
def send_pending_emails(older_than_s=60):
    """Queue again every e-mail still waiting ``older_than_s`` seconds after it was written
    (a process that died between the commit and the hand-over). Returns how many."""
    from orders.models import OutboxEmail

    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    ids = list(
        OutboxEmail.objects.filter(
            state=OutboxEmail.State.PENDING, created_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    for email_id in ids:
        enqueue_email(email_id)
    return len(ids)
