"""The catalogue: a tree of categories and the products members can buy."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A node of the category tree ("Clothing > Hoodies" is Hoodies under Clothing)."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=220, unique=True, allow_unicode=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="category_unique_name_in_parent"
            ),
        ]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("category", args=[self.slug])

    @property
    def full_name(self):
        """The path from the root, e.g. ``Clothing > Hoodies``."""
        names, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            names.append(node.name)
            node = node.parent
        return " > ".join(reversed(names))


class ProductQuerySet(models.QuerySet):
    def with_sku(self, sku):
        """Products whose SKU is ``sku`` in any letter case (uses the Lower(sku) index).

        The exact spelling matches too: SQLite's ``lower()`` changes ASCII letters only.
        """
        sku = str(sku)
        return self.alias(sku_key=Lower("sku")).filter(Q(sku_key=sku.lower()) | Q(sku=sku))

    def listed(self):
        """Products shown in listings: visible, and not variations (those show on the parent)."""
        return self.filter(is_visible=True, parent__isnull=True)


class Product(models.Model):
    """A product or a variation of a variable product.

    Money is ``Decimal`` in the shop currency (``MALL_CURRENCY``). ``stock`` is ``None`` when
    the shop does not track stock for the product (unlimited). A variable product is a
    parent with ``is_variable=True`` and no price of its own; its variations point at it
    through ``parent`` and carry their ``attributes`` (e.g. ``{"Color": "Blue"}``).
    """

    # Unique whatever the letter case (a Meta constraint on Lower(sku)): "t-dup" and "T-DUP"
    # are one product, as in WooCommerce. Look products up with ``.with_sku(sku)``.
    sku = models.CharField(_("SKU"), max_length=100)
    wc_id = models.PositiveBigIntegerField(
        _("WooCommerce ID"),
        null=True,
        blank=True,
        unique=True,
        help_text=_("The product's ID in the WooCommerce shop it was imported from."),
    )
    name = models.CharField(_("name"), max_length=255)
    slug = models.SlugField(_("slug"), max_length=255, unique=True, allow_unicode=True)
    short_description = models.TextField(_("short description"), blank=True)
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(
        _("regular price"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    sale_price = models.DecimalField(
        _("sale price"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    sale_starts = models.DateTimeField(_("sale starts"), null=True, blank=True)
    sale_ends = models.DateTimeField(_("sale ends"), null=True, blank=True)
    stock = models.PositiveIntegerField(
        _("stock"), null=True, blank=True, help_text=_("Leave empty when stock is not tracked.")
    )
    stock_from_parent = models.BooleanField(
        _("uses the parent's stock"),
        default=False,
        help_text=_(
            "A variation whose units are counted on its parent product (WooCommerce "
            "'Stock = parent'): orders reserve the parent's stock."
        ),
    )
    in_stock = models.BooleanField(
        _("in stock"), default=True, help_text=_("Untick to stop sales of this product.")
    )
    is_visible = models.BooleanField(_("listed in the catalogue"), default=True)
    is_variable = models.BooleanField(
        _("variable product"),
        default=False,
        help_text=_("A parent whose variations are sold; it has no price of its own."),
    )
    categories = models.ManyToManyField(
        Category, verbose_name=_("categories"), blank=True, related_name="products"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent product"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="variations",
    )
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    attribute_choices = models.JSONField(
        _("attributes the customer chooses"),
        default=dict,
        blank=True,
        help_text=_(
            "{name: [allowed values]}. On a variation: the attributes it leaves open "
            "(WooCommerce 'any value'), chosen by the customer when buying. On a variable "
            "product: every value each attribute takes."
        ),
    )
    image_urls = models.JSONField(_("image URLs"), default=list, blank=True)
    position = models.IntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["position", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("sku"),
                name="product_sku_unique_any_case",
                violation_error_message=_("A product with this SKU (in any letter case) exists."),
            ),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0), name="product_stock_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0), name="product_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(sale_price__isnull=True) | Q(sale_price__gte=0),
                name="product_sale_price_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["is_visible", "parent"], name="product_listed_idx")]

    def __str__(self):
        return f"{self.name} ({self.sku})"

    def get_absolute_url(self):
        target = self.parent if self.parent_id else self
        return reverse("product", args=[target.slug])

    @property
    def attribute_items(self):
        """A variation's ``(name, value)`` pairs, sorted by name.

        Sorted because PostgreSQL's jsonb does not keep key order, so the same variation
        reads the same on every database.
        """
        return sorted((self.attributes or {}).items())

    @property
    def display_name(self):
        """The name with a variation's attribute values, e.g. ``Hoodie – Blue, Yes``."""
        if self.attributes:
            return f"{self.name} – {', '.join(str(v) for _k, v in self.attribute_items)}"
        return self.name

    def sale_active(self, at=None):
        """Return whether the sale price applies at ``at`` (default: now)."""
        if self.sale_price is None:
            return False
        at = at or timezone.now()
        if self.sale_starts and at < self.sale_starts:
            return False
        return not (self.sale_ends and at > self.sale_ends)

    def current_price(self, at=None):
        """The unit price a customer pays now: the sale price inside its window, else the price.

        Returns ``Decimal`` in the shop currency, or ``None`` for a product with no price
        (a variable parent).
        """
        if self.sale_active(at):
            return self.sale_price
        return self.price

    @property
    def is_purchasable(self):
        """Whether the product can be put in a cart at all (stock levels aside)."""
        if self.is_variable or self.current_price() is None or not self.in_stock:
            return False
        return self.is_visible and (not self.parent_id or self.parent.is_visible)

    def clean_choices(self, choices):
        """Check the customer's ``choices`` (``{attribute: value}``) for this product.

        A variation with ``attribute_choices`` (WooCommerce "any value") needs one allowed
        value for each open attribute; other products take none. Returns the cleaned dict
        (only the open attributes, in their order). Raises ``ValueError`` with a message
        for the customer when a value is missing or not allowed.
        """
        choices = choices or {}
        cleaned = {}
        for name, allowed in (self.attribute_choices or {}).items():
            value = str(choices.get(name, "")).strip()
            if not value:
                raise ValueError(
                    _("Choose the %(attribute)s of %(name)s.")
                    % {"attribute": name, "name": self.display_name}
                )
            if value not in allowed:
                raise ValueError(
                    _("%(value)s is not a %(attribute)s of %(name)s.")
                    % {"value": value, "attribute": name, "name": self.display_name}
                )
            cleaned[name] = value
        return cleaned

    def name_with_choices(self, choices):
        """The display name with the customer's choices, e.g. ``Tee – Red (Size: Large)``."""
        if not choices:
            return self.display_name
        chosen = ", ".join(f"{name}: {value}" for name, value in choices.items())
        return f"{self.display_name} ({chosen})"

    @property
    def stock_holder(self):
        """The product whose ``stock`` counts this product's units.

        Itself, or for a variation with ``stock_from_parent`` (WooCommerce "Stock =
        parent") its parent: orders reserve and release the parent's units, under the
        parent's row lock (``orders.locks.lock_products`` locks it with the variation).
        """
        if self.stock_from_parent and self.parent_id:
            return self.parent
        return self

    @property
    def available_stock(self):
        """Units that can be sold now (``None``: not tracked, unlimited)."""
        return self.stock_holder.stock

    def available(self, quantity):
        """Whether ``quantity`` units can be reserved now (``None`` stock is unlimited)."""
        stock = self.available_stock
        return stock is None or stock >= quantity


