"""The POST endpoint every order action shares (``OrderActionView``)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from mall.http import safe_next
from orders import services
from orders.exceptions import InvalidInput, OrderError, StaleOrder
from orders.forms import add_service_errors
from staff.timeline import serialise_changes
from staff.views._base import STALE_SESSION_KEY, StaffRequiredMixin, detail_url, order_for_staff
from staff.views.order_detail import detail_context


class OrderActionView(StaffRequiredMixin, View):
    """POST endpoint of one action: 403 if the role may never take it; else validate,
    call the one service, and turn a refusal into a message (never a 500).

    Subclasses set ``action`` (a name of ``services.ACTION_CHECKS``), ``form_class`` and
    implement ``perform(order, data)`` returning the success message. With a
    ``confirm_template`` a GET shows a confirmation page holding the form. With
    ``keep_input`` an ``InvalidInput`` from the service shows the form again as typed.
    """

    action = ""
    form_class = None
    confirm_template = None
    # A form whose typed values are worth keeping when the service refuses them.
    keep_input = False
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
            if self.keep_input and isinstance(exc, InvalidInput) and self.refusal(order) is None:
                # The action is still open: the service refused what was typed (a date in
                # the future, a reference already recorded). Show the form again as typed,
                # with the reason.
                add_service_errors(form, exc)
                return self.form_invalid(order, form, message=exc.message)
            messages.error(request, exc.message)
            return redirect(self.return_url(order, form))
        messages.success(request, text)
        return redirect(self.return_url(order, form))

    def form_invalid(self, order, form, message=None):
        messages.error(
            self.request, message or _("Nothing was saved: please correct the form below.")
        )
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
