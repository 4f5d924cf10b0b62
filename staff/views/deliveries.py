"""The courier's day: their deliveries (with one-tap forms), the printable run sheet and
the picking list.

Figures come from the order's one money rule: the cash to collect at the door is
``order.money_position().due`` for cash on delivery, nothing for a prepaid order. What a
user may record on an order is asked of the services' ``check_*`` functions.
"""

import datetime
from decimal import Decimal

from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from orders import selectors, services
from orders.exceptions import OrderError
from orders.models import LOGISTICS, DeliveryOutcome, OrderLine, Status
from staff import forms as staff_forms
from staff.views._base import StaffRequiredMixin
from staff.views.selection import select_orders

ZERO = Decimal("0.00")


def _with_delivery_facts(queryset):
    """The lines and the number of delivery attempts, without a query per order."""
    return selectors.with_delivery_attempts(queryset).prefetch_related("lines")


def _amount_to_collect(order):
    """Cash collected on delivery (``money_position().due``); ``None`` if prepaid."""
    if order.is_prepaid:
        return None
    return order.money_position().due


# Orders still on their way to the door; for any other (delivered, returned, cancelled,
# invalid) nothing is collected at a door, whatever is still due.
ON_THE_WAY = (Status.SUBMITTED, Status.CONFIRMED, Status.ALLOCATED, Status.SHIPPED)


def _courier_collects(order):
    """Whether the courier (not a carrier) takes this order's cash at the door.

    Not shipped yet: the courier carries it (own staff is the default); shipped: only
    when the shop's own staff carry it (``services.collects_cash``), a carrier settles
    its cash by its file.
    """
    if order.is_prepaid or order.status not in ON_THE_WAY:
        return False
    return order.status != Status.SHIPPED or services.collects_cash(order)


def _add_money_facts(order):
    """Set ``to_collect`` (``Decimal`` or ``None`` if prepaid), ``on_the_way`` and
    ``courier_collects`` (bools) and ``units`` (units over its lines; the lines must be
    prefetched)."""
    order.to_collect = _amount_to_collect(order)
    order.on_the_way = order.status in ON_THE_WAY
    order.courier_collects = _courier_collects(order)
    order.units = sum(line.quantity for line in order.lines.all())
    return order


def cash_to_collect(orders):
    """The cash the courier takes at the door over ``orders`` (with ``_add_money_facts``)."""
    return sum((o.to_collect for o in orders if o.courier_collects and o.to_collect), ZERO)


def resolve_courier(request, form_class=staff_forms.CourierForm):
    """Whose day a page shows, and the picker form (``None`` for a courier).

    A logistics person sees their own; order admins and finance pick anyone with
    ``?courier=<user id>`` (a courier's ``?courier=`` for someone else is ignored, as the
    deliveries list always did). Returns ``(courier or None, picker or None)``; the picker
    is bound and validated when the request names a courier.
    """
    user = request.user
    courier = user if LOGISTICS in selectors.staff_roles(user) else None
    picker = None
    if selectors.sees_all_orders(user):
        picker = form_class(request.GET or None)
        if picker.is_bound:
            # Validates every field; a bad day elsewhere on the form keeps a good courier.
            picker.is_valid()
            courier = picker.cleaned_data.get("courier") or courier
    return courier, picker


def _couriers_with_counts():
    return services.logistics_staff().annotate(
        open_count=Count("assigned_orders", filter=Q(assigned_orders__status=Status.ALLOCATED))
    )


class DeliveryListView(StaffRequiredMixin, TemplateView):
    """A courier's day: orders to take out (with the ship form and a one-tap "leave with
    own courier"), orders out for delivery (attempts so far, next attempt, cash to
    collect, one-tap "delivered" and "failed attempt" forms), and a summary for today.

    Order admins and finance may look at anyone's list with ``?courier=<user id>``.
    A fixed number of queries whatever the number of orders.
    """

    template_name = "staff/deliveries.html"
    nav = "deliveries"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        user = request.user
        courier, picker = resolve_courier(request)
        if courier is None:
            context.update(picker=picker, courier=None, couriers=_couriers_with_counts())
            return context

        today = timezone.localdate()
        orders = [
            _add_money_facts(o) for o in _with_delivery_facts(selectors.deliveries_for(courier))
        ]
        to_deliver = [o for o in orders if o.status == Status.ALLOCATED]
        shipped = sorted(
            (o for o in orders if o.status == Status.SHIPPED),
            key=lambda o: (o.next_attempt_on is None, o.next_attempt_on or today, o.shipped_at),
        )
        back = request.get_full_path()
        for order in to_deliver:
            order.ship_refusal = order.ship_form = None
            try:
                services.check_ship(user, order)
            except OrderError as exc:
                order.ship_refusal = exc.message
            else:
                order.ship_form = staff_forms.ShipForm(
                    order=order, auto_id=f"ship-{order.pk}-%s", initial={"next": back}
                )
        for order in shipped:
            order.may_attempt = order.may_deliver = True
            try:
                services.check_record_delivery_attempt(user, order)
            except OrderError:
                order.may_attempt = False
            try:
                services.check_record_delivery(user, order)
            except OrderError:
                order.may_deliver = False
        for order in orders:
            order.later = order.next_attempt_on is not None and order.next_attempt_on > today
        stops = [o for o in orders if not o.later]
        context.update(
            picker=picker,
            courier=courier,
            is_own=courier == user,
            to_deliver=to_deliver,
            shipped=shipped,
            today=today,
            stops_left=len(stops),
            cash_total=cash_to_collect(stops),
            cash_in_hand=selectors.cash_in_hand_of(courier),
            outcomes=DeliveryOutcome.choices,
            back=back,
        )
        return context


