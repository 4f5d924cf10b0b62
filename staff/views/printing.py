"""The printable order sheet / packing slip."""

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views import View

from orders.models import Status
from staff.views._base import StaffRequiredMixin, order_for_staff


class OrderPrintView(StaffRequiredMixin, View):
    """Printable order sheet / packing slip, with the cash to collect on delivery."""

    # A sheet travels without the system: one that must not lead to a delivery says so.
    STOP_BANNERS = {
        Status.CANCELLED: gettext_lazy("CANCELLED — DO NOT DELIVER"),
        Status.INVALID: gettext_lazy("INVALID — DO NOT DELIVER"),
    }
    WAIT_BANNERS = {Status.SUBMITTED: gettext_lazy("NOT CONFIRMED YET")}

    def get(self, request, number):
        order = order_for_staff(request, number)
        position = order.money_position()
        totals = order.ledger_totals()
        stop = self.STOP_BANNERS.get(order.status)
        return render(
            request,
            "staff/order_print.html",
            {
                "order": order,
                "lines": list(order.lines.all()),
                "net_received": position.net,
                "paid_received": totals.paid,
                "to_collect": None if order.is_prepaid else position.due,
                # Nothing is collected for an order that must not be delivered.
                "show_collect": stop is None,
                "stop_banner": stop,
                "wait_banner": self.WAIT_BANNERS.get(order.status),
                "printed_at": timezone.now(),
            },
        )
