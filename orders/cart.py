"""The member's cart, kept in the session until checkout.

The session holds ``request.session["cart"] = {str(product_id): quantity}`` (quantities are
positive ints); ``mall.context_processors.shop`` counts ``sum(cart.values())`` for the header,
so that shape must not change. What the member chose for a variation's open ("any value")
attributes is kept beside it, ``request.session["cart_choices"] = {str(product_id):
{attribute: value}}``: one choice per product in a cart (a second, different choice of the
same product is refused with a message; the member changes the line instead).

Prices are never stored: lines are priced from the catalogue
each time they are shown, and ``services.place_order`` prices them again under its lock.
"""

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from mall.models import Product
from orders.pricing import quantize, totals_for

SESSION_KEY = "cart"
CHOICES_KEY = "cart_choices"


class CartError(Exception):
    """A cart change was refused; ``message`` says why. The cart is unchanged."""

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))


def unavailable_reason(product):
    """Why ``product`` cannot go in a cart at all, or ``None`` when it can (stock aside).

    Refused: hidden products, variable parents, products without a price, products taken
    off sale (``in_stock`` false), variations of a hidden parent. ``product.parent`` should
    be loaded (``select_related("parent")``) to avoid a query.
    """
    if product.is_variable:
        return _("%(name)s comes in several versions: choose one on the product page.") % {
            "name": product.display_name
        }
    parent_hidden = product.parent_id is not None and not product.parent.is_visible
    if (
        not product.is_visible
        or parent_hidden
        or not product.in_stock
        or product.current_price() is None
    ):
        return _("Sorry, %(name)s is not available.") % {"name": product.display_name}
    if product.available_stock is not None and product.available_stock <= 0:
        return _("Sorry, %(name)s is out of stock.") % {"name": product.display_name}
    return None


def quantity_problem(product, quantity):
    """Why ``quantity`` units of ``product`` cannot be in the cart, or ``None``.

    ``quantity`` is an int; it must be 1..``MALL_MAX_LINE_QUANTITY`` and, for a product
    whose stock is tracked, no more than its stock.
    """
    limit = settings.MALL_MAX_LINE_QUANTITY
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        return _("Enter a quantity of at least 1.")
    if quantity > limit:
        return _("You can order at most %(max)d of one item.") % {"max": limit}
    stock = product.available_stock  # a variation sold from its parent's stock: the parent's
    if stock is not None and quantity > stock:
        return _("Sorry, only %(n)d of %(name)s left in stock.") % {
            "n": stock,
            "name": product.display_name,
        }
    return None


@dataclass
class CartLine:
    """One product in the cart, priced now. Money is ``Decimal`` in the shop currency.

    ``problem`` is a message when the line cannot be ordered as it stands (taken off
    sale, or more than the stock left since it was added); such lines are left out of the
    totals and block checkout until the member fixes them.
    """

    product: Product
    quantity: int
    unit_price: Decimal | None
    problem: str | None = None
    choices: dict = field(default_factory=dict)

    @property
    def name(self):
        """The product's name with the member's choices (``Tee – Red (Size: Large)``)."""
        return self.product.name_with_choices(self.choices)

    @property
    def line_total(self):
        if self.unit_price is None:
            return None
        return quantize(self.unit_price * self.quantity)

    @property
    def max_quantity(self):
        """The largest quantity the quantity input should offer."""
        limit = settings.MALL_MAX_LINE_QUANTITY
        if self.product.available_stock is not None:
            limit = min(limit, max(self.product.available_stock, 1))
        return limit


