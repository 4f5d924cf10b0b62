"""Back-office views (DESIGN: "URLs"): dashboard, order list and CSV export, order detail,
one POST view per action, deliveries and the printable order sheet.

Views are thin: a form validates the input, the view calls one function of
``orders.services`` and redirects. What a user may do is asked of
``services.allowed_actions`` / ``services.may_ever`` (and the services' own ``check_*``
functions for the reason something is refused), never decided here. A refusal because
of the order's state or the input becomes a message; a role that may never take an
action gets 403; an order outside the user's scope is 404.
"""

import csv

from django.contrib import messages
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from mall.http import safe_next
from orders import selectors, services
from orders.exceptions import OrderError, StaleOrder
from orders.models import (
    FINANCE,
    LOGISTICS,
    ORDER_ADMINS,
    STAFF_GROUPS,
    Order,
    PaymentMethod,
    PaymentStatus,
    Status,
)
from staff import forms as staff_forms
from staff.filters import SORTABLE_COLUMNS, OrderFilter
from staff.templatetags.staff_tags import format_money, person, waiting_label
from staff.timeline import describe_changes, serialise_changes, timeline

PAGE_SIZE = 50
STALE_SESSION_KEY = "staff-stale-%s"
# Refusals worth explaining on the page before anyone tries: business rules, not states.
EXPLAINED_REFUSALS = ("unpaid", "money_held")
# Actions offered in the order page's "What you can do now" box (voiding sits in the ledger).
BOX_ACTIONS = frozenset(
    {"confirm", "allocate", "ship", "payment", "refund", "call", "invalidate", "cancel"}
)


def role_labels():
    """Plain-words names of the staff roles, keyed by group name."""
    return {ORDER_ADMINS: _("Order admin"), FINANCE: _("Finance"), LOGISTICS: _("Logistics")}


# --- access ------------------------------------------------------------------------------