class _PrintPage(StaffRequiredMixin, View):
    """A page made to be printed: its own template (no navigation), tools hidden in print."""

    template_name = ""

    def render(self, context):
        context.setdefault("printed_at", timezone.now())
        return render(self.request, self.template_name, context)


def _stop_key(order):
    """Run-sheet order: agreed next-attempt dates first (earliest first), then by
    allocation time."""
    return (
        order.next_attempt_on is None,
        order.next_attempt_on or datetime.date.max,
        order.allocated_at or order.placed_at,
        order.pk,
    )


class RunSheetView(_PrintPage):
    """The printable run sheet: a courier's stops for one day, numbered, with address,
    phone, items, cash to collect and a column to sign; totals at the bottom.

    ``?courier=<id>&date=YYYY-MM-DD`` (default: the signed-in courier, today; order
    admins and finance pick any courier), or ``?order=<number>&order=<number>`` for a
    selection from the order list (at most ``selection.MAX_ORDERS``). The stops of a day
    are the courier's allocated and shipped orders except those whose next attempt was
    set to a later day.
    """

    template_name = "staff/run_sheet.html"

    def get(self, request):
        problems = []
        form = staff_forms.RunSheetForm(request.GET or None)
        day = timezone.localdate()
        if form.is_bound:
            if form.is_valid():
                day = form.cleaned_data["date"] or day
            elif "date" in form.errors:
                problems.append(_("That is not a valid day: the run sheet is for today."))
        numbers = request.GET.getlist("order")
        courier = None
        if numbers:
            selection = select_orders(
                request.user,
                numbers,
                _with_delivery_facts(selectors.orders_for_staff(request.user)).select_related(
                    "assigned_to"
                ),
            )
            problems += selection.problems()
            stops = sorted(selection.orders, key=_stop_key)
        else:
            courier, _picker = resolve_courier(request, staff_forms.RunSheetForm)
            stops = (
                list(_with_delivery_facts(selectors.stops_for(courier, day)))
                if courier is not None
                else []
            )
        for order in stops:
            _add_money_facts(order)
        return self.render(
            {
                "form": form if selectors.sees_all_orders(request.user) else None,
                "courier": courier,
                "selected": bool(numbers),
                "day": day,
                "stops": stops,
                "total_units": sum(o.units for o in stops),
                "total_cash": cash_to_collect(stops),
                "problems": problems,
                "couriers": [] if courier or numbers else _couriers_with_counts(),
            }
        )


class PickingListView(_PrintPage):
    """Units to pick per SKU over several orders: SKU, name, total units and the orders
    needing it (with their units), sorted by SKU.

    ``?order=<number>&order=<number>`` (at most ``selection.MAX_ORDERS``), or by default
    the courier's allocated orders (a courier's own; order admins and finance pick one
    with ``?courier=<id>``). Two queries: the orders, then their lines.
    """

    template_name = "staff/picking_list.html"

    def get(self, request):
        problems = []
        numbers = request.GET.getlist("order")
        courier = None
        if numbers:
            selection = select_orders(request.user, numbers)
            problems += selection.problems()
            orders = selection.orders
        else:
            courier, _picker = resolve_courier(request)
            orders = (
                list(selectors.deliveries_for(courier).filter(status=Status.ALLOCATED))
                if courier is not None
                else []
            )
        rows = {}
        lines = (
            OrderLine.objects.filter(order__in=[o.pk for o in orders])
            .order_by("sku", "order__number", "pk")
            .values_list("sku", "name", "quantity", "order__number")
        )
        for sku, name, quantity, number in lines:
            row = rows.setdefault(sku, {"sku": sku, "name": name, "units": 0, "orders": {}})
            row["units"] += quantity
            row["orders"][number] = row["orders"].get(number, 0) + quantity
        for row in rows.values():
            row["orders"] = sorted(row["orders"].items())
        rows = list(rows.values())
        return self.render(
            {
                "form": staff_forms.CourierForm(request.GET or None)
                if selectors.sees_all_orders(request.user)
                else None,
                "courier": courier,
                "selected": bool(numbers),
                "orders": orders,
                "rows": rows,
                "total_units": sum(row["units"] for row in rows),
                "problems": problems,
                "couriers": [] if courier or numbers else _couriers_with_counts(),
            }
        )
