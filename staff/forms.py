"""Forms of the back-office actions: they validate input; the services decide the rest.

Each form takes the ``order`` it acts on (for defaults and help texts). Rules about
states, roles and money live in ``orders.services``, which checks them again.
"""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from mall.formatting import (
    CodeField,
    TypedDateField,
    TypedDateTimeField,
    TypedDecimalField,
    TypedIntegerField,
)
from orders import services
from orders.models import DeliveryOutcome, Order, Payment, PaymentMethod
from staff.filters import EARLIEST_DAY
from staff.templatetags.staff_tags import format_money, person

TEXT_MAX = services.MAX_TEXT


def _textarea(rows=3, placeholder=None):
    attrs = {"rows": rows}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.Textarea(attrs=attrs)


def _amount_label():
    return _("Amount (%(currency)s)") % {"currency": settings.MALL_CURRENCY}


def _amount_field(help_text=""):
    return TypedDecimalField(
        # Lazy: the form class is built at import time, before a request picks a language.
        label=lazy(_amount_label, str)(),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=settings.MALL_MAX_PAYMENT_AMOUNT,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}),
    )


class OrderActionForm(forms.Form):
    """Base: remembers the order; ``next`` is an optional page to return to."""

    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)

    def __init__(self, *args, order, **kwargs):
        self.order = order
        super().__init__(*args, **kwargs)


