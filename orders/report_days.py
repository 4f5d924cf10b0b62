"""Roll-ups of closed business days for the reports (issue 12, "Fast at scale").

A *closed* day is a business day (in the shop's ``TIME_ZONE``) that ended at least
``GRACE`` (ten minutes) ago. Its report figures are computed once, by the very queries a
live report runs (``orders.reports``), and kept in ``ReportDay.figures``; a report of 31
days then reads 30 small rows and counts only the open day (today) live.

A closed day can still change: a payment entered today with a past ``received_on``, a
voided payment, an order placed last week confirmed or refused today (the day it was
placed or shipped counts it), a carrier's settlement file. Every such change goes
through ``orders.services``, whose bookkeeping (``_bookkeeping.record``, the one event of
every action) calls ``note_change``: once the change has committed, the past days the
order is counted on (each of its step times, and the ``received_on`` of the entry just
written or voided) are *forgotten* (``figures`` NULL, ``generation`` + 1) and recomputed
by the next report. A write outside the services (a bulk load, a hand-made fix in the
database) must call ``forget`` itself (``seed_orders`` forgets every day).

Why after the commit, and why a generation: a report storing a day it computed from
data read *before* a change committed would otherwise keep the old figure. The change
forgets the day after its commit, so either the report's store came first (and is
forgotten), or it comes later and finds a newer ``generation`` than the one it read
before computing, and stores nothing. Forgetting after the commit (not inside the
action's transaction) also keeps the actions from locking roll-up rows among
themselves (two remittances touching the same days in another order would deadlock).
The cost: if the process died between an action's commit and its forgetting, that
day would keep its old figure until ``forget`` is run for it (``manage.py
forget_report_days``).
"""

import datetime
import logging

from django.db import DatabaseError, connection, transaction
from django.db.models import Case, F, JSONField, Q, Value, When
from django.utils import timezone

from orders.models import ReportDay

log = logging.getLogger(__name__)

#: Bumped when the shape or the meaning of a stored roll-up changes: rows of another
#: version are recomputed (``load`` treats them as missing).
VERSION = 1

#: The order's times that put it on a business day of the report.
ORDER_TIMES = (
    "placed_at",
    "confirmed_at",
    "invalidated_at",
    "cancelled_at",
    "shipped_at",
    "delivered_at",
    "returned_at",
)

#: How long after its end a day is still counted live, never rolled up: a change stamped
#: (``timezone.now()``) just before midnight may commit a little after it. Every action
#: commits within seconds; this leaves minutes.
GRACE = datetime.timedelta(minutes=10)

_PENDING = "_mall_report_days_pending"


def _zone():
    return str(timezone.get_default_timezone())


def today(now=None):
    """The shop's business day at ``now`` (an aware datetime; default: now)."""
    return timezone.localdate(now or timezone.now(), timezone=timezone.get_default_timezone())


def first_open_day(now=None):
    """The first business day a report counts live at ``now``: the days before it have
    ended at least ``GRACE`` ago and may be rolled up."""
    return today((now or timezone.now()) - GRACE)


def load(days):
    """The stored roll-ups of ``days`` (dates): ``{day: (figures or None, generation)}``.

    One query. A day without a row is absent from the result; a row forgotten, or
    written by another ``VERSION`` or for another ``TIME_ZONE`` (days cut elsewhere),
    comes back with ``figures`` None.
    """
    found = {}
    for day, figures, generation in ReportDay.objects.filter(day__in=list(days)).values_list(
        "day", "figures", "generation"
    ):
        if figures is not None and (
            figures.get("version") != VERSION or figures.get("zone") != _zone()
        ):
            figures = None
        found[day] = (figures, generation)
    return found