class StaffRequiredMixin(AccessMixin):
    """Back office only: anonymous → login page; signed in without a staff role → 403.

    Subclasses add checks in ``check_permission(request)`` (raise ``PermissionDenied``).
    ``nav`` names the subnav entry to highlight.
    """

    nav = ""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not selectors.is_order_staff(request.user):
            raise PermissionDenied(_("The back office is for shop staff only."))
        self.check_permission(request)
        return super().dispatch(request, *args, **kwargs)

    def check_permission(self, request):
        """Hook for stricter checks; the default lets every staff member in."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("nav", self.nav)
        return context


def order_for_staff(request, number):
    """The order ``number`` if ``request.user`` may see it in the back office, else 404."""
    if "\x00" in number:
        raise Http404  # no order has one, and PostgreSQL refuses NUL in a query
    return get_object_or_404(
        selectors.orders_for_staff(request.user).select_related("customer", "assigned_to"),
        number=number,
    )


def detail_url(order):
    return reverse("staff:order-detail", args=[order.number])


# --- dashboard ----------------------------------------------------------------------------


class DashboardView(StaffRequiredMixin, TemplateView):
    """The queues this user works on, with counts and the oldest waiting time."""

    template_name = "staff/dashboard.html"
    nav = "dashboard"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        now = timezone.now()
        list_url = reverse("staff:order-list")
        queues = selectors.dashboard_queues(user)
        for queue in queues:
            queue["url"] = f"{list_url}?{queue['query']}"
            queue["waiting"] = waiting_label(queue["oldest"], now) if queue["count"] else ""
        roles = selectors.staff_roles(user)
        labels = role_labels()
        context.update(
            queues=queues,
            role_names=[labels[r] for r in STAFF_GROUPS if r in roles],
            is_logistics=LOGISTICS in roles,
            open_deliveries=(
                selectors.deliveries_for(user).filter(status=Status.ALLOCATED).count()
                if LOGISTICS in roles
                else None
            ),
        )
        return context


# --- list and export ------------------------------------------------------------------------


def staff_orders(request):
    """The orders ``request.user`` may see, with the people every row shows."""
    return selectors.orders_for_staff(request.user).select_related("customer", "assigned_to")


def _query_string(params, **changes):
    """``params`` (a ``QueryDict``) with ``changes`` applied (``None`` removes), as ``?…``."""
    query = params.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value not in (None, ""):
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


class OrderPaginator(Paginator):
    """Pages of the order list that stay fast deep into a large list (docs/benchmarks.md).

    ``count``: the number of rows when the caller already knows it (the status tabs
    counted them), so the table is not counted twice. A page is fetched as "the rows
    whose keys are on this page": the ``OFFSET`` then walks the narrow sort index
    (index-only) instead of whole rows, one query all the same. When few rows match (a
    search), all their keys are read first: with a ``LIMIT`` the planner would rather
    walk the sort index hoping to meet them early, and may walk all of it.
    """

    few = 2000

    def __init__(self, object_list, per_page, *, count=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        if count is not None:
            self.count = count  # a cached_property: set here, never computed

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if self.count <= self.few:
            keys = list(self.object_list.values_list("pk", flat=True))[bottom:top]
        else:
            keys = self.object_list.values("pk")[bottom:top]
        return self._get_page(self.object_list.filter(pk__in=keys), number, self)


class OrderListView(StaffRequiredMixin, TemplateView):
    """Every order the user may see: status tabs, filters, search, sort, 50 per page."""

    template_name = "staff/order_list.html"
    nav = "orders"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        params = request.GET
        filterset = OrderFilter(params, queryset=staff_orders(request), request=request)
        orders = filterset.qs

        # Tabs count the orders the other filters leave, whatever their status.
        without_status = params.copy()
        for key in ("status", "page", "sort"):
            without_status.pop(key, None)
        tab_filterset = OrderFilter(
            without_status, queryset=selectors.orders_for_staff(request.user), request=request
        )
        counts = selectors.status_counts(tab_filterset.qs)
        current_status = filterset.form.cleaned_data.get("status") or ""
        # The list is the tab's rows: its length is already counted.
        total = counts.get(current_status, 0) if current_status else sum(counts.values())
        page = OrderPaginator(orders, PAGE_SIZE, count=total).get_page(params.get("page"))
        tabs = [
            {
                "label": _("All"),
                "count": sum(counts.values()),
                "url": _query_string(params, status=None, page=None),
                "active": not current_status,
            }
        ]
        tabs += [
            {
                "label": label,
                "count": counts.get(value, 0),
                "url": _query_string(params, status=value, page=None),
                "active": current_status == value,
            }
            for value, label in Status.choices
        ]

        sort = filterset.current_sort
        sort_links = {}
        for field in SORTABLE_COLUMNS:
            descending_first = field in ("placed_at", "total")
            if sort == field:
                target, arrow = f"-{field}", "▲"
            elif sort == f"-{field}":
                target, arrow = field, "▼"
            else:
                target, arrow = (f"-{field}" if descending_first else field), ""
            sort_links[field] = {
                "url": _query_string(params, sort=target, page=None),
                "arrow": arrow,
            }

        queue_label = ""
        if filterset.form.cleaned_data.get("queue"):
            queue_label = dict(filterset.filters["queue"].field.choices).get(
                filterset.form.cleaned_data["queue"], ""
            )
        context.update(
            filterset=filterset,
            form=filterset.form,
            page_obj=page,
            orders=page.object_list,
            tabs=tabs,
            sort_links=sort_links,
            queue_label=queue_label,
            filtered=any(v for k, v in params.items() if k not in ("page", "sort")),
            export_url=reverse("staff:order-export") + _query_string(params, page=None),
            page_links={
                "first": _query_string(params, page=1),
                "previous": _query_string(params, page=page.previous_page_number())
                if page.has_previous()
                else "",
                "next": _query_string(params, page=page.next_page_number())
                if page.has_next()
                else "",
                "last": _query_string(params, page=page.paginator.num_pages),
            },
        )
        return context


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
        orders = selectors.with_net_received(filterset.qs)
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
                        _plain(order.net_received),
                        _plain(
                            order.money_position(order.paid_received, order.refunded_amount).due
                        ),
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


# --- detail ----------------------------------------------------------------------------------


def _explained_refusals(user, order, allowed):
    """Messages for ship/cancel refused by a business rule (e.g. "not paid yet")."""
    notices = []
    for action, check in (("ship", services.check_ship), ("cancel", services.check_cancel)):
        if action in allowed or not services.may_ever(user, action):
            continue
        try:
            check(user, order)
        except OrderError as exc:
            if exc.code in EXPLAINED_REFUSALS:
                notices.append(exc.message)
    return notices


def detail_context(request, order, bound=None):
    """Everything the order page shows; ``bound`` maps action → a form with errors.

    Query count does not grow with the number of lines, payments or events.
    """
    user = request.user
    bound = bound or {}
    allowed = services.allowed_actions(user, order)
    position = order.money_position()
    net = position.net
    payments = list(order.payments.select_related("recorded_by", "voided_by"))

    stale = request.session.pop(STALE_SESSION_KEY % order.number, None)
    form_makers = {
        "call": lambda: staff_forms.CallForm(order=order),
        "confirm": lambda: staff_forms.ConfirmForm(
            order=order, initial={"call_note": (stale or {}).get("call_note", "")}
        ),
        "allocate": lambda: staff_forms.AllocateForm(order=order),
        "ship": lambda: staff_forms.ShipForm(order=order),
        "payment": lambda: staff_forms.PaymentForm(order=order, balance_due=position.due),
        "refund": lambda: staff_forms.RefundForm(order=order, net_received=net),
    }
    action_forms = {
        action: bound.get(action) or make()
        for action, make in form_makers.items()
        if action in allowed
    }
    return {
        "order": order,
        "lines": list(order.lines.all()),
        "payments": payments,
        "money": {
            "paid": position.paid,
            "refunded": position.refunded,
            "net": position.net,
            "balance_due": position.due,
            "credit_due": position.credit,
        },
        "allowed": allowed,
        "forms": action_forms,
        "can_void": "void" in allowed,
        "box_actions": allowed & BOX_ACTIONS,
        "notices": _explained_refusals(user, order, allowed),
        "timeline": timeline(order, selectors.staff_timeline(order)),
        "stale": (
            {
                "seen_version": stale.get("seen_version"),
                "current_version": order.version,
                "changes": describe_changes(stale.get("changes", [])),
            }
            if stale
            else None
        ),
        "member_orders": order.customer.orders.count(),
        "nav": "orders",
    }


class OrderDetailView(StaffRequiredMixin, View):
    """One order: lines, money, address, ledger, timeline and the actions allowed now."""

    nav = "orders"

    def get(self, request, number):
        order = order_for_staff(request, number)
        return render(request, "staff/order_detail.html", detail_context(request, order))


# --- actions -------------------------------------------------------------------------------


class OrderActionView(StaffRequiredMixin, View):
    """POST endpoint of one action: 403 if the role may never take it; else validate,
    call the one service, and turn a refusal into a message (never a 500).

    Subclasses set ``action`` (a name of ``services.ACTION_CHECKS``), ``form_class`` and
    implement ``perform(order, data)`` returning the success message. With a
    ``confirm_template`` a GET shows a confirmation page holding the form.
    """

    action = ""
    form_class = None
    confirm_template = None
    http_method_names = ["post"]
    nav = "orders"

    def check_permission(self, request):
        if not services.may_ever(request.user, self.action):
            raise PermissionDenied(_("Your role cannot take this action."))

    def get_form(self, order, data=None, **kwargs):
        return self.form_class(data, order=order, **kwargs)

    def perform(self, order, data):  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def refusal(self, order):
        """The services' reason this action is impossible now, or ``None``."""
        try:
            services.ACTION_CHECKS[self.action](self.request.user, order)
        except OrderError as exc:
            return exc.message
        return None

    def return_url(self, order, form):
        return safe_next(self.request, form.data.get("next")) or detail_url(order)

    def post(self, request, number):
        order = order_for_staff(request, number)
        form = self.get_form(order, request.POST)
        if not form.is_valid():
            reason = self.refusal(order)
            if reason:
                messages.error(request, reason)
                return redirect(self.return_url(order, form))
            return self.form_invalid(order, form)
        try:
            text = self.perform(order, form.cleaned_data)
        except StaleOrder as exc:
            self.remember_stale(order, exc, form.cleaned_data)
            messages.error(request, exc.message)
            return redirect(detail_url(order))
        except OrderError as exc:
            messages.error(request, exc.message)
            return redirect(self.return_url(order, form))
        messages.success(request, text)
        return redirect(self.return_url(order, form))

    def form_invalid(self, order, form):
        messages.error(self.request, _("Nothing was saved: please correct the form below."))
        if self.confirm_template:
            return render(self.request, self.confirm_template, self.confirm_context(order, form))
        return render(
            self.request,
            "staff/order_detail.html",
            detail_context(self.request, order, bound={self.action: form}),
        )

    def remember_stale(self, order, exc, data):
        """Keep what changed (and the typed call note) for the next render of the order."""
        self.request.session[STALE_SESSION_KEY % order.number] = {
            "seen_version": data.get("version"),
            "changes": serialise_changes(exc.details.get("changes", [])),
            "call_note": data.get("call_note", ""),
        }

    # confirmation pages ---------------------------------------------------------------

    def confirm_context(self, order, form):
        return {"order": order, "form": form, "nav": "orders"}

    def get(self, request, number):
        if not self.confirm_template:
            return self.http_method_not_allowed(request)
        order = order_for_staff(request, number)
        reason = self.refusal(order)
        if reason:
            messages.error(request, reason)
            return redirect(detail_url(order))
        return render(
            request, self.confirm_template, self.confirm_context(order, self.get_form(order))
        )


