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

import shutil
import statistics
import subprocess
import time
from pathlib import Path

from bench.checkout import BIN, Gunicorn, gunicorn_workers, http_round, prepare
from bench.common import RESULTS, ROOT, server_env, start_redis, stop_process
from orders.models import OutboxEmail


def _drain(after_id, timeout=300):
    """Seconds until no e-mail written after outbox row ``after_id`` waits (or ``None`` on
    timeout). Earlier rows are other steps' (handed to the run's own broker, which no
    worker reads)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        pending = OutboxEmail.objects.filter(pk__gt=after_id, state=OutboxEmail.State.PENDING)
        if not pending.exists():
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
    first_email = OutboxEmail.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    redis, redis_url = start_redis()
    mail_env = {
        "CELERY_BROKER_URL": "",  # in the request: no broker
        "DJANGO_EMAIL_BACKEND": "bench.slow_mail.SlowSMTPBackend",
        "BENCH_SMTP_MS": str(smtp_ms),
    }
    broker_env = {**mail_env, "CELERY_BROKER_URL": f"{redis_url}/1"}
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
                        drains.append(_drain(first_email))
                finally:
                    stop_process(worker)
                log(
                    f"    checkout + e-mail {side:<10} c={users} round {r + 1}: "
                    f"{result['orders_per_s']:.1f} orders/s, place p50 "
                    f"{result['place_p50_ms']:.0f} ms p95 {result['place_p95_ms']:.0f} ms, "
                    f"errors {result['errors']}"
                )
    finally:
        stop_process(redis)

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
        unsent=OutboxEmail.objects.filter(pk__gt=first_email)
        .exclude(state=OutboxEmail.State.SENT)
        .count(),
    )
    return summary
