"""The operational reports by business day (issue 12; DESIGN "URLs": ``/staff/reports/``).

Order admins and finance only (DESIGN "Roles"). ``?from=&to=`` are business days in the
shop's ``TIME_ZONE`` (both inclusive, at most ``reports.MAX_DAYS``); no dates means the
last 7 days. ``&download=<table>&format=csv|xlsx`` returns one table as a file. The
figures are read by ``orders.reports.build_report``; this module only lays them out as
tables (the same tables feed the page, the charts' neighbours, the CSV and the XLSX).
"""

import csv
import dataclasses
import datetime
import io
from decimal import Decimal

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from mall.formatting import TypedDateField
from orders import reports, selectors
from orders.models import PaymentMethod
from staff import charts
from staff.tasks import cached_report
from staff.templatetags.staff_tags import person
from staff.views._base import StaffRequiredMixin
from staff.views.export import _cell

EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2099, 12, 31)


def preset_labels():
    return {
        "today": _("Today"),
        "yesterday": _("Yesterday"),
        "last_7_days": _("Last 7 days"),
        "this_month": _("This month"),
        "last_month": _("Last month"),
    }


class ReportRangeForm(forms.Form):
    """The range picker: two business days, and optionally which table to download."""

    FORMATS = (("csv", "CSV"), ("xlsx", "XLSX"))

    start = TypedDateField(label=gettext_lazy("First day"), required=False)
    end = TypedDateField(label=gettext_lazy("Last day"), required=False)
    download = forms.ChoiceField(required=False, choices=())
    format = forms.ChoiceField(required=False, choices=FORMATS)

    # ``from`` is a Python keyword: the fields ``start``/``end`` are named ``from``/``to``
    # in the query string and in the page's inputs (``add_prefix`` gives both).
    HTML_NAMES = {"start": "from", "end": "to"}

    def __init__(self, data, *, table_keys, **kwargs):
        data = {key: data.get(key, "") for key in ("from", "to", "download", "format")}
        super().__init__(data, **kwargs)
        self.fields["start"].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["end"].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["download"].choices = [(key, key) for key in table_keys]

    def add_prefix(self, field_name):
        return super().add_prefix(self.HTML_NAMES.get(field_name, field_name))

    def shown(self):
        """The range the page shows in the date boxes, also when none was typed (the
        default last 7 days): a bound copy holding ``cleaned_data``'s days."""
        if not self.is_valid():
            return self
        days = {"from": self.cleaned_data["start"], "to": self.cleaned_data["end"]}
        return ReportRangeForm(
            {k: v.isoformat() for k, v in days.items()},
            table_keys=[key for key, _label in self.fields["download"].choices],
        )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        first, last = data.get("start"), data.get("end")
        if first is None and last is None:
            first, last = reports.preset_range("last_7_days")
        first, last = first or last, last or first
        for value in (first, last):
            if not EARLIEST <= value <= LATEST:
                raise forms.ValidationError(
                    _("Choose dates between %(first)s and %(last)s.")
                    % {"first": EARLIEST.isoformat(), "last": LATEST.isoformat()},
                    code="out_of_range",
                )
        if last < first:
            raise forms.ValidationError(
                _("The “to” date is before the “from” date."), code="backwards"
            )
        if (last - first).days + 1 > reports.MAX_DAYS:
            raise forms.ValidationError(
                _("Choose at most %(n)d days.") % {"n": reports.MAX_DAYS}, code="too_long"
            )
        data["start"], data["end"] = first, last
        if data.get("download") and not data.get("format"):
            data["format"] = "csv"
        return data


# --- tables --------------------------------------------------------------------------------

# Column kinds: how a cell is shown, and typed in a spreadsheet.
DATE, INT, MONEY, RATE, HOURS, NUMBER, TEXT = "date", "int", "money", "rate", "hours", "n", "text"


@dataclasses.dataclass
class Table:
    """One report table: ``columns`` = ``[(label, kind)]``, ``rows`` and ``total`` (a row
    or ``None``) hold raw values (``date``, ``int``, ``Decimal``, ``float``, ``str``,
    ``None`` for "no figure")."""

    key: str
    title: str
    columns: list
    rows: list
    total: list | None = None
    note: str = ""


