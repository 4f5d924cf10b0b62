"""A logistics person's deliveries: what to deliver, the cash to collect, recent shipments."""

from django.db.models import Count, Q
from django.views.generic import TemplateView

from orders import selectors, services
from orders.exceptions import OrderError
from orders.models import LOGISTICS, Status
from staff import forms as staff_forms
from staff.views._base import StaffRequiredMixin


def _with_delivery_facts(queryset):
    return queryset.prefetch_related("lines")


def _amount_to_collect(order):
    """Cash the courier collects on delivery (``money_position().due``); ``None`` if prepaid."""
    if order.is_prepaid:
        return None
    return order.money_position().due


class DeliveryListView(StaffRequiredMixin, TemplateView):
    """A logistics person's orders to deliver (with the ship form) and recent shipments.

    Order admins and finance may look at anyone's list with ``?courier=<user id>``.
    """

    template_name = "staff/deliveries.html"
    nav = "deliveries"
    RECENTLY_SHIPPED = 20

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        user = request.user
        roles = selectors.staff_roles(user)
        courier = user if LOGISTICS in roles else None
        picker = None
        if selectors.sees_all_orders(user):
            picker = staff_forms.CourierForm(request.GET or None)
            if picker.is_bound and picker.is_valid() and picker.cleaned_data["courier"]:
                courier = picker.cleaned_data["courier"]
        if courier is None:
            context.update(
                picker=picker,
                courier=None,
                couriers=services.logistics_staff().annotate(
                    open_count=Count(
                        "assigned_orders", filter=Q(assigned_orders__status=Status.ALLOCATED)
                    )
                ),
            )
            return context

        to_deliver = list(
            _with_delivery_facts(selectors.deliveries_for(courier).filter(status=Status.ALLOCATED))
        )
        shipped = list(
            _with_delivery_facts(
                selectors.deliveries_for(courier)
                .filter(status=Status.SHIPPED)
                .order_by("-shipped_at", "-pk")[: self.RECENTLY_SHIPPED]
            )
        )
        for order in to_deliver + shipped:
            order.to_collect = _amount_to_collect(order)
            order.ship_refusal = order.ship_form = None
            if order.status == Status.ALLOCATED:
                try:
                    services.check_ship(user, order)
                except OrderError as exc:
                    order.ship_refusal = exc.message
                else:
                    order.ship_form = staff_forms.ShipForm(
                        order=order,
                        auto_id=f"ship-{order.pk}-%s",
                        initial={"next": request.get_full_path()},
                    )
        context.update(
            picker=picker,
            courier=courier,
            is_own=courier == user,
            to_deliver=to_deliver,
            shipped=shipped,
            cash_total=sum((o.to_collect or 0) for o in to_deliver),
        )
        return context
