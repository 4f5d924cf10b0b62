"""Checkout throughput: the shop over HTTP under gunicorn vs a bare psycopg script.

Our side: gunicorn serving ``mall.wsgi`` on the loopback, driven by locust (headless) with
N concurrent members, each running the real checkout (two cart adds, the checkout page,
the order POST). The limit: N threads of a bare psycopg 3 script that, per order, in one
transaction, lock the two product rows, update their stock, insert the order, its two
lines and its "placed" event — the database work of a checkout and nothing else.

Both sides run in the same process run, alternating, for the same time per round; both
draw from the same products with ample stock. Afterwards the stock must agree with the
lines sold, and a race for the last units of one product must sell exactly those units.
"""

import contextlib
import datetime
import json
import os
import random
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from bench.common import RESULTS, ROOT, free_port, percentile, ratio, server_env
from bench.pages import signed_in
from mall.models import Product
from orders.models import ORDER_NUMBER_ALPHABET, Order, OrderEvent, OrderLine, Status
from orders.pricing import quantize, totals_for

BIN = Path(sys.executable).parent
ADDRESS = {
    "recipient": "Zhou Min",
    "phone": "139 0000 1234",
    "region": "Zhejiang",
    "city": "Hangzhou",
    "address_line": "18 Binjiang Road, Building 2, Room 801",
    "postcode": "310000",
}
PRODUCTS = 20
AMPLE_STOCK = 1_000_000
SCARCE_STOCK = 25


# --- the server ---------------------------------------------------------------------------


def gunicorn_workers():
    """gunicorn's documented starting point: (2 x cores) + 1 sync workers."""
    return 2 * (os.cpu_count() or 1) + 1


