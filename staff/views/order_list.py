"""The order list: status tabs, filters, search, sort and fast deep paging."""

from collections import OrderedDict

from django.contrib import messages
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from orders import selectors, services
from orders.models import ORDER_ADMINS, Status
from staff import calling
from staff import views as staff_views
from staff.filters import CALLS_DUE_SORT, SORTABLE_COLUMNS, OrderFilter
from staff.views._base import StaffRequiredMixin, _query_string, staff_orders
from staff.views.selection import MAX_ORDERS

# Rows per page. The list reads it as ``staff.views.PAGE_SIZE`` (re-exported by the
# package), the name bench/pages.py sets to count the queries at other page sizes.
PAGE_SIZE = 50
AWAITING_QUEUE = "awaiting_confirmation"  # selectors.queue_definitions' key


class OrderPage(Page):
    """A page of the order list; ``more`` answers "is there a next page?" when the
    list's length is only known to be above the cap (``selectors.TabCount``)."""

    more = None

    def has_next(self):
        return self.more if self.more is not None else super().has_next()


class OrderPaginator(Paginator):
    """Pages of the order list that stay fast deep into a large list (docs/benchmarks.md).

    ``count``: the number of rows when the caller already knows it (the status tabs
    counted them), so the table is not counted twice. A ``selectors.TabCount`` that is
    ``capped`` ("1,000+") means the length is not known: any page number is accepted, a
    page reads one key more than it shows to know whether a next one exists, and a page
    past the end gives the first page. ``annotate``: applied to the page's rows (a
    queryset → queryset), which the page holds as a list.

    A page is fetched as "the rows whose keys are on this page": the ``OFFSET`` then
    walks the narrow sort index (index-only) instead of whole rows, one query all the
    same. When few rows match (a search), all their keys are read first: with a
    ``LIMIT`` the planner would rather walk the sort index hoping to meet them early,
    and may walk all of it.
    """

    few = 2000

    def __init__(self, object_list, per_page, *, count=None, annotate=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.capped = bool(getattr(count, "capped", False))
        self.annotate = annotate or (lambda queryset: queryset)
        if count is not None:
            self.count = count  # a cached_property: set here, never computed

    def validate_number(self, number):
        if not self.capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from error
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def get_page(self, number):
        if not self.capped:
            return super().get_page(number)
        try:
            return self.page(number)
        except (PageNotAnInteger, EmptyPage):
            page = self.page(1)
            page.asked_past_end = number not in (None, "", "1")
            return page

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.capped:
            keys = self.object_list.values("pk")[bottom : top + 1]
            rows = list(self.annotate(self.object_list.filter(pk__in=keys)))
            if not rows and number > 1:
                raise EmptyPage(self.error_messages["no_results"])
            page = OrderPage(rows[: self.per_page], number, self)
            page.more = len(rows) > self.per_page
            return page
        if top + self.orphans >= self.count:
            top = self.count
        if self.count <= self.few:
            keys = list(self.object_list.values_list("pk", flat=True))[bottom:top]
        else:
            keys = self.object_list.values("pk")[bottom:top]
        rows = list(self.annotate(self.object_list.filter(pk__in=keys)))
        return OrderPage(rows, number, self)


# Rendered filter fields by (language, the fields' values, the couriers offered): the
# form's nine widgets cost several milliseconds through the template engine on every
# request, for a handful of distinct outputs. Bounded; a form with errors is never kept.
_FILTER_FIELDS = OrderedDict()
FILTER_FIELDS_KEPT = 256


def filter_fields(form, couriers):
    """The filter form's fields as HTML (``staff/_order_filters.html``).

    ``couriers``: the people the assignee filter offers (``services.logistics_staff``),
    part of the key so a change of staff shows at once. The same HTML the template
    would write; kept in-process for the next request with the same key."""
    if form.errors:
        return render_to_string("staff/_order_filters.html", {"form": form})
    key = (
        translation.get_language(),
        tuple((name, tuple(form.data.getlist(name))) for name in form.fields),
        tuple((person.pk, person.get_full_name(), person.get_username()) for person in couriers)
        if "assigned_to" in form.fields
        else None,
    )
    html = _FILTER_FIELDS.get(key)
    if html is None:
        html = render_to_string("staff/_order_filters.html", {"form": form})
        _FILTER_FIELDS[key] = html
        while len(_FILTER_FIELDS) > FILTER_FIELDS_KEPT:
            _FILTER_FIELDS.popitem(last=False)
    return html


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
        if params.get("queue") == "calls_due" and not params.get("sort"):
            # "Calls due" runs by call-back time, and its sort box and headers say so.
            params = params.copy()
            params["sort"] = CALLS_DUE_SORT
        filterset = OrderFilter(params, queryset=staff_orders(request), request=request)
        orders = filterset.qs

        # Tabs count the orders the other filters leave, whatever their status: the same
        # filters applied again to the bare queryset (not a second filter set: building
        # one costs milliseconds of deep copies).
        tab_orders = other_queue = selectors.orders_for_staff(request.user)
        for name, value in filterset.form.cleaned_data.items():
            if name not in ("status", "sort"):
                tab_orders = filterset.filters[name].filter(tab_orders, value)
                if name != "queue":
                    other_queue = filterset.filters[name].filter(other_queue, value)
        now = timezone.now()
        counts = selectors.status_counts(
            tab_orders, now=now, selective=bool(filterset.form.cleaned_data.get("q"))
        )
        current_status = filterset.form.cleaned_data.get("status") or ""
        current_queue = filterset.form.cleaned_data.get("queue") or ""
        if current_queue and current_queue != AWAITING_QUEUE:
            # The "Awaiting confirmation" tab opens that queue instead of this one: it
            # counts what it will list (the other filters kept, this queue left out).
            counts[selectors.AWAITING] = selectors.TabCount.of(
                other_queue.filter(selectors.queue_filter(AWAITING_QUEUE)).count()
            )
        # The list is the tab's rows: its length is already counted (or known to be
        # more than the cap, for the archive's statuses).
        every = sum(counts[value] for value in Status.values)
        total = counts[current_status] if current_status else every
        if current_queue == AWAITING_QUEUE and current_status in ("", Status.SUBMITTED):
            total = counts[selectors.AWAITING]
        page = OrderPaginator(
            orders,
            staff_views.PAGE_SIZE,
            count=total,
            annotate=lambda rows: selectors.with_call_attempts(rows, now=now),
        ).get_page(params.get("page"))
        if getattr(page, "asked_past_end", False):
            # A capped list does not know its last page: say why the first one is shown.
            messages.info(
                request,
                _("There is no page %(n)s in this list; here is the first page.")
                % {"n": str(params.get("page"))[:12]},
            )
        callers = {
            pk: notice
            for pk, notice in calling.callers(page.object_list).items()
            if notice["user_id"] != request.user.pk  # the others calling, not oneself
        }
        tabs = [
            {
                "label": _("All"),
                "count": every,
                "url": _query_string(params, status=None, page=None),
                "active": not current_status,
            }
        ]
        for value, label in Status.choices:
            if value == Status.SUBMITTED:
                # The awaiting-confirmation queue: a call-back booked for later keeps an
                # order out of it until then (issue 11), in the count as in the rows.
                tabs.append(
                    {
                        "label": label,
                        "count": counts[selectors.AWAITING],
                        "url": _query_string(params, status=None, page=None, queue=AWAITING_QUEUE),
                        "active": current_queue == AWAITING_QUEUE and current_status in ("", value),
                    }
                )
                continue
            tabs.append(
                {
                    "label": label,
                    "count": counts[value],
                    "url": _query_string(params, status=value, page=None),
                    "active": current_status == value,
                }
            )
        if tabs[1]["active"]:
            tabs[0]["active"] = False

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
        # The couriers once: the assignee filter's choices (its queryset's rows kept, see
        # staff.filters) and the bulk allocation's select.
        if "assigned_to" in filterset.form.fields:
            couriers = list(filterset.form.fields["assigned_to"].queryset)
        else:
            couriers = list(services.logistics_staff()) if may_allocate else []
        context.update(
            bulk={
                "may_allocate": may_allocate,
                "couriers": couriers if may_allocate else [],
                "max": MAX_ORDERS,
            },
            filter_fields=filter_fields(filterset.form, couriers),
            filterset=filterset,
            form=filterset.form,
            page_obj=page,
            pages_known=not page.paginator.capped,
            orders=page.object_list,
            callers=callers,
            # The role (already read for the page) rather than a permission query; the
            # phone-order page itself asks ``services.may_ever``.
            can_phone_order=ORDER_ADMINS in selectors.staff_roles(request.user),
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
                "last": ""
                if page.paginator.capped
                else _query_string(params, page=page.paginator.num_pages),
            },
        )
        return context
