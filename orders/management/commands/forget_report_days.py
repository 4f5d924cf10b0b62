"""Forget the reports' roll-ups of closed business days, to be recomputed on next use.

``manage.py forget_report_days [--from YYYY-MM-DD] [--to YYYY-MM-DD]``: without dates,
every roll-up. Run it after changing orders, events or the ledger outside
``orders.services`` (a fix by hand in the database, a restore); the services forget the
days they touch themselves (``orders.report_days``).
"""

import datetime

from django.core.management.base import BaseCommand, CommandError

from orders import report_days
from orders.models import ReportDay


def _date(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = "Forget the reports' roll-ups of closed days (all, or --from/--to)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", help="First business day (YYYY-MM-DD).")
        parser.add_argument("--to", dest="last", help="Last business day (YYYY-MM-DD).")

    def handle(self, *args, first, last, **options):
        if first is None and last is None:
            count = ReportDay.objects.count()
            report_days.forget_all()
        else:
            first = _date(first) if first else _date(last)
            last = _date(last) if last else report_days.today()
            if last < first:
                raise CommandError("--to is before --from.")
            days = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
            report_days.forget(days)
            count = len(days)
        self.stdout.write(f"Forgot the report roll-ups of {count} day(s).")
