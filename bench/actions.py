"""Staff actions per second through ``orders.services``: confirm, then record a payment.

One clerk working sequentially in this process (as a view would call the service), on
submitted orders from the seeded book, vs. the same database writes as bare SQL (lock
the order, update it, write the event / the payment) on other orders of the same kind.
Each round runs both sides, alternating which goes first. The e-mail a confirmation
queues is rendered (dummy backend), as it would be in production.
"""

import datetime
import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from bench.common import percentile, ratio
from orders import services
from orders.models import Order, OrderEvent, Payment, PaymentStatus, Status


def _timed_each(items, fn):
    samples = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _for_update():
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def _raw_confirm(order_id):
    with transaction.atomic(), connection.cursor() as cur:
        now = timezone.now()
        cur.execute(
            f"SELECT version, status, payment_status FROM {Order._meta.db_table} "  # noqa: S608
            f"WHERE id = %s{_for_update()}",
            [order_id],
        )
        version, status, pay = cur.fetchone()
        cur.execute(
            f"UPDATE {Order._meta.db_table} SET status = 'confirmed', confirmed_at = %s, "  # noqa: S608
            "version = version + 1, updated_at = %s WHERE id = %s AND status = 'submitted' "
            "AND version = %s",
            [now, now, order_id, version],
        )
        cur.execute(
            f"INSERT INTO {OrderEvent._meta.db_table} (order_id, actor_id, kind, from_status, "  # noqa: S608
            "to_status, from_payment_status, to_payment_status, note, data, order_version, "
            "created_at) VALUES (%s, NULL, 'confirmed', %s, 'confirmed', %s, %s, "
            "'Checked by phone (bench).', '{}', %s, %s)",
            [order_id, status, pay, pay, version + 1, now],
        )


def _raw_payment(order_id):
    with transaction.atomic(), connection.cursor() as cur:
        now = timezone.now()
        table = Order._meta.db_table
        cur.execute(
            f"SELECT version, status, payment_status, total, payment_method FROM {table} "  # noqa: S608
            f"WHERE id = %s{_for_update()}",
            [order_id],
        )
        version, status, pay, total, method = cur.fetchone()
        cur.execute(
            f"SELECT COALESCE(SUM(amount), 0) FROM {Payment._meta.db_table} "  # noqa: S608
            "WHERE order_id = %s AND voided_at IS NULL AND kind = 'payment'",
            [order_id],
        )
        cur.fetchone()
        cur.execute(
            f"INSERT INTO {Payment._meta.db_table} (order_id, kind, amount, method, reference, "  # noqa: S608
            "received_on, note, recorded_by_id, recorded_at, voided_at, voided_by_id, "
            "void_reason, credit_note) "
            "VALUES (%s, 'payment', %s, %s, %s, %s, '', %s, %s, NULL, NULL, '', FALSE)",
            [order_id, total, method, f"RAW-{order_id}", timezone.localdate(), _RAW_CLERK[0], now],
        )
        cur.execute(
            f"UPDATE {table} SET payment_status = 'paid', paid_at = %s, version = version + 1, "  # noqa: S608
            "held = held + %s, updated_at = %s WHERE id = %s",
            [now, total, now, order_id],
        )
        cur.execute(
            f"INSERT INTO {OrderEvent._meta.db_table} (order_id, actor_id, kind, from_status, "  # noqa: S608
            "to_status, from_payment_status, to_payment_status, note, data, order_version, "
            "created_at) VALUES (%s, %s, 'payment_recorded', %s, %s, %s, 'paid', '', '{}', %s, %s)",
            [order_id, _RAW_CLERK[0], status, status, pay, version + 1, now],
        )


_RAW_CLERK = [None]


def run(*, rounds, per_round):
    """Confirm and record-payment rates; returns ``{action: {"ours", "raw", "ratio"}}``."""
    User = get_user_model()
    admin = User.objects.get(username="seed-admin")
    finance = User.objects.get(username="seed-finance")
    _RAW_CLERK[0] = finance.pk
    needed = rounds * per_round * 2
    submitted = list(
        Order.objects.filter(status=Status.SUBMITTED, payment_status=PaymentStatus.UNPAID)
        .order_by("pk")
        .values_list("pk", flat=True)[:needed]
    )
    per_round = max(1, min(per_round, len(submitted) // (2 * rounds)))

    def confirm(pk):
        order = Order.objects.get(pk=pk)
        # Seeded orders may carry an unanswered call: the bench's admin reached them since.
        services.confirm_order(
            admin,
            order,
            expected_version=order.version,
            call_note="Checked by phone (bench).",
            reached_after_failed=True,
        )

    def pay(pk):
        order = Order.objects.get(pk=pk)
        services.record_payment(
            finance,
            order,
            amount=order.total,
            method=order.payment_method,
            reference=f"BENCH-{order.number}",
            received_on=timezone.localdate() - datetime.timedelta(days=1),
        )

    results = {}
    chunks = iter(submitted[i : i + per_round] for i in range(0, len(submitted), per_round))
    samples = {
        ("confirm", "ours"): [],
        ("confirm", "raw"): [],
        ("payment", "ours"): [],
        ("payment", "raw"): [],
    }
    for r in range(rounds):
        mine, theirs = next(chunks, []), next(chunks, [])
        sides = (("ours", mine), ("raw", theirs))
        if r % 2:
            sides = sides[::-1]
        for side, pks in sides:
            fn_confirm, fn_pay = (confirm, pay) if side == "ours" else (_raw_confirm, _raw_payment)
            samples[("confirm", side)] += _timed_each(pks, fn_confirm)
            samples[("payment", side)] += _timed_each(pks, fn_pay)
    for action in ("confirm", "payment"):
        ours, raw = samples[(action, "ours")], samples[(action, "raw")]
        results[action] = {
            "ours": _rate(ours),
            "raw": _rate(raw),
            "ratio": ratio(_rate(ours)["per_s"], _rate(raw)["per_s"]),
        }
    return results


def _rate(samples):
    if not samples:
        return {"n": 0, "per_s": float("nan"), "p50_ms": float("nan"), "p95_ms": float("nan")}
    return {
        "n": len(samples),
        "per_s": 1000 * len(samples) / sum(samples),
        "p50_ms": statistics.median(samples),
        "p95_ms": percentile(samples, 95),
    }
