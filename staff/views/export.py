"""The export of the filtered order list: CSV for machines, XLSX for people.

``/staff/orders/export/`` with the list's query string; ``format=xlsx`` gives a workbook
(openpyxl) with a sheet of orders and a sheet of order lines, built in a temporary file
so a long list does not sit in memory.
"""

import csv
import io
import tempfile

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from orders.models import OrderLine, PaymentMethod, PaymentStatus, Status
from staff.filters import OrderFilter
from staff.templatetags.staff_tags import person
from staff.views._base import StaffRequiredMixin, _query_string, staff_orders


class _Echo:
    """A file-like object whose ``write`` hands the CSV line back (for streaming)."""

    def write(self, value):
        return value


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """Text typed by members, made safe for spreadsheets (no formula injection)."""
    value = "" if value is None else str(value)
    return f"'{value}" if value.startswith(FORMULA_START) else value


def _plain(amount):
    return "" if amount is None else f"{amount:.2f}"


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class OrderExportView(StaffRequiredMixin, View):
    """Exactly the filtered list (all pages): CSV (default) or XLSX (``format=xlsx``).

    CSV: streamed, UTF-8 with a BOM; money columns are plain decimals (``128.50``); status
    columns give the label and, in a second column, the stored value for scripts.
    XLSX: the same columns on a sheet "Orders", order numbers, phone numbers, postcodes
    and waybill numbers as text cells, money as numbers with two decimals, dates as
    dates in the shop's time zone; a second sheet "Lines" has one row per order line
    (order number, SKU, name, chosen attributes, quantity, unit price, line total). Same
    filters and access.
    """

    def get(self, request):
        fmt = request.GET.get("format", "csv").strip().lower() or "csv"
        if fmt not in ("csv", "xlsx"):
            messages.error(
                request,
                _("No export was made: the format is csv or xlsx, not “%(format)s”.")
                % {"format": request.GET.get("format", "")[:20]},
            )
            return redirect(reverse("staff:order-list") + _query_string(request.GET))
        filterset = OrderFilter(request.GET, queryset=staff_orders(request), request=request)
        if not filterset.is_valid():
            # The list ignores a bad filter and says so; a file has no room to say it, and
            # "every order" is not what was asked for. The list shows which filter is wrong.
            messages.error(request, _("The export was not made: fix the filters first."))
            return redirect(reverse("staff:order-list") + _query_string(request.GET))
        orders = filterset.qs
        file_format = fmt
        if orders.count() > settings.MALL_EXPORT_INLINE_ROWS:
            # A long list is made by a worker; the progress page can be left and come
            # back to (staff.tasks).
            from staff.tasks import start_export

            job = start_export(request.user, request.GET.urlencode(), file_format)
            return redirect(reverse("staff:export-job", args=[job.pk]))
        header, labels = export_columns()
        zone = timezone.get_current_timezone()
        if file_format == "xlsx":
            handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
            write_xlsx(orders, header, labels, zone, handle)
            handle.seek(0)
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            # FileResponse closes the file once sent; a large list never sits in memory.
            return FileResponse(
                handle, as_attachment=True, filename=f"orders-{stamp}.xlsx", content_type=XLSX_TYPE
            )

        def rows():
            writer = csv.writer(_Echo())
            yield "\ufeff" + writer.writerow(header)
            for order in orders.iterator(chunk_size=500):
                yield writer.writerow(csv_row(order, labels, zone))

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
        return response


def export_columns():
    """The export's column titles and the status labels, in the active language."""
    header = [
        _("Order number"),
        _("Placed"),
        _("Status"),
        _("Status code"),
        _("Payment status"),
        _("Payment status code"),
        _("Payment method"),
        _("Payment method code"),
        _("Member"),
        _("Member e-mail"),
        _("Recipient"),
        _("Phone"),
        _("Province / region"),
        _("City"),
        _("Address"),
        _("Postcode"),
        _("Subtotal"),
        _("Shipping fee"),
        _("Total"),
        _("Net received"),
        _("Balance due"),
        _("Delivery person"),
        _("Carrier"),
        _("Waybill number"),
        _("Shipped"),
    ]
    labels = {
        "status": {value: str(label) for value, label in Status.choices},
        "payment_status": {value: str(label) for value, label in PaymentStatus.choices},
        "payment_method": {value: str(label) for value, label in PaymentMethod.choices},
    }
    return header, labels


