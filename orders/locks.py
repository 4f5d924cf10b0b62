"""Every row lock the order services take, in one place.

Lock order, everywhere: the order row first, then product rows by ascending primary key,
so two transactions touching the same rows can never wait on each other in a cycle
(saleor's ``lock_objects``, oscar's stock ordering).
"""

import functools

from django.db import connection, connections, router
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

    The statement is written once per number of ids (``_lock_sql``) rather than built
    by the ORM per call: it is the first statement of every checkout, and compiling
    the queryset cost more than the database's work (issue 16).
    """
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    db = router.db_for_write(Product)  # the primary: row locks are taken where rows change
    while True:
        sql = _lock_sql(connections[db].vendor, len(ids))
        products = {p.pk: p for p in Product.objects.raw(sql, [*ids, *ids], using=db)}
        # A variation switched to its parent's stock since the subquery read: lock that too.
        late = {
            p.parent_id
            for p in products.values()
            if p.stock_from_parent and p.parent_id and p.parent_id not in products
        }
        if not late:
            break
        ids = sorted(set(ids) | set(products) | late)
    for product in products.values():
        if product.stock_from_parent and product.parent_id in products:
            product.parent = products[product.parent_id]
    return products


@functools.cache
def _lock_sql(vendor, n):
    """``SELECT`` of every product column for ``n`` ids and the parents whose stock they
    sell (a subquery), ``FOR UPDATE`` where the database has row locks, by primary key,
    for a database of ``vendor`` (the key of the cache; written with the default
    connection's quoting, which every alias of one vendor shares)."""
    table = connection.ops.quote_name(Product._meta.db_table)
    pk = connection.ops.quote_name(Product._meta.pk.column)
    columns = ", ".join(
        f"{table}.{connection.ops.quote_name(f.column)}" for f in Product._meta.concrete_fields
    )
    marks = ", ".join(["%s"] * n)
    parent = connection.ops.quote_name(Product._meta.get_field("parent").column)
    shares = connection.ops.quote_name(Product._meta.get_field("stock_from_parent").column)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return (
        f"SELECT {columns} FROM {table} WHERE {table}.{pk} IN ({marks}) "  # noqa: S608
        f"OR {table}.{pk} IN (SELECT s.{parent} FROM {table} s WHERE s.{pk} IN ({marks}) "
        f"AND s.{shares} AND s.{parent} IS NOT NULL) ORDER BY {table}.{pk}{lock}"
    )