class Gunicorn:
    """gunicorn on 127.0.0.1 in its own process group; always stopped on exit.

    Started with ``--no-control-socket`` where the installed gunicorn knows the flag
    (23+ otherwise creates a control socket under ``~/.gunicorn``).
    """

    def __init__(self, database_url, workers, log_path, settings_module=None, extra_env=None):
        self.settings_module = settings_module  # e.g. "bench.floor_settings" (issue 16)
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.workers = workers
        self.log_path = log_path
        self.proc = None

    def __enter__(self):
        help_text = subprocess.run(
            [str(BIN / "gunicorn"), "--help"], capture_output=True, text=True, timeout=60
        ).stdout
        args = [
            str(BIN / "gunicorn"),
            "mall.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            "--timeout",
            "60",
            "--backlog",
            "256",
        ]
        if "--no-control-socket" in help_text:
            args.append("--no-control-socket")
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env={
                **server_env(self.database_url),
                **(
                    {"DJANGO_SETTINGS_MODULE": self.settings_module} if self.settings_module else {}
                ),
                **self.extra_env,
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _RUNNING.add(self)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited early; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/accounts/login/", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within 60 s; see {self.log_path}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        _RUNNING.discard(self)
        if getattr(self, "log", None):
            self.log.close()

    def __exit__(self, *exc):
        self.stop()


_RUNNING = set()


def stop_all_servers():
    """Stop every gunicorn this process started (for signal and exit handlers)."""
    for server in list(_RUNNING):
        server.stop()


# --- preparing the run ----------------------------------------------------------------------


def prepare(n_members, seed=1):
    """Products with known stock and signed-in members; returns the run's fixtures."""
    products = []
    for i in range(1, PRODUCTS + 1):
        product, _created = Product.objects.update_or_create(
            sku=f"BENCH-{i:04d}",
            defaults={
                "name": f"Benchmark item {i}",
                "slug": f"bench-{i:04d}",
                "price": Decimal("39.90") + i,
                "stock": AMPLE_STOCK,
                "is_visible": True,
                "in_stock": True,
            },
        )
        products.append(product)
    scarce, _created = Product.objects.update_or_create(
        sku="BENCH-LAST",
        defaults={
            "name": "Last few units",
            "slug": "bench-last",
            "price": Decimal("99.00"),
            "stock": SCARCE_STOCK,
            "is_visible": True,
            "in_stock": True,
        },
    )
    rng = random.Random(seed)
    pool = list(
        get_user_model().objects.filter(username__startswith="shopper").values_list("pk", flat=True)
    )
    members = list(
        get_user_model().objects.filter(pk__in=rng.sample(pool, min(n_members, len(pool))))
    )
    sessions = [signed_in(m).cookies["sessionid"].value for m in members]
    return {
        "products": products,
        "scarce": scarce,
        "members": members,
        "sessions": sessions,
        "start_order_id": Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "stock_before": {p.pk: p.stock for p in [*products, scarce]},
    }


# --- our side: locust against gunicorn ------------------------------------------------------------


def run_locust(server, fixtures, users, seconds, user_class, workdir):
    """Run locust headless; return its final stats (``--json-file``) as a dict by name."""
    config = Path(workdir) / "locust-config.json"
    config.write_text(
        json.dumps(
            {
                "sessions": fixtures["sessions"],
                "products": [p.pk for p in fixtures["products"]],
                "scarce": fixtures["scarce"].pk,
                "address": ADDRESS,
            }
        )
    )
    stats_file = Path(workdir) / f"locust-{user_class}-{users}.json"
    env = dict(os.environ, BENCH_LOCUST_CONFIG=str(config))
    args = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--host",
        server.url,
        "--only-summary",
        "--json-file",
        str(stats_file.with_suffix("")),
        "--loglevel",
        "ERROR",
        "--stop-timeout",
        "10",
        "--exit-code-on-error",
        "0",
        user_class,
    ]
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _err = proc.communicate(timeout=seconds + 90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise RuntimeError("locust did not finish in time") from None
    if proc.returncode != 0 or not stats_file.exists():
        raise RuntimeError(f"locust failed ({proc.returncode}): {out.decode()[-2000:]}")
    return {f"{e['method']} {e['name']}": e for e in json.loads(stats_file.read_text())}


def _bucket_percentile(entry, pct):
    """Percentile of a locust stats entry from its bucketed ``response_times``."""
    buckets = sorted((float(k), v) for k, v in entry.get("response_times", {}).items())
    total = sum(v for _k, v in buckets)
    if not total:
        return float("nan")
    rank, seen = pct / 100 * total, 0
    for value, count in buckets:
        seen += count
        if seen >= rank:
            return value
    return buckets[-1][0]


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def http_round(server, fixtures, users, seconds, workdir, user_class="Buyer"):
    """One round of our checkout at ``users`` concurrent members (``user_class``: the
    locust user, ``FloorBuyer`` for the floor's flow)."""
    before = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    cpu_before = _children_cpu()
    stats = run_locust(server, fixtures, users, seconds, user_class, workdir)
    locust_cpu = _children_cpu() - cpu_before  # gunicorn is reaped only at the end
    flow = stats.get("FLOW checkout", {})
    place = stats.get("POST place order", {})
    ok = flow.get("num_requests", 0) - flow.get("num_failures", 0)
    # From the first response of the run (any request) to the last order placed.
    first = min((e["start_time"] for e in stats.values() if e.get("start_time")), default=0)
    elapsed = max(1e-9, flow.get("last_request_timestamp", 0) - first)
    placed_in_db = Order.objects.filter(pk__gt=before).count()
    errors = sum(e.get("num_failures", 0) for k, e in stats.items() if not k.startswith("FLOW"))
    return {
        "orders": ok,
        "orders_in_db": placed_in_db,
        "seconds": elapsed,
        "orders_per_s": ok / elapsed,
        "p50_ms": _bucket_percentile(flow, 50),
        "p95_ms": _bucket_percentile(flow, 95),
        "place_p50_ms": _bucket_percentile(place, 50),
        "place_p95_ms": _bucket_percentile(place, 95),
        "errors": errors + abs(placed_in_db - ok),
        "locust_cpu_share": locust_cpu / elapsed,
        "requests": sum(
            e.get("num_requests", 0) for k, e in stats.items() if not k.startswith("FLOW")
        ),
    }


# --- the limit: bare psycopg -------------------------------------------------------------------


def service_round(fixtures, seconds, threads=1, email=True):
    """``services.place_order`` called in this process by ``threads`` threads (each with
    its own database connection): checkout minus HTTP.

    The same orders as the other sides (two products, one unit each, cash on delivery).
    Every order writes its e-mail to the outbox in its transaction (the guarantee); with
    ``email=True`` it is then handed over as the web process does after the commit —
    to the broker when one is configured (``BENCH_REDIS_URL``, as deployed), else sent
    in this process; with ``email=False`` the hand-over is left out (the outbox sweep's
    job), to show what it costs.
    """
    from django.db import connections

    from orders import services, tasks

    latencies, errors = [], []
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds

    def client(n):
        rng = random.Random(7 + n)
        try:
            while time.monotonic() < deadline:
                lines = [(p, 1) for p in rng.sample(fixtures["products"], 2)]
                t0 = time.perf_counter()
                try:
                    services.place_order(
                        rng.choice(fixtures["members"]),
                        lines=lines,
                        address=ADDRESS,
                        payment_method="cod",
                        checkout_token=secrets.token_urlsafe(32),
                    )
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    with lock:
                        errors.append(repr(exc))
                    continue
                with lock:
                    latencies.append((time.perf_counter() - t0) * 1000)
        finally:
            if threads > 1:
                connections.close_all()  # this thread's connection

    hand_over = tasks.enqueue_email
    if not email:
        tasks.enqueue_email = lambda email_id: None
    try:
        if threads == 1:
            client(0)
        else:
            workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
            for t in workers:
                t.start()
            for t in workers:
                t.join()
    finally:
        tasks.enqueue_email = hand_over
    elapsed = time.monotonic() - started
    return {
        "orders": len(latencies),
        "seconds": elapsed,
        "orders_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": percentile(latencies, 95),
        "errors": len(errors),
        "error_samples": errors[:3],
    }


def _insert_sql(model, columns):
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {table} ({cols}) VALUES ({marks})"


def _rows(model, values):
    """Column names and values for a row of ``model`` from ``values`` (attname -> value)."""
    columns, row = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        value = values[field.attname] if field.attname in values else field.get_default()
        if isinstance(value, dict | list):
            value = json.dumps(value)
        columns.append(field.column)
        row.append(value)
    return columns, row


def raw_round(database_url, fixtures, clients, seconds):
    """One round of the bare-psycopg limit with ``clients`` threads (``http_round``'s shape)."""
    import psycopg

    conninfo = _conninfo(database_url)
    product_ids = [p.pk for p in fixtures["products"]]
    members = [m.pk for m in fixtures["members"]]
    latencies, errors, done = [], [], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    product_table = connection.ops.quote_name(Product._meta.db_table)
    select_sql = (
        f"SELECT id, sku, name, price, sale_price, stock FROM {product_table} "  # noqa: S608
        "WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
    )
    update_sql = f"UPDATE {product_table} SET stock = stock - %s, updated_at = %s WHERE id = %s"  # noqa: S608

    def one_order(cur, rng):
        wanted = sorted(rng.sample(product_ids, 2))
        now = datetime.datetime.now(datetime.UTC)
        cur.execute(select_sql, [wanted])
        rows = cur.fetchall()
        for _pid, _sku, _name, _price, _sale, stock in rows:
            if stock is not None and stock < 1:
                raise RuntimeError("out of stock")
        for pid, *_rest in rows:
            cur.execute(update_sql, [1, now, pid])
        line_totals = [quantize(price) for _pid, _sku, _name, price, _sale, _stock in rows]
        subtotal, fee, total = totals_for(line_totals)
        raw = "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _i in range(8))
        columns, values = _rows(
            Order,
            {
                "number": f"{raw[:4]}-{raw[4:]}",
                "customer_id": rng.choice(members),
                "status": "submitted",
                "payment_status": "unpaid",
                "payment_method": "cod",
                "subtotal": subtotal,
                "shipping_fee": fee,
                "total": total,
                "placed_at": now,
                "updated_at": now,
                "checkout_token": secrets.token_urlsafe(32),
                **ADDRESS,
            },
        )
        cur.execute(_insert_sql(Order, columns) + " RETURNING id", values)
        order_id = cur.fetchone()[0]
        for pid, sku, name, price, _sale, _stock in rows:
            columns, values = _rows(
                OrderLine,
                {
                    "order_id": order_id,
                    "product_id": pid,
                    "sku": sku,
                    "name": name,
                    "unit_price": price,
                    "quantity": 1,
                    "line_total": quantize(price),
                },
            )
            cur.execute(_insert_sql(OrderLine, columns), values)
        columns, values = _rows(
            OrderEvent,
            {
                "order_id": order_id,
                "actor_id": None,
                "kind": "placed",
                "from_status": "",
                "to_status": "submitted",
                "from_payment_status": "",
                "to_payment_status": "unpaid",
                "data": {"total": str(total)},
                "order_version": 1,
                "created_at": now,
            },
        )
        cur.execute(_insert_sql(OrderEvent, columns), values)

    def client(n):
        rng = random.Random(n)
        with psycopg.connect(conninfo) as conn:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    with conn.transaction(), conn.cursor() as cur:
                        one_order(cur, rng)
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    with lock:
                        errors.append(repr(exc))
                    continue
                ms = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(ms)
                    done.append(time.monotonic())

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "orders": len(latencies),
        "seconds": elapsed,
        "orders_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": percentile(latencies, 95),
        "errors": len(errors),
        "error_samples": errors[:3],
    }


