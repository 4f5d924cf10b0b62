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

from bench.common import RESULTS, machine, server_env, setup_django  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mall_bench"
SEED_NOW = "2025-06-30T18:00:00+08:00"  # the seeded book ends here: runs are comparable

FULL = {
    "sizes": [1_000, 10_000, 100_000],
    "growth": {"rounds": 3, "per_round": 8},
    "pages": {"rounds": 5, "per_round": 10},
    "detail_orders": 25,
    "actions": {"rounds": 4, "per_round": 50},
    "checkout": {"levels": [1, 4, 8, 16], "rounds": 3, "seconds": 15},
    "email": {"users": 8, "rounds": 4, "seconds": 15},
}
QUICK = {
    "sizes": [100, 300],
    "growth": {"rounds": 1, "per_round": 2},
    "pages": {"rounds": 2, "per_round": 2},
    "detail_orders": 5,
    "actions": {"rounds": 2, "per_round": 3},
    "checkout": {"levels": [1, 4], "rounds": 1, "seconds": 3},
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
        "--skip-checkout", action="store_true", help="leave out the HTTP checkout part"
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.orders:
        plan = {**plan, "sizes": [s for s in plan["sizes"] if s < args.orders] + [args.orders]}

    url = database_url(args)
    if not args.quick and not urlsplit(url).scheme.startswith("postgres"):
        parser.error("the full benchmark needs PostgreSQL (set DATABASE_URL or --database-url)")
    ensure_database(url)
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
    total = plan["sizes"][-1]
    results["orders"] = total

    # 2. At the largest size: list vs admin, detail, member pages, query counts, plans.
    terms = pages.search_terms()
    results["search_terms"] = terms
    results["lists"] = pages.run_list_comparisons(root, terms, total, **plan["pages"])
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

    results["load_at_end"] = os.getloadavg()
    failures = check(results, quick=args.quick)
    results["summary_line"] = summary_line(results)
    results["failures"] = failures
    write(results, report, quick=args.quick)
    for failure in failures:
        log(f"bench: FAILED: {failure}")
    log(results["summary_line"])
    return 1 if failures else 0


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
    e = results.get("email")
    if e and not e.get("skipped"):
        if e["in_request"]["errors"] or e["worker"]["errors"]:
            failures.append(f"checkout errors in the e-mail comparison: {e}")
        if e["unsent"]:
            failures.append(f"{e['unsent']} e-mails left unsent by the worker")
    return failures


def summary_line(results):
    from bench.pages import REQUIRED_LIST_SCENARIOS

    list_ratio = min(results["lists"][name]["ratio"] for name in REQUIRED_LIST_SCENARIOS)
    c = results.get("checkout")
    level = None
    if c:
        level = c["levels"].get(8) or c["levels"][max(c["levels"])]
    checkout_ratio = level["ratio"] if level else math.nan
    return (
        f"bench: list_vs_admin={list_ratio:.2f} "
        f"detail_ms_p95={results['detail']['ours']['p95']:.1f} "
        f"checkout_vs_raw={checkout_ratio:.2f} "
        f"report_ms_p95={results['reports']['rolled_up']['p95']:.1f}"
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
