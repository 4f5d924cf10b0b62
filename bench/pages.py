"""Page timings measured in-process: our back office and member pages vs the Django admin.

Each request goes through the full Django stack (middleware, session and user loads,
view, template) via ``django.test.Client`` in this process, against the benchmark
database, with the production settings (DEBUG off). "Server time" is the wall time of
``client.get`` — it excludes the network and the WSGI server, and is the same harness for
both sides. Query counts come from one extra request under ``CaptureQueriesContext``.
"""

import itertools
import random
import statistics
import time

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.common import ratio, summary, timed
from orders.models import Order, Status

BACKEND = "django.contrib.auth.backends.ModelBackend"
ADMIN_PAGE_SIZE = 50


class Target:
    """One side of a comparison: a signed-in client and the URLs it cycles through."""

    def __init__(self, label, client, urls):
        self.label = label
        self.client = client
        self.urls = list(urls)
        self._cycle = itertools.cycle(self.urls)

    def hit(self):
        url = next(self._cycle)
        response, ms = timed(self.client.get, url)
        if response.status_code != 200:
            raise RuntimeError(f"{self.label}: GET {url} answered {response.status_code}")
        return ms

    def queries(self):
        """The queries of one request to the first URL: ``[{"sql", "time"}]``."""
        with CaptureQueriesContext(connection) as ctx:
            response = self.client.get(self.urls[0])
        if response.status_code != 200:
            raise RuntimeError(f"{self.label}: GET {self.urls[0]} answered {response.status_code}")
        return list(ctx.captured_queries)


def signed_in(user):
    client = Client(raise_request_exception=True)
    client.force_login(user, backend=BACKEND)
    return client


def bench_superuser():
    """The superuser both the back office and the admin are viewed as (every role)."""
    User = get_user_model()
    user, _created = User.objects.get_or_create(
        username="bench-root",
        defaults={"email": "bench-root@mall.example", "is_staff": True, "is_superuser": True},
    )
    if not (user.is_staff and user.is_superuser):
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    return user


def configure_admin_page_size():
    """Make sure the admin shows 50 rows per page like the back office.

    ``OrderAdmin`` sets ``list_per_page = 50`` itself; this pins it in the benchmark
    process so a later change to the admin cannot make the comparison unequal.
    """
    model_admin = admin.site._registry[Order]
    before = model_admin.list_per_page
    model_admin.list_per_page = ADMIN_PAGE_SIZE
    return before


def compare(ours, theirs, *, rounds, per_round, warmup=2):
    """Time ``ours`` and ``theirs`` alternately: every round runs both, the order swapped.

    Returns ``{"ours": summary, "theirs": summary, "ratio": theirs median / ours median,
    "round_ratios": [...]}``, all times in milliseconds.
    """
    for target in (ours, theirs):
        for _i in range(warmup):
            target.hit()
    samples = {ours: [], theirs: []}
    round_ratios = []
    for r in range(rounds):
        order = (ours, theirs) if r % 2 == 0 else (theirs, ours)
        this_round = {}
        for target in order:
            this_round[target] = [target.hit() for _i in range(per_round)]
            samples[target].extend(this_round[target])
        round_ratios.append(
            ratio(statistics.median(this_round[theirs]), statistics.median(this_round[ours]))
        )
    ours_s, theirs_s = summary(samples[ours]), summary(samples[theirs])
    return {
        "ours": ours_s,
        "theirs": theirs_s,
        "ratio": ratio(theirs_s["median"], ours_s["median"]),
        "round_ratios": round_ratios,
    }


def alone(target, *, rounds, per_round, warmup=2):
    """Time one target (no counterpart): ``summary`` in milliseconds."""
    for _i in range(warmup):
        target.hit()
    samples = []
    for _r in range(rounds):
        samples.extend(target.hit() for _i in range(per_round))
    return summary(samples)


# --- what to look at ----------------------------------------------------------------------


def sample_orders(n, seed=1):
    """``n`` orders spread over the book (same ones for a given seed and book)."""
    numbers = sorted(Order.objects.values_list("number", flat=True))
    rng = random.Random(seed)
    picked = rng.sample(numbers, min(n, len(numbers)))
    return list(Order.objects.filter(number__in=picked).order_by("number"))


