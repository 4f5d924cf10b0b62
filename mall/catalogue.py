"""Reads the storefront needs: listed products with their offers, and the category tree.

Each listing is a constant number of queries however many products a page shows:
categories and visible variations are prefetched, and the offer (price, sale, stock
note) is worked out in Python from what was fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from modeltranslation.utils import build_localized_fieldname

from mall.formatting import normalize_typed
from mall.models import Category, Product

LOW_STOCK = 5  # "Only N left" from this many units down
PLACEHOLDER_TONES = 6  # colour variants of the image placeholder (CSS .tone-0 ... .tone-5)


@dataclass(frozen=True)
class Offer:
    """What a shopper sees of a product's price and availability now.

    ``price`` is the unit price paid now (``Decimal``, shop currency; the lowest one of a
    variable product's variations, then ``from_price`` is true when they differ);
    ``regular`` is the price struck through when ``on_sale``. ``available`` says whether
    one unit can go into the cart now; ``stock_left`` is set when few units remain.
    """

    price: Decimal | None
    regular: Decimal | None = None
    on_sale: bool = False
    from_price: bool = False
    available: bool = False
    out_of_stock: bool = False
    stock_left: int | None = None


def offer_for(product, at=None):
    """Return the :class:`Offer` of ``product`` at ``at`` (default now).

    For a variable product, ``product.visible_variations`` must be prefetched (see
    :func:`listed_products`); each variation's ``parent`` is set to ``product`` so that
    ``Product.is_purchasable`` needs no query.
    """
    at = at or timezone.now()
    if product.is_variable:
        offers = []
        for variation in getattr(product, "visible_variations", []):
            variation.parent = product
            offers.append(offer_for(variation, at))
        buyable = [offer for offer in offers if offer.available]
        priced = [offer for offer in (buyable or offers) if offer.price is not None]
        if not priced:
            return Offer(price=None, out_of_stock=bool(offers) and not buyable)
        cheapest = min(priced, key=lambda offer: offer.price)
        return Offer(
            price=cheapest.price,
            regular=cheapest.regular,
            on_sale=cheapest.on_sale,
            from_price=len({offer.price for offer in priced}) > 1,
            available=False,  # a variation must be chosen first
            out_of_stock=not buyable,
        )
    price = product.current_price(at)
    on_sale = product.sale_active(at) and product.price is not None and price < product.price
    stock = product.available_stock  # the parent's, for a variation sold from it
    out_of_stock = not product.in_stock or stock == 0
    return Offer(
        price=price,
        regular=product.price if on_sale else None,
        on_sale=on_sale,
        available=product.is_purchasable and not out_of_stock,
        out_of_stock=out_of_stock,
        stock_left=stock if stock is not None and 0 < stock <= LOW_STOCK else None,
    )


def max_quantity(product):
    """The most units of ``product`` one cart line may ask for now (at least 1)."""
    limit = settings.MALL_MAX_LINE_QUANTITY
    if product.available_stock is not None:
        limit = min(limit, product.available_stock)
    return max(limit, 1)


def listed_products():
    """Visible top-level products, with categories and visible variations prefetched."""
    return Product.objects.listed().prefetch_related(
        "categories",
        Prefetch(
            "variations",
            queryset=Product.objects.filter(is_visible=True),
            to_attr="visible_variations",
        ),
    )


def decorate(products, at=None):
    """Attach ``offer`` and ``tone`` (placeholder colour) to each product; return them."""
    products = list(products)
    for product in products:
        product.offer = offer_for(product, at)
        product.tone = (product.pk or 0) % PLACEHOLDER_TONES
    return products


class CategoryTree:
    """The whole category tree, loaded in one query.

    Each :class:`Category` gets ``tree_children`` (list) and ``has_products`` (a listed
    product in it or below it). Use :meth:`load`.
    """

    def __init__(self, categories):
        self.by_pk = {category.pk: category for category in categories}
        self.by_slug = {category.slug: category for category in categories}
        for category in categories:
            category.tree_children = []
        self.roots = []
        for category in categories:  # already ordered by name
            parent = self.by_pk.get(category.parent_id)
            (parent.tree_children if parent else self.roots).append(category)
        for root in self.roots:
            self._mark(root, set())

    @classmethod
    def load(cls):
        """Read every category with the number of listed products filed directly in it."""
        categories = list(
            Category.objects.annotate(
                listed=Count(
                    "products",
                    filter=Q(products__is_visible=True, products__parent__isnull=True),
                )
            ).order_by("name", "pk")
        )
        return cls(categories)

    def _mark(self, category, seen):
        seen.add(category.pk)
        below = [
            self._mark(child, seen) for child in category.tree_children if child.pk not in seen
        ]
        category.has_products = category.listed > 0 or any(below)
        return category.has_products

    def descendant_ids(self, category):
        """The pks of ``category`` and every category below it."""
        ids, stack = [], [category]
        while stack:
            node = stack.pop()
            if node.pk in ids:
                continue
            ids.append(node.pk)
            stack.extend(node.tree_children)
        return ids

    def ancestors(self, category):
        """The path from the root down to ``category`` (inclusive)."""
        path, node = [], category
        while node is not None and node not in path:
            path.append(node)
            node = self.by_pk.get(node.parent_id)
        return list(reversed(path))


PRODUCT_SEARCH_LIMIT = 20


def find_products(query, limit=PRODUCT_SEARCH_LIMIT):
    """Products one can order now whose name, SKU or parent's name contains ``query``.

    For picking products by name or SKU on the order-change and phone-order pages (no
    SKU typing): simple products and variations, never a variable parent (a variation is
    chosen). ``query`` is plain text (at most 100 characters are used); an empty query
    finds nothing. Returns at most ``limit`` products, by name, each with ``offer``.
    """
    # Full-width letters and digits (Chinese input methods) read as their plain forms.
    query = normalize_typed("".join(c for c in str(query or "")[:1000] if c.isprintable()))
    query = query[:100]
    if not query:
        return []
    # A name in any shop language: an admin on an English page finds 茉莉 too.
    condition = Q(sku__icontains=query)
    for code, _name in settings.LANGUAGES:
        column = build_localized_fieldname("name", code)
        condition |= Q(**{f"{column}__icontains": query})
        condition |= Q(**{f"parent__{column}__icontains": query})
    matches = (
        Product.objects.filter(is_visible=True)
        .filter(condition)
        .select_related("parent")
        .order_by("name", "sku", "pk")[: limit * 3]
    )
    found = [product for product in matches if product.is_purchasable][:limit]
    at = timezone.now()
    for product in found:
        product.offer = offer_for(product, at)
    return found
