"""Storefront template helpers: money in the shop currency, durations in minutes."""

from urllib.parse import quote, urlsplit

from django import template

from mall.formatting import format_money

register = template.Library()


@register.filter
def money(value, currency=None):
    """``{{ product.price|money }}`` → ``¥1,234.50`` in the active language.

    See :func:`mall.formatting.format_money`; ``None`` or a value that is not a number
    renders as an empty string.
    """
    return format_money(value, currency=currency)


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