class OrderConfirmView(OrderActionView):
    """Confirm a submitted order after the call; refused if the order changed meanwhile."""

    action = "confirm"
    form_class = staff_forms.ConfirmForm

    def perform(self, order, data):
        services.confirm_order(
            self.request.user, order, expected_version=data["version"], call_note=data["call_note"]
        )
        return _("Order %(number)s is confirmed. Next: allocate it to a delivery person.") % {
            "number": order.number
        }


class OrderInvalidateView(OrderActionView):
    """Mark a submitted order invalid (reason required), after a confirmation page."""

    action = "invalidate"
    form_class = staff_forms.InvalidateForm
    confirm_template = "staff/order_invalidate.html"
    http_method_names = ["get", "post"]

    def perform(self, order, data):
        services.invalidate_order(self.request.user, order, reason=data["reason"])
        return _("Order %(number)s is marked invalid and its items are back in stock.") % {
            "number": order.number
        }


class OrderCancelView(OrderActionView):
    """Cancel an order (reason required), after a confirmation page."""

    action = "cancel"
    form_class = staff_forms.CancelForm
    confirm_template = "staff/order_cancel.html"
    http_method_names = ["get", "post"]

    def perform(self, order, data):
        services.cancel_order(self.request.user, order, reason=data["reason"])
        return _("Order %(number)s is cancelled.") % {"number": order.number}


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
    """Record the shipment (carrier, waybill number)."""

    action = "ship"
    form_class = staff_forms.ShipForm

    def perform(self, order, data):
        services.ship_order(
            self.request.user,
            order,
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
        )
        return _("Shipment of order %(number)s recorded: %(carrier)s, waybill %(waybill)s.") % {
            "number": order.number,
            "carrier": data["carrier"],
            "waybill": data["tracking_number"],
        }


