"""The printable order sheet / packing slip, one order or several (one per page)."""

from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views import View

from orders import selectors
from orders.models import Status
from staff.views._base import StaffRequiredMixin, order_for_staff
from staff.views.selection import select_orders


class OrderPrintView(StaffRequiredMixin, View):
    """Printable order sheet / packing slip, with the cash to collect on delivery
    (``money_position().due`` of a cash-on-delivery order; nothing once delivered or
    returned, or for a prepaid order)."""

    # A sheet travels without the system: one that must not lead to a delivery says so.
    STOP_BANNERS = {
        Status.CANCELLED: gettext_lazy("CANCELLED — DO NOT DELIVER"),
        Status.INVALID: gettext_lazy("INVALID — DO NOT DELIVER"),
        Status.RETURNED: gettext_lazy("RETURNED TO THE SHOP — DO NOT DELIVER"),
    }
    # Delivered already: the sheet may be reprinted, but nothing is collected again.
    DONE_BANNERS = {Status.DELIVERED: gettext_lazy("DELIVERED — COLLECT NOTHING")}
    WAIT_BANNERS = {Status.SUBMITTED: gettext_lazy("NOT CONFIRMED YET")}

    @classmethod
    def sheet_context(cls, order, *, lines):
        """What one sheet shows; ``lines`` (the order's lines) are passed in so several
        sheets cost no query each (the money comes from ``order.money_position()``)."""
        position = order.money_position()
        stop = cls.STOP_BANNERS.get(order.status)
        done = cls.DONE_BANNERS.get(order.status)
        return {
            "order": order,
            "lines": lines,
            "net_received": position.net,
            "to_collect": None if order.is_prepaid else position.due,
            # Nothing is collected for an order that must not be (or was) delivered.
            "show_collect": stop is None and done is None,
            "stop_banner": stop,
            "done_banner": done,
            "wait_banner": cls.WAIT_BANNERS.get(order.status),
        }

    def get(self, request, number):
        order = order_for_staff(request, number)
        context = self.sheet_context(order, lines=list(order.lines.all()))
        context["printed_at"] = timezone.now()
        return render(request, "staff/order_print.html", context)


class OrderSheetsPrintView(StaffRequiredMixin, View):
    """The sheets of several orders, one per printed page: ``?order=<number>&order=...``
    (at most ``selection.MAX_ORDERS``, in the order named; the order list's "Print order
    sheets"). Orders the user may not see are reported as not found. Three queries
    whatever the number of orders."""

    def get(self, request):
        selection = select_orders(
            request.user,
            request.GET.getlist("order"),
            selectors.orders_for_staff(request.user)
            .select_related("customer", "assigned_to")
            .prefetch_related("lines"),
        )
        printed_at = timezone.now()
        # Each sheet is the single sheet's own template with its own context, so the two
        # can never disagree.
        sheets = [
            render_to_string(
                "staff/_order_sheet.html",
                {
                    **OrderPrintView.sheet_context(order, lines=list(order.lines.all())),
                    "printed_at": printed_at,
                },
                request=request,
            )
            for order in selection.orders
        ]
        return render(
            request,
            "staff/order_print_many.html",
            {"sheets": sheets, "problems": selection.problems(), "printed_at": printed_at},
        )
