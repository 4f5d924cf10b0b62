"""Forms of finance's cash pages: a courier's remittance, a carrier's settlement file.

They only validate the shape of the input (numbers, lengths, a file was sent). Whether a
collection may be handed over, whether the note is needed, whether a settlement row
applies: ``orders.services`` decides, under its locks.
"""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from mall.formatting import TypedDecimalField
from mall.people import person_name
from orders import services
from orders.cod_settlement import MAX_BYTES
from orders.models import Remittance

TEXT_MAX = services.MAX_TEXT
MAX_COLLECTIONS = 1000  # more ticks than any courier's day; a longer post is hand-made
MAX_ID = 2**31 - 1


def _counted_label():
    return _("Cash counted (%(currency)s)") % {"currency": settings.MALL_CURRENCY}


class CollectionIdsField(forms.Field):
    """The primary keys of the ticked collections, as ints (the service checks each one)."""

    widget = forms.CheckboxSelectMultiple
    default_error_messages = {
        "required": _("Tick the collections the courier is handing over."),
        "invalid": _("The ticked collections are not valid: reload the page."),
        "too_many": _("Tick at most %(n)d collections at a time."),
    }

    def to_python(self, value):
        if value in (None, "", []):
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        if len(value) > MAX_COLLECTIONS:
            raise ValidationError(
                self.error_messages["too_many"], code="too_many", params={"n": MAX_COLLECTIONS}
            )
        ids = []
        for raw in value:
            text = str(raw).strip()
            if not text.isascii() or not text.isdigit() or len(text) > 10 or int(text) > MAX_ID:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            ids.append(int(text))
        return sorted(set(ids))

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")


class RemittanceForm(forms.Form):
    """What the courier hands over: the ticked collections, the cash counted, a note.

    ``confirm_difference`` carries the difference the clerk has already been shown and
    accepted (as text, e.g. ``"-10.00"``); a post whose difference is another one is
    shown the confirmation again.
    """

    collections = CollectionIdsField(label=_("Collections handed over"))
    counted = TypedDecimalField(
        label=lazy(_counted_label, str)(),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.00"),
        max_value=settings.MALL_MAX_PAYMENT_AMOUNT,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=TEXT_MAX,
        help_text=_("Required when the cash counted differs from the collections ticked."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm_difference = forms.CharField(required=False, max_length=30, widget=forms.HiddenInput)


class CashFilterForm(forms.Form):
    """Which courier's remittances to list (``?courier=<user id>``)."""

    courier = forms.ModelChoiceField(
        label=_("Courier"),
        queryset=Remittance.objects.none(),
        required=False,
        empty_label=_("All couriers"),
    )

    def __init__(self, *args, couriers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["courier"].queryset = couriers
        self.fields["courier"].label_from_instance = person_name


class SettlementUploadForm(forms.Form):
    """A carrier's cash-on-delivery settlement file (CSV or XLSX) and the carrier's name."""

    carrier = forms.CharField(
        label=_("Carrier"),
        max_length=100,
        help_text=_("As written on the orders' shipments, e.g. SF Express."),
        widget=forms.TextInput(attrs={"list": "settlement-carriers", "autocomplete": "off"}),
    )
    file = forms.FileField(
        label=_("Settlement file (CSV or XLSX)"),
        help_text=_(
            "Columns: waybill number (运单号), amount (代收金额), outcome (状态: delivered, "
            "returned or refused), date (日期). At most 10 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(_("The file is larger than 10 MB: split it."), code="too_large")
        return upload


class SettlementApplyForm(forms.Form):
    """Apply the previewed file: its one-time ``token`` and, when some rows have a
    problem, the explicit tick to apply only the good ones."""

    token = forms.CharField(max_length=64, widget=forms.HiddenInput)
    apply_good_rows = forms.BooleanField(required=False)
