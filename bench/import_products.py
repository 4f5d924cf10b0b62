"""Benchmark of ``manage.py import_products`` on a 50,000-row WooCommerce export.

    .venv/bin/python bench/import_products.py [--rows 50000] [--database-url URL]

Writes a WooCommerce-format CSV of ``--rows`` rows (simple products, and variable
products with three variations each, one in four drawing on its parent's stock; prices
with a decimal comma now and then, sale dates with unpadded hours, categories two
levels deep), then runs the import three times, each in a fresh child process so its
peak memory (``ru_maxrss``) is its own: the first import into an empty catalogue, the
same file again (nothing changes), and a partial file of ``SKU,Regular price`` (every
price changes). Database: ``--database-url``, else a temporary SQLite file (migrated
first). Budget (issue 13): 15 s and 300 MB peak for the first import on this machine,
judged on the CPU seconds of the importing process (see ``main``); the run prints the
figures and whether they are within it, and writes
``bench/results/import_products.json``. Not a test: timings depend on the machine and
on what else runs on it, so the CPU seconds of the importing process and the load
average are reported beside the wall-clock time.
"""

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mall.wc_headers import english_header  # noqa: E402  (plain data, no Django setup)

RESULTS = ROOT / "bench" / "results"
BUDGET_SECONDS = 15.0
BUDGET_MB = 300.0
HEADER = english_header(attributes=1)  # the columns, from the importer's own table


def write_file(path, rows):
    """Write a ``rows``-row export; return the SKUs of its purchasable rows."""
    rng = random.Random(13)
    skus = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        wc_id, written = 1000, 0
        while written < rows:
            wc_id += 1
            category = f"Department {rng.randint(1, 20)} > Shelf {rng.randint(1, 30)}"
            description = "A sturdy everyday item. " * rng.randint(1, 12)
            if wc_id % 5 == 0 and written + 4 <= rows:
                parent = f"VAR-{wc_id}"
                writer.writerow(
                    [wc_id, "variable", parent, f"Shirt {wc_id}", 1, "visible", "Cotton",
                     description, "", "", 1, rng.randint(0, 50), "", "", category, "",
                     "", 0, "Size", "S, M, L"]
                )  # fmt: skip
                for size in ("S", "M", "L"):
                    wc_id += 1
                    stock = "parent" if wc_id % 4 == 0 else rng.randint(0, 40)
                    writer.writerow(
                        [wc_id, "variation", f"{parent}-{size}", f"Shirt - {size}", 1,
                         "visible", "", "", "", "", 1, stock, "", f"{rng.randint(20, 90)}.00",
                         "", "", f"id:{wc_id - 1 - 'SML'.index(size)}", 0, "Size", size]
                    )  # fmt: skip
                    skus.append(f"{parent}-{size}")
                written += 4
                continue
            price = (
                f"{rng.randint(1, 999)},{rng.randint(10, 99)}"
                if wc_id % 7 == 0
                else (f"{rng.randint(1, 999)}.{rng.randint(10, 99)}")
            )
            sale = "2025-01-15 0:00:00" if wc_id % 3 == 0 else ""
            sku = f"SKU-{wc_id}"
            writer.writerow(
                [wc_id, "simple", sku, f"Item {wc_id}", 1, "visible", "Short text", description,
                 sale, "", 1, rng.randint(0, 500), "", price, category,
                 f"https://example.com/img/{wc_id}.png", "", 0, "", ""]
            )  # fmt: skip
            skus.append(sku)
            written += 1
    return skus


def write_prices(path, skus):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["SKU", "Regular price"])
        for number, sku in enumerate(skus):
            writer.writerow([sku, f"{100 + number % 500}.00"])


def child(path):
    """Run one import in this process; print seconds, peak MB and the summary as JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mall.settings")
    import django

    django.setup()
    from mall.importer import import_products

    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    report = import_products(path)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    peak_mb = usage.ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "peak_mb": peak_mb,
                "summary": report.summary(),
            }
        )
    )


def run_child(path, env):
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--database-url")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child))
        return
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        tmp = Path(tmp)
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="mall.settings")
        env["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"],
            env=env,
            check=True,
        )
        source = tmp / "products.csv"
        skus = write_file(source, args.rows)
        prices = tmp / "prices.csv"
        write_prices(prices, skus)
        results = {
            "rows": args.rows,
            "file_mb": round(source.stat().st_size / 2**20, 1),
            "database": env["DATABASE_URL"].split(":", 1)[0],
            "load_average": os.getloadavg(),
        }
        for step, path in (("first", source), ("again", source), ("prices", prices)):
            results[step] = run_child(path, env)
            figures = results[step]
            print(
                f"{step:>6}: {figures['seconds']:6.1f} s ({figures['cpu_seconds']:.1f} s CPU in "
                f"this process), peak {figures['peak_mb']:6.0f} MB  ({figures['summary']})"
            )
    first = results["first"]
    # The budget is judged on the importing process's CPU seconds: on this 2-core machine,
    # shared with other work, wall-clock time mostly measures the queue for a core (the
    # import is CPU-bound: SQLite runs in the process, PostgreSQL answers bulk statements).
    results["within_budget"] = (
        first["cpu_seconds"] <= BUDGET_SECONDS and first["peak_mb"] <= BUDGET_MB
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "import_products.json").write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"bench: import rows={args.rows} cpu_seconds={first['cpu_seconds']:.1f} "
        f"seconds={first['seconds']:.1f} peak_mb={first['peak_mb']:.0f} "
        f"budget={'met' if results['within_budget'] else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
