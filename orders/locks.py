"""Every row lock the order services take, in one place.

Lock order, everywhere: the order row first, then product rows by ascending primary key,
so two transactions touching the same rows can never wait on each other in a cycle
(saleor's ``lock_objects``, oscar's stock ordering).
"""

from django.utils.translation import gettext as _

from mall.models import Product
from orders.exceptions import InvalidInput
from orders.models import Order


def lock_order(order):
    """Re-read ``order`` under a row lock; never trust the caller's copy."""
    try:
        return Order.objects.select_for_update().get(pk=order.pk)
    except Order.DoesNotExist:
        raise InvalidInput(_("This order does not exist.")) from None


def lock_products(product_ids):
    """Lock product rows in ascending primary-key order and return them by id."""
    rows = Product.objects.select_for_update().filter(pk__in=product_ids).order_by("pk")
    return {p.pk: p for p in rows}