class OrderPaymentView(OrderActionView):
    """Record money received (finance)."""

    action = "payment"
    form_class = staff_forms.PaymentForm

    def perform(self, order, data):
        payment = services.record_payment(
            self.request.user,
            order,
            amount=data["amount"],
            method=data["method"],
            reference=data["reference"],
            received_on=data["received_on"],
            note=data["note"],
        )
        return _(
            "Payment of %(amount)s recorded for order %(number)s. Payment status: %(status)s."
        ) % {
            "amount": format_money(payment.amount),
            "number": order.number,
            "status": payment.order.get_payment_status_display(),
        }


class OrderRefundView(OrderActionView):
    """Record money paid back to the member (finance)."""

    action = "refund"
    form_class = staff_forms.RefundForm

    def perform(self, order, data):
        refund = services.record_refund(
            self.request.user,
            order,
            amount=data["amount"],
            reference=data["reference"],
            note=data["note"],
        )
        return _(
            "Refund of %(amount)s recorded for order %(number)s. Payment status: %(status)s."
        ) % {
            "amount": format_money(refund.amount),
            "number": order.number,
            "status": refund.order.get_payment_status_display(),
        }


class PaymentVoidView(OrderActionView):
    """Void one mistaken ledger entry with a reason (finance), after a confirmation page.

    GET ``?payment=<id>`` shows the entry and the reason field.
    """

    action = "void"
    form_class = staff_forms.VoidForm
    confirm_template = "staff/payment_void.html"
    http_method_names = ["get", "post"]

    def confirm_context(self, order, form):
        context = super().confirm_context(order, form)
        cleaned = getattr(form, "cleaned_data", None) or {}
        context["entry"] = cleaned.get("payment") or getattr(self, "entry", None)
        return context

    def get(self, request, number):
        order = order_for_staff(request, number)
        raw = request.GET.get("payment", "")
        entry = (
            order.payments.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 18 else None
        )
        if entry is None:
            messages.error(request, _("Choose a ledger entry of this order to void."))
            return redirect(detail_url(order))
        if entry.is_voided:
            messages.error(request, _("This entry is already voided."))
            return redirect(detail_url(order))
        self.entry = entry
        return super().get(request, number)

    def get_form(self, order, data=None, **kwargs):
        entry = getattr(self, "entry", None)
        if entry is not None and data is None:
            kwargs.setdefault("initial", {"payment": entry.pk})
        return super().get_form(order, data, **kwargs)

    def perform(self, order, data):
        payment = services.void_payment(self.request.user, data["payment"], reason=data["reason"])
        return _("Entry %(reference)s (%(amount)s) voided. Payment status: %(status)s.") % {
            "reference": payment.reference,
            "amount": format_money(payment.amount),
            "status": Order.objects.get(pk=order.pk).get_payment_status_display(),
        }


