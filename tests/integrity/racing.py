"""Helpers for the PostgreSQL race tests: real threads, one connection each.

``run_together`` starts one thread per call, lets every thread open its own database
connection, then releases them all at once with a ``threading.Barrier``; each thread
closes its connection when done. A thread that does not finish in time fails the test
(a deadlock or a lock wait that never ends), instead of hanging the suite.

``Paused`` stops one named thread inside a service, after the action's changes and
before its event is written, while it holds its row locks. That lets a test start a
competitor, see it wait on the lock (``wait_for_lock_waiters``) and then let the first
finish: a fixed interleaving instead of a lucky one.
"""

import threading
import time
from dataclasses import dataclass

from django.db import connection

from orders.services import _bookkeeping as bookkeeping

LOCK_TIMEOUT = "20s"  # a lock wait longer than this is an error, not a hang
JOIN_TIMEOUT = 60  # seconds for a whole race


@dataclass
class Outcome:
    """What one thread's call did: returned ``value`` or raised ``error``."""

    value: object = None
    error: BaseException | None = None

    @property
    def ok(self):
        return self.error is None


class Racer(threading.Thread):
    """A daemon thread that runs ``call`` on its own connection and keeps the ``Outcome``."""

    def __init__(self, call, *, name, barrier=None):
        super().__init__(name=name, daemon=True)
        self.call = call
        self.barrier = barrier
        self.outcome = None

    def run(self):
        try:
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            if self.barrier is not None:
                self.barrier.wait(timeout=JOIN_TIMEOUT)
            self.outcome = Outcome(value=self.call())
        except BaseException as exc:  # noqa: BLE001 - every outcome is reported to the test
            self.outcome = Outcome(error=exc)
        finally:
            connection.close()


def join_all(racers, timeout=JOIN_TIMEOUT):
    """Join ``racers``; fail if any is still running after ``timeout`` seconds in all."""
    deadline = time.monotonic() + timeout
    for racer in racers:
        racer.join(max(0.0, deadline - time.monotonic()))
    stuck = [r.name for r in racers if r.is_alive()]
    assert not stuck, f"threads still running after {timeout}s (deadlock or endless wait): {stuck}"
    return [r.outcome for r in racers]


def run_together(*calls):
    """Run each call in its own thread, all released at once; return their ``Outcome``s."""
    barrier = threading.Barrier(len(calls))
    racers = [Racer(call, name=f"racer-{i}", barrier=barrier) for i, call in enumerate(calls)]
    for racer in racers:
        racer.start()
    return join_all(racers)


def start(call, *, name):
    """Start ``call`` alone in a thread named ``name`` and return the ``Racer``."""
    racer = Racer(call, name=name)
    racer.start()
    return racer


def error_names(outcomes):
    """The class names of the errors raised, sorted (``[]`` when all succeeded)."""
    return sorted(type(o.error).__name__ for o in outcomes if not o.ok)


def wait_for_lock_waiters(count, timeout=10):
    """Wait until ``count`` other sessions of this database wait on a lock; return whether."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= count:
                return True
        time.sleep(0.02)
    return False


class Paused:
    """Hold the thread named ``thread_name`` inside the event writer until released.

    Use with ``monkeypatch``: ``paused = Paused(monkeypatch, "edit")``. The thread stops
    after its action changed the rows (and still holds their locks), just before the
    version bump and the event; ``paused.reached`` is set when it gets there.
    """

    def __init__(self, monkeypatch, thread_name):
        self.thread_name = thread_name
        self.reached = threading.Event()
        self.release = threading.Event()
        real_record = bookkeeping.record

        def record(*args, **kwargs):
            if threading.current_thread().name == self.thread_name:
                self.reached.set()
                assert self.release.wait(JOIN_TIMEOUT), "paused thread was never released"
            return real_record(*args, **kwargs)

        monkeypatch.setattr(bookkeeping, "record", record)

    def wait_reached(self, timeout=10):
        assert self.reached.wait(timeout), f"{self.thread_name} never reached the pause point"