def _conninfo(database_url):
    settings = connection.settings_dict
    parts = {
        "dbname": settings["NAME"],
        "user": settings["USER"],
        "password": settings["PASSWORD"],
        "host": settings["HOST"],
        "port": settings["PORT"],
    }
    return " ".join(f"{k}='{v}'" for k, v in parts.items() if v)


# --- checks ---------------------------------------------------------------------------------------


def stock_agrees(fixtures):
    """Stock moved by exactly the units on live orders placed during the run; never below 0."""
    ids = list(fixtures["stock_before"])
    sold = dict(
        OrderLine.objects.filter(product_id__in=ids, order_id__gt=fixtures["start_order_id"])
        .exclude(order__status__in=[Status.CANCELLED, Status.INVALID])
        .values_list("product_id")
        .annotate(units=Sum("quantity"))
    )
    now = dict(Product.objects.filter(pk__in=ids).values_list("pk", "stock"))
    mismatches = {
        pk: {"before": before, "now": now[pk], "sold": sold.get(pk, 0)}
        for pk, before in fixtures["stock_before"].items()
        if before - now[pk] != sold.get(pk, 0) or now[pk] < 0
    }
    return {"products": len(ids), "units_sold": sum(sold.values()), "mismatches": mismatches}


def sell_out(server, fixtures, users, seconds, workdir):
    """``users`` members race for the scarce product's last units over HTTP."""
    stats = run_locust(server, fixtures, users, seconds, "ScarceBuyer", workdir)
    scarce = Product.objects.get(pk=fixtures["scarce"].pk)
    units = (
        OrderLine.objects.filter(product=scarce, order_id__gt=fixtures["start_order_id"])
        .exclude(order__status__in=[Status.CANCELLED, Status.INVALID])
        .aggregate(n=Sum("quantity"))["n"]
        or 0
    )
    return {
        "stock_before": fixtures["stock_before"][scarce.pk],
        "stock_after": scarce.stock,
        "units_on_orders": units,
        "sold": stats.get("OUTCOME sold", {}).get("num_requests", 0),
        "refused_sold_out": stats.get("OUTCOME sold out", {}).get("num_requests", 0),
        "errors": stats.get("OUTCOME error", {}).get("num_requests", 0)
        + sum(e.get("num_failures", 0) for k, e in stats.items() if not k.startswith("OUTCOME")),
    }


