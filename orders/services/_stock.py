"""Stock reservation and release under the product row locks (DESIGN: "Stock")."""

from django.utils.translation import gettext as _

from mall.models import Product
from orders import locks
from orders.exceptions import (
    InsufficientStock,
    InvalidInput,
)


def refuse_unsellable(products):
    """Raise ``InvalidInput`` naming every product of ``products`` not for sale now.

    The rule is ``Product.is_purchasable``; the parents of variations are fetched in one
    query first so checking a cart of variations costs no query per line.
    """
    parent_ids = {p.parent_id for p in products if p.parent_id}
    parents = Product.objects.in_bulk(parent_ids) if parent_ids else {}
    problems = []
    for product in products:
        if product.parent_id:
            product.parent = parents[product.parent_id]
        if not product.is_purchasable:
            problems.append(_("%(name)s is no longer available.") % {"name": product.display_name})
    if problems:
        raise InvalidInput(" ".join(problems), code="unavailable")


def reserve(products, deltas):
    """Apply stock ``deltas`` (``{product_id: +reserve / -release}``) to locked products.

    Raises ``InsufficientStock`` listing every short SKU before changing any row.
    """
    short = {}
    for pid, delta in deltas.items():
        product = products[pid]
        if delta > 0 and product.stock is not None and product.stock < delta:
            short[product.sku] = product.stock
    if short:
        names = ", ".join(
            _("%(name)s (%(n)d left)")
            % {"name": products[pid].display_name, "n": short[products[pid].sku]}
            for pid in deltas
            if products[pid].sku in short
        )
        raise InsufficientStock(
            _("Sorry, not enough stock: %(items)s.") % {"items": names}, details={"products": short}
        )
    for pid, delta in deltas.items():
        product = products[pid]
        if delta and product.stock is not None:
            product.stock -= delta
            product.save(update_fields=["stock", "updated_at"])


def release_stock(order):
    """Return every line's quantity to stock (invalid and cancelled orders)."""
    quantities = dict(order.lines.values_list("product_id", "quantity"))
    products = locks.lock_products(quantities)
    reserve(products, {pid: -qty for pid, qty in quantities.items()})
    return {products[pid].sku: qty for pid, qty in quantities.items()}
