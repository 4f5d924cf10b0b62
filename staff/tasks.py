"""Background work of the back office (issue 15): large exports of the order list, and
the reports kept computed for the reports page.

``start_export`` writes an ``ExportJob`` and hands it to a worker after the commit (or
makes the file in this process without a broker, as ``orders.tasks`` does e-mails). The
task is idempotent: run again (a worker killed mid-file, a redelivered message) it makes
the same file again, or does nothing when the file is ready. It reads a replica when one
is configured and fresh (``mall.db_router.reading_replica``).
"""

import logging
from types import SimpleNamespace

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone, translation

from mall import db_router

logger = logging.getLogger(__name__)


def start_export(user, query, file_format):
    """Queue the export of the order list filtered by ``query`` (a query string) as
    ``file_format`` (``csv`` or ``xlsx``) for ``user``; return the ``ExportJob``."""
    from orders.models import ExportJob

    with transaction.atomic():
        job = ExportJob.objects.create(
            user=user,
            query=query,
            file_format="xlsx" if file_format == "xlsx" else "csv",
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        job_id = job.pk
        transaction.on_commit(lambda: enqueue_export(job_id))
    return job


def enqueue_export(job_id):
    """Hand export ``job_id`` to a worker, or make it here without a reachable broker."""
    if settings.CELERY_BROKER_URL:
        try:
            export_orders_task.apply_async((job_id,))
            return
        except Exception:
            logger.exception("export %s: broker unreachable, exporting in-process", job_id)
    try:
        make_export(job_id)
    except Exception:
        logger.exception("export %s failed", job_id)


def make_export(job_id):
    """Make the file of export ``job_id`` (progress saved every 500 rows); return its
    state. A failure is recorded on the job (``failed``, ``error``) and raised."""
    import tempfile

    from orders.models import ExportJob
    from staff.filters import OrderFilter
    from staff.views._base import staff_orders
    from staff.views.export import export_columns, write_csv, write_xlsx

    job = ExportJob.objects.filter(pk=job_id).select_related("user").first()
    if job is None or job.state == ExportJob.State.DONE:
        return job and job.state
    ExportJob.objects.filter(pk=job_id).update(state=ExportJob.State.RUNNING, rows_done=0)
    try:
        with translation.override(job.language), db_router.reading_replica():
            request = SimpleNamespace(user=job.user, GET=QueryDict(job.query))
            filterset = OrderFilter(request.GET, queryset=staff_orders(request), request=request)
            orders = filterset.qs if filterset.is_valid() else filterset.queryset.none()
            total = orders.count()
            ExportJob.objects.filter(pk=job_id).update(rows_total=total)
            header, labels = export_columns()
            zone = timezone.get_current_timezone()

            def progress(done):
                ExportJob.objects.filter(pk=job_id).update(rows_done=done)

            write = write_xlsx if job.file_format == "xlsx" else write_csv
            with tempfile.TemporaryFile() as handle:
                write(orders, header, labels, zone, handle, progress)
                handle.seek(0)
                stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
                job.file.save(
                    f"orders-{stamp}-{job.pk}.{job.file_format}", File(handle), save=False
                )
        ExportJob.objects.filter(pk=job_id).update(
            state=ExportJob.State.DONE,
            rows_done=total,
            file=job.file.name,
            finished_at=timezone.now(),
        )
        return ExportJob.State.DONE
    except Exception as exc:
        ExportJob.objects.filter(pk=job_id).update(
            state=ExportJob.State.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="staff.export_orders")
def export_orders_task(self, job_id):
    """Celery task: make export ``job_id`` (see ``make_export``)."""
    return make_export(job_id)


# --- report refreshes ----------------------------------------------------------------------


def _report_key(first, last):
    return f"reports:{first:%Y%m%d}:{last:%Y%m%d}"


def cached_report(first, last):
    """``{"at": when computed, "report": Report}`` for the business days ``first`` to
    ``last`` if a worker computed it at most ``MALL_REPORT_MAX_AGE_S`` seconds ago, else
    ``None`` (the page computes it itself). Only ``refresh_reports`` writes these."""
    try:
        found = cache.get(_report_key(first, last))
    except Exception:  # the cache is an accelerator: without it the page computes
        return None
    if not found:
        return None
    age = (timezone.now() - found["at"]).total_seconds()
    return found if age <= settings.MALL_REPORT_MAX_AGE_S else None


@shared_task(name="staff.refresh_reports")
def refresh_reports():
    """Compute the report of every preset range (today, last 7 days, this month...) from a
    replica when one is fresh, and keep it in the cache for the reports page. Run by
    Celery beat every ``MALL_REPORT_REFRESH_S`` seconds. Returns how many ranges."""
    from orders import reports

    ranges = {reports.preset_range(name) for name in reports.PRESETS}
    for first, last in ranges:
        with db_router.reading_replica():
            report = reports.build_report(first, last)
        cache.set(
            _report_key(first, last),
            {"at": timezone.now(), "report": report},
            timeout=settings.MALL_REPORT_MAX_AGE_S * 2,
        )
    return len(ranges)
