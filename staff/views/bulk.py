"""Bulk actions of the order list: several orders ticked, one action each through the
services (a refusal on one order is reported, the others go ahead)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from mall.http import safe_next
from orders import services
from orders.exceptions import OrderError
from staff import forms as staff_forms
from staff.templatetags.staff_tags import person
from staff.views._base import StaffRequiredMixin
from staff.views.selection import select_orders


class BulkAllocateView(StaffRequiredMixin, View):
    """Allocate the ticked orders (``order``: numbers, at most ``selection.MAX_ORDERS``) to
    one delivery person (``assignee``), each order through ``services.allocate_order``.

    403 for a role that may never allocate. A refusal on one order (not confirmed, already
    with that person, not found) is reported with its number and does not stop the others;
    one summary message says what happened, then back to the list (``next``).
    """

    http_method_names = ["post"]
    nav = "orders"

    def check_permission(self, request):
        if not services.may_ever(request.user, "allocate"):
            raise PermissionDenied(_("Your role cannot take this action."))

    def post(self, request):
        back = safe_next(request, request.POST.get("next")) or reverse("staff:order-list")
        form = staff_forms.BulkAllocateForm(request.POST)
        if not form.is_valid():
            errors = [str(e) for field in form for e in field.errors]
            errors += [str(e) for e in form.non_field_errors()]
            messages.error(request, " ".join(errors) or _("Nothing was saved."))
            return redirect(back)
        selection = select_orders(request.user, request.POST.getlist("order"))
        if selection.error:
            messages.error(request, selection.error)
            return redirect(back)
        if not selection.named:
            messages.error(request, _("Tick the orders to allocate first."))
            return redirect(back)
        assignee = form.cleaned_data["assignee"]
        allocated, refused = [], [(number, _("not found")) for number in selection.missing]
        for order in selection.orders:
            try:
                services.allocate_order(request.user, order, assignee=assignee)
            except OrderError as exc:
                refused.append((order.number, exc.message))
            else:
                allocated.append(order.number)
        messages.add_message(
            request,
            messages.SUCCESS if not refused else messages.WARNING if allocated else messages.ERROR,
            summary(allocated, refused, person(assignee)),
        )
        return redirect(back)


def summary(allocated, refused, name):
    """One message: how many orders went to ``name``, and each refusal with its reason."""
    parts = []
    if allocated:
        parts.append(
            ngettext(
                "%(count)d order allocated to %(name)s: %(numbers)s.",
                "%(count)d orders allocated to %(name)s: %(numbers)s.",
                len(allocated),
            )
            % {"count": len(allocated), "name": name, "numbers": ", ".join(allocated)}
        )
    if refused:
        parts.append(
            ngettext(
                "%(count)d order not allocated: %(reasons)s",
                "%(count)d orders not allocated: %(reasons)s",
                len(refused),
            )
            % {
                "count": len(refused),
                "reasons": "; ".join(
                    _("%(number)s (%(reason)s)") % {"number": number, "reason": reason}
                    for number, reason in refused
                ),
            }
        )
    return " ".join(parts)