def store(computed, seen):
    """Keep the roll-ups ``computed`` (``{day: JSON-able dict}``) of closed days.

    ``seen``: what ``load`` returned *before* the figures were computed. Two queries
    whatever the number of days (create the missing rows, then fill the rows whose
    ``generation`` is still the one seen); a day forgotten meanwhile keeps the newer
    state: nothing is overwritten. Never raises for a lost race or a lock timeout: the
    day is simply computed again by the next report.
    """
    if not computed:
        return
    from mall import db_router

    if db_router.reading_from() != db_router.PRIMARY:
        # Computed on a read replica (issue 15): it may predate a change the primary has
        # already forgotten the day for, so it is shown but never kept.
        return
    now = timezone.now()
    days = sorted(computed)
    # A day without a row at ``load`` time: any change since would have created it with
    # generation 1 (``forget``), so generation 0 means nothing changed it meanwhile.
    expected = {day: seen[day][1] if day in seen else 0 for day in days}
    unchanged = Q()
    for day in days:
        unchanged |= Q(day=day, generation=expected[day])
    try:
        with transaction.atomic():
            _create_rows([day for day in days if day not in seen])
            ReportDay.objects.filter(unchanged).update(
                figures=Case(
                    *(
                        When(
                            day=day,
                            then=Value(
                                {**computed[day], "version": VERSION, "zone": _zone()},
                                output_field=JSONField(),
                            ),
                        )
                        for day in days
                    ),
                    default=F("figures"),
                    output_field=JSONField(),
                ),
                computed_at=now,
            )
    except DatabaseError:  # a deadlock or lock timeout with a concurrent ``forget``
        log.warning("report roll-ups of %d day(s) not stored", len(days), exc_info=True)


def forget(days, *, attempts=3):
    """Mark the roll-ups of ``days`` (dates) to be recomputed by the next report.

    Two queries (create the missing rows empty, then empty them all and move their
    ``generation`` on), in one transaction; retried on a deadlock. Call it after the
    change that touched those days has committed (``note_change`` does).
    """
    days = sorted(set(days))
    if not days:
        return
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                _create_rows(days)
                ReportDay.objects.filter(day__in=days).update(
                    figures=None, generation=F("generation") + 1
                )
            return
        except DatabaseError:
            if attempt == attempts - 1:
                raise


def _create_rows(days):
    """Create the missing rows of ``days``, empty (generation 0): one statement.

    Raw SQL because ``bulk_create`` would write every column and split a year of days
    into several statements on SQLite (999 parameters); this writes the day alone
    (``ON CONFLICT DO NOTHING`` is PostgreSQL's and SQLite's).
    """
    if not days:
        return
    table = connection.ops.quote_name(ReportDay._meta.db_table)
    rows = ", ".join(["(%s, 0)"] * len(days))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, generation) VALUES {rows} ON CONFLICT (day) DO NOTHING",  # noqa: S608
            [connection.ops.adapt_datefield_value(day) for day in days],
        )


def forget_all():
    """Forget every stored roll-up (after a bulk load that bypassed the services)."""
    ReportDay.objects.all().delete()


def days_of(order, received_on=None):
    """The business days ``order`` is counted on: each of its step times, and
    ``received_on`` (a date or ISO date text) of a ledger entry if given."""
    zone = timezone.get_default_timezone()
    days = {
        timezone.localdate(value, timezone=zone)
        for value in (getattr(order, name, None) for name in ORDER_TIMES)
        if value is not None
    }
    if isinstance(received_on, str):
        received_on = datetime.date.fromisoformat(received_on)
    if received_on is not None:
        days.add(received_on)
    return days


def note_change(order, data=None):
    """An action changed ``order`` (``data``: its event's data, which names the ledger
    entry's ``received_on`` for payments, refunds and voids): once the transaction
    commits, forget the days before today it is counted on. A change that touches today
    alone registers nothing: today is not rolled up until ``GRACE`` after its end, by
    which time the change has committed and is counted.

    The days are collected per database connection and forgotten together by the first
    commit callback (a remittance of fifty orders forgets its days in two queries).
    """
    current = today()
    days = {day for day in days_of(order, (data or {}).get("received_on")) if day < current}
    if not days:  # a change on today alone: no roll-up of today exists or will (``GRACE``)
        return
    pending = getattr(connection, _PENDING, None)
    if pending is None:
        pending = set()
        setattr(connection, _PENDING, pending)
    pending.update(days)
    transaction.on_commit(_forget_pending, robust=True)


def _forget_pending():
    pending = getattr(connection, _PENDING, None)
    if not pending:
        return
    setattr(connection, _PENDING, set())
    forget(pending)


__all__ = [
    "VERSION",
    "days_of",
    "forget",
    "forget_all",
    "load",
    "note_change",
    "store",
    "today",
]
