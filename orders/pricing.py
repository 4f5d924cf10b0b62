"""Order money rules: shipping fee and totals (DESIGN: "Money")."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")


def quantize(amount):
    """Round a ``Decimal`` to cents, half up (the shop currency has two decimals)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def shipping_fee_for(subtotal):
    """Return the shipping fee for a ``Decimal`` subtotal.

    ``MALL_SHIPPING_FEE``, waived when the subtotal reaches ``MALL_FREE_SHIPPING_FROM``.
    """
    if subtotal >= settings.MALL_FREE_SHIPPING_FROM:
        return Decimal("0.00")
    return quantize(settings.MALL_SHIPPING_FEE)


def totals_for(line_totals):
    """Return ``(subtotal, shipping_fee, total)`` for an iterable of ``Decimal`` line totals."""
    subtotal = quantize(sum(line_totals, Decimal("0")))
    fee = shipping_fee_for(subtotal)
    return subtotal, fee, subtotal + fee
