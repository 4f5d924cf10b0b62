"""A large export made by a worker (issue 15): its progress page and its download."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from orders.models import ExportJob
from staff.views._base import StaffRequiredMixin
from staff.views.export import XLSX_TYPE


def job_for(request, job_id):
    """The export ``job_id`` if it is ``request.user``'s, else 404."""
    return get_object_or_404(ExportJob, pk=job_id, user=request.user)


class ExportJobView(StaffRequiredMixin, TemplateView):
    """How far the export is (rows done of rows total), refreshing itself until the file
    is ready; then the download link. The page can be left and opened again."""

    template_name = "staff/export_job.html"
    nav = "orders"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = job_for(self.request, kwargs["job_id"])
        context.update(job=job, finished=job.state in (job.State.DONE, job.State.FAILED))
        return context


class ExportDownloadView(StaffRequiredMixin, View):
    """The finished file of an export (404 until it is ready)."""

    def get(self, request, job_id):
        job = job_for(request, job_id)
        if job.state != ExportJob.State.DONE or not job.file:
            raise Http404
        if not job.file.storage.exists(job.file.name):
            # Removed, or written where this web process cannot read it (README
            # "Production": web processes and workers share one media storage).
            messages.error(
                request,
                _("The file of this export is no longer there: please make the export again."),
            )
            return redirect(reverse("staff:export-job", args=[job.pk]))
        content_type = XLSX_TYPE if job.file_format == "xlsx" else "text/csv; charset=utf-8"
        return FileResponse(
            job.file.open("rb"),
            as_attachment=True,
            filename=job.file.name.rsplit("/", 1)[-1],
            content_type=content_type,
        )
