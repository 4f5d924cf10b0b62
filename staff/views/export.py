"""The CSV export of the filtered order list."""

import csv

from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from orders.models import PaymentMethod, PaymentStatus, Status
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


class OrderExportView(StaffRequiredMixin, View):
    """CSV of exactly the filtered list (all pages), streamed; UTF-8 with a BOM.

    Money columns are plain decimals (``128.50``); status columns give the label and,
    in a second column, the stored value for scripts.
    """

    def get(self, request):
        filterset = OrderFilter(request.GET, queryset=staff_orders(request), request=request)
        if not filterset.is_valid():
            # The list ignores a bad filter and says so; a file has no room to say it, and
            # "every order" is not what was asked for. The list shows which filter is wrong.
            messages.error(request, _("The export was not made: fix the filters first."))
            return redirect(reverse("staff:order-list") + _query_string(request.GET))
        orders = filterset.qs
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
        # Labels are looked up now: the rows are written after this view returns.
        labels = {
            "status": {value: str(label) for value, label in Status.choices},
            "payment_status": {value: str(label) for value, label in PaymentStatus.choices},
            "payment_method": {value: str(label) for value, label in PaymentMethod.choices},
        }
        zone = timezone.get_current_timezone()

        def when(value):
            return timezone.localtime(value, zone).strftime("%Y-%m-%d %H:%M") if value else ""

        def rows():
            writer = csv.writer(_Echo())
            yield "\ufeff" + writer.writerow(header)
            for order in orders.iterator(chunk_size=500):
                yield writer.writerow(
                    [
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
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
        return response
