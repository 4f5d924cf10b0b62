"""Formatting what people read and normalising what they type: one place for both.

**Money** (:func:`format_money`): one function, used by pages, e-mails and messages.

Amounts are ``Decimal`` in the shop currency (``MALL_CURRENCY``). They are written the way
a reader of the given language reads them (Babel's CLDR data: digit grouping, decimal
mark, where the sign and the symbol go), with the symbol the currency has in the shop's
home market (``MALL_CURRENCY_LOCALE``): ``¥1,234.50`` for CNY in Chinese *and* English,
where CLDR's English alone would write ``CN¥``.

**Typed text** (:func:`normalize_typed`): where digits and codes are expected.

Customers and staff on Chinese (and Japanese) input methods often type full-width
characters: the phone ``１３８ ００１３ ８０００``, the postcode ``２０００００``, a
waybill ``ＳＦ１２３４``, an amount ``１２．５０``. Unicode normalisation NFKC maps them
to their ASCII forms (and the ideographic space U+3000 to a space); :func:`normalize_typed`
also trims the ends and turns each run of spaces into one, so what is stored, shown and
e-mailed is the plain form. The forms use it through the fields below (every form field
that takes digits or codes: phone, postcode, quantity, amount, waybill, reference, SKU,
dates and times, even hidden ids), the services' cleaners call it directly
(``orders.services._inputs``), so both doors agree.
"""

import unicodedata
from decimal import Decimal, InvalidOperation

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_symbol
from django import forms
from django.conf import settings
from django.utils import translation


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


class TypedDateField(_Typed, forms.DateField):
    """A day that may be typed with full-width digits (``２０２４－０１－１５``)."""


class TypedDateTimeField(_Typed, forms.DateTimeField):
    """A date and time typed with full-width digits or stray spaces
    (``２０２４－０１－１５　１０：３０`` is 2024-01-15 10:30)."""


class TypedTimeField(_Typed, forms.TimeField):
    """A time of day that may be typed with full-width digits (``１０：３０``)."""


def babel_locale(language=None):
    """Return the Babel ``Locale`` for a Django language code (default: the active one).

    ``zh-hans`` becomes ``zh_Hans``, ``en`` stays ``en``; an unknown code gives the
    shop's ``LANGUAGE_CODE`` locale, then English.
    """
    for code in (language or translation.get_language(), settings.LANGUAGE_CODE, "en"):
        if not code:
            continue
        try:
            return Locale.parse(translation.to_locale(code))
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


def format_money(value, *, language=None, currency=None):
    """Write ``value`` as money, e.g. ``¥1,234.50``; ``""`` for ``None`` or a non-number.

    ``value``: a ``Decimal`` (or anything ``Decimal()`` reads: ``int``, ``"12.5"``).
    ``language``: a Django language code; default the active language (an e-mail passes
    the order's). ``currency``: an ISO 4217 code; default ``MALL_CURRENCY``. Always the
    currency's own number of decimals (two for CNY), so columns of amounts line up.
    """
    if value is None or value == "" or isinstance(value, bool):
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    if not amount.is_finite():
        return ""
    currency = currency or settings.MALL_CURRENCY
    locale = babel_locale(language)
    text = format_currency(amount, currency, locale=locale)
    home_symbol = get_currency_symbol(currency, settings.MALL_CURRENCY_LOCALE)
    reader_symbol = get_currency_symbol(currency, locale)
    if reader_symbol != home_symbol:
        text = text.replace(reader_symbol, home_symbol)
    return text
