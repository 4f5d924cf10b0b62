"""How the shop writes money for people: one function, used by pages, e-mails and messages.

Amounts are ``Decimal`` in the shop currency (``MALL_CURRENCY``). They are written the way
a reader of the given language reads them (Babel's CLDR data: digit grouping, decimal
mark, where the sign and the symbol go), with the symbol the currency has in the shop's
home market (``MALL_CURRENCY_LOCALE``): ``¥1,234.50`` for CNY in Chinese *and* English,
where CLDR's English alone would write ``CN¥``.
"""

from decimal import Decimal, InvalidOperation

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_symbol
from django.conf import settings
from django.utils import translation


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