class Cart:
    """The session cart of one request.

    ``Cart(request.session)``; every change saves the session. Changes raise
    ``CartError`` and leave the cart untouched when refused.
    """

    def __init__(self, session):
        self.session = session
        self._lines = None

    # --- stored data -------------------------------------------------------------------

    @property
    def data(self):
        """``{str(product_id): quantity}``, with malformed entries dropped."""
        raw = self.session.get(SESSION_KEY)
        if not isinstance(raw, dict):
            return {}
        clean = {}
        for key, value in raw.items():
            is_count = isinstance(value, int) and not isinstance(value, bool)
            if str(key).isdigit() and is_count and value > 0:
                clean[str(key)] = value
        return clean

    def _save(self, data):
        choices = self.choices()
        if any(key not in data for key in choices):
            self.session[CHOICES_KEY] = {k: v for k, v in choices.items() if k in data}
        self.session[SESSION_KEY] = data
        self.session.modified = True
        self._lines = None

    def __len__(self):
        """Number of units in the cart (what the header badge shows)."""
        return sum(self.data.values())

    def quantity_of(self, product):
        return self.data.get(str(product.pk), 0)

    # --- changes -------------------------------------------------------------------------

    def choices(self):
        """``{str(product_id): {attribute: value}}``: the member's "any value" choices."""
        raw = self.session.get(CHOICES_KEY)
        return raw if isinstance(raw, dict) else {}

    def add(self, product, quantity=1, choices=None):
        """Add ``quantity`` (int >= 1) units of ``product`` to what is already in the cart.

        ``choices`` (``{attribute: value}``) is required for a variation that leaves
        attributes open (``Product.attribute_choices``) and must match what the cart
        already holds for that product. Returns the line's new quantity. Raises
        ``CartError`` for a product that cannot be bought, a missing or other choice, or a
        resulting quantity beyond the stock or ``MALL_MAX_LINE_QUANTITY``.
        """
        reason = unavailable_reason(product)
        if reason:
            raise CartError(reason)
        try:
            chosen = product.clean_choices(choices)
        except ValueError as error:
            raise CartError(str(error)) from None
        held = self.choices().get(str(product.pk))
        if self.quantity_of(product) and chosen and held and held != chosen:
            raise CartError(
                _(
                    "%(name)s is already in your cart as %(held)s: remove it or change it "
                    "there first."
                )
                % {"name": product.display_name, "held": product.name_with_choices(held)}
            )
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise CartError(_("Enter a quantity of at least 1."))
        data = self.data
        new_quantity = data.get(str(product.pk), 0) + quantity
        problem = quantity_problem(product, new_quantity)
        if problem:
            raise CartError(problem)
        data[str(product.pk)] = new_quantity
        if chosen:
            self.session[CHOICES_KEY] = {**self.choices(), str(product.pk): chosen}
        self._save(data)
        return new_quantity

    add.alters_data = True

    def set(self, product, quantity):
        """Set the quantity of ``product`` to ``quantity`` (int >= 0; 0 removes the line).

        Raising the quantity is checked like ``add``; any quantity must be within the stock
        and ``MALL_MAX_LINE_QUANTITY``. Lowering the quantity of a product taken off sale
        meanwhile is allowed. Raises ``CartError``.
        """
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise CartError(_("Enter a quantity of at least 1."))
        if quantity == 0:
            self.remove(product.pk)
            return 0
        current = self.quantity_of(product)
        if quantity > current:
            reason = unavailable_reason(product)
            if reason:
                raise CartError(reason)
        problem = quantity_problem(product, quantity)
        if problem:
            raise CartError(problem)
        data = self.data
        data[str(product.pk)] = quantity
        self._save(data)
        return quantity

    set.alters_data = True

    def update(self, quantities):
        """Set several lines at once: ``{product_id: quantity}`` (0 removes a line).

        All or nothing: every changed line is checked as ``set`` would, and if any is
        refused none is applied; ``CartError`` carries every problem, one per sentence.
        Lines whose quantity did not change are not re-checked. Returns the lines changed.
        """
        data = self.data
        products = self.products()
        problems, changed = [], 0
        for product_id, quantity in quantities.items():
            key = str(product_id)
            if key not in data or quantity == data[key]:
                continue
            product = products.get(int(product_id))
            if quantity == 0 or product is None:
                data.pop(key)
                changed += 1
                continue
            problem = None
            if quantity > data[key]:
                problem = unavailable_reason(product)
            problem = problem or quantity_problem(product, quantity)
            if problem:
                problems.append(problem)
                continue
            data[key] = quantity
            changed += 1
        if problems:
            raise CartError(" ".join(str(p) for p in problems))
        if changed:
            self._save(data)
        return changed

    update.alters_data = True

    def remove(self, product_id):
        """Remove the line of product ``product_id`` (an int or str); a missing line is fine."""
        data = self.data
        if data.pop(str(product_id), None) is not None:
            self._save(data)

    remove.alters_data = True

    def clear(self):
        """Empty the cart (after a successful checkout)."""
        self._save({})

    clear.alters_data = True

    # --- reading ---------------------------------------------------------------------------

    def products(self):
        """The products in the cart by id, fetched in one query (parents joined)."""
        ids = [int(key) for key in self.data]
        if not ids:
            return {}
        return {p.pk: p for p in Product.objects.select_related("parent").filter(pk__in=ids)}

    def lines(self):
        """Return the cart's ``CartLine`` list, in the order the products were added.

        Products that no longer exist (and malformed entries) are dropped from the session
        silently.
        """
        if self._lines is not None:
            return self._lines
        data = self.data
        products = self.products()
        choices = self.choices()
        lines, vanished = [], []
        for key, quantity in data.items():
            product = products.get(int(key))
            if product is None:
                vanished.append(key)
                continue
            problem = unavailable_reason(product)
            stock = product.available_stock
            if not problem and stock is not None and quantity > stock:
                problem = quantity_problem(product, quantity)
            chosen = choices.get(key) if isinstance(choices.get(key), dict) else {}
            if not problem and product.attribute_choices:
                try:
                    product.clean_choices(chosen)
                except ValueError as error:  # the shop changed the values on offer
                    problem = str(error)
            lines.append(
                CartLine(product, quantity, product.current_price(), problem, choices=chosen)
            )
        for key in vanished:
            data.pop(key)
        if data != self.session.get(SESSION_KEY):
            self._save(data)  # vanished products or malformed entries: store the clean cart
        self._lines = lines
        return lines

    @property
    def has_problems(self):
        return any(line.problem for line in self.lines())

    def totals(self):
        """Return ``(subtotal, shipping_fee, total)`` as ``Decimal`` over orderable lines.

        Uses ``orders.pricing.totals_for``, the rule ``place_order`` applies.
        """
        return totals_for(
            line.line_total for line in self.lines() if not line.problem and line.line_total
        )

    def signature(self):
        """A short fingerprint of the cart's products and quantities (``str``).

        The checkout page carries it, so a cart changed in another tab since the page was
        shown is noticed even when the total happens to stay the same.
        """
        choices = self.choices()
        content = ",".join(
            f"{key}:{qty}:{sorted(choices.get(key, {}).items())}"
            for key, qty in sorted(self.data.items())
        )
        return hashlib.sha256(content.encode()).hexdigest()[:16]

    def order_lines(self):
        """The lines ``services.place_order`` takes: ``(product, quantity)`` pairs, and
        ``(product, quantity, choices)`` for a variation with "any value" attributes."""
        return [
            (line.product, line.quantity, line.choices)
            if line.choices
            else (line.product, line.quantity)
            for line in self.lines()
        ]
