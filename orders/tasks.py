"""Background work (issue 15; DESIGN "Past one machine"): member e-mails from the outbox.

Every task here is idempotent and acknowledged late (``CELERY_TASK_ACKS_LATE``): a
worker killed mid-task leaves its message to be delivered again, and the second run
finds what the first one finished. ``enqueue_email`` is the one entry point the services
use: with ``CELERY_BROKER_URL`` it hands the e-mail to a worker; without a broker (the
embedded default, ``make run`` and the tests) or when the broker cannot be reached, the
same work runs in this process right away (it is called after the commit).
"""

import atexit
import contextlib
import logging
import os
import queue
import random
import threading
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, close_old_connections, transaction
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


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="orders.send_emails")
def send_emails_task(self, email_ids):
    """Celery task: send each outbox e-mail of ``email_ids`` (a relay's batch, ``_Relay``)
    once. One that fails (SMTP, or the database restarting) is handed on to
    ``send_email_task`` alone, which retries it with back-off; the others go on."""
    for email_id in email_ids:
        try:
            deliver_email(email_id)
        except (SendFailed, DatabaseError):
            # The batch's attempt was the first: the back-off goes on from there.
            send_email_task.apply_async((email_id,), countdown=retry_delay(0), retries=1)


def enqueue_email(email_id):
    """Have outbox e-mail ``email_id`` sent: by a worker when a broker is configured,
    else (or when the broker is unreachable) here and now. Never raises; call it after
    the commit that wrote the row (``transaction.on_commit``).

    With a broker and ``MALL_EMAIL_RELAY_S`` > 0 (the default, 0.2 s), the id goes to
    this process's relay (``_Relay``), which hands the e-mails committed within that
    window to the worker in one message: a checkout no longer spends the half
    millisecond of a Celery publish (issue 16), and a broker that is down never holds
    a request up. Nothing is lost if the process dies first: the row is committed and
    ``send_pending_emails`` (beat, every minute) queues every e-mail still pending.
    """
    if settings.CELERY_BROKER_URL and settings.MALL_EMAIL_RELAY_S > 0:
        _relay.put(email_id)
    else:
        hand_over_emails([email_id])


def hand_over_emails(email_ids):
    """Publish ``email_ids`` to the worker queue (one message), or send them in this
    process when no broker is configured or it cannot be reached. Never raises."""
    if settings.CELERY_BROKER_URL:
        try:
            if len(email_ids) == 1:
                send_email_task.apply_async((email_ids[0],))
            else:
                send_emails_task.apply_async((list(email_ids),))
            return
        except Exception:
            logger.exception("outbox e-mails %s: broker unreachable, sending in-process", email_ids)
    for email_id in email_ids:
        try:
            deliver_email(email_id)
        except SendFailed:
            pass  # recorded on the row; the staff outbox page offers the retry
        except Exception:
            logger.exception("outbox e-mail %s: could not be sent", email_id)


class _Relay:
    """One daemon thread per process handing committed outbox e-mails to the broker in
    batches: it waits for a first id, gathers what else is committed within
    ``MALL_EMAIL_RELAY_S``, and hands them over in one message (at most
    ``RELAY_BATCH`` ids), in the order they were committed.

    Started on first use and again after a fork (a worker forked from a preloaded
    gunicorn master has no threads). ``flush`` waits until everything put so far is
    handed over (tests, and at interpreter exit).
    """

    RELAY_BATCH = 100

    def __init__(self):
        self._queue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread = None
        self._pid = None

    def put(self, email_id):
        self._ensure_running()
        self._queue.put(email_id)

    def flush(self, timeout=None):
        """Wait until every e-mail put so far is handed over; ``True`` unless timed out."""
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def _ensure_running(self):
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._queue = queue.SimpleQueue()  # a parent's ids are the parent's
                self._thread = None
            if self._thread is None or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
                self._thread.start()

    def _run(self):
        while True:
            items = [self._queue.get()]
            time.sleep(settings.MALL_EMAIL_RELAY_S)  # let the window's commits gather
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            ids = [item for item in items if not isinstance(item, threading.Event)]
            try:
                for start in range(0, len(ids), self.RELAY_BATCH):
                    hand_over_emails(ids[start : start + self.RELAY_BATCH])
            finally:
                close_old_connections()  # the in-process fallback may have used one
                for item in items:
                    if isinstance(item, threading.Event):
                        item.set()


_relay = _Relay()
atexit.register(_relay.flush, 5)


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
