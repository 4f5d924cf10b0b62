"""Every row lock the order services take, in one place.

Lock order, everywhere: the order row first, then product rows by ascending primary key,
so two transactions touching the same rows can never wait on each other in a cycle
(saleor's ``lock_objects``, oscar's stock ordering).
"""

from django.db.models import Q
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
    """Lock product rows in ascending primary-key order and return them by id.

    A variation sold from its parent's stock (``Product.stock_from_parent``, WooCommerce
    "Stock = parent") is locked with its parent, whose row holds the units: the parent is
    in the result too, and each such variation's ``parent`` is that locked instance, so
    ``product.stock_holder`` is the locked row. The parents are found by a subquery of
    the one statement that locks every row, in primary-key order, as everywhere.
    """
    ids = set(product_ids)
    # The products and the parents whose stock they sell, locked in one statement (the
    # parents found by a subquery of it), in primary-key order.
    parents = Product.objects.filter(
        pk__in=ids, stock_from_parent=True, parent__isnull=False
    ).values("parent_id")
    condition = Q(pk__in=ids) | Q(pk__in=parents)
    while True:
        rows = Product.objects.select_for_update().filter(condition).order_by("pk")
        products = {p.pk: p for p in rows}
        ids |= set(products)
        # A variation switched to its parent's stock since the read above: lock that too.
        late = {
            p.parent_id
            for p in products.values()
            if p.stock_from_parent and p.parent_id and p.parent_id not in products
        }
        if not late:
            break
        ids |= late
        condition = Q(pk__in=ids)
    for product in products.values():
        if product.stock_from_parent and product.parent_id in products:
            product.parent = products[product.parent_id]
    return products
