"""Roll-ups of closed business days (orders/report_days.py): what a report reads from a
roll-up equals what it counts live, and a change through the services that touches a
closed day (a payment received in the past, a voided payment, an order placed last
week confirmed or refused today) shows in the next report.

The services forget days once their transaction commits, so the writes here run under
``django_capture_on_commit_callbacks(execute=True)``; pytest-django's test transaction
never commits otherwise.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders import report_days, reports, services
from orders.models import CodCollection, Order, Payment, PaymentMethod, ReportDay
from tests import factories
from tests.orders.test_reports import DAY_A, DAY_B, book  # noqa: F401 (fixture)
from tests.staff.helpers import at_shop_time

pytestmark = pytest.mark.django_db


def at(day, hour, minute=0):
    return at_shop_time(day.year, day.month, day.day, hour, minute)


def tomorrow_noon():
    """A ``now`` at which today (and everything before) is a closed day."""
    return at(timezone.localdate() + datetime.timedelta(days=1), 12)


def stored(day):
    return ReportDay.objects.filter(day=day).values_list("figures", flat=True).first()


def received(report, day):
    (money_day,) = [m for m in report.money_days if m.day == day]
    return money_day.received


def day_figures(report, day):
    (figures,) = [d for d in report.days if d.day == day]
    return figures


# --- a roll-up says what the live count says ---------------------------------------------


def test_rolled_up_days_equal_the_live_count(book):  # noqa: F811
    """Two closed days with every order figure: rolled up, read back, same report."""
    assert not ReportDay.objects.exists()
    first = reports.build_report(DAY_A, DAY_B)  # computes both days and keeps them
    assert {r.day for r in ReportDay.objects.filter(figures__isnull=False)} == {DAY_A, DAY_B}
    from_rollups = reports.build_report(DAY_A, DAY_B)
    live = reports.build_report(DAY_A, DAY_B, rollups=False)
    assert from_rollups == live == first
    # Spot checks, so equality is not of two empty reports.
    a, b = day_figures(from_rollups, DAY_A), day_figures(from_rollups, DAY_B)
    assert (a.placed, b.placed, a.confirmed, b.confirmed) == (6, 2, 3, 2)
    assert (a.cod_shipped, a.cod_refused) == (1, 1)
    assert (a.confirm_median, a.confirm_p90, b.ship_median) == (2.0, 3.6, 22.0)
    assert a.value_placed == Decimal("600.00")


def test_money_and_people_rolled_up_equal_live():
    """Money per method, refunds, COD remitted and every person's figures of a day that
    is closed (``now`` tomorrow), read from the roll-up, equal the live count."""
    finance = factories.finance_clerk(username="till")
    admin = factories.order_admin(username="caller")
    today = timezone.localdate()
    transfer = factories.OrderFactory(confirmed=True, payment_method=PaymentMethod.BANK_TRANSFER)
    services.record_payment(
        finance, transfer, amount=Decimal("110.00"), method="bank_transfer",
        reference="B1", received_on=today,
    )  # fmt: skip
    services.record_refund(
        finance, transfer, amount=Decimal("10.00"), reference="CN1", credit_note=True
    )
    delivered = factories.OrderFactory(delivered=True)
    collection = CodCollection.objects.get(order=delivered)
    services.record_remittance(
        finance, courier=collection.courier, collections=[collection],
        counted_amount=Decimal("100.00"), note="Short.",
    )  # fmt: skip
    called = factories.OrderFactory()
    services.log_call(admin, called, outcome="no_answer")
    services.confirm_order(
        admin, called, expected_version=called.version, call_note="Reached.",
        reached_after_failed=True,
    )  # fmt: skip
    refused = factories.OrderFactory(own_shipped=True)
    services.record_delivery_attempt(admin, refused, outcome="refused")

    now = tomorrow_noon()
    first = reports.build_report(today, today, now=now)
    assert stored(today) is not None  # today is closed at ``now``: kept
    again = reports.build_report(today, today, now=now)
    live = reports.build_report(today, today, now=now, rollups=False)
    assert again == live == first
    assert received(again, today) == {
        "bank_transfer": Decimal("110.00"),
        "cod": Decimal("110.00"),
    }
    (money_day,) = again.money_days
    assert money_day.refunds_credit_note == Decimal("10.00")
    assert again.cod["remitted"] == (1, Decimal("110.00"))
    (caller,) = [a for a in again.admins if a.admin == admin]
    assert (caller.calls, caller.confirmations, caller.attempts_per_confirmation) == (1, 1, 2.0)
    (clerk,) = [c for c in again.clerks if c.clerk == finance]
    assert (clerk.payments, clerk.refunds, clerk.remittances) == (2, 1, 1)
    (courier,) = [c for c in again.couriers if c.courier == collection.courier]
    assert (courier.deliveries, courier.remittance_difference) == (1, Decimal("-10.00"))
    assert sum(c.refusals for c in again.couriers) == 1


def test_the_open_day_is_never_kept():
    factories.OrderFactory(confirmed=True)
    today = timezone.localdate()
    report = reports.build_report(today - datetime.timedelta(days=2), today, now=at(today, 12))
    assert day_figures(report, today).placed == 1
    assert stored(today) is None
    assert stored(today - datetime.timedelta(days=1)) is not None


def test_a_day_just_ended_is_counted_live_for_ten_minutes():
    """A change stamped at 23:59 may commit just after midnight: the day is not rolled up
    until ``GRACE`` after its end."""
    factories.OrderFactory(confirmed=True)
    today = timezone.localdate()
    midnight = at(today + datetime.timedelta(days=1), 0)
    reports.build_report(today, today, now=midnight + datetime.timedelta(minutes=9))
    assert stored(today) is None
    report = reports.build_report(today, today, now=midnight + datetime.timedelta(minutes=10))
    assert stored(today)["orders"]["placed"] == day_figures(report, today).placed == 1


# --- a change to a closed day shows in the next report -----------------------------------


@pytest.fixture
def last_week_order():
    """A bank-transfer order placed 5 days ago (a closed day), confirmed today."""
    order = factories.OrderFactory(confirmed=True, payment_method=PaymentMethod.BANK_TRANSFER)
    placed = timezone.localdate() - datetime.timedelta(days=5)
    Order.objects.filter(pk=order.pk).update(placed_at=at(placed, 10))
    return Order.objects.get(pk=order.pk), placed


def test_payment_received_in_the_past_shows_in_the_next_report(
    last_week_order, django_capture_on_commit_callbacks
):
    order, day = last_week_order
    finance = factories.finance_clerk()
    assert received(reports.build_report(day, day), day) == {}
    assert stored(day) is not None  # the closed day was kept, empty of money

    with django_capture_on_commit_callbacks(execute=True):
        services.record_payment(
            finance, order, amount=Decimal("60.00"), method="bank_transfer",
            reference="LATE-1", received_on=day,
        )  # fmt: skip
    assert stored(day) is None  # forgotten once the payment committed
    report = reports.build_report(day, day)
    assert received(report, day) == {"bank_transfer": Decimal("60.00")}
    assert report == reports.build_report(day, day, rollups=False)

    with django_capture_on_commit_callbacks(execute=True):
        services.void_payment(finance, Payment.objects.get(reference="LATE-1"), reason="Typo.")
    assert received(reports.build_report(day, day), day) == {}


def test_a_change_not_forgotten_is_not_seen(last_week_order, django_capture_on_commit_callbacks):
    """The roll-up really is what a report reads: the same late payment with its commit
    callbacks never run (as if the process died after the commit) leaves the day's
    old figure until ``forget`` runs for it."""
    order, day = last_week_order
    reports.build_report(day, day)
    with django_capture_on_commit_callbacks(execute=False):
        services.record_payment(
            factories.finance_clerk(), order, amount=Decimal("60.00"),
            method="bank_transfer", reference="LATE-2", received_on=day,
        )  # fmt: skip
    assert received(reports.build_report(day, day), day) == {}
    report_days.forget([day])
    assert received(reports.build_report(day, day), day) == {"bank_transfer": Decimal("60.00")}


def test_confirming_or_invalidating_last_weeks_order_changes_its_placed_day(
    django_capture_on_commit_callbacks,
):
    """The confirmation rate is of the orders *placed* that day: a confirmation today
    changes a closed day."""
    admin = factories.order_admin()
    day = timezone.localdate() - datetime.timedelta(days=3)
    orders = [factories.OrderFactory() for _ in range(2)]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(placed_at=at(day, 9))
    before = day_figures(reports.build_report(day, day), day)
    assert (before.placed, before.placed_confirmed, before.confirmation_rate) == (2, 0, 0)

    with django_capture_on_commit_callbacks(execute=True):
        first = Order.objects.get(pk=orders[0].pk)
        services.confirm_order(admin, first, expected_version=first.version, call_note="OK.")
        services.invalidate_order(admin, Order.objects.get(pk=orders[1].pk), reason="Fake.")
    after = day_figures(reports.build_report(day, day), day)
    assert (after.placed_confirmed, after.placed_invalid) == (1, 1)
    assert (after.confirmation_rate, after.invalid_rate) == (0.5, 0.5)


def test_refusal_today_of_a_parcel_shipped_on_a_closed_day(django_capture_on_commit_callbacks):
    admin = factories.order_admin()
    order = factories.OrderFactory(shipped=True)
    day = timezone.localdate() - datetime.timedelta(days=2)
    Order.objects.filter(pk=order.pk).update(
        placed_at=at(day, 8), confirmed_at=at(day, 9), shipped_at=at(day, 15)
    )
    before = day_figures(reports.build_report(day, day), day)
    assert (before.cod_shipped, before.cod_refused) == (1, 0)
    with django_capture_on_commit_callbacks(execute=True):
        order = Order.objects.get(pk=order.pk)
        services.record_delivery_attempt(admin, order, outcome="refused")
        services.record_return(admin, Order.objects.get(pk=order.pk), reason="Refused.")
    after = day_figures(reports.build_report(day, day), day)
    assert (after.cod_shipped, after.cod_refused, after.refusal_rate) == (1, 1, 1.0)


def test_changes_on_the_open_day_forget_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        factories.OrderFactory(delivered=True)
    assert not ReportDay.objects.exists()


# --- races and versions -------------------------------------------------------------------


def test_a_report_that_read_before_a_change_does_not_keep_its_figures(book):  # noqa: F811
    """Computed from data read before a change, stored after the change forgot the day:
    the store finds a newer generation and keeps nothing (with and without a row)."""
    for existing in (False, True):
        if existing:
            reports.build_report(DAY_A, DAY_A)
            report_days.forget([DAY_A])
        seen = report_days.load([DAY_A])
        assert (DAY_A in seen) is existing
        computed = reports._live([DAY_A])  # read before the change ...
        report_days.forget([DAY_A])  # ... which commits and forgets the day ...
        report_days.store({DAY_A: reports._to_json(computed[DAY_A])}, seen)  # ... then store
        assert stored(DAY_A) is None
    # Nothing changed between reading and storing: kept.
    seen = report_days.load([DAY_A])
    computed = reports._live([DAY_A])
    report_days.store({DAY_A: reports._to_json(computed[DAY_A])}, seen)
    assert stored(DAY_A)["orders"]["placed"] == 6


def test_a_roll_up_of_another_version_is_recomputed(book):  # noqa: F811
    reports.build_report(DAY_A, DAY_A)
    ReportDay.objects.filter(day=DAY_A).update(
        figures={"version": report_days.VERSION - 1, "orders": {"placed": 999}}
    )
    assert day_figures(reports.build_report(DAY_A, DAY_A), DAY_A).placed == 6
    assert stored(DAY_A)["version"] == report_days.VERSION


def test_a_roll_up_cut_in_another_time_zone_is_recomputed(book, settings):  # noqa: F811
    reports.build_report(DAY_A, DAY_A)
    assert stored(DAY_A)["zone"] == "Asia/Shanghai"
    settings.TIME_ZONE = "UTC"  # B 00:30 and 01:00 in Shanghai are on A in UTC; A 07:00 not
    in_utc = day_figures(reports.build_report(DAY_A, DAY_A), DAY_A)
    assert in_utc.placed == 7
    assert in_utc == day_figures(reports.build_report(DAY_A, DAY_A, rollups=False), DAY_A)
    assert stored(DAY_A)["zone"] == "UTC"


def test_days_of_an_order_and_its_ledger_entry(book):  # noqa: F811
    order = Order.objects.get(pk=book["delivered"].pk)
    assert report_days.days_of(order) == {DAY_A, DAY_B}
    assert report_days.days_of(order, "2026-03-01") == {DAY_A, DAY_B, datetime.date(2026, 3, 1)}


def test_seed_orders_forgets_every_day(book):  # noqa: F811
    from django.core.management import call_command

    reports.build_report(DAY_A, DAY_B)
    assert ReportDay.objects.count() == 2
    call_command("seed_orders", orders=5, seed=3, verbosity=0)
    assert not ReportDay.objects.exists()


# --- query counts ---------------------------------------------------------------------------


def count(first, last, **kwargs):
    with CaptureQueriesContext(connection) as queries:
        reports.build_report(first, last, **kwargs)
    return len(queries)


def test_query_count_is_constant_in_range_length_cold_and_warm(book):  # noqa: F811
    """Closed days: the first report computes them (17 live queries) and keeps them (two,
    plus a savepoint and its release here), the next reads them (one); the range's
    percentiles (3), the "now" figures (3) and the names (1: a courier delivered on
    DAY_B) are always read."""
    cold_one = count(DAY_B, DAY_B)
    ReportDay.objects.all().delete()
    cold_year = count(DAY_B - datetime.timedelta(days=365), DAY_B)
    assert cold_one == cold_year == 1 + 17 + 4 + 3 + 3 + 1
    warm_one = count(DAY_B, DAY_B)
    warm_year = count(DAY_B - datetime.timedelta(days=365), DAY_B)
    assert warm_one == warm_year == 1 + 3 + 3 + 1
    # Every day live, the roll-ups left alone: the same 17 + 7, no reading or keeping.
    assert count(DAY_B, DAY_B, rollups=False) == count(DAY_A, DAY_B, rollups=False) == 17 + 7
    # Forgotten days apart in a year (two runs of days): still one pass of 17 live
    # queries; their rows exist, so keeping them is the update alone.
    report_days.forget([DAY_A, DAY_B - datetime.timedelta(days=200)])
    assert count(DAY_B - datetime.timedelta(days=365), DAY_B) == cold_year - 1


def test_forget_report_days_command(book):  # noqa: F811
    from django.core.management import call_command
    from django.core.management.base import CommandError

    reports.build_report(DAY_A, DAY_B)
    call_command("forget_report_days", "--from", DAY_B.isoformat(), "--to", DAY_B.isoformat())
    assert stored(DAY_A) is not None
    assert stored(DAY_B) is None
    call_command("forget_report_days")
    assert not ReportDay.objects.exists()
    with pytest.raises(CommandError):
        call_command("forget_report_days", "--from", "2026-13-01")
    with pytest.raises(CommandError):
        call_command("forget_report_days", "--from", "2026-03-11", "--to", "2026-03-10")
