"""Allocating an order to a delivery person and recording its shipment."""

from django.utils.translation import gettext as _

from orders import services
from orders.models import Order
from staff import forms as staff_forms
from staff.templatetags.staff_tags import person
from staff.views.actions._base import OrderActionView


class OrderAllocateView(OrderActionView):
    """Allocate a confirmed order to a logistics person, or re-assign it."""

    action = "allocate"
    form_class = staff_forms.AllocateForm

    def perform(self, order, data):
        previous = order.assigned_to
        services.allocate_order(self.request.user, order, assignee=data["assignee"])
        values = {"number": order.number, "name": person(data["assignee"])}
        if previous:
            values["old"] = person(previous)
            return _("Order %(number)s is re-assigned from %(old)s to %(name)s.") % values
        return _("Order %(number)s is allocated to %(name)s.") % values


class OrderShipView(OrderActionView):
    """Record the shipment: our own delivery staff, or a carrier and its waybill number."""

    action = "ship"
    form_class = staff_forms.ShipForm

    def perform(self, order, data):
        services.ship_order(
            self.request.user,
            order,
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
        )
        if data["carrier"] == Order.OWN_DELIVERY_STAFF:
            return _("Shipment of order %(number)s recorded: our own delivery staff carry it.") % {
                "number": order.number
            }
        if not data["tracking_number"]:
            return _("Shipment of order %(number)s recorded: %(carrier)s.") % {
                "number": order.number,
                "carrier": data["carrier"],
            }
        return _("Shipment of order %(number)s recorded: %(carrier)s, waybill %(waybill)s.") % {
            "number": order.number,
            "carrier": data["carrier"],
            "waybill": data["tracking_number"],
        }