class Profile(models.Model):
    """What a member keeps with their account besides Django's user: phone and language.

    ``language`` is a code of ``LANGUAGES`` ("" until the member uses the shop: checkout
    and the account page set it); e-mails not tied to an order are written in it.
    Created on first use (:meth:`for_user`), so accounts made before it need nothing.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="profile",
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )

    class Meta:
        verbose_name = _("member profile")
        verbose_name_plural = _("member profiles")

    def __str__(self):
        return str(self.user)

    @classmethod
    def for_user(cls, user):
        """Return ``user``'s profile, creating an empty one the first time."""
        profile, _created = cls.objects.get_or_create(user=user)
        return profile


class Address(models.Model):
    """A delivery address a member saved on the account page; at most one is the default.

    The default pre-fills checkout. An order copies the address when it is placed
    (``Order`` keeps its own snapshot), so editing or deleting a saved address never moves
    an order.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="addresses",
    )
    recipient = models.CharField(_("recipient"), max_length=100)
    phone = models.CharField(_("phone"), max_length=30)
    region = models.CharField(_("province / region"), max_length=100)
    city = models.CharField(_("city"), max_length=100)
    address_line = models.CharField(_("address"), max_length=255)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    is_default = models.BooleanField(_("default address"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    FIELDS = ("recipient", "phone", "region", "city", "address_line", "postcode")

    class Meta:
        verbose_name = _("saved address")
        verbose_name_plural = _("saved addresses")
        ordering = ["-is_default", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default=True), name="address_one_default_per_user"
            ),
        ]

    def __str__(self):
        return ", ".join(v for v in (self.recipient, self.address_line, self.city) if v)

    def as_dict(self):
        """The address fields as the checkout form and ``services.place_order`` take them."""
        return {field: getattr(self, field) for field in self.FIELDS}
