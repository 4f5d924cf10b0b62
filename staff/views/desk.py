"""The confirmation desk's pages (issue 11): change an order for the member
(``/staff/orders/<number>/edit/``) and take an order by phone (``/staff/orders/new/``).

Thin as every back-office view: forms validate, ``orders.services`` decides and acts.
"""

import secrets

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View

from mall.catalogue import find_products
from mall.people import person_name
from orders import selectors, services
from orders.exceptions import InvalidInput, OrderError, StaleOrder, TransitionNotAllowed
from orders.forms import rebase_typed
from staff import calling
from staff.desk_forms import MemberSearchForm, NewMemberForm, OrderEditForm, PhoneOrderForm
from staff.timeline import describe_changes, serialise_changes
from staff.views._base import StaffRequiredMixin, detail_url, order_for_staff
from staff.views.actions._base import OrderActionView


def _search_text(request):
    return request.GET.get("find", "")[:100]


class OrderEditView(OrderActionView):
    """Change a submitted order for the member on the phone (order admins): GET shows the
    form (``?find=`` searches products by name or SKU), POST goes through ``edit_order``."""

    action = "edit"
    form_class = OrderEditForm
    confirm_template = "staff/order_edit.html"
    http_method_names = ["get", "post"]

    def get_form(self, order, data=None, **kwargs):
        found = find_products(_search_text(self.request)) if data is None else ()
        return OrderEditForm(data, order=order, found=found, **kwargs)

    def confirm_context(self, order, form):
        return {
            "order": order,
            "form": form,
            "find": _search_text(self.request),
            "searched": bool(_search_text(self.request)),
            "nav": "orders",
        }

    def get(self, request, number):
        # Opening the change form means the admin is on the phone with the member.
        order = order_for_staff(request, number)
        if self.refusal(order) is None:
            calling.claim(order, request.user)
        return super().get(request, number)

    def perform(self, order, data):
        form = self._form
        changed = services.edit_order(
            self.request.user,
            order,
            expected_version=data["version"],
            lines=form.wanted_lines(),
            address=form.address(),
            payment_method=data["payment_method"],
            note=data["note"],
            reason=data["reason"],
        )
        if changed.version == data["version"]:
            return _("Nothing to change: order %(number)s already reads as the form did.") % {
                "number": order.number
            }
        return _("Order %(number)s is changed; the member gets an e-mail listing the changes.") % {
            "number": order.number
        }

    def post(self, request, number):
        order = order_for_staff(request, number)
        if request.POST.get("do") == "search":
            return self.search(order)
        self._form = form = self.get_form(order, request.POST)
        if not form.is_valid():
            reason = self.refusal(order)
            if reason:
                messages.error(request, reason)
                return redirect(detail_url(order))
            return self.form_invalid(order, form)
        try:
            text = self.perform(order, form.cleaned_data)
        except StaleOrder as exc:
            return self.stale(order, form, exc)
        except TransitionNotAllowed as exc:
            messages.error(request, exc.message)
            return redirect(detail_url(order))
        except OrderError as exc:
            # Bad lines, address or stock: the form comes back with what was typed.
            form.add_error(None, exc.message)
            for field, message in (exc.details or {}).get("fields", {}).items():
                if field in form.fields:
                    form.add_error(field, message)
            return self.form_invalid(order, form)
        messages.success(request, text)
        return redirect(detail_url(order))

    def return_url(self, order, form):
        return detail_url(order)

    def search(self, order):
        """ "Search" or "Update the total" inside the form: shown again with everything
        typed kept (unbound: no error before saving) and the products found added."""
        reason = self.refusal(order)
        if reason:
            messages.error(self.request, reason)
            return redirect(detail_url(order))
        find = self.request.POST.get("find", "")[:100]
        form = OrderEditForm(order=order, carry=self.request.POST, found=find_products(find))
        context = {**self.confirm_context(order, form), "find": find, "searched": bool(find)}
        return render(self.request, self.confirm_template, context)

    def stale(self, order, form, exc):
        """The order changed since the form was opened: nothing is saved; the form comes
        back on the current order with what the admin typed and the list of what changed,
        to check and save again. If the order can no longer be changed, the order page."""
        fresh = order_for_staff(self.request, order.number)
        reason = self.refusal(fresh)
        if reason:
            self.remember_stale(fresh, exc, form.cleaned_data)
            messages.error(self.request, exc.message)
            return redirect(detail_url(fresh))
        changes = exc.details.get("changes", [])
        data, both_changed = rebase_typed(self.request.POST, changes)
        data["version"] = str(fresh.version)
        again = self.get_form(fresh, data)
        self._form = again
        messages.error(self.request, exc.message)
        if both_changed:
            messages.warning(
                self.request,
                _("You and the member both changed %(fields)s: your values are kept below.")
                % {"fields": ", ".join(both_changed)},
            )
        context = self.confirm_context(fresh, again)
        context["stale"] = {
            "seen_version": form.cleaned_data.get("version"),
            "current_version": fresh.version,
            "changes": describe_changes(serialise_changes(exc.details.get("changes", []))),
        }
        return render(self.request, self.confirm_template, context, status=409)


