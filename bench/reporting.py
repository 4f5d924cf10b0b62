"""The reports (issue 12) in-process: ``orders.reports.build_report`` for 31 days.

The range is the 31 business days ending on the seeded book's last day, reported at the
seed's "now" (``SEED_NOW``, 18:00 on that day): today is open and counted live, the 30
days before it are closed and come from their roll-ups (``orders.report_days``). With
``seed_orders`` that month holds ~30 % of the book (30k of 100k orders).

Measured, alternating within each round so machine load hits all sides alike:

- **cold**: the first report after the roll-ups were emptied (computes and keeps the
  30 closed days): once per run;
- **rolled up**: the report as staff get it every time after the first;
- **one day forgotten**: after a change to one closed day (a late payment, say), that
  day is recomputed along with today: the first report after such a change;
- **live**: every day counted live (``rollups=False``), the cost without roll-ups;
- **page**: ``GET /staff/reports/`` for the same 31 days through the whole Django stack
  (charts cached after the first draw). The page asks for "now", which is long after the
  seeded month, so there every day is closed and rolled up.
"""

import datetime
import random

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.common import summary, timed
from bench.pages import signed_in
from orders import report_days, reports


def _queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def run(root, seed_now, *, rounds, per_round, days=31):
    """Timings (ms) of the 31-day report at ``seed_now`` (ISO text), see the module."""
    now = datetime.datetime.fromisoformat(seed_now)
    last = timezone.localdate(now, timezone=reports.shop_zone())
    first = last - datetime.timedelta(days=days - 1)

    def build(**kwargs):
        return reports.build_report(first, last, now=now, **kwargs)

    report_days.forget_all()
    with CaptureQueriesContext(connection) as ctx:
        _report, cold_ms = timed(build)
    cold_queries = len(ctx.captured_queries)
    queries = {
        "cold": cold_queries,
        "rolled_up": _queries(build),
        "live": _queries(lambda: build(rollups=False)),
    }
    client = signed_in(root)
    url = f"/staff/reports/?from={first.isoformat()}&to={last.isoformat()}"
    response = client.get(url)  # draws and caches the charts
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    closed = [first + datetime.timedelta(days=i) for i in range(days - 1)]
    rng = random.Random(1)
    samples = {"rolled_up": [], "one_day_forgotten": [], "live": [], "page": []}
    live_per_round = max(1, per_round // 4)
    for _round in range(rounds):
        for _i in range(per_round):
            samples["rolled_up"].append(timed(build)[1])
        for _i in range(live_per_round):
            report_days.forget([rng.choice(closed)])
            samples["one_day_forgotten"].append(timed(build)[1])
        for _i in range(live_per_round):
            samples["live"].append(timed(build, rollups=False)[1])
        for _i in range(per_round):
            response, ms = timed(client.get, url)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}")
            samples["page"].append(ms)
    result = {name: summary(values) for name, values in samples.items()}
    result["cold"] = {"ms": cold_ms}
    result["queries"] = queries
    result["range"] = [first.isoformat(), last.isoformat()]
    result["now"] = seed_now
    return result
