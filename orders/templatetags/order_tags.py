"""Template helpers of the member's order pages: money in the shop currency."""

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def money(value, currency=None):
    """Show a ``Decimal`` amount with two decimals and the shop currency: ``1,234.50 CNY``.

    ``None`` or a non-number shows as an empty string; ``currency`` overrides
    ``MALL_CURRENCY``.
    """
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    return f"{amount:,.2f} {currency or settings.MALL_CURRENCY}"
