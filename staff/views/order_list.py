"""The order list: status tabs, filters, search, sort and fast deep paging."""

from django.core.paginator import Paginator
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from orders import selectors, services
from orders.models import ORDER_ADMINS, Status
from staff import calling
from staff import views as staff_views
from staff.filters import SORTABLE_COLUMNS, OrderFilter
from staff.views._base import StaffRequiredMixin, _query_string, staff_orders
from staff.views.selection import MAX_ORDERS

# Rows per page. The list reads it as ``staff.views.PAGE_SIZE`` (re-exported by the
# package), the name bench/pages.py sets to count the queries at other page sizes.
PAGE_SIZE = 50


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
    """Every order the user may see: status tabs, filters, search, sort, 50 per page.

    Rows can be ticked for the bulk actions: allocate to one courier (roles that may
    allocate, ``services.may_ever``), print their sheets, a run sheet, a picking list.
    """

    template_name = "staff/order_list.html"
    nav = "orders"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        params = request.GET
        # A bare /staff/orders/ opens on the work waiting for the user's role; "All
        # orders" (any query string, e.g. ?sort=-placed_at) is one click away.
        role_queue = not params and selectors.default_list_query(request.user)
        if role_queue:
            params = QueryDict(role_queue)
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
        page = OrderPaginator(orders, staff_views.PAGE_SIZE, count=total).get_page(
            params.get("page")
        )
        # Age, call attempts and who is calling, for the page's rows only (issue 11).
        page.object_list = selectors.with_call_attempts(page.object_list)
        callers = {
            pk: notice
            for pk, notice in calling.callers(page.object_list).items()
            if notice["user_id"] != request.user.pk  # the others calling, not oneself
        }
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
        may_allocate = services.may_ever(request.user, "allocate")
        context.update(
            bulk={
                "may_allocate": may_allocate,
                "couriers": list(services.logistics_staff()) if may_allocate else [],
                "max": MAX_ORDERS,
            },
            filterset=filterset,
            form=filterset.form,
            page_obj=page,
            orders=page.object_list,
            callers=callers,
            # The role (already read for the page) rather than a permission query; the
            # phone-order page itself asks ``services.may_ever``.
            can_phone_order=ORDER_ADMINS in selectors.staff_roles(request.user),
            confirm_target=selectors.confirm_target_start(),
            tabs=tabs,
            sort_links=sort_links,
            queue_label=queue_label,
            role_queue=bool(role_queue),
            all_orders_url="?sort=-placed_at",
            filtered=any(v for k, v in params.items() if k not in ("page", "sort")),
            export_url=reverse("staff:order-export") + _query_string(params, page=None),
            export_xlsx_url=reverse("staff:order-export")
            + _query_string(params, page=None, format="xlsx"),
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
