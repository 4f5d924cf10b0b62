"""Benchmarks of the order desk: ``make bench`` (full) and ``make bench-quick`` (CI).

    .venv/bin/python bench/run.py [--quick] [--orders 100000] [--database-url URL]

Database: ``--database-url``, else ``BENCH_DATABASE_URL``, else ``DATABASE_URL``, else
``postgres://postgres@127.0.0.1:5432/mall_bench`` (created if missing). The full run
needs PostgreSQL; the quick run also works on SQLite (without the bare-psycopg side).
The run empties the order tables (orders, lines, events, payments) again and again, so
it refuses a database that already holds orders unless its name contains "bench" or
``--reset-ok`` is given.

Steps: growth (seed 1k, 10k, 100k orders, measuring list, detail and the 31-day report
at each), then at the largest size the list/admin comparisons, detail, the 31-day report
(``bench/reporting.py``), member pages, query counts and
PostgreSQL plans, staff actions, and checkout over HTTP. Results go to
``bench/results/`` (JSON and Markdown); the full run also draws
``docs/benchmarks-growth.png``. The last line printed is
``bench: list_vs_admin=<ratio> detail_ms_p95=<ms> checkout_vs_raw=<ratio>
report_ms_p95=<ms>`` (the 31-day report, rolled up, in-process; ``bench/reporting.py``).
The quick run uses a few hundred orders and seconds per step, and asserts no timings:
it fails only if a page errors, a checkout errors, or stock and orders disagree.
"""

import argparse
import atexit
import datetime
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    RESULTS,
    machine,
    server_env,
    setup_django,
    start_redis,
    stop_process,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mall_bench"
SEED_NOW = "2025-06-30T18:00:00+08:00"  # the seeded book ends here: runs are comparable

FULL = {
    "sizes": [1_000, 10_000, 100_000],
    "growth": {"rounds": 3, "per_round": 8},
    "pages": {"rounds": 5, "per_round": 10},
    "detail_orders": 25,
    "actions": {"rounds": 4, "per_round": 50},
    "checkout": {"levels": [1, 4, 8, 16], "rounds": 3, "seconds": 15},
    # issue 16: lists vs admin at 100k and up (fewer samples from 1M: the admin's search
    # takes seconds there), the list's time split, place_order at 1 and 8 threads, HTTP
    # vs the floor view.
    "issue16": {
        "list_sizes_from": 100_000,
        "pages_large": {"rounds": 3, "per_round": 4},
        "breakdown": {"rounds": 3, "per_round": 10},
        "rounds": 3,
        "seconds": 10,
        "threads": [1, 8],
        "clients": 8,
    },
    "email": {"users": 8, "rounds": 4, "seconds": 15},
}
QUICK = {
    "sizes": [100, 300],
    "growth": {"rounds": 1, "per_round": 2},
    "pages": {"rounds": 2, "per_round": 2},
    "detail_orders": 5,
    "actions": {"rounds": 2, "per_round": 3},
    "checkout": {"levels": [1, 4], "rounds": 1, "seconds": 3},
    "issue16": {
        "list_sizes_from": 300,
        "pages_large": {"rounds": 1, "per_round": 2},
        "breakdown": {"rounds": 1, "per_round": 2},
        "rounds": 1,
        "seconds": 2,
        "threads": [1, 2],
        "clients": 2,
    },
    "email": {"users": 2, "rounds": 1, "seconds": 3},
}


def log(message):
    print(message, flush=True)


def database_url(args):
    return (
        args.database_url
        or os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or DEFAULT_URL
    )


