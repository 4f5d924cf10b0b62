"""What every back-office view shares: the staff-only gate, finding an order in the
user's scope, its page's address, the role names and the list's query strings.
"""

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from orders import selectors
from orders.models import FINANCE, LOGISTICS, ORDER_ADMINS

STALE_SESSION_KEY = "staff-stale-%s"


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