def csv_row(order, labels, zone):
    """One CSV row of ``order`` (see :class:`OrderExportView`)."""

    def when(value):
        return timezone.localtime(value, zone).strftime("%Y-%m-%d %H:%M") if value else ""

    return [
        order.number,
        when(order.placed_at),
        labels["status"].get(order.status, order.status),
        order.status,
        labels["payment_status"].get(order.payment_status, order.payment_status),
        order.payment_status,
        labels["payment_method"].get(order.payment_method, order.payment_method),
        order.payment_method,
        _cell(person(order.customer)),
        _cell(order.customer.email),
        _cell(order.recipient),
        _cell(order.phone),
        _cell(order.region),
        _cell(order.city),
        _cell(order.address_line),
        _cell(order.postcode),
        _plain(order.subtotal),
        _plain(order.shipping_fee),
        _plain(order.total),
        _plain(order.money_position().held),
        _plain(order.money_position().due),
        _cell(person(order.assigned_to)),
        _cell(order.carrier),
        _cell(order.tracking_number),
        when(order.shipped_at),
    ]


def write_csv(orders, header, labels, zone, handle, progress=None):
    """Write the CSV of ``orders`` (UTF-8 with a BOM) into binary ``handle``; call
    ``progress(rows_done)`` every 500 rows."""
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    for done, order in enumerate(orders.iterator(chunk_size=500), start=1):
        writer.writerow(csv_row(order, labels, zone))
        if progress and done % 500 == 0:
            progress(done)
    text.flush()
    text.detach()


def write_xlsx(orders, header, labels, zone, handle, progress=None):
    """Write the workbook of ``orders`` into binary ``handle`` (see
    :class:`OrderExportView`); call ``progress(rows_done)`` every 500 orders."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Orders"))
    lines_sheet = workbook.create_sheet(_("Lines"))

    # Everything but money, counts and dates is a text cell, so a spreadsheet keeps the
    # leading 0 of 02155551234, all of 13800138000 and every digit of a 16-digit waybill.
    def text(target, value):
        cell = WriteOnlyCell(target, value="" if value is None else str(value))
        cell.data_type = "s"  # never a formula, whatever a member typed
        cell.number_format = "@"
        return cell

    def money_cell(target, amount):
        cell = WriteOnlyCell(target, value=amount)
        cell.number_format = "0.00"
        return cell

    def when(value):
        if not value:
            return None
        cell = WriteOnlyCell(sheet, value=timezone.localtime(value, zone).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell

    def heading(target, titles):
        cells = []
        for title in titles:
            cell = text(target, title)
            cell.font = Font(bold=True)
            cells.append(cell)
        return cells

    sheet.freeze_panes = "B2"
    sheet.append(heading(sheet, header))
    line_header = [
        _("Order number"),
        _("SKU"),
        _("Name"),
        _("Chosen attributes"),
        _("Quantity"),
        _("Unit price"),
        _("Line total"),
    ]
    lines_sheet.freeze_panes = "B2"
    lines_sheet.append(heading(lines_sheet, line_header))
    numbers = []
    for order in orders.iterator(chunk_size=500):
        numbers.append(order.pk)
        if progress and len(numbers) % 500 == 0:
            progress(len(numbers))
        position = order.money_position()
        sheet.append(
            [
                text(sheet, order.number),
                when(order.placed_at),
                text(sheet, labels["status"].get(order.status, order.status)),
                text(sheet, order.status),
                text(
                    sheet, labels["payment_status"].get(order.payment_status, order.payment_status)
                ),
                text(sheet, order.payment_status),
                text(
                    sheet, labels["payment_method"].get(order.payment_method, order.payment_method)
                ),
                text(sheet, order.payment_method),
                text(sheet, person(order.customer)),
                text(sheet, order.customer.email),
                text(sheet, order.recipient),
                text(sheet, order.phone),
                text(sheet, order.region),
                text(sheet, order.city),
                text(sheet, order.address_line),
                text(sheet, order.postcode),
                money_cell(sheet, order.subtotal),
                money_cell(sheet, order.shipping_fee),
                money_cell(sheet, order.total),
                money_cell(sheet, position.held),
                money_cell(sheet, position.due),
                text(sheet, person(order.assigned_to)),
                text(sheet, order.carrier),
                text(sheet, order.tracking_number),
                when(order.shipped_at),
            ]
        )
    for start in range(0, len(numbers), 500):
        lines = (
            OrderLine.objects.filter(order_id__in=numbers[start : start + 500])
            .select_related("order")
            .only(
                "sku",
                "name",
                "chosen_attributes",
                "quantity",
                "unit_price",
                "line_total",
                "order__number",
            )
            .order_by("order_id", "pk")
        )
        for line in lines:
            lines_sheet.append(
                [
                    text(lines_sheet, line.order.number),
                    text(lines_sheet, line.sku),
                    text(lines_sheet, line.name),
                    text(
                        lines_sheet,
                        ", ".join(f"{k}: {v}" for k, v in (line.chosen_attributes or {}).items()),
                    ),
                    line.quantity,
                    money_cell(lines_sheet, line.unit_price),
                    money_cell(lines_sheet, line.line_total),
                ]
            )
    workbook.save(handle)