def _days_table(report):
    columns = [
        (_("Day"), DATE),
        (_("Orders placed"), INT),
        (_("Confirmed"), INT),
        (_("Invalid"), INT),
        (_("Cancelled by the member"), INT),
        (_("Cancelled by staff"), INT),
        (_("Shipped"), INT),
        (_("Delivered"), INT),
        (_("Returned"), INT),
        (_("Confirmation rate"), RATE),
        (_("Invalid rate"), RATE),
        (_("Refusal rate (cash on delivery)"), RATE),
        (_("Placing to confirmation, median (h)"), HOURS),
        (_("Placing to confirmation, 90th percentile (h)"), HOURS),
        (_("Confirmation to shipping, median (h)"), HOURS),
        (_("Confirmation to shipping, 90th percentile (h)"), HOURS),
        (_("Shipping to delivery, median (h)"), HOURS),
        (_("Shipping to delivery, 90th percentile (h)"), HOURS),
        (_("Goods value placed"), MONEY),
        (_("Goods value shipped"), MONEY),
    ]

    def row(d, label):
        return [
            label,
            d.placed,
            d.confirmed,
            d.invalid,
            d.cancelled_by_member,
            d.cancelled_by_staff,
            d.shipped,
            d.delivered,
            d.returned,
            d.confirmation_rate,
            d.invalid_rate,
            d.refusal_rate,
            d.confirm_median,
            d.confirm_p90,
            d.ship_median,
            d.ship_p90,
            d.deliver_median,
            d.deliver_p90,
            d.value_placed,
            d.value_shipped,
        ]

    return Table(
        "days",
        _("Orders by business day"),
        columns,
        [row(d, d.day) for d in report.days],
        row(report.totals, _("Total")),
    )


def _money_table(report):
    labels = dict(PaymentMethod.choices)
    columns = [(_("Day"), DATE)]
    columns += [
        (_("Received: %(method)s") % {"method": labels.get(m, m)}, MONEY) for m in report.methods
    ]
    columns += [
        (_("Received in all"), MONEY),
        (_("Refunds: credit notes"), MONEY),
        (_("Refunds: money back"), MONEY),
    ]
    rows = [
        [d.day]
        + [d.received.get(m, reports.ZERO) for m in report.methods]
        + [d.received_total, d.refunds_credit_note, d.refunds_money_back]
        for d in report.money_days
    ]
    totals = report.received_totals
    total = (
        [_("Total")]
        + [totals[m] for m in report.methods]
        + [
            sum(totals.values(), reports.ZERO),
            sum((d.refunds_credit_note for d in report.money_days), reports.ZERO),
            sum((d.refunds_money_back for d in report.money_days), reports.ZERO),
        ]
    )
    return Table("money", _("Money by business day"), columns, rows, total)


def _cash_table(report):
    cod = report.cod
    rows = [
        [_("Cash on delivery out for delivery, not collected (now)"), *cod["shipped_uncollected"]],
        [
            _("Cash on delivery collected by carriers, not settled yet (now)"),
            *cod["carrier_unsettled"],
        ],
        [_("Cash on delivery in couriers' hands, not remitted (now)"), *cod["with_couriers"]],
        [_("Cash on delivery remitted to finance (in the range)"), *cod["remitted"]],
        [_("Refund due: money held beyond what is owed (now)"), *report.refund_due],
    ]
    columns = [(_("Figure"), TEXT), (_("Orders"), INT), (_("Amount"), MONEY)]
    return Table("cash", _("Cash on delivery and refunds due"), columns, rows)


def _couriers_table(report):
    columns = [
        (_("Courier"), TEXT),
        (_("Deliveries"), INT),
        (_("Failed attempts"), INT),
        (_("Refusals"), INT),
        (_("Cash collected"), MONEY),
        (_("Remittances"), INT),
        (_("Cash expected"), MONEY),
        (_("Cash counted"), MONEY),
        (_("Remittance difference"), MONEY),
    ]
    rows = [
        [
            person(c.courier),
            c.deliveries,
            c.failed_attempts,
            c.refusals,
            c.cash_collected,
            c.remittances,
            c.remitted_expected,
            c.remitted_counted,
            c.remittance_difference,
        ]
        for c in report.couriers
    ]
    return Table("couriers", _("Couriers"), columns, rows)


