"""Cash on delivery from the courier's hand to the books (DESIGN "Cash on delivery").

``CashView`` (``/staff/cash/``): each courier's cash in hand and the remittances so far;
finance and order admins may look. ``RemittanceView`` (``/staff/cash/remit/<id>/``):
finance records what one courier hands over, through ``services.record_remittance``.
"""

import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from orders import selectors, services
from orders.exceptions import OrderError
from orders.models import FINANCE, LOGISTICS, ORDER_ADMINS, CodCollection, Remittance
from staff.cash_forms import CashFilterForm, RemittanceForm
from staff.templatetags.staff_tags import format_money, person
from staff.views._base import StaffRequiredMixin, _query_string

REMITTANCES_PER_PAGE = 25
# Cash a courier has held longer than this is highlighted: it should have reached
# finance by the end of the next working day.
OVERDUE_AFTER = datetime.timedelta(hours=24)


def may_view_cash(user):
    """Finance and order admins see the cash page (DESIGN "URLs")."""
    roles = selectors.staff_roles(user)
    return FINANCE in roles or ORDER_ADMINS in roles


class CashView(StaffRequiredMixin, TemplateView):
    """Cash in each courier's hands (oldest collection highlighted past 24 h), then the
    remittances, newest first, filterable by courier (``?courier=&page=``)."""

    template_name = "staff/cash.html"
    nav = "cash"

    def check_permission(self, request):
        if not may_view_cash(request.user):
            raise PermissionDenied(_("The cash page is for finance and order admins."))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        now = timezone.now()
        in_hand = services.cash_in_hand()
        for row in in_hand:
            row["overdue"] = now - row["oldest"] > OVERDUE_AFTER
        couriers = (
            get_user_model()
            .objects.filter(Q(remittances__isnull=False) | Q(groups__name=LOGISTICS))
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        params = request.GET
        picker = CashFilterForm(params or None, couriers=couriers)
        remittances = Remittance.objects.select_related("courier", "received_by").order_by(
            "-received_at", "-pk"
        )
        courier = None
        if picker.is_bound and picker.is_valid():
            courier = picker.cleaned_data["courier"]
            if courier is not None:
                remittances = remittances.filter(courier=courier)
        page = Paginator(remittances, REMITTANCES_PER_PAGE).get_page(params.get("page"))
        context.update(
            in_hand=in_hand,
            in_hand_total=sum((r["amount"] for r in in_hand), Decimal("0.00")),
            may_record=services.may_ever(request.user, "remit"),
            picker=picker,
            courier=courier,
            page_obj=page,
            remittances=page.object_list,
            page_links={
                "previous": _query_string(params, page=page.previous_page_number())
                if page.has_previous()
                else "",
                "next": _query_string(params, page=page.next_page_number())
                if page.has_next()
                else "",
            },
        )
        return context


def courier_or_404(courier_id):
    """A logistics person, or anyone still holding collected cash; else 404."""
    holding = CodCollection.objects.in_hand().values("courier_id")
    users = get_user_model().objects.filter(Q(groups__name=LOGISTICS) | Q(pk__in=holding))
    courier = users.filter(pk=courier_id).first()
    if courier is None:
        raise Http404
    return courier


class RemittanceView(StaffRequiredMixin, View):
    """Record the cash one courier hands over (finance; any other role 403).

    GET lists the courier's collections not yet remitted, every one ticked. POST records
    the ticked ones with the counted cash; when the count differs from the ticked sum the
    clerk is asked to confirm that difference first (and the service wants a note). A
    refusal shows the form again with what was typed; nothing is recorded.
    """

    template_name = "staff/cash_remit.html"
    http_method_names = ["get", "post"]

    def check_permission(self, request):
        if not services.may_ever(request.user, "remit"):
            raise PermissionDenied(_("Only finance records the cash couriers hand over."))

    def pending(self, courier):
        return list(
            CodCollection.objects.in_hand(courier)
            .select_related("order")
            .order_by("collected_at", "pk")
        )

    def render_form(self, courier, form, *, pending, ticked=None, difference=None, status=200):
        ticked = set(ticked if ticked is not None else (c.pk for c in pending))
        return render(
            self.request,
            self.template_name,
            {
                "nav": "cash",
                "courier": courier,
                "form": form,
                "pending": pending,
                "ticked": ticked,
                "expected": sum((c.amount for c in pending if c.pk in ticked), Decimal("0.00")),
                "difference": difference,
            },
            status=status,
        )

    def get(self, request, courier_id):
        courier = courier_or_404(courier_id)
        pending = self.pending(courier)
        total = sum((c.amount for c in pending), Decimal("0.00"))
        form = RemittanceForm(initial={"counted": total if pending else None})
        return self.render_form(courier, form, pending=pending)

    def post(self, request, courier_id):
        courier = courier_or_404(courier_id)
        pending = self.pending(courier)
        form = RemittanceForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Nothing was recorded: please correct the form below."))
            return self.render_form(courier, form, pending=pending, ticked=_typed_ids(request.POST))
        data = form.cleaned_data
        ticked = data["collections"]
        by_pk = {c.pk: c for c in pending}
        difference = None
        if all(pk in by_pk for pk in ticked):
            expected = sum((by_pk[pk].amount for pk in ticked), Decimal("0.00"))
            difference = (data["counted"] - expected) or None
            if difference and data["confirm_difference"] != str(difference):
                # Show the difference and ask again: a typo in the count must not become
                # a shortfall on the books.
                form = RemittanceForm(
                    {**request.POST.dict(), "confirm_difference": str(difference)}
                )
                form.is_valid()
                messages.warning(
                    request,
                    _(
                        "The cash counted (%(counted)s) differs from the collections ticked "
                        "(%(expected)s) by %(difference)s. Check the count, say why in the "
                        "note, and press “Record with this difference”."
                    )
                    % {
                        "counted": format_money(data["counted"]),
                        "expected": format_money(expected),
                        "difference": format_money(difference),
                    },
                )
                return self.render_form(
                    courier, form, pending=pending, ticked=ticked, difference=difference
                )
        try:
            remittance = services.record_remittance(
                request.user,
                courier=courier,
                collections=ticked,
                counted_amount=data["counted"],
                note=data["note"],
            )
        except OrderError as exc:
            messages.error(request, exc.message)
            return self.render_form(
                courier, form, pending=self.pending(courier), ticked=ticked, difference=difference
            )
        count = remittance.collections.count()
        text = ngettext(
            "Remittance %(number)s recorded: %(n)d collection of %(courier)s, %(counted)s counted.",
            "Remittance %(number)s recorded: %(n)d collections of %(courier)s, %(counted)s "
            "counted.",
            count,
        ) % {
            "number": remittance.number,
            "n": count,
            "courier": person(courier),
            "counted": format_money(remittance.counted),
        }
        if remittance.difference:
            text += " " + _("Difference from the %(expected)s expected: %(difference)s.") % {
                "expected": format_money(remittance.expected),
                "difference": format_money(remittance.difference),
            }
        messages.success(request, text)
        return redirect(reverse("staff:cash"))


def _typed_ids(post):
    """The ticked ids of a post that did not validate, to keep them ticked (bad ones out)."""
    ids = set()
    for raw in post.getlist("collections")[:1000]:
        text = str(raw).strip()
        if text.isascii() and text.isdigit() and len(text) <= 10:
            ids.add(int(text))
    return ids
