"""Stock reservation and release under the product row locks (DESIGN: "Stock")."""

from django.db import connections, router
from django.utils import timezone
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

    ``products`` comes from ``locks.lock_products``. A variation sold from its parent's
    stock (``stock_from_parent``) reserves and releases on the parent's row: the deltas of
    all variations sharing one parent are added up and checked against the parent's units
    together, so two sizes of one shirt can never sell more than the shirt has. Raises
    ``InsufficientStock`` listing every short SKU before changing any row.
    """
    totals = {}  # holder pk -> total delta
    for pid, delta in deltas.items():
        holder = _holder(products, products[pid])
        totals[holder.pk] = totals.get(holder.pk, 0) + delta
    short = {}
    for pid, delta in deltas.items():
        holder = _holder(products, products[pid])
        need = totals[holder.pk]
        if delta > 0 and need > 0 and holder.stock is not None and holder.stock < need:
            short[products[pid].sku] = holder.stock
    if short:
        names = ", ".join(
            (_("%(name)s (%(n)d left)") if short[products[pid].sku] else _("%(name)s (sold out)"))
            % {"name": products[pid].display_name, "n": short[products[pid].sku]}
            for pid in deltas
            if products[pid].sku in short
        )
        raise InsufficientStock(
            _("Sorry, not enough stock: %(items)s.") % {"items": names}, details={"products": short}
        )
    changed = []
    for holder_pk, delta in totals.items():
        holder = products[holder_pk]
        if delta and holder.stock is not None:
            holder.stock -= delta
            changed.append(holder)
    if changed:
        _write_stock(changed)


def _write_stock(holders):
    """One ``UPDATE`` setting ``stock`` (and ``updated_at``) of the locked ``holders`` to
    their new values. Written by hand, not by ``bulk_update``: it runs in every checkout,
    and building ``bulk_update``'s ``CASE`` expression cost more than the database's
    work (issue 16). The rows are locked, so absolute values are as safe as
    ``stock = stock - n``."""
    db = router.db_for_write(Product)
    ops = connections[db].ops
    now = timezone.now()
    for holder in holders:
        holder.updated_at = now
    table = ops.quote_name(Product._meta.db_table)
    pk, stock, updated = (
        ops.quote_name(Product._meta.get_field(name).column)
        for name in ("id", "stock", "updated_at")
    )
    marks = ", ".join(["%s"] * len(holders))
    cases = " ".join(["WHEN %s THEN %s"] * len(holders))
    sql = (
        f"UPDATE {table} SET {stock} = CASE {pk} {cases} END, {updated} = %s "  # noqa: S608
        f"WHERE {pk} IN ({marks})"
    )
    params = [v for h in holders for v in (h.pk, h.stock)]
    params += [ops.adapt_datetimefield_value(now), *(h.pk for h in holders)]
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)


def _holder(products, product):
    """The locked row whose ``stock`` counts ``product``'s units (itself, or its parent)."""
    if product.stock_from_parent and product.parent_id:
        return products[product.parent_id]
    return product


def reservable(product, quantity):
    """The units of ``quantity`` a line of ``product`` takes from stock: all, or 0 when the
    product's stock is not tracked (for a variation sold from its parent's stock, the
    parent's: ``Product.available_stock``)."""
    return quantity if product.available_stock is not None else 0


def release_stock(order, *, units=None):
    """Give back what the order's lines reserved and record that they hold nothing now.

    ``units``: ``{line_pk: n}`` to give back fewer than reserved (a return with damaged
    units written off); ``None`` gives back every line's ``reserved_quantity``. A product
    whose stock is no longer tracked takes nothing back. Either way every line's
    ``reserved_quantity`` becomes 0, so a second release gives back nothing (stock is
    returned exactly once). Returns ``{sku: units given back}``.
    """
    lines = [line for line in order.lines.all() if line.reserved_quantity]
    products = locks.lock_products({line.product_id for line in lines})
    given = {}
    for line in lines:
        n = line.reserved_quantity if units is None else units.get(line.pk, 0)
        # A variation sold from its parent's stock gives its units back to the parent.
        holder = _holder(products, products[line.product_id])
        if n and holder.stock is not None:
            holder.stock += n
            holder.save(update_fields=["stock", "updated_at"])
            given[line.sku] = n
        line.reserved_quantity = 0
        line.save(update_fields=["reserved_quantity"])
    return given
