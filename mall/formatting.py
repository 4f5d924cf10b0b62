"""Normalising what people type where digits and codes are expected.

Customers and staff on Chinese (and Japanese) input methods often type full-width
characters: the phone ``１３８ ００１３ ８０００``, the postcode ``２０００００``, a
waybill ``ＳＦ１２３４``, an amount ``１２．５０``. Unicode normalisation NFKC maps them
to their ASCII forms (and the ideographic space U+3000 to a space); :func:`normalize_typed`
also trims the ends and turns each run of spaces into one, so what is stored, shown and
e-mailed is the plain form. The forms use it through the fields below, the services'
cleaners call it directly (``orders.services._inputs``), so both doors agree.
"""

import unicodedata

from django import forms


def normalize_typed(value):
    """``value`` (a str, else returned unchanged) in NFKC, trimmed, single-spaced."""
    if not isinstance(value, str):
        return value
    return " ".join(unicodedata.normalize("NFKC", value).split())


class _Typed:
    """Form-field mixin: normalise the submitted text before the field parses it."""

    def to_python(self, value):
        return super().to_python(normalize_typed(value))


class CodeField(_Typed, forms.CharField):
    """A phone number, postcode, SKU, waybill or reference number: typed text, normalised."""


class TypedIntegerField(_Typed, forms.IntegerField):
    """A whole number that may be typed with full-width digits (``３`` is 3)."""


class TypedDecimalField(_Typed, forms.DecimalField):
    """An amount that may be typed with full-width digits and point (``１２．５０``)."""