def ensure_database(url):
    """Create the PostgreSQL database named in ``url`` if it does not exist yet."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return
    import psycopg

    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            log(f"created database {name}")


def reset_orders():
    """Empty the order tables and the reports' roll-ups, and drop the checkout's products
    (catalogue and users stay).

    The checkout's own products go so that every run seeds from the same catalogue
    (the seeder draws from all purchasable products).
    """
    from django.db import connection

    from mall.models import Product
    from orders.models import Order, OrderEvent, OrderLine, OutboxEmail, Payment, ReportDay

    tables = [
        m._meta.db_table for m in (ReportDay, OutboxEmail, OrderEvent, Payment, OrderLine, Order)
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
    Product.objects.filter(sku__startswith="BENCH-").delete()


def seed(size):
    from django.core.management import call_command

    started = time.monotonic()
    reset_orders()
    call_command("seed_orders", orders=size, seed=1, now=SEED_NOW, verbosity=0)
    return time.monotonic() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small, fast run for CI; no timings asserted"
    )
    parser.add_argument(
        "--orders", type=int, default=None, help="largest book size (default 100000)"
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--reset-ok", action="store_true", help="allow emptying a non-bench database"
    )
    parser.add_argument(
        "--no-redis",
        action="store_true",
        help="without Redis: file cache, sessions in the database, e-mail sent in-process",
    )
    parser.add_argument(
        "--skip-checkout", action="store_true", help="leave out the HTTP checkout part"
    )
    parser.add_argument(
        "--checkout-levels",
        default=None,
        help="comma-separated client counts of the checkout comparison (default 1,4,8,16)",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.checkout_levels:
        levels = [int(n) for n in args.checkout_levels.split(",")]
        plan = {**plan, "checkout": {**plan["checkout"], "levels": levels}}
    if args.orders:
        plan = {**plan, "sizes": [s for s in plan["sizes"] if s < args.orders] + [args.orders]}

    url = database_url(args)
    if not args.quick and not urlsplit(url).scheme.startswith("postgres"):
        parser.error("the full benchmark needs PostgreSQL (set DATABASE_URL or --database-url)")
    ensure_database(url)
    # As deployed (docker-compose.yml): Redis for the cache, the sessions and the broker
    # of the e-mail hand-over; a private redis-server, stopped at the end.
    redis_proc, redis_url = (None, None) if args.no_redis else start_redis()
    if redis_url:
        os.environ["BENCH_REDIS_URL"] = redis_url
        atexit.register(stop_process, redis_proc)
    setup_django(url)

    from django.core.management import call_command
    from django.db import connection

    from bench import actions, checkout, pages, report, reporting
    from orders.models import Order

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_a: (checkout.stop_all_servers(), sys.exit(130)))
    atexit.register(checkout.stop_all_servers)

    started = datetime.datetime.now(datetime.UTC)
    log(
        f"bench: {'quick' if args.quick else 'full'} run against {connection.settings_dict['NAME']}"
    )
    call_command("migrate", verbosity=0, interactive=False)
    if (
        Order.objects.exists()
        and "bench" not in str(connection.settings_dict["NAME"])
        and not args.reset_ok
    ):
        log(
            "bench: this database already holds orders and its name has no 'bench' in it; "
            "refusing to empty it (pass --reset-ok if it is a scratch database)."
        )
        return 2
    # Production settings use the manifest storage: pages need the collected static files.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=server_env(url),
        check=True,
    )
    pages.configure_admin_page_size()
    root = pages.bench_superuser()
    results = {
        "started": started.isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "database": connection.vendor + ":" + str(connection.settings_dict["NAME"]),
        "machine": machine(),
        "load_at_start": os.getloadavg(),
        "redis": bool(redis_url),
        "plan": plan,
        "growth": {},
        "seed_seconds": {},
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            results["server_version"] = "PostgreSQL " + cursor.fetchone()[0]

    # 1. Growth: the same pages at each size.
    for size in plan["sizes"]:
        results["seed_seconds"][size] = seed(size)
        log(f"  seeded {size} orders in {results['seed_seconds'][size]:.1f} s")
        results["growth"][size] = pages.growth_point(root, **plan["growth"])
        for page in ("list", "detail"):
            r = results["growth"][size][page]
            times = f"{r['ours']['median']:.1f} ms (admin {r['theirs']['median']:.1f} ms)"
            log(f"  {size:>7} orders: {page} {times}")
        r = results["growth"][size]["reports"] = reporting.run(root, SEED_NOW, **plan["growth"])
        log(
            f"  {size:>7} orders: 31-day report p95 {r['rolled_up']['p95']:.1f} ms rolled up, "
            f"{r['live']['p95']:.1f} ms live, first {r['cold']['ms']:.1f} ms"
        )
        issue16_at_size(results, size, root, plan, last=size == plan["sizes"][-1])
    total = plan["sizes"][-1]
    results["orders"] = total

    # 2. At the largest size: list vs admin, detail, member pages, query counts, plans.
    terms = pages.search_terms()
    results["search_terms"] = terms
    list_plan = plan["pages"] if total < 1_000_000 else plan["issue16"]["pages_large"]
    results["lists"] = pages.run_list_comparisons(root, terms, total, **list_plan)
    results.setdefault("lists_by_size", {})[total] = results["lists"]
    for name, r in results["lists"].items():
        times = f"ours {r['ours']['median']:.1f} ms, admin {r['theirs']['median']:.1f} ms"
        log(f"  list {name}: {times}, ratio {r['ratio']:.2f}")
    sample = pages.sample_orders(plan["detail_orders"])
    results["detail"] = pages.run_detail_comparison(root, sample, **plan["pages"])
    results["detail"]["orders"] = len(sample)
    log(
        f"  detail: ours p95 {results['detail']['ours']['p95']:.1f} ms, admin p95 "
        f"{results['detail']['theirs']['p95']:.1f} ms"
    )
    results["reports"] = reporting.run(root, SEED_NOW, **plan["pages"])
    r = results["reports"]
    log(
        f"  31-day report: p50 {r['rolled_up']['median']:.1f} ms, p95 {r['rolled_up']['p95']:.1f}"
        f" ms ({r['queries']['rolled_up']} queries); live p95 {r['live']['p95']:.1f} ms; "
        f"page p95 {r['page']['p95']:.1f} ms"
    )
    results["member"] = pages.run_member_pages(**plan["pages"])
    for name, r in results["member"].items():
        log(f"  {name}: p95 {r['p95']:.1f} ms, {r['queries']} queries")
    results["query_counts"] = pages.query_count_independence(root)
    results["plans"] = {name: pages.explain(r["sql_ours"]) for name, r in results["lists"].items()}
    for r in results["lists"].values():  # keep the JSON small: the plans hold the SQL that matters
        r.pop("sql_ours"), r.pop("sql_theirs")

    # 3. Staff actions through the services.
    results["actions"] = actions.run(**plan["actions"])
    for name, r in results["actions"].items():
        log(
            f"  {name}: {r['ours']['per_s']:.1f}/s through the services, "
            f"{r['raw']['per_s']:.1f}/s bare"
        )

    # 4. Checkout over HTTP vs the bare-psycopg limit.
    if args.skip_checkout:
        results["checkout"] = None
    else:
        results["checkout"] = checkout.run(url, log=log, **plan["checkout"])
        # 5. The member's e-mail in the request vs by a Celery worker (issue 15).
        from bench import email_worker

        results["email"] = email_worker.run(url, log=log, **plan["email"])

    # 5. issue 16: place_order at 1 and 8 threads vs bare psycopg; HTTP vs the floor view.
    if args.skip_checkout or connection.vendor != "postgresql":
        results["issue16_checkout"] = None
    else:
        p = plan["issue16"]
        results["issue16_checkout"] = checkout.run_issue16(
            url,
            rounds=p["rounds"],
            seconds=p["seconds"],
            threads=p["threads"],
            clients=p["clients"],
            log=log,
        )

    results["load_at_end"] = os.getloadavg()
    failures = check(results, quick=args.quick)
    results["summary_line"] = summary_line(results)
    results["failures"] = failures
    write(results, report, quick=args.quick)
    for failure in failures:
        log(f"bench: FAILED: {failure}")
    log(results["summary_line"])
    return 1 if failures else 0


def issue16_at_size(results, size, root, plan, *, last):
    """Issue 16's page measurements at one book size: the awaiting-confirmation queue (its
    flat growth), the list's time split into SQL and Python, and from
    ``list_sizes_from`` up the list scenarios against the admin (at the largest size the
    main comparison already runs them: only the split is added)."""
    from bench import pages

    p = plan["issue16"]
    queue = results.setdefault("queue_growth", {})
    queue[size] = pages.queue_growth_point(root, **plan["growth"])
    log(f"  {size:>7} orders: awaiting queue {queue[size]['median']:.1f} ms")
    urls = {
        "default sort, page 1": "/staff/orders/?sort=-placed_at",
        "awaiting confirmation queue": pages.AWAITING_QUEUE_URL,
        "status filter (awaiting confirmation)": "/staff/orders/?status=submitted",
    }
    split = results.setdefault("list_breakdown", {})
    split[size] = pages.list_breakdown(root, urls, **p["breakdown"])
    for name, r in split[size].items():
        log(
            f"  {size:>7} orders: {name}: total {r['total']['median']:.1f} ms, SQL "
            f"{r['sql']['median']:.1f}, Python {r['python']['median']:.1f} "
            f"(CPU {r['cpu']['median']:.1f})"
        )
    if size >= p["list_sizes_from"] and not last:
        terms = pages.search_terms()
        lists = pages.run_list_comparisons(root, terms, size, **plan["pages"])
        for r in lists.values():
            r.pop("sql_ours"), r.pop("sql_theirs")
            log(f"  {size:>7} orders: list vs admin {r['url_ours']}: {r['ratio']:.2f}")
        results.setdefault("lists_by_size", {})[size] = lists


def check(results, *, quick):
    """Correctness conditions (never timings): errors, oversell, stock agreement."""
    failures = []
    c = results.get("checkout")
    if c:
        if c["stock_check"]["mismatches"]:
            failures.append(f"stock and orders disagree: {c['stock_check']['mismatches']}")
        s = c["sell_out"]
        if s["stock_after"] < 0 or s["units_on_orders"] > s["stock_before"]:
            failures.append(f"oversold: {s}")
        if s["units_on_orders"] + s["stock_after"] != s["stock_before"]:
            failures.append(f"sell-out stock does not add up: {s}")
        levels = [
            *c["levels"].values(),
            *([c["service_vs_raw"]] if c.get("service_vs_raw") else []),
        ]
        errors = sum(lv["ours_errors"] + lv["raw_errors"] for lv in levels) + s["errors"]
        if errors:
            failures.append(f"{errors} checkout errors")
    i16 = results.get("issue16_checkout")
    if i16:
        if i16["stock_check"]["mismatches"]:
            failures.append(f"issue 16 run: stock disagrees: {i16['stock_check']['mismatches']}")
        levels = [*i16["in_process"].values()]
        errors = sum(
            lv[k]["ours_errors"] + lv[k]["raw_errors"]
            for lv in levels
            for k in ("with_email", "without_email")
        )
        errors += i16["http"]["ours_errors"] + i16["http"]["raw_errors"]
        if errors:
            failures.append(f"{errors} errors in the issue 16 checkout runs")
    e = results.get("email")
    if e and not e.get("skipped"):
        if e["in_request"]["errors"] or e["worker"]["errors"]:
            failures.append(f"checkout errors in the e-mail comparison: {e}")
        if e["unsent"]:
            failures.append(f"{e['unsent']} e-mails left unsent by the worker")
    return failures


def summary_line(results):
    """Issue 16's line: ``list_vs_admin`` the smallest admin/ours ratio over every list
    scenario at every size compared (100k and up), ``list_page1_vs_admin`` page 1's at
    the largest size, ``list_growth_1m_vs_10k`` the larger of page 1's and the awaiting
    queue's median at the largest size over 10k, ``detail_ms_p95`` at the largest size,
    ``checkout_vs_raw`` place_order in-process at 8 threads (e-mail sent) over bare
    psycopg at 8, ``http_checkout_vs_floor`` our checkout flow over the floor's flow at
    8 clients."""
    by_size = results.get("lists_by_size") or {results["orders"]: results["lists"]}
    list_ratio = min(r["ratio"] for lists in by_size.values() for r in lists.values())
    page1 = results["lists"]["default sort, page 1"]["ratio"]
    growth = math.nan
    sizes = sorted(results["growth"])
    if 10_000 in results["growth"] and sizes[-1] > 10_000:
        largest = sizes[-1]
        page = (
            results["growth"][largest]["list"]["ours"]["median"]
            / (results["growth"][10_000]["list"]["ours"]["median"])
        )
        queue = (
            results["queue_growth"][largest]["median"] / (results["queue_growth"][10_000]["median"])
        )
        growth = max(page, queue)
    i16 = results.get("issue16_checkout") or {}
    in_process = i16.get("in_process") or {}
    top = max(in_process) if in_process else None
    checkout_ratio = in_process[top]["with_email"]["ratio"] if top else math.nan
    http_ratio = i16["http"]["ratio"] if i16.get("http") else math.nan
    return (
        # The reports' figure (issue 12) on its own line: the last line keeps issue 16's
        # fields exactly.
        f"reports: report_ms_p95={results['reports']['rolled_up']['p95']:.1f}\n"
        f"bench: list_vs_admin={list_ratio:.2f} list_page1_vs_admin={page1:.2f} "
        f"list_growth_1m_vs_10k={growth:.2f} "
        f"detail_ms_p95={results['detail']['ours']['p95']:.1f} "
        f"checkout_vs_raw={checkout_ratio:.2f} http_checkout_vs_floor={http_ratio:.2f}"
    )


def write(results, report, *, quick):
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = results["started"].replace(":", "").replace("-", "")
    name = "quick" if quick else "full"
    text = json.dumps(results, indent=2, default=str)
    (RESULTS / f"{name}-{stamp}.json").write_text(text)
    (RESULTS / f"{name}-latest.json").write_text(text)
    (RESULTS / f"{name}-latest.md").write_text(report.tables(results))
    plans = []
    for scenario, found in results["plans"].items():
        for p in found:
            plans.append(
                f"-- {scenario} ({p['time_ms']:.1f} ms when captured)\n{p['sql']}\n\n{p['plan']}\n"
            )
    (RESULTS / f"{name}-latest-plans.txt").write_text("\n".join(plans))
    png = (ROOT / "docs" / "benchmarks-growth.png") if not quick else (RESULTS / "quick-growth.png")
    png.parent.mkdir(parents=True, exist_ok=True)
    report.plot(results, png)
    log(f"bench: results in {RESULTS / (name + '-latest.md')}, plot {png}")


if __name__ == "__main__":
    sys.exit(main())
