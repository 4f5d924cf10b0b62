"""Storefront template helpers: money in the shop currency, durations in minutes."""

from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlsplit

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def money(value, currency=None):
    """Format a ``Decimal`` amount as ``1,234.50 CNY`` (2 decimals, ``MALL_CURRENCY``).

    ``None`` or a value that is not a number renders as an empty string.
    """
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return f"{amount:,.2f} {currency or settings.MALL_CURRENCY}"


@register.filter
def minutes(value, default=15):
    """Whole minutes of a ``timedelta`` (``default`` when there is none), e.g. for lockouts."""
    try:
        return max(1, round(value.total_seconds() / 60))
    except AttributeError:
        return default


@register.filter
def css_url(value):
    """Make an image URL safe inside ``url("...")`` in a style attribute.

    Only ``http``/``https`` URLs and root-relative paths pass; quotes, brackets, spaces and
    backslashes are percent-encoded. Anything else gives an empty string (no picture).
    """
    url = str(value or "").strip()
    if not url:
        return ""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in {"http", "https"} and not (url.startswith("/") and not url.startswith("//")):
        return ""
    return quote(url, safe=":/?#[]@!$&*+,;=%~-._")