class ConfirmForm(OrderActionForm):
    """Confirm after the call: carries the order ``version`` the admin reviewed."""

    version = TypedIntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    call_note = forms.CharField(
        label=_("Call note"),
        max_length=TEXT_MAX,
        widget=_textarea(placeholder=_("e.g. Spoke to Li Wei, address and items confirmed.")),
        help_text=_("What you checked with the member on the phone."),
    )

    reached_after_failed = forms.BooleanField(
        label=_("I reached the member afterwards"),
        required=False,
        help_text=_("The latest logged call did not reach the member."),
    )

    def __init__(self, *args, order, needs_tick=False, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", order.version)
        super().__init__(*args, order=order, **kwargs)
        # The services decide whether the tick is needed; the page shows it only then.
        self.needs_tick = needs_tick


class ReasonForm(OrderActionForm):
    """An action that needs a reason (invalidate, cancel)."""

    reason = forms.CharField(label=_("Reason"), max_length=TEXT_MAX, widget=_textarea())


class InvalidateForm(ReasonForm):
    pass


class CancelForm(ReasonForm):
    pass


def _unanswered_outcomes():
    # A call that reached the member is recorded by the confirm form (issue 11).
    return [
        (value, label)
        for value, label in services.CallOutcome.choices()
        if value != services.CallOutcome.REACHED
    ]


class CallingForm(OrderActionForm):
    """ "I am calling the member now": no field beyond the shared ``next``."""


class CallForm(OrderActionForm):
    """A call that did not end in a confirmation: no answer, wrong number, or call back
    at a time (a date-time in the shop's ``TIME_ZONE``); changes nothing else."""

    outcome = forms.ChoiceField(
        label=_("How did the call go?"),
        choices=_unanswered_outcomes,
        widget=forms.RadioSelect,
    )
    call_back_at = TypedDateTimeField(
        label=_("Call back at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Shop time; within the next 14 days."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=TEXT_MAX, widget=_textarea(rows=2)
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        now = timezone.localtime()
        self.fields["call_back_at"].widget.attrs.update(
            min=now.strftime("%Y-%m-%dT%H:%M"),
            max=(now + services.CALL_BACK_WITHIN).strftime("%Y-%m-%dT%H:%M"),
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == services.CallOutcome.CALL_BACK and not cleaned.get(
            "call_back_at"
        ):
            self.add_error("call_back_at", _("Say when to call back (date and time)."))
        elif cleaned.get("outcome") != services.CallOutcome.CALL_BACK:
            cleaned["call_back_at"] = None  # a time typed with another outcome is dropped
        return cleaned


class RowsOnceChoiceIterator(forms.models.ModelChoiceIterator):
    """A model choice field's choices from its queryset's rows, read once: a page that
    asked whether there is anyone to choose (``{% if field.queryset %}``) renders the
    select from the same rows, not with ``.iterator()`` (a second query, a server-side
    cursor on PostgreSQL)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class AssigneeField(forms.ModelChoiceField):
    """A logistics person by name (and username); ``current_pk`` is marked as the current one."""

    iterator = RowsOnceChoiceIterator
    current_pk = None

    def label_from_instance(self, obj):
        name = person(obj)
        label = name if name == obj.get_username() else f"{name} ({obj.get_username()})"
        if obj.pk == self.current_pk:
            label = _("%(name)s — has it now") % {"name": label}
        return label


class AllocateForm(OrderActionForm):
    """Choose a delivery person from the Logistics group.

    Everyone in the group is offered, the current assignee marked: a page opened before
    someone else allocated the order must still post a valid choice, so that the
    service's own refusal ("already assigned to this person") is what the user reads.
    """

    assignee = AssigneeField(
        label=_("Delivery person"),
        queryset=services.logistics_staff(),
        empty_label=_("Choose a person…"),
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        field = self.fields["assignee"]
        field.queryset = services.logistics_staff()
        if order.assigned_to_id:
            field.current_pk = order.assigned_to_id
            field.label = _("Re-assign to")


class ShipForm(OrderActionForm):
    """Who carries the parcel (the shop's own delivery staff, or a named carrier) and the
    waybill number.

    ``delivery_by`` ``"own"`` sends ``Order.OWN_DELIVERY_STAFF`` as the carrier (no
    waybill); ``"carrier"`` (or nothing ticked, for older forms) sends the typed
    ``carrier``. The waybill is never required here: the service asks for it when a
    third-party carrier has none (DESIGN status table, ``ship_order``).
    """

    OWN = "own"
    CARRIER = "carrier"
    OWN_LABEL = _("Own delivery staff")

    delivery_by = forms.ChoiceField(
        label=_("Who delivers it?"),
        choices=[
            (OWN, OWN_LABEL),
            (CARRIER, _("A carrier (SF Express, EMS…)")),
        ],
        widget=forms.RadioSelect,
        required=False,
    )
    carrier = forms.CharField(
        label=_("Carrier"),
        max_length=100,
        required=False,
        help_text=_("Only for a carrier: its name."),
        widget=forms.TextInput(attrs={"list": "carrier-suggestions", "autocomplete": "off"}),
    )
    tracking_number = CodeField(
        label=_("Waybill number"),
        max_length=100,
        required=False,
        help_text=_("Not needed when our own delivery staff carry the parcel."),
    )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        typed = (cleaned.get("carrier") or "").strip()
        own_names = {Order.OWN_DELIVERY_STAFF, str(self.OWN_LABEL).casefold()}
        if cleaned.get("delivery_by") == self.OWN or (
            not cleaned.get("delivery_by") and typed.casefold() in own_names
        ):
            cleaned["carrier"] = Order.OWN_DELIVERY_STAFF
        elif not typed:
            self.add_error(
                "carrier",
                _("Choose our own delivery staff, or enter the carrier's name."),
            )
        return cleaned


class PaymentForm(OrderActionForm):
    """Money received: amount, method (default: the order's), reference, date, note."""

    amount = _amount_field()
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = CodeField(
        label=_("Reference"),
        max_length=100,
        help_text=_("Courier receipt, bank transaction or remittance number."),
    )
    received_on = TypedDateField(
        label=_("Date received"),
        widget=forms.DateInput(
            attrs={"type": "date", "min": EARLIEST_DAY.isoformat()}, format="%Y-%m-%d"
        ),
        validators=[MinValueValidator(EARLIEST_DAY)],
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=TEXT_MAX, widget=_textarea(rows=2)
    )
    as_credit = forms.BooleanField(
        label=_("Record as credit"),
        required=False,
        help_text=_(
            "Tick only when the money received is more than is due: the excess is listed as "
            "a refund due."
        ),
    )

    def __init__(self, *args, order, balance_due=None, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("method", order.payment_method)
        kwargs["initial"].setdefault("received_on", timezone.localdate())
        super().__init__(*args, order=order, **kwargs)
        self.fields["received_on"].widget.attrs["max"] = timezone.localdate().isoformat()
        if balance_due is not None and balance_due > 0:
            self.fields["amount"].help_text = _("Balance due: %(amount)s") % {
                "amount": format_money(balance_due)
            }


class RefundForm(OrderActionForm):
    """Money paid back: amount (at most what is held), which kind of refund, reference, note.

    The kind has no default on purpose (DESIGN "Money: one rule"): a credit note lowers
    what the member owes, money back leaves it owed; a wrong guess changes what is due.
    """

    KIND_CHOICES = [
        (
            "credit_note",
            _("The member owes less (credit note: goods missing, damaged, a discount)"),
        ),
        ("money_back", _("Money back, still owed (paid twice, paid to the wrong account)")),
    ]

    amount = _amount_field()
    kind = forms.ChoiceField(
        label=_("Which kind of refund?"),
        choices=KIND_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether the member owes less or gets money back.")},
    )
    reference = CodeField(
        label=_("Reference"),
        max_length=100,
        help_text=_("The refund's transfer or receipt number."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=TEXT_MAX, widget=_textarea(rows=2)
    )

    def __init__(self, *args, order, net_received=None, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        if net_received is not None:
            self.fields["amount"].help_text = _("Money held: %(amount)s") % {
                "amount": format_money(net_received)
            }


class VoidForm(OrderActionForm):
    """Void one ledger entry of this order, with a reason."""

    payment = forms.ModelChoiceField(
        queryset=Payment.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("This ledger entry is not on this order.")},
    )
    reason = forms.CharField(label=_("Reason"), max_length=TEXT_MAX, widget=_textarea())

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        self.fields["payment"].queryset = order.payments.all()


class DeliveryAttemptForm(OrderActionForm):
    """A failed delivery attempt: what happened at the door, a note, the next try's date.

    ``next_attempt_on`` is optional and not in the past (the shop's today); the service
    checks it again, and asks for a note when the outcome is "other".
    """

    outcome = forms.ChoiceField(
        label=_("What happened at the door?"),
        choices=DeliveryOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what happened at the door.")},
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=_textarea(rows=2),
        help_text=_("Required when the outcome is “Other”."),
    )
    next_attempt_on = TypedDateField(
        label=_("Next attempt on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        self.fields["next_attempt_on"].widget.attrs["min"] = timezone.localdate().isoformat()

    def clean_next_attempt_on(self):
        day = self.cleaned_data.get("next_attempt_on")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("The next attempt cannot be in the past."))
        return day


class DeliverForm(OrderActionForm):
    """The parcel reached the member: who received it, a note, and the cash taken.

    ``collected_amount`` (a ``Decimal`` >= 0 in shop currency) is only on the form when
    ``services.collects_cash(order)`` and something is ``due``; it starts empty (the
    courier types what they really took) and its help text says what was due. A
    difference from the due amount is allowed and flagged on the order page.
    """

    received_by = forms.CharField(
        label=_("Received by"),
        required=False,
        max_length=100,
        help_text=_("Who took the parcel (name as signed)."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=TEXT_MAX, widget=_textarea(rows=2)
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        due = order.money_position().due
        self.due = due
        if services.collects_cash(order) and due > 0:
            self.fields["collected_amount"] = TypedDecimalField(
                label=_("Cash taken (%(currency)s)") % {"currency": settings.MALL_CURRENCY},
                max_digits=12,
                decimal_places=2,
                min_value=Decimal("0.00"),
                max_value=settings.MALL_MAX_PAYMENT_AMOUNT,
                help_text=_("%(due)s is due. Type the cash you really took.")
                % {"due": format_money(due)},
                error_messages={
                    "required": _("Enter the cash the courier took (%(due)s was due).")
                    % {"due": format_money(due)}
                },
                widget=forms.NumberInput(
                    attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}
                ),
            )


class ReturnForm(OrderActionForm):
    """The parcel came back to the shop: reason, and which units go back to stock.

    ``restock``: ``all`` (every reserved unit), ``none`` (all written off) or ``some``
    with a number per line (field ``units-<line pk>``, 0 to the line's reserved units).
    ``cleaned_data["restock"]`` is what ``services.record_return`` takes: ``True``,
    ``False`` or ``{sku: units}``.
    """

    ALL, NONE, SOME = "all", "none", "some"

    reason = forms.CharField(label=_("Reason"), max_length=TEXT_MAX, widget=_textarea())
    restock_choice = forms.ChoiceField(
        label=_("What goes back to stock?"),
        choices=[
            (ALL, _("Everything: all units go back on the shelf")),
            (NONE, _("Nothing: all units are written off (damaged or lost)")),
            (SOME, _("Some units: say how many per item")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Say what goes back to stock.")},
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        self.lines = list(order.lines.all())
        self.unit_fields = []
        for line in self.lines:
            name = f"units-{line.pk}"
            self.fields[name] = TypedIntegerField(
                label=f"{line.name} ({line.sku})",
                required=False,
                min_value=0,
                max_value=line.reserved_quantity,
                initial=line.reserved_quantity,
                help_text=_("At most %(n)s (the units reserved for this order).")
                % {"n": line.reserved_quantity},
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
            self.unit_fields.append((line, name))

    def unit_inputs(self):
        """The per-line number fields (bound), for the template."""
        return [self[name] for _line, name in self.unit_fields]

    def clean(self):
        cleaned = super().clean()
        choice = cleaned.get("restock_choice")
        if choice == self.ALL:
            cleaned["restock"] = True
        elif choice == self.NONE:
            cleaned["restock"] = False
        elif choice == self.SOME:
            units = {}
            for line, name in self.unit_fields:
                if name in self.errors:
                    continue
                value = cleaned.get(name)
                if value is None:
                    self.add_error(
                        name,
                        _("Enter how many units of %(sku)s go back to stock (0 for none).")
                        % {"sku": line.sku},
                    )
                    continue
                units[line.sku] = value
            cleaned["restock"] = units
        return cleaned


class CourierForm(forms.Form):
    """Pick whose deliveries to show (order admins and finance)."""

    courier = AssigneeField(
        label=_("Delivery person"),
        queryset=services.logistics_staff(),
        required=False,
        empty_label=_("Choose a person…"),
    )


class RunSheetForm(CourierForm):
    """Whose run sheet (order admins and finance pick; a courier gets their own) and
    which day (default today, in the shop's time zone)."""

    date = TypedDateField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class BulkAllocateForm(forms.Form):
    """Allocate the orders ticked in the list to one delivery person.

    ``order``: the order numbers (at most ``staff.views.selection.MAX_ORDERS``, checked
    by the view); each order then goes through ``services.allocate_order``.
    """

    assignee = AssigneeField(
        label=_("Delivery person"),
        queryset=services.logistics_staff(),
        empty_label=_("Choose a person…"),
        error_messages={"required": _("Choose the delivery person to allocate the orders to.")},
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = services.logistics_staff()
