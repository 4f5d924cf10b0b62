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
        transaction.on_commit(lambda: _enqueue(export_orders_task, make_export, job_id))
    return job


def _enqueue(task, function, job_id):
    """Hand ``job_id`` to ``task``'s worker, or run ``function`` (what ``task`` runs) here
    when no broker is configured or it is unreachable; a failure there is logged, not
    raised (the job records it). For exports and settlement files alike."""
    if settings.CELERY_BROKER_URL:
        try:
            task.apply_async((job_id,))
            return
        except Exception:
            logger.exception("%s %s: broker unreachable, running in-process", task.name, job_id)
    try:
        function(job_id)
    except Exception:
        logger.exception("%s %s failed", task.name, job_id)


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
    except Exception:
        # The cause goes to the log (with the traceback); the page says it plainly.
        ExportJob.objects.filter(pk=job_id).update(
            state=ExportJob.State.FAILED, error=_unexpected_failure()
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


# --- large settlement files ----------------------------------------------------------------


def start_settlement(user, carrier, upload):
    """Keep the uploaded settlement file ``upload`` (a Django ``UploadedFile``) of
    ``carrier`` and queue its reading and matching for ``user``; return the
    ``SettlementJob``. Nothing is read here (see ``read_settlement``)."""
    from orders.models import SettlementJob

    with transaction.atomic():
        job = SettlementJob(
            user=user,
            carrier=carrier.strip(),
            filename=(upload.name or "")[:200],
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        upload.seek(0)
        job.file.save(f"{timezone.now():%Y%m%d-%H%M%S}.dat", File(upload), save=False)
        job.save()
        job_id = job.pk
        transaction.on_commit(lambda: _enqueue(settlement_read_task, read_settlement, job_id))
    return job


def queue_settlement_apply(job, apply_good_rows):
    """Mark the ready ``job`` as being applied (under its row lock) and queue the apply;
    return ``False`` (nothing queued) when it is not ready: applied already, being
    applied, or failed. A job is thus applied at most once."""
    from orders.models import SettlementJob

    with transaction.atomic():
        locked = SettlementJob.objects.select_for_update().get(pk=job.pk)
        if locked.state != SettlementJob.State.READY:
            return False
        locked.state = SettlementJob.State.APPLYING
        locked.apply_good_rows = bool(apply_good_rows)
        locked.error = ""
        locked.save(update_fields=["state", "apply_good_rows", "error"])
        job_id = locked.pk
        transaction.on_commit(lambda: _enqueue(settlement_apply_task, apply_settlement_job, job_id))
    return True


def read_settlement(job_id):
    """Read the file of settlement job ``job_id``, match it (``preview_settlement``) and
    keep its rows and preview; progress saved every 500 rows. Returns the job's state.
    An unreadable file or a refused carrier makes the job ``failed`` with the message
    (not raised); any other error is recorded the same way and raised. A job past
    ``reading`` is left as it is (a redelivered message)."""
    from orders import services
    from orders.cod_settlement import SettlementFileError, read_settlement_file
    from orders.exceptions import OrderError
    from orders.models import PaymentMethod, SettlementJob

    job = SettlementJob.objects.filter(pk=job_id).first()
    if job is None or job.state not in (SettlementJob.State.QUEUED, SettlementJob.State.READING):
        return job and job.state
    SettlementJob.objects.filter(pk=job_id).update(state=SettlementJob.State.READING, rows_done=0)
    try:
        with translation.override(job.language):
            try:
                with job.file.open("rb") as handle:
                    data = handle.read()
                rows = read_settlement_file(data, job.filename)
                SettlementJob.objects.filter(pk=job_id).update(rows_total=len(rows))
                matches = services.preview_settlement(carrier=job.carrier, rows=rows)
            except SettlementFileError as exc:
                return _fail(job_id, str(exc))
            except OrderError as exc:
                return _fail(job_id, str(exc.message))
            preview = []
            for done, match in enumerate(matches, 1):
                order = match.order
                due = (
                    order.money_position().due
                    if order is not None and order.payment_method == PaymentMethod.COD
                    else None
                )
                preview.append(
                    {
                        "line": match.row.line,
                        "waybill": match.row.waybill,
                        "order": order.number if order is not None else "",
                        "outcome": match.row.outcome,
                        "amount": None if match.row.amount is None else str(match.row.amount),
                        "due": None if due is None else str(due),
                        "problem": str(match.problem),
                    }
                )
                if done % 500 == 0:
                    SettlementJob.objects.filter(pk=job_id).update(rows_done=done)
        SettlementJob.objects.filter(pk=job_id).update(
            state=SettlementJob.State.READY,
            rows_done=len(rows),
            rows=[row.as_dict() for row in rows],
            preview=preview,
        )
        return SettlementJob.State.READY
    except Exception:
        _fail(job_id, _unexpected_failure())
        raise


def _unexpected_failure():
    """What the job page says of an unexpected error (the cause is in the log, with the
    job's id): never an exception's text or a server path."""
    from django.utils.translation import gettext as _

    return str(
        _(
            "Something went wrong on the server (it is in the log). Nothing was changed: "
            "please try again, or upload the file again."
        )
    )


def _fail(job_id, message):
    from orders.models import SettlementJob

    SettlementJob.objects.filter(pk=job_id).update(
        state=SettlementJob.State.FAILED, error=message[:2000], finished_at=timezone.now()
    )
    return SettlementJob.State.FAILED


def apply_settlement_job(job_id):
    """Apply settlement job ``job_id`` (``services.apply_settlement``, all or nothing) if
    it is ``applying``; under the job's row lock, in the apply's transaction, so a
    redelivered message applies nothing again. Returns the job's state: ``applied``
    (its sentence in ``outcome``), or ``ready`` again with the service's refusal in
    ``error`` (nothing applied: the user may tick "only the good rows" and apply again).
    Any other error makes it ``failed`` (recorded, raised)."""
    from orders import services
    from orders.cod_settlement import SettlementRow
    from orders.exceptions import OrderError
    from orders.models import SettlementJob
    from staff.views.settlements import result_message

    try:
        with transaction.atomic():
            job = (
                SettlementJob.objects.select_for_update()
                .select_related("user")
                .filter(pk=job_id)
                .first()
            )
            if job is None or job.state != SettlementJob.State.APPLYING:
                return job and job.state
            with translation.override(job.language):
                rows = [SettlementRow.from_dict(d) for d in job.rows]
                try:
                    result = services.apply_settlement(
                        job.user,
                        carrier=job.carrier,
                        rows=rows,
                        apply_good_rows=job.apply_good_rows,
                    )
                except OrderError as exc:
                    message = str(exc.message)
                    if exc.code == "settlement_problems":
                        message = _problems_message(len(exc.details.get("problems", [])))
                    job.state = SettlementJob.State.READY
                    job.error = message[:2000]
                    job.save(update_fields=["state", "error"])
                    return job.state
                job.outcome = result_message(
                    {"filename": job.filename, "carrier": job.carrier}, result
                )
            job.state = SettlementJob.State.APPLIED
            job.error = ""
            job.finished_at = timezone.now()
            job.save(update_fields=["state", "outcome", "error", "finished_at"])
            return job.state
    except Exception:
        _fail(job_id, _unexpected_failure())
        raise


def _problems_message(count):
    from django.utils.translation import gettext as _

    return _(
        "Nothing was applied: %(n)d row(s) have a problem. Fix the file, or "
        "tick “apply only the good rows”."
    ) % {"n": count}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="staff.settlement_read")
def settlement_read_task(self, job_id):
    """Celery task: read and match settlement job ``job_id`` (see ``read_settlement``)."""
    return read_settlement(job_id)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="staff.settlement_apply")
def settlement_apply_task(self, job_id):
    """Celery task: apply settlement job ``job_id`` (see ``apply_settlement_job``)."""
    return apply_settlement_job(job_id)
