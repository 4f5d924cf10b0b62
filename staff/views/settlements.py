"""A carrier's cash-on-delivery settlement file: upload, preview, apply (finance).

``/staff/cod-settlements/``: the upload form. A readable file is matched to orders
(``services.preview_settlement``) and its parsed rows are kept in the session under a
one-time token; ``/staff/cod-settlements/<token>/`` shows the preview (GET) and applies
it (POST, ``services.apply_settlement``, which matches every row again under the order
locks). A token is used once: a second apply of it does nothing and says so.

A file with more rows than ``MALL_IMPORT_INLINE_ROWS`` (issue 15) is kept and read,
matched and applied by a worker (``staff.tasks.start_settlement``): the upload leads to
``/staff/cod-settlements/jobs/<id>/``, its progress, the same preview and "apply", then
the outcome; a page the user can leave and come back to.
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from orders import services
from orders.cod_settlement import (
    DELIVERED,
    REFUSED,
    RETURNED,
    SettlementFileError,
    SettlementRow,
    count_rows,
    read_settlement_file,
)
from orders.exceptions import InvalidInput, OrderError
from orders.models import (
    COMMON_CARRIERS,
    OWN_DELIVERY_STAFF,
    Order,
    PaymentMethod,
    SettlementJob,
)
from staff.cash_forms import SettlementApplyForm, SettlementUploadForm
from staff.templatetags.staff_tags import format_money
from staff.views._base import StaffRequiredMixin

SESSION_KEY = "cod-settlements"
DONE_KEY = "cod-settlements-done"
KEEP_PENDING = 3  # previews kept at once (each holds a whole file's rows)
KEEP_DONE = 20


def outcome_labels():
    """The file's outcomes (``delivered``, ``returned``, ``refused``) in the page's words."""
    return {DELIVERED: _("delivered"), RETURNED: _("returned"), REFUSED: _("refused")}


def carrier_suggestions():
    """Carriers the shop has shipped with (own delivery staff excepted), then common ones."""
    used = (
        Order.objects.exclude(carrier__in=["", OWN_DELIVERY_STAFF])
        .exclude(tracking_number="")
        .values_list("carrier", flat=True)
        .distinct()
        .order_by("carrier")[:30]
    )
    names = list(dict.fromkeys([*used, *COMMON_CARRIERS]))
    return names


class SettlementAccessMixin(StaffRequiredMixin):
    """Finance only (``orders.apply_cod_settlement``): any other staff role gets 403."""

    nav = "settlements"

    def check_permission(self, request):
        if not services.may_ever(request.user, "settle"):
            raise PermissionDenied(_("Only finance applies carriers' settlement files."))


class SettlementUploadView(SettlementAccessMixin, View):
    """GET the upload form; POST a file: read it, match it, keep it, show its preview."""

    template_name = "staff/cod_settlement_upload.html"
    http_method_names = ["get", "post"]

    def render_form(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"nav": self.nav, "form": form, "carriers": carrier_suggestions()},
            status=status,
        )

    def get(self, request):
        return self.render_form(SettlementUploadForm())

    def post(self, request):
        form = SettlementUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            carrier = form.cleaned_data["carrier"]
            data = upload.read()
            if count_rows(data, upload.name or "") > settings.MALL_IMPORT_INLINE_ROWS:
                return self.start_job(form, upload, carrier)
            try:
                rows = read_settlement_file(data, upload.name or "")
                services.preview_settlement(carrier=carrier, rows=rows)  # refuses a bad carrier
            except SettlementFileError as exc:
                form.add_error("file", str(exc))
            except InvalidInput as exc:
                form.add_error("carrier", str(exc.message))
            else:
                token = secrets.token_urlsafe(16)
                pending = request.session.get(SESSION_KEY, {})
                while len(pending) >= KEEP_PENDING:
                    pending.pop(next(iter(pending)))
                pending[token] = {
                    "carrier": carrier.strip(),
                    "filename": (upload.name or "")[:200],
                    "rows": [row.as_dict() for row in rows],
                }
                request.session[SESSION_KEY] = pending
                return redirect(reverse("staff:cod-settlement-preview", args=[token]))
        messages.error(request, _("The file was not read: see the form below."))
        return self.render_form(form)

    def start_job(self, form, upload, carrier):
        """A long file: check the carrier, keep the file, let a worker read it."""
        from staff.tasks import start_settlement

        try:
            services.preview_settlement(carrier=carrier, rows=[])  # refuses a bad carrier
        except InvalidInput as exc:
            form.add_error("carrier", str(exc.message))
            messages.error(self.request, _("The file was not read: see the form below."))
            return self.render_form(form)
        job = start_settlement(self.request.user, carrier, upload)
        return redirect(reverse("staff:cod-settlement-job", args=[job.pk]))


class SettlementPreviewView(SettlementAccessMixin, View):
    """GET: every row of the kept file with its match or problem. POST: apply it once."""

    template_name = "staff/cod_settlement_preview.html"
    http_method_names = ["get", "post"]

    def upload_url(self):
        return reverse("staff:cod-settlements")

    def gone(self, token):
        """Redirect to the upload form, saying whether the token was applied or expired."""
        if token in self.request.session.get(DONE_KEY, []):
            messages.info(self.request, _("This file was applied already: nothing was done again."))
        else:
            messages.error(
                self.request,
                _("This preview has expired or was replaced: upload the file again."),
            )
        return redirect(self.upload_url())

    def get(self, request, token):
        entry = request.session.get(SESSION_KEY, {}).get(token)
        if entry is None:
            return self.gone(token)
        return render(request, self.template_name, self.preview_context(token, entry))

    def preview_context(self, token, entry, form=None):
        rows = [SettlementRow.from_dict(d) for d in entry["rows"]]
        matches = services.preview_settlement(carrier=entry["carrier"], rows=rows)
        labels = outcome_labels()
        for match in matches:
            match.outcome_label = labels.get(match.row.outcome, "")
            order = match.order
            match.due = (
                order.money_position().due
                if order is not None and order.payment_method == PaymentMethod.COD
                else None
            )
        good = [m for m in matches if m.ok]
        return {
            "nav": self.nav,
            "token": token,
            "carrier": entry["carrier"],
            "filename": entry["filename"],
            "matches": matches,
            "good_count": len(good),
            "problem_count": len(matches) - len(good),
            "good_amount": sum((m.row.amount or Decimal("0") for m in good), Decimal("0.00")),
            "form": form or SettlementApplyForm(initial={"token": token}),
        }

    def post(self, request, token):
        pending = request.session.get(SESSION_KEY, {})
        entry = pending.pop(token, None)
        if entry is None:
            return self.gone(token)
        # Used up before applying, so a second post of the same token does nothing.
        request.session[SESSION_KEY] = pending
        request.session.save()
        form = SettlementApplyForm({**request.POST.dict(), "token": token})
        apply_good_rows = form.is_valid() and form.cleaned_data["apply_good_rows"]
        rows = [SettlementRow.from_dict(d) for d in entry["rows"]]
        try:
            result = services.apply_settlement(
                request.user,
                carrier=entry["carrier"],
                rows=rows,
                apply_good_rows=apply_good_rows,
            )
        except OrderError as exc:
            pending[token] = entry  # nothing was applied: the preview stays usable
            request.session[SESSION_KEY] = pending
            if exc.code == "settlement_problems":
                messages.error(
                    request,
                    _(
                        "Nothing was applied: %(n)d row(s) have a problem. Fix the file, or "
                        "tick “apply only the good rows”."
                    )
                    % {"n": len(exc.details.get("problems", []))},
                )
            else:
                messages.error(request, exc.message)
            return redirect(reverse("staff:cod-settlement-preview", args=[token]))
        done = [t for t in request.session.get(DONE_KEY, []) if t != token][-(KEEP_DONE - 1) :]
        request.session[DONE_KEY] = [*done, token]
        messages.success(request, result_message(entry, result))
        return redirect(self.upload_url())


class SettlementJobView(SettlementAccessMixin, View):
    """A long settlement file read by a worker (issue 15). GET: its progress (refreshing
    itself), then the same preview as a short file's with the same "apply", then the
    outcome or the failure's message. POST: apply it, once, by a worker. Only the user
    who uploaded it sees it (others 404)."""

    template_name = "staff/cod_settlement_job.html"
    http_method_names = ["get", "post"]

    def job(self, job_id):
        return get_object_or_404(SettlementJob, pk=job_id, user=self.request.user)

    def get(self, request, job_id):
        job = self.job(job_id)
        labels = outcome_labels()
        matches = []
        for entry in job.preview if job.state == SettlementJob.State.READY else []:
            amount = None if entry["amount"] is None else Decimal(entry["amount"])
            matches.append(
                {
                    "ok": bool(entry["order"]) and not entry["problem"],
                    "row": {"line": entry["line"], "waybill": entry["waybill"], "amount": amount},
                    "order": {"number": entry["order"]} if entry["order"] else None,
                    "outcome_label": labels.get(entry["outcome"], ""),
                    "due": None if entry["due"] is None else Decimal(entry["due"]),
                    "problem": entry["problem"],
                }
            )
        good = [m for m in matches if m["ok"]]
        return render(
            request,
            self.template_name,
            {
                "nav": self.nav,
                "job": job,
                "working": job.state
                in (
                    SettlementJob.State.QUEUED,
                    SettlementJob.State.READING,
                    SettlementJob.State.APPLYING,
                ),
                "carrier": job.carrier,
                "filename": job.filename,
                "matches": matches,
                "good_count": len(good),
                "problem_count": len(matches) - len(good),
                "good_amount": sum(
                    (m["row"]["amount"] or Decimal("0") for m in good), Decimal("0.00")
                ),
            },
        )

    def post(self, request, job_id):
        from staff.tasks import queue_settlement_apply

        job = self.job(job_id)
        form = SettlementApplyForm({**request.POST.dict(), "token": str(job.pk)})
        apply_good_rows = form.is_valid() and form.cleaned_data["apply_good_rows"]
        if not queue_settlement_apply(job, apply_good_rows):
            job.refresh_from_db(fields=["state"])
            if job.state in (SettlementJob.State.APPLIED, SettlementJob.State.APPLYING):
                messages.info(request, _("This file was applied already: nothing was done again."))
            else:
                messages.error(request, _("This file cannot be applied: see its state below."))
        return redirect(reverse("staff:cod-settlement-job", args=[job.pk]))


def result_message(entry, result):
    """One sentence on what an applied file did: rows, deliveries, money, returns, skips."""
    delivered = [m for m in result.applied if m.row.outcome == DELIVERED]
    returned = len(result.applied) - len(delivered)
    paid = sum((m.row.amount or Decimal("0") for m in delivered), Decimal("0.00"))
    text = ngettext(
        "Settlement file %(file)s of %(carrier)s applied: %(n)d row",
        "Settlement file %(file)s of %(carrier)s applied: %(n)d rows",
        len(result.applied),
    ) % {"file": entry["filename"] or "—", "carrier": entry["carrier"], "n": len(result.applied)}
    text += " " + _("(%(delivered)d delivered, %(paid)s received; %(returned)d returned).") % {
        "delivered": len(delivered),
        "paid": format_money(paid),
        "returned": returned,
    }
    if result.skipped:
        lines = ", ".join(str(m.row.line) for m in result.skipped[:20])
        if len(result.skipped) > 20:
            lines += ", …"
        text += " " + ngettext(
            "%(n)d row with a problem was left out (line %(lines)s).",
            "%(n)d rows with a problem were left out (lines %(lines)s).",
            len(result.skipped),
        ) % {"n": len(result.skipped), "lines": lines}
    return text