def search_terms(seed=1):
    """A recipient's full name and an order number from the book, for the search scenarios."""
    order = sample_orders(1, seed=seed + 100)[0]
    return {"name": order.recipient, "number": order.number}


def typical_members():
    """The member with the median number of orders, and the one with the most."""
    User = get_user_model()
    counts = list(
        User.objects.filter(orders__isnull=False)
        .annotate(n=Count("orders"))
        .order_by("n", "pk")
        .values_list("pk", "n")
    )
    median_pk, median_n = counts[len(counts) // 2]
    top_pk, top_n = counts[-1]
    return (User.objects.get(pk=median_pk), median_n), (User.objects.get(pk=top_pk), top_n)


def list_scenarios(terms, total_orders):
    """``{name: (our query string, admin query string)}`` for the list comparisons."""
    deep_page = max(1, (total_orders // 50) // 2)  # the middle of the list
    return {
        "default sort, page 1": ("?sort=-placed_at", ""),  # a bare list opens on a queue
        "status filter (awaiting confirmation)": (
            f"?status={Status.SUBMITTED}",
            f"?status__exact={Status.SUBMITTED}",
        ),
        "search: recipient name": (f"?q={terms['name']}", f"?q={terms['name']}"),
        "search: order number": (f"?q={terms['number']}", f"?q={terms['number']}"),
        f"deep page ({deep_page})": (f"?page={deep_page}", f"?p={deep_page}"),
    }


REQUIRED_LIST_SCENARIOS = (
    "default sort, page 1",
    "status filter (awaiting confirmation)",
    "search: recipient name",
)


def run_list_comparisons(root, terms, total, *, rounds, per_round):
    """Staff list vs the admin changelist for each scenario; times, ratio, query counts."""
    client = signed_in(root)
    results = {}
    for name, (ours_qs, admin_qs) in list_scenarios(terms, total).items():
        ours = Target("staff list", client, [f"/staff/orders/{ours_qs}".replace(" ", "+")])
        theirs = Target(
            "admin changelist", client, [f"/admin/orders/order/{admin_qs}".replace(" ", "+")]
        )
        result = compare(ours, theirs, rounds=rounds, per_round=per_round)
        ours_queries, theirs_queries = ours.queries(), theirs.queries()
        result.update(
            url_ours=ours.urls[0],
            url_theirs=theirs.urls[0],
            queries_ours=len(ours_queries),
            queries_theirs=len(theirs_queries),
            sql_ours=ours_queries,
            sql_theirs=theirs_queries,
        )
        results[name] = result
    return results


def run_detail_comparison(root, orders, *, rounds, per_round):
    """Staff order detail vs the admin's (read-only) change page, over the same orders."""
    client = signed_in(root)
    ours = Target("staff detail", client, [f"/staff/orders/{o.number}/" for o in orders])
    theirs = Target(
        "admin change page", client, [f"/admin/orders/order/{o.pk}/change/" for o in orders]
    )
    result = compare(ours, theirs, rounds=rounds, per_round=per_round)
    counts_ours = {len(Target("q", client, [u]).queries()) for u in ours.urls[:5]}
    counts_theirs = {len(Target("q", client, [u]).queries()) for u in theirs.urls[:5]}
    result.update(queries_ours=sorted(counts_ours), queries_theirs=sorted(counts_theirs))
    return result


def run_member_pages(*, rounds, per_round):
    """ "My orders" (and one order's page) for a typical member and the busiest one."""
    results = {}
    for label, (member, n) in zip(
        ("typical member", "busiest member"), typical_members(), strict=True
    ):
        client = signed_in(member)
        target = Target(f"my orders ({label})", client, ["/account/orders/"])
        result = alone(target, rounds=rounds, per_round=per_round)
        result.update(orders=n, queries=len(target.queries()))
        results[f"My orders, {label} ({n} orders)"] = result
        numbers = list(Order.objects.filter(customer=member).values_list("number", flat=True)[:10])
        detail = Target(
            f"member order page ({label})", client, [f"/account/orders/{x}/" for x in numbers]
        )
        result = alone(detail, rounds=rounds, per_round=max(1, per_round // 2))
        result.update(orders=n, queries=len(detail.queries()))
        results[f"Member order page, {label}"] = result
    return results


def query_count_independence(root, sizes=(10, 50, 100)):
    """Queries of the staff list at several page sizes (PAGE_SIZE patched in-process)."""
    from staff import views as staff_views

    client = signed_in(root)
    counts = {}
    saved = staff_views.PAGE_SIZE
    try:
        for size in sizes:
            staff_views.PAGE_SIZE = size
            counts[size] = {
                "default": len(
                    Target("list", client, ["/staff/orders/?sort=-placed_at"]).queries()
                ),
                "status filter": len(
                    Target("list", client, [f"/staff/orders/?status={Status.SHIPPED}"]).queries()
                ),
            }
    finally:
        staff_views.PAGE_SIZE = saved
    return counts


def growth_point(root, *, rounds, per_round):
    """List (page 1, default sort) and detail, ours and the admin's, at the current size."""
    client = signed_in(root)
    list_result = compare(
        Target("staff list", client, ["/staff/orders/?sort=-placed_at"]),
        Target("admin changelist", client, ["/admin/orders/order/"]),
        rounds=rounds,
        per_round=per_round,
    )
    list_result["queries_ours"] = len(
        Target("l", client, ["/staff/orders/?sort=-placed_at"]).queries()
    )
    list_result["queries_theirs"] = len(Target("l", client, ["/admin/orders/order/"]).queries())
    detail_result = run_detail_comparison(
        root, sample_orders(10), rounds=rounds, per_round=per_round
    )
    return {"list": list_result, "detail": detail_result}


# --- plans ----------------------------------------------------------------------------------


def explain(queries):
    """``EXPLAIN (ANALYZE, BUFFERS)`` of every SELECT on the order table among ``queries``."""
    if connection.vendor != "postgresql":
        return []
    table = connection.ops.quote_name(Order._meta.db_table)
    selects = [
        q for q in queries if q["sql"].lstrip().upper().startswith("SELECT") and table in q["sql"]
    ]
    plans = []
    with connection.cursor() as cursor:
        for q in selects:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            plans.append({"sql": q["sql"], "time_ms": float(q["time"]) * 1000, "plan": plan})
    return plans


# --- issue 16: where a list request's time goes ----------------------------------------------


class _SqlClock:
    """``connection.execute_wrapper`` that adds up the time spent in the database."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start


def list_breakdown(root, urls, *, rounds, per_round, warmup=2):
    """Total, SQL and Python (total − SQL) server time of the staff list, per URL.

    ``urls``: ``{name: url}``. Each request runs under an execute wrapper summing the
    time its queries take (round trips included); "python" is the rest: middleware,
    view, form and template. Returns ``{name: {"total", "sql", "python"}}`` of summaries
    in milliseconds (median and p95 of each series separately), and "cpu": this
    thread's CPU time per request (the Python work without the waits for the database
    or for the other processes on a busy machine; the client side of the queries is in
    it too).
    """
    client = signed_in(root)
    results = {}
    for name, url in urls.items():
        target = Target(name, client, [url])
        for _i in range(warmup):
            target.hit()
        totals, sqls, pythons, cpus = [], [], [], []
        for _r in range(rounds):
            for _i in range(per_round):
                clock = _SqlClock()
                cpu = time.thread_time()
                with connection.execute_wrapper(clock):
                    ms = target.hit()
                cpus.append((time.thread_time() - cpu) * 1000)
                totals.append(ms)
                sqls.append(clock.seconds * 1000)
                pythons.append(ms - clock.seconds * 1000)
        results[name] = {
            "url": url,
            "total": summary(totals),
            "sql": summary(sqls),
            "python": summary(pythons),
            "cpu": summary(cpus),
            "queries": len(target.queries()),
        }
    return results


AWAITING_QUEUE_URL = "/staff/orders/?queue=awaiting_confirmation&sort=placed_at"


def queue_growth_point(root, *, rounds, per_round):
    """The awaiting-confirmation queue (an order admin's default list), our side alone:
    time and query count at the current size (issue 16's flat-growth target)."""
    client = signed_in(root)
    target = Target("awaiting queue", client, [AWAITING_QUEUE_URL])
    result = alone(target, rounds=rounds, per_round=per_round)
    result["queries"] = len(target.queries())
    return result