def run(database_url, *, levels, rounds, seconds, workdir=None, log=print):
    """The whole checkout comparison; returns a dict for the report."""
    postgres = connection.vendor == "postgresql"
    if not postgres:
        # SQLite (the embedded default) lets one writer in at a time: the harness still
        # runs end to end, at a few clients, without the bare-psycopg side.
        levels = [n for n in levels if n <= 4]
    workdir = Path(workdir or RESULTS / "work")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    fixtures = prepare(max(levels) * 2)
    workers = gunicorn_workers()
    results = {"workers": workers, "levels": {}, "seconds_per_round": seconds, "rounds": rounds}
    results["orders_before"] = Order.objects.count()
    if postgres:
        # The service alone (no HTTP, one thread) against the limit at one client.
        service, raw = [], []
        for r in range(rounds):
            for side in ("raw", "service") if r % 2 == 0 else ("service", "raw"):
                if side == "service":
                    service.append(service_round(fixtures, seconds))
                else:
                    raw.append(raw_round(database_url, fixtures, 1, seconds))
            log(
                f"    place_order in-process round {r + 1}: "
                f"{service[-1]['orders_per_s']:.1f} orders/s (raw {raw[-1]['orders_per_s']:.1f})"
            )
        results["service_vs_raw"] = _level_summary(service, raw)
    with Gunicorn(database_url, workers, Path(workdir) / "gunicorn.log") as server:
        for users in levels:
            ours, raw = [], []
            for r in range(rounds):
                sides = ("raw", "ours") if r % 2 == 0 else ("ours", "raw")
                for side in sides:
                    if side == "ours":
                        ours.append(http_round(server, fixtures, users, seconds, workdir))
                        log(
                            f"    checkout ours  c={users:>2} round {r + 1}: "
                            f"{ours[-1]['orders_per_s']:.1f} orders/s, errors {ours[-1]['errors']}"
                        )
                    elif postgres:
                        raw.append(raw_round(database_url, fixtures, users, seconds))
                        log(
                            f"    checkout raw   c={users:>2} round {r + 1}: "
                            f"{raw[-1]['orders_per_s']:.1f} orders/s, errors {raw[-1]['errors']}"
                        )
            results["levels"][users] = _level_summary(ours, raw)
        results["sell_out"] = sell_out(
            server, fixtures, 16 if max(levels) >= 16 else max(levels), min(seconds, 8), workdir
        )
    results["orders_after"] = Order.objects.count()
    results["stock_check"] = stock_agrees(fixtures)
    results["at"] = timezone.now().isoformat()
    return results