def _admins_table(report):
    columns = [
        (_("Order admin"), TEXT),
        (_("Calls logged"), INT),
        (_("Confirmations"), INT),
        (_("Invalidations"), INT),
        (_("Calls per confirmation"), NUMBER),
    ]
    rows = [
        [
            person(a.admin),
            a.calls,
            a.confirmations,
            a.invalidations,
            a.attempts_per_confirmation,
        ]
        for a in report.admins
    ]
    return Table("admins", _("Order admins"), columns, rows)


def _clerks_table(report):
    columns = [
        (_("Finance clerk"), TEXT),
        (_("Payments recorded"), INT),
        (_("Amount of payments"), MONEY),
        (_("Refunds recorded"), INT),
        (_("Amount of refunds"), MONEY),
        (_("Remittances recorded"), INT),
        (_("Cash counted"), MONEY),
    ]
    rows = [
        [
            person(c.clerk),
            c.payments,
            c.payments_amount,
            c.refunds,
            c.refunds_amount,
            c.remittances,
            c.remitted_counted,
        ]
        for c in report.clerks
    ]
    return Table(
        "clerks",
        _("Finance clerks"),
        columns,
        rows,
        note=_(
            "What each clerk entered, on the day they entered it, entries voided later "
            "included; the money table counts the money in force by the day it was received."
        ),
    )


TABLE_KEYS = ("days", "money", "cash", "couriers", "admins", "clerks")


def report_tables(report):
    """The report's tables, in page order, keyed by ``TABLE_KEYS``."""
    builders = (
        _days_table,
        _money_table,
        _cash_table,
        _couriers_table,
        _admins_table,
        _clerks_table,
    )
    return {table.key: table for table in (build(report) for build in builders)}


def display(value, kind):
    """A cell as shown on the page ("—" for no figure)."""
    if value is None:
        return "—"
    if kind == DATE and isinstance(value, datetime.date):
        return value.isoformat()
    if kind == MONEY and isinstance(value, Decimal):
        return f"{value:,.2f}"
    if kind == RATE and isinstance(value, float):
        return f"{value * 100:.1f} %"
    if kind in (HOURS, NUMBER) and isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _csv_value(value, kind):
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (int, float)):
        return str(value)
    return _cell(value)