class PhoneOrderView(StaffRequiredMixin, View):
    """Take an order by phone for a member (order admins; other roles 403).

    GET: find the member (``?member_q=``), or create one; with ``?member=<id>`` chosen,
    the order form (``?find=`` searches products), the address pre-filled from the
    member's last order. POST ``step=member`` creates the member; POST ``step=order``
    places the order through ``place_order(..., customer=member)`` and, if asked,
    confirms it at once with the call note.
    """

    nav = "orders"
    template_name = "staff/order_new.html"

    def check_permission(self, request):
        if not services.may_ever(request.user, "new"):
            raise PermissionDenied(_("Your role cannot take orders by phone."))

    def _member(self, value):
        try:
            pk = int(value)
        except (TypeError, ValueError):
            return None
        if not 0 < pk < 2**31:
            return None
        return selectors.members().filter(pk=pk).first()

    def _order_initial(self, member):
        initial = selectors.last_address(member) or {
            "recipient": person_name(member, username_fallback=False),
            "phone": member.get_username().split("-")[0]
            if member.get_username().split("-")[0].isdigit()
            else "",
        }
        last = selectors.orders_for_member(member).first()
        return {
            **initial,
            "payment_method": last.payment_method if last else "cod",
            "member": member.pk,
            "token": secrets.token_urlsafe(24),
        }

    def _render(
        self, request, *, member=None, order_form=None, member_form=None, status=200, find=None
    ):
        find = _search_text(request) if find is None else find
        search = MemberSearchForm(request.GET or None)
        members = []
        if member is None and search.is_valid() and search.cleaned_data.get("member_q"):
            members = selectors.find_members(search.cleaned_data["member_q"])
        if member is not None and order_form is None:
            order_form = PhoneOrderForm(
                initial=self._order_initial(member), found=find_products(find)
            )
        context = {
            "member": member,
            "search": search,
            "members": members,
            "searched_members": bool(search.is_bound and request.GET.get("member_q")),
            "member_form": member_form or NewMemberForm(),
            "form": order_form,
            "find": find,
            "searched": bool(find),
            "last_address": bool(member and selectors.last_address(member)),
            "nav": "orders",
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        member = self._member(request.GET.get("member")) if request.GET.get("member") else None
        return self._render(request, member=member)

    def post(self, request):
        if request.POST.get("step") == "member":
            return self._create_member(request)
        return self._place(request)

    def _create_member(self, request):
        form = NewMemberForm(request.POST)
        if form.is_valid():
            try:
                member = services.create_member(
                    request.user,
                    name=form.cleaned_data["name"],
                    phone=form.cleaned_data["phone"],
                    email=form.cleaned_data["email"],
                )
            except InvalidInput as exc:
                for field, message in (exc.details or {}).get("fields", {}).items():
                    form.add_error(field if field in form.fields else None, message)
                if not form.errors:
                    form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Member %(name)s is registered (no password yet: they can set one later).")
                    % {"name": person_name(member)},
                )
                return redirect(reverse("staff:order-new") + "?" + urlencode({"member": member.pk}))
        messages.error(request, _("Nothing was saved: please correct the form below."))
        return self._render(request, member_form=form)

    def _place(self, request):
        member = self._member(request.POST.get("member"))
        if request.POST.get("do") == "search" and member is not None:
            # "Search" / "Update the total" inside the form: everything typed is kept.
            find = request.POST.get("find", "")[:100]
            form = PhoneOrderForm(carry=request.POST, found=find_products(find))
            return self._render(request, member=member, order_form=form, find=find)
        form = PhoneOrderForm(request.POST)
        if form.is_valid() and member is not None:
            try:
                with transaction.atomic():
                    order = services.place_order(
                        request.user,
                        lines=form.added_lines(),
                        address=form.address(),
                        payment_method=form.cleaned_data["payment_method"],
                        note=form.cleaned_data["note"],
                        checkout_token=form.cleaned_data["token"],
                        customer=member,
                    )
                    if form.cleaned_data["confirm_now"] and order.status == "submitted":
                        order = services.confirm_order(
                            request.user,
                            order,
                            expected_version=order.version,
                            call_note=form.cleaned_data["call_note"],
                        )
            except OrderError as exc:
                form.add_error(None, exc.message)
                for field, message in (exc.details or {}).get("fields", {}).items():
                    if field in form.fields:
                        form.add_error(field, message)
            else:
                calling.release(order)
                text = (
                    _("Order %(number)s is placed for %(name)s and confirmed.")
                    if order.status != "submitted"
                    else _("Order %(number)s is placed for %(name)s.")
                )
                messages.success(
                    request,
                    text
                    % {
                        "number": order.number,
                        "name": person_name(order.customer),
                    },
                )
                return redirect(detail_url(order))
        elif member is None:
            form.add_error(None, _("Choose the member first."))
        messages.error(request, _("Nothing was placed: please correct the form below."))
        return self._render(request, member=member, order_form=form)