class OrderCallView(OrderActionView):
    """Log a call attempt to the member (does not change the order)."""

    action = "call"
    form_class = staff_forms.CallForm

    def perform(self, order, data):
        services.log_call(self.request.user, order, outcome=data["outcome"], note=data["note"])
        outcome = dict(services.CallOutcome.choices()).get(data["outcome"], "")
        return _("Call logged: %(outcome)s.") % {"outcome": outcome}


# --- deliveries and the order sheet -------------------------------------------------------


def _with_delivery_facts(queryset):
    return selectors.with_net_received(queryset).prefetch_related("lines")


def _amount_to_collect(order):
    """Cash the courier collects on delivery (``Order.money_position().due``); ``None`` if prepaid.

    ``order`` carries the ledger totals of ``selectors.with_net_received``.
    """
    if order.is_prepaid:
        return None
    return order.money_position(order.paid_received, order.refunded_amount).due


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
        stop = self.STOP_BANNERS.get(order.status)
        return render(
            request,
            "staff/order_print.html",
            {
                "order": order,
                "lines": list(order.lines.all()),
                "net_received": position.net,
                "paid_received": position.paid,
                "to_collect": None if order.is_prepaid else position.due,
                # Nothing is collected for an order that must not be delivered.
                "show_collect": stop is None,
                "stop_banner": stop,
                "wait_banner": self.WAIT_BANNERS.get(order.status),
                "printed_at": timezone.now(),
            },
        )
