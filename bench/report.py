"""Markdown tables and the growth plot from a benchmark run's results."""

import math


def _ms(value):
    return (
        "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"
    )


def _x(value):
    return (
        "–"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:.2f}×"
    )


def _reports_cells(r):
    if not r:
        return "– | – | –"
    up, live = r["rolled_up"], r["live"]
    return (
        f"{_ms(up['median'])} / {_ms(up['p95'])} | {_ms(live['median'])} / {_ms(live['p95'])} | "
        f"{_ms(r['cold']['ms'])}"
    )


def tables(results):
    """The run's tables as Markdown text."""
    out = []
    m = results["machine"]
    out.append(
        f"Run {results['started']} ({results['mode']}), {results['orders']} orders, "
        f"database {results['database']}.  \n"
        f"Machine: {m.get('cpu', '?')}, {m.get('cpus')} CPUs, {m.get('memory_gb')} GB; "
        f"{m.get('platform')}; Python {m.get('python')}, Django {m.get('django')}, "
        f"{m.get('gunicorn', 'gunicorn ?')}, locust {m.get('locust')}, psycopg {m.get('psycopg')}; "
        f"{results.get('server_version', '')}.  \n"
        "Load average (1, 5, 15 min) at start: "
        f"{', '.join(f'{x:.2f}' for x in results.get('load_at_start', []))}; at end: "
        f"{', '.join(f'{x:.2f}' for x in results.get('load_at_end', []))}."
    )

    out.append("\n### Staff order list vs the Django admin changelist (in-process, ms)\n")
    out.append(
        "| scenario | ours median | ours p95 | admin median | admin p95 | admin / ours "
        "| per-round ratios | queries ours / admin |"
    )
    out.append("|---|---:|---:|---:|---:|---:|---|---:|")
    for name, r in results["lists"].items():
        rounds = ", ".join(f"{x:.2f}" for x in r["round_ratios"])
        out.append(
            f"| {name} | {_ms(r['ours']['median'])} | {_ms(r['ours']['p95'])} | "
            f"{_ms(r['theirs']['median'])} | {_ms(r['theirs']['p95'])} | {_x(r['ratio'])} | "
            f"{rounds} | {r['queries_ours']} / {r['queries_theirs']} |"
        )

    d = results["detail"]
    out.append("\n### Order detail and member pages (in-process, ms)\n")
    out.append("| page | median | p95 | queries |")
    out.append("|---|---:|---:|---:|")
    out.append(
        f"| staff order detail ({d['orders']} orders cycled) | {_ms(d['ours']['median'])} | "
        f"{_ms(d['ours']['p95'])} | {'/'.join(map(str, d['queries_ours']))} |"
    )
    out.append(
        f"| admin change page (same orders) | {_ms(d['theirs']['median'])} | "
        f"{_ms(d['theirs']['p95'])} | {'/'.join(map(str, d['queries_theirs']))} |"
    )
    for name, r in results["member"].items():
        out.append(f"| {name} | {_ms(r['median'])} | {_ms(r['p95'])} | {r['queries']} |")
    out.append(f"\nDetail: admin / ours = {_x(d['ratio'])}.")

    r = results.get("reports")
    if r:
        out.append(
            f"\n### Reports: 31 business days {r['range'][0]} – {r['range'][1]} "
            f"at {r['now']} (in-process, ms)\n"
        )
        out.append(
            "Today open (counted live), 30 closed days from their roll-ups; see "
            "`bench/reporting.py`.\n"
        )
        out.append("| report | n | median | p95 | max | queries |")
        out.append("|---|---:|---:|---:|---:|---:|")
        q = r["queries"]
        for name, label, queries in (
            ("rolled_up", "`build_report`, closed days rolled up", q["rolled_up"]),
            ("one_day_forgotten", "… after a change to one closed day", ""),
            ("live", "… every day live (no roll-ups)", q["live"]),
            ("page", "`GET /staff/reports/` (every day closed, charts cached)", ""),
        ):
            s = r[name]
            out.append(
                f"| {label} | {s['n']} | {_ms(s['median'])} | {_ms(s['p95'])} | "
                f"{_ms(s['max'])} | {queries} |"
            )
        out.append(
            f"| first report after the roll-ups were emptied | 1 | {_ms(r['cold']['ms'])} | "
            f"– | – | {q['cold']} |"
        )

    q = results["query_counts"]
    out.append("\n### Staff list query count by page size\n")
    out.append("| page size | default | status filter |")
    out.append("|---:|---:|---:|")
    for size, counts in q.items():
        out.append(f"| {size} | {counts['default']} | {counts['status filter']} |")

    out.append(
        "\n### Growth: page 1 of the list, the detail page and the 31-day report "
        "(in-process, median ms unless p95)\n"
    )
    out.append(
        "| orders | list ours | list admin | admin / ours | list queries ours / admin "
        "| detail ours | detail admin | detail p95 ours | report rolled up p50 / p95 "
        "| report live p50 / p95 | report first |"
    )
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, g in sorted(results["growth"].items(), key=lambda kv: int(kv[0])):
        li, de = g["list"], g["detail"]
        out.append(
            f"| {int(size):,} | {_ms(li['ours']['median'])} | {_ms(li['theirs']['median'])} | "
            f"{_x(li['ratio'])} | {li['queries_ours']} / {li['queries_theirs']} | "
            f"{_ms(de['ours']['median'])} | {_ms(de['theirs']['median'])} | "
            f"{_ms(de['ours']['p95'])} | {_reports_cells(g.get('reports'))} |"
        )

    a = results["actions"]
    out.append("\n### Staff actions, one clerk, sequential (through the services vs bare SQL)\n")
    out.append("| action | ours /s | ours p50 ms | ours p95 ms | bare SQL /s | ours / bare |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for name, r in a.items():
        out.append(
            f"| {name} | {r['ours']['per_s']:.1f} | {_ms(r['ours']['p50_ms'])} | "
            f"{_ms(r['ours']['p95_ms'])} | {r['raw']['per_s']:.1f} | {_x(r['ratio'])} |"
        )

    c = results["checkout"]
    if not c:
        out.append(f"\n(checkout not run)\n\n{results['summary_line']}\n")
        return "\n".join(out)
    out.append(
        f"\n### Checkout over HTTP (gunicorn, {c['workers']} sync workers; locust) "
        "vs bare psycopg\n\n"
        f"{c['rounds']} rounds × {c['seconds_per_round']} s per side and level, alternating; "
        "medians "
        "of the rounds. Latency of ours is the whole checkout (2 cart adds, checkout page, "
        "order POST); of the raw script, one transaction.\n"
    )
    out.append(
        "| clients | ours orders/s | ours p50 ms | ours p95 ms | POST p95 ms | errors "
        "| locust CPU | raw orders/s | raw p50 ms | raw p95 ms | raw errors | ours / raw |"
    )
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for users, lv in c["levels"].items():
        raw = lv["raw"] or {}
        out.append(
            f"| {users} | {lv['ours']['orders_per_s']:.1f} | {_ms(lv['ours']['p50_ms'])} | "
            f"{_ms(lv['ours']['p95_ms'])} | {_ms(lv['ours']['place_p95_ms'])} | "
            f"{lv['ours_errors']} | {lv['ours'].get('locust_cpu_share', math.nan):.0%} | "
            f"{_ms(raw.get('orders_per_s'))} | {_ms(raw.get('p50_ms'))} | "
            f"{_ms(raw.get('p95_ms'))} | "
            f"{lv['raw_errors']} | {_x(lv['ratio'])} |"
        )
    sv = c.get("service_vs_raw")
    if sv:
        out.append(
            f"\nWithout HTTP: `services.place_order` in-process, one thread: "
            f"{sv['ours']['orders_per_s']:.1f} orders/s (p50 {_ms(sv['ours']['p50_ms'])} ms, "
            f"p95 {_ms(sv['ours']['p95_ms'])} ms) vs bare psycopg, one client: "
            f"{sv['raw']['orders_per_s']:.1f} orders/s (p50 {_ms(sv['raw']['p50_ms'])} ms); "
            f"ratio {_x(sv['ratio'])}, errors {sv['ours_errors']} / {sv['raw_errors']}."
        )
    out.append(
        f"\nOrders in the database before the checkout runs: {c.get('orders_before', 0):,}; "
        f"after: {c.get('orders_after', 0):,} (both sides' orders stay)."
    )
    s, sc = c["sell_out"], c["stock_check"]
    out.append(
        f"\nSell-out race: {s['stock_before']} units, {s['sold']} sold, "
        f"{s['refused_sold_out']} refused as sold out, {s['errors']} errors; stock after "
        f"{s['stock_after']}, units on orders {s['units_on_orders']}.  \n"
        f"Stock check over {sc['products']} products: {sc['units_sold']} units sold, "
        f"{len(sc['mismatches'])} mismatches."
    )
    out.append(issue16_tables(results))
    e = results.get("email")
    if e and e.get("skipped"):
        out.append(f"\nCheckout with e-mail, in request vs worker: not run ({e['skipped']}).")
    elif e:
        out.append(
            f"\n### Checkout with the member's e-mail: in the request vs by a Celery worker\n\n"
            f"{e['users']} clients, SMTP hand-over {e['smtp_ms']} ms, "
            f"{len(e['in_request']['rounds'])} rounds × {e['seconds_per_round']} s per side, "
            "alternating; medians of the rounds.\n"
        )
        out.append("| side | orders/s | POST p50 ms | POST p95 ms | flow p95 ms | errors |")
        out.append("|---|---:|---:|---:|---:|---:|")
        for side in ("in_request", "worker"):
            r = e[side]
            out.append(
                f"| {side} | {r['orders_per_s']:.1f} | {_ms(r['place_p50_ms'])} | "
                f"{_ms(r['place_p95_ms'])} | {_ms(r['p95_ms'])} | {r['errors']} |"
            )
        out.append(
            f"\nOutbox drained after each worker round in "
            f"{', '.join('-' if d is None else f'{d:.1f}' for d in e['drain_seconds'])} s; "
            f"e-mails left unsent: {e['unsent']}."
        )
    out.append(f"\n{results['summary_line']}\n")
    return "\n".join(out)


def issue16_tables(results):
    """Issue 16's tables: lists vs admin by size, growth of page 1 and the awaiting
    queue, the list's time split, place_order at 1 and 8 threads, HTTP vs the floor."""
    out = []
    by_size = results.get("lists_by_size") or {}
    if by_size:
        out.append("\n### Issue 16: staff list vs admin by book size (admin / ours, medians)\n")
        names = []
        for lists in by_size.values():
            for name in lists:
                short = name.split(" (")[0] if name.startswith("deep page") else name
                if short not in names:
                    names.append(short)
        out.append("| orders | " + " | ".join(names) + " |")
        out.append("|---:|" + "---:|" * len(names))
        for size in sorted(by_size, key=int):
            cells = []
            for short in names:
                found = [r for n, r in by_size[size].items() if n.startswith(short)]
                cells.append(
                    f"{_x(found[0]['ratio'])} ({_ms(found[0]['ours']['median'])} / "
                    f"{_ms(found[0]['theirs']['median'])} ms)"
                    if found
                    else "–"
                )
            out.append(f"| {int(size):,} | " + " | ".join(cells) + " |")
    queue = results.get("queue_growth") or {}
    if queue:
        out.append("\n### Issue 16: growth of page 1 and the awaiting queue (ours, ms)\n")
        out.append(
            "| orders | page 1 median | page 1 p95 | awaiting queue median | p95 | queries |"
        )
        out.append("|---:|---:|---:|---:|---:|---:|")
        g = results["growth"]
        for size in sorted(queue, key=int):
            page = g[size]["list"]["ours"]
            q = queue[size]
            out.append(
                f"| {int(size):,} | {_ms(page['median'])} | {_ms(page['p95'])} | "
                f"{_ms(q['median'])} | {_ms(q['p95'])} | {q['queries']} |"
            )
    split = results.get("list_breakdown") or {}
    if split:
        out.append("\n### Issue 16: where a list request's time goes (medians, ms)\n")
        out.append("| orders | page | total | SQL | Python (total − SQL) | CPU of the request |")
        out.append("|---:|---|---:|---:|---:|---:|")
        for size in sorted(split, key=int):
            for name, r in split[size].items():
                out.append(
                    f"| {int(size):,} | {name} | {_ms(r['total']['median'])} | "
                    f"{_ms(r['sql']['median'])} | {_ms(r['python']['median'])} | "
                    f"{_ms(r['cpu']['median'])} |"
                )
    i16 = results.get("issue16_checkout")
    if i16:
        out.append("\n### Issue 16: place_order in-process vs bare psycopg (orders/s)\n")
        out.append(
            "| threads | with e-mail | p50 ms | without e-mail | p50 ms | bare psycopg | "
            "p50 ms | ratio (e-mail) | ratio (no e-mail) | errors |"
        )
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in sorted(i16["in_process"], key=int):
            w, wo = i16["in_process"][n]["with_email"], i16["in_process"][n]["without_email"]
            out.append(
                f"| {n} | {w['ours']['orders_per_s']:.1f} | {_ms(w['ours']['p50_ms'])} | "
                f"{wo['ours']['orders_per_s']:.1f} | {_ms(wo['ours']['p50_ms'])} | "
                f"{w['raw']['orders_per_s']:.1f} | {_ms(w['raw']['p50_ms'])} | "
                f"{_x(w['ratio'])} | {_x(wo['ratio'])} | "
                f"{w['ours_errors'] + wo['ours_errors']} / {w['raw_errors']} |"
            )
        h = i16["http"]
        out.append(
            f"\n### Issue 16: checkout over HTTP vs the floor view ({h['clients']} clients)\n"
        )
        out.append(
            "| side | flow orders/s | flow p50 ms | flow p95 ms | order POST p50 ms | "
            "order POST p95 ms | errors |"
        )
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        out.append(
            f"| ours (/checkout/) | {h['ours']['orders_per_s']:.1f} | {_ms(h['ours']['p50_ms'])} | "
            f"{_ms(h['ours']['p95_ms'])} | {_ms(h['ours_place']['place_p50_ms'])} | "
            f"{_ms(h['ours_place']['place_p95_ms'])} | {h['ours_errors']} |"
        )
        out.append(
            f"| floor (bare SQL view) | {h['raw']['orders_per_s']:.1f} | "
            f"{_ms(h['raw']['p50_ms'])} | "
            f"{_ms(h['raw']['p95_ms'])} | {_ms(h['floor_place']['place_p50_ms'])} | "
            f"{_ms(h['floor_place']['place_p95_ms'])} | {h['raw_errors']} |"
        )
        out.append(
            f"\nFlow ratio ours / floor: {_x(h['ratio'])}; order POST p50 floor / ours: "
            f"{_x(h['post_ratio'])}. Stock check: {i16['stock_check']['units_sold']} units, "
            f"{len(i16['stock_check']['mismatches'])} mismatches."
        )
    return "\n".join(out)


def plot(results, path):
    """Time vs order count for the list and the detail, ours and the admin's, and the
    31-day report (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(int(s) for s in results["growth"])
    g = {int(k): v for k, v in results["growth"].items()}
    with_reports = all("reports" in g[s] for s in sizes)
    fig, axes = plt.subplots(1, 3 if with_reports else 2, figsize=(16 if with_reports else 11, 4.2))
    for ax, page, title in (
        (axes[0], "list", "Order list, page 1"),
        (axes[1], "detail", "Order detail"),
    ):
        for side, label, style in (
            ("ours", "back office (/staff/)", "o-"),
            ("theirs", "Django admin", "s--"),
        ):
            med = [g[s][page][side]["median"] for s in sizes]
            p95 = [g[s][page][side]["p95"] for s in sizes]
            line = ax.plot(sizes, med, style, label=f"{label}, median")[0]
            ax.plot(sizes, p95, ":", color=line.get_color(), alpha=0.7, label=f"{label}, p95")
        if page == "list" and results.get("queue_growth"):
            q = {int(k): v for k, v in results["queue_growth"].items()}
            qs = [s for s in sizes if s in q]
            ax.plot(qs, [q[s]["median"] for s in qs], "^-", label="awaiting queue (ours), median")
        ax.set_xscale("log")
        ax.set_xlabel("orders in the database")
        ax.set_ylabel("server time per request (ms)")
        ax.set_title(title)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    if with_reports:
        ax = axes[2]
        for side, label, style in (
            ("rolled_up", "closed days rolled up", "o-"),
            ("live", "every day live", "s--"),
        ):
            med = [g[s]["reports"][side]["median"] for s in sizes]
            p95 = [g[s]["reports"][side]["p95"] for s in sizes]
            line = ax.plot(sizes, med, style, label=f"{label}, median")[0]
            ax.plot(sizes, p95, ":", color=line.get_color(), alpha=0.7, label=f"{label}, p95")
        ax.axhline(150, color="grey", linewidth=0.8, linestyle="-.", label="target p95 150 ms")
        ax.set_xscale("log")
        ax.set_xlabel("orders in the database")
        ax.set_ylabel("build_report time (ms)")
        ax.set_title("Report of 31 business days")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(
        f"Cost vs order count (PostgreSQL, in-process, {results['machine'].get('cpus')} CPUs)"
        if results["database"].startswith("postgres")
        else "Cost vs order count"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