def as_csv(table):
    """The table as CSV text (UTF-8 with a BOM when encoded; rates as fractions)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for label, _kind in table.columns])
    for row in [*table.rows, *([table.total] if table.total else [])]:
        writer.writerow(
            [_csv_value(v, kind) for v, (_l, kind) in zip(row, table.columns, strict=True)]
        )
    return "\ufeff" + out.getvalue()


NUMBER_FORMATS = {
    DATE: "yyyy-mm-dd",
    MONEY: "#,##0.00",
    RATE: "0.0%",
    HOURS: "0.00",
    NUMBER: "0.00",
}


def as_xlsx(table):
    """The table as an XLSX workbook (``bytes``): numbers as numbers, days as dates,
    names as text (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = table.key
    sheet.append([str(label) for label, _kind in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in [*table.rows, *([table.total] if table.total else [])]:
        sheet.append([None] * len(values))
        row = sheet.max_row
        for column, (value, (_label, kind)) in enumerate(
            zip(values, table.columns, strict=True), start=1
        ):
            cell = sheet.cell(row=row, column=column)
            if value is None:
                continue
            if (
                isinstance(value, str)
                or not isinstance(value, (int, float, Decimal))
                and not (isinstance(value, datetime.date))
            ):
                cell.value = str(value)
                cell.data_type = "s"  # text typed by people is never a formula
            else:
                cell.value = value
                if kind in NUMBER_FORMATS:
                    cell.number_format = NUMBER_FORMATS[kind]
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the page ------------------------------------------------------------------------------


class ReportsView(StaffRequiredMixin, TemplateView):
    """``/staff/reports/``: the figures of a range of business days, with charts and files.

    Order admins and finance (and superusers); logistics get 403 (DESIGN "Roles"). A bad
    range is shown as a message with the form, and nothing is computed.
    """

    template_name = "staff/reports.html"
    nav = "reports"

    def check_permission(self, request):
        if not selectors.sees_all_orders(request.user):
            raise PermissionDenied(_("The reports are for order admins and finance."))

    def get(self, request, *args, **kwargs):
        self.form = ReportRangeForm(request.GET, table_keys=TABLE_KEYS)
        if not self.form.is_valid():
            return self.render_to_response(self.get_context_data(), status=200)
        data = self.form.cleaned_data
        # A worker keeps the preset ranges computed (staff.tasks.refresh_reports); any
        # other range, or none fresh, is computed here.
        found = cached_report(data["start"], data["end"])
        self.report_as_of = found["at"] if found else None
        self.report = found["report"] if found else reports.build_report(data["start"], data["end"])
        self.tables = report_tables(self.report)
        if data.get("download"):
            return self.download(self.tables[data["download"]], data["format"])
        return self.render_to_response(self.get_context_data())

    def download(self, table, fmt):
        name = f"{table.key}-{self.report.first:%Y%m%d}-{self.report.last:%Y%m%d}"
        if fmt == "xlsx":
            response = HttpResponse(
                as_xlsx(table),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        else:
            response = HttpResponse(as_csv(table), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response

    def _url(self, **params):
        return reverse("staff:reports") + "?" + urlencode(params)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate(timezone=reports.shop_zone())
        context["form"] = self.form.shown()
        context["report_as_of"] = getattr(self, "report_as_of", None)
        context["presets"] = [
            {
                "label": label,
                "url": self._url(
                    **dict(
                        zip(("from", "to"), map(str, reports.preset_range(key, today)), strict=True)
                    )
                ),
            }
            for key, label in preset_labels().items()
        ]
        report = getattr(self, "report", None)
        context["report"] = report
        if report is None:
            return context
        first, last = str(report.first), str(report.last)
        totals = report.totals
        context["quiet"] = not any(
            getattr(totals, name)
            for name in (
                "placed",
                "confirmed",
                "invalid",
                "cancelled_by_member",
                "cancelled_by_staff",
                "shipped",
                "delivered",
                "returned",
            )
        ) and not any(
            day.received or day.refunds_credit_note or day.refunds_money_back
            for day in report.money_days
        )
        tables = []
        for table in self.tables.values():
            tables.append(
                {
                    "key": table.key,
                    "title": table.title,
                    "note": table.note,
                    "columns": table.columns,
                    "rows": [
                        [
                            (display(v, kind), kind)
                            for v, (_l, kind) in zip(row, table.columns, strict=True)
                        ]
                        for row in table.rows
                    ],
                    "total": [
                        (display(v, kind), kind)
                        for v, (_l, kind) in zip(table.total, table.columns, strict=True)
                    ]
                    if table.total
                    else None,
                    "csv_url": self._url(
                        **{"from": first, "to": last, "download": table.key, "format": "csv"}
                    ),
                    "xlsx_url": self._url(
                        **{"from": first, "to": last, "download": table.key, "format": "xlsx"}
                    ),
                }
            )
        context["tables"] = {t["key"]: t for t in tables}
        context["charts"] = self.charts(report)
        return context

    def charts(self, report):
        """The two charts (SVG text) with the rows of the table drawn beside each."""
        days = [d.day for d in report.days]
        labels = dict(PaymentMethod.choices)
        orders_svg = charts.stacked_bars(
            days,
            [
                (_("Confirmed"), [d.confirmed for d in report.days]),
                (_("Invalid"), [d.invalid for d in report.days]),
                (_("Cancelled"), [d.cancelled for d in report.days]),
            ],
            line=(_("Orders placed"), [d.placed for d in report.days]),
            title=_("Orders per day by outcome"),
            integer=True,
        )
        money_svg = charts.stacked_bars(
            days,
            [
                (str(labels.get(m, m)), [d.received.get(m, 0) for d in report.money_days])
                for m in report.methods
            ],
            title=_("Money received per day by method"),
        )
        orders_rows = [
            [d.day.isoformat(), d.placed, d.confirmed, d.invalid, d.cancelled] for d in report.days
        ]
        money_rows = [
            [
                d.day.isoformat(),
                *(display(d.received.get(m, reports.ZERO), MONEY) for m in report.methods),
            ]
            for d in report.money_days
        ]
        return {
            "orders": {
                "svg": orders_svg,
                "headers": [
                    _("Day"),
                    _("Orders placed"),
                    _("Confirmed"),
                    _("Invalid"),
                    _("Cancelled"),
                ],
                "rows": orders_rows,
            },
            "money": {
                "svg": money_svg,
                "headers": [_("Day"), *(str(labels.get(m, m)) for m in report.methods)],
                "rows": money_rows,
            },
        }
