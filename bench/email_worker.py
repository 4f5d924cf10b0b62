"""Checkout with the member's e-mail sent in the request vs by a Celery worker (issue 15).

Both sides run the same checkout (locust, ``bench/locustfile.py``'s ``Buyer``) against
one gunicorn with the same settings; the e-mail backend costs ``smtp_ms`` per message
(``bench.slow_mail``), as a hand-over to an SMTP relay does. "in request": no broker,
the e-mail is rendered and handed over in the web process right after the commit (the
embedded default). "worker": ``CELERY_BROKER_URL`` set (a ``redis-server`` this run
starts) and one Celery worker sends it. Rounds alternate sides (in, worker, worker,
in...) and one gunicorn runs at a time. After each worker round the run waits for the
worker to drain the outbox and reports how long that took.
"""

import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import time
from pathlib import Path

from bench.checkout import BIN, Gunicorn, free_port, gunicorn_workers, http_round, prepare
from bench.common import RESULTS, ROOT, server_env
from orders.models import OutboxEmail


def _redis():
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(0.5)
    return proc, port


def _stop(proc):
    if proc and proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _drain(timeout=300):
    """Seconds until no e-mail waits in the outbox (or ``None`` on timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not OutboxEmail.objects.filter(state=OutboxEmail.State.PENDING).exists():
            return time.monotonic() - started
        time.sleep(0.2)
    return None


def run(database_url, *, users, rounds, seconds, smtp_ms=30, log=print):
    """The comparison; a dict for the report (``skipped`` says why when it cannot run)."""
    if not shutil.which("redis-server"):
        return {"skipped": "redis-server is not installed"}
    workdir = RESULTS / "work-email"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    fixtures = prepare(users * 2, seed=2)
    redis, port = _redis()
    mail_env = {
        "DJANGO_EMAIL_BACKEND": "bench.slow_mail.SlowSMTPBackend",
        "BENCH_SMTP_MS": str(smtp_ms),
    }
    broker_env = {**mail_env, "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/1"}
    sides = {"in_request": [], "worker": []}
    drains = []
    workers = gunicorn_workers()
    try:
        for r in range(rounds):
            order = ("in_request", "worker") if r % 2 == 0 else ("worker", "in_request")
            for side in order:
                env = broker_env if side == "worker" else mail_env
                worker = None
                if side == "worker":
                    log_file = open(workdir / "celery.log", "ab")  # noqa: SIM115
                    worker = subprocess.Popen(
                        [
                            str(BIN / "celery"),
                            "-A",
                            "mall",
                            "worker",
                            "--concurrency",
                            "2",
                            "--loglevel",
                            "WARNING",
                            "--without-gossip",
                            "--without-mingle",
                        ],
                        cwd=ROOT,
                        env={**server_env(database_url), **env},
                        stdout=log_file,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                try:
                    with Gunicorn(
                        database_url, workers, Path(workdir) / "gunicorn.log", extra_env=env
                    ) as server:
                        result = http_round(server, fixtures, users, seconds, workdir)
                    sides[side].append(result)
                    if worker:
                        drains.append(_drain())
                finally:
                    _stop(worker)
                log(
                    f"    checkout + e-mail {side:<10} c={users} round {r + 1}: "
                    f"{result['orders_per_s']:.1f} orders/s, place p50 "
                    f"{result['place_p50_ms']:.0f} ms p95 {result['place_p95_ms']:.0f} ms, "
                    f"errors {result['errors']}"
                )
    finally:
        _stop(redis)

    def med(rows, key):
        return statistics.median(r[key] for r in rows)

    summary = {
        side: {k: med(rows, k) for k in ("orders_per_s", "place_p50_ms", "place_p95_ms", "p95_ms")}
        | {"errors": sum(r["errors"] for r in rows), "rounds": rows}
        for side, rows in sides.items()
    }
    summary.update(
        users=users,
        smtp_ms=smtp_ms,
        seconds_per_round=seconds,
        drain_seconds=drains,
        unsent=OutboxEmail.objects.exclude(state=OutboxEmail.State.SENT).count(),
    )
    return summary