def _level_summary(ours, raw):
    def med(rows, key):
        values = [r[key] for r in rows if key in r]
        return statistics.median(values) if values else float("nan")

    summary = {
        "ours": {
            k: med(ours, k)
            for k in (
                "orders_per_s",
                "p50_ms",
                "p95_ms",
                "place_p50_ms",
                "place_p95_ms",
                "locust_cpu_share",
            )
        },
        "raw": {k: med(raw, k) for k in ("orders_per_s", "p50_ms", "p95_ms")} if raw else None,
        "ours_errors": sum(r["errors"] for r in ours),
        "raw_errors": sum(r["errors"] for r in raw),
        "ours_rounds": ours,
        "raw_rounds": raw,
    }
    summary["ratio"] = (
        ratio(summary["ours"]["orders_per_s"], summary["raw"]["orders_per_s"])
        if raw
        else float("nan")
    )
    return summary


# --- issue 16: place_order vs bare psycopg at 1 and 8 threads; HTTP vs the floor view ------------


def run_issue16(
    database_url, *, rounds, seconds, threads=(1, 8), clients=8, workdir=None, log=print
):
    """``place_order`` in-process (with and without the e-mail) vs the bare-psycopg
    transaction at each of ``threads``; then over HTTP, at ``clients`` members, our
    checkout flow vs the same flow whose order POST goes to the floor view
    (``bench/floor.py``), both served by one gunicorn (``bench.floor_settings``).

    Rounds alternate the sides; medians of the rounds. Ends with the stock check.
    Returns ``{"in_process": {threads: {...}}, "http": {...}, "stock_check": {...}}``.
    """
    workdir = Path(workdir or RESULTS / "work16")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    fixtures = prepare(max(clients, max(threads)) * 2)
    results = {"in_process": {}, "rounds": rounds, "seconds_per_round": seconds}
    for n in threads:
        sides = {"email": [], "no_email": [], "raw": []}
        for r in range(rounds):
            order = ["raw", "email", "no_email"]
            for side in order if r % 2 == 0 else order[::-1]:
                if side == "raw":
                    sides[side].append(raw_round(database_url, fixtures, n, seconds))
                else:
                    sides[side].append(
                        service_round(fixtures, seconds, threads=n, email=side == "email")
                    )
            log(
                f"    place_order t={n} round {r + 1}: "
                f"{sides['email'][-1]['orders_per_s']:.1f} orders/s, without the e-mail "
                f"{sides['no_email'][-1]['orders_per_s']:.1f}, bare "
                f"{sides['raw'][-1]['orders_per_s']:.1f}"
            )
        results["in_process"][n] = {
            "with_email": _level_summary(sides["email"], sides["raw"]),
            "without_email": _level_summary(sides["no_email"], sides["raw"]),
        }
    ours, floor = [], []
    with Gunicorn(
        database_url,
        gunicorn_workers(),
        workdir / "gunicorn.log",
        settings_module="bench.floor_settings",
    ) as server:
        for user_class in ("Buyer", "FloorBuyer"):  # warm the workers up, not recorded
            http_round(server, fixtures, clients, min(seconds, 3), workdir, user_class)
        for r in range(rounds):
            for side in ("floor", "ours") if r % 2 == 0 else ("ours", "floor"):
                user_class = "Buyer" if side == "ours" else "FloorBuyer"
                row = http_round(server, fixtures, clients, seconds, workdir, user_class)
                (ours if side == "ours" else floor).append(row)
            log(
                f"    checkout c={clients} round {r + 1}: ours {ours[-1]['orders_per_s']:.1f} "
                f"orders/s (POST p50 {ours[-1]['place_p50_ms']:.0f} ms), floor "
                f"{floor[-1]['orders_per_s']:.1f} (POST p50 {floor[-1]['place_p50_ms']:.0f} ms)"
            )
    http = _level_summary(ours, floor)
    for rows, key in ((ours, "ours"), (floor, "floor")):
        http[key + "_place"] = {
            k: statistics.median(r[k] for r in rows) for k in ("place_p50_ms", "place_p95_ms")
        }
    http["post_ratio"] = ratio(
        http["floor_place"]["place_p50_ms"], http["ours_place"]["place_p50_ms"]
    )
    http["clients"] = clients
    results["http"] = http
    results["stock_check"] = stock_agrees(fixtures)
    return results
