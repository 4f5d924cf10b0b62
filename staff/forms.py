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

from orders import services
from orders.models import Payment, PaymentMethod
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
    return forms.DecimalField(
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

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    call_note = forms.CharField(
        label=_("Call note"),
        max_length=TEXT_MAX,
        widget=_textarea(placeholder=_("e.g. Spoke to Li Wei, address and items confirmed.")),
        help_text=_("What you checked with the member on the phone."),
    )

    def __init__(self, *args, order, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", order.version)
        super().__init__(*args, order=order, **kwargs)


class ReasonForm(OrderActionForm):
    """An action that needs a reason (invalidate, cancel)."""

    reason = forms.CharField(label=_("Reason"), max_length=TEXT_MAX, widget=_textarea())


class InvalidateForm(ReasonForm):
    pass


class CancelForm(ReasonForm):
    pass


class CallForm(OrderActionForm):
    """A call attempt: how it went and an optional note; changes nothing else."""

    outcome = forms.ChoiceField(
        label=_("How did the call go?"),
        choices=services.CallOutcome.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=TEXT_MAX, widget=_textarea(rows=2)
    )


class AssigneeField(forms.ModelChoiceField):
    """A logistics person by name (and username); ``current_pk`` is marked as the current one."""

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
    """Carrier and waybill number of the shipment."""

    carrier = forms.CharField(
        label=_("Carrier"),
        max_length=100,
        widget=forms.TextInput(attrs={"list": "carrier-suggestions", "autocomplete": "off"}),
    )
    tracking_number = forms.CharField(label=_("Waybill number"), max_length=100)


class PaymentForm(OrderActionForm):
    """Money received: amount, method (default: the order's), reference, date, note."""

    amount = _amount_field()
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        help_text=_("Courier receipt, bank transaction or remittance number."),
    )
    received_on = forms.DateField(
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
    reference = forms.CharField(
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


class CourierForm(forms.Form):
    """Pick whose deliveries to show (order admins and finance)."""

    courier = AssigneeField(
        label=_("Delivery person"),
        queryset=services.logistics_staff(),
        required=False,
        empty_label=_("Choose a person…"),
    )
