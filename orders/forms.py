"""Forms of the member's pages: cart, checkout, editing and cancelling an order.

Forms only parse and validate input; the address rule is ``services.clean_address``
(the one the services apply), so the page and the service never disagree.
"""

import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mall.formatting import CodeField, TypedDecimalField, TypedIntegerField
from mall.models import Product
from orders import services
from orders.exceptions import InvalidInput
from orders.models import ADDRESS_FIELDS, Order, OrderEvent, PaymentMethod
from orders.pricing import quantize, totals_for

QUANTITY_PREFIX = "qty-"


def quantity_field(label, *, min_value):
    """A whole-number quantity input from ``min_value`` to ``MALL_MAX_LINE_QUANTITY``."""
    return TypedIntegerField(
        label=label,
        min_value=min_value,
        max_value=settings.MALL_MAX_LINE_QUANTITY,
        widget=forms.NumberInput(attrs={"class": "qty", "inputmode": "numeric"}),
        error_messages={"invalid": _("Enter a whole number.")},
    )


class CartAddForm(forms.Form):
    """Put a product in the cart: ``product`` (id), ``quantity`` (default 1), ``next``."""

    product = TypedIntegerField(min_value=1, widget=forms.HiddenInput)
    quantity = TypedIntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=settings.MALL_MAX_LINE_QUANTITY,
        required=False,
        error_messages={"invalid": _("Enter a whole number.")},
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_quantity(self):
        return self.cleaned_data.get("quantity") or 1


class CartUpdateForm(forms.Form):
    """One quantity input per cart line (``qty-<product id>``; 0 removes the line)."""

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        for line in lines:
            field = quantity_field(
                _("Quantity of %(name)s") % {"name": line.product.display_name}, min_value=0
            )
            field.initial = line.quantity
            field.widget.attrs["max"] = line.max_quantity
            self.fields[f"{QUANTITY_PREFIX}{line.product.pk}"] = field

    def quantities(self):
        """``{product_id: quantity}`` from the cleaned data."""
        return {
            int(name.removeprefix(QUANTITY_PREFIX)): value
            for name, value in self.cleaned_data.items()
            if name.startswith(QUANTITY_PREFIX)
        }


class DeliveryFormMixin(forms.Form):
    """Delivery address, phone, payment method and note, shared by checkout and edit."""

    recipient = forms.CharField(
        label=_("Recipient's name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = CodeField(
        label=_("Phone number"),
        max_length=30,
        help_text=_("We call this number to confirm the order before we send it."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    region = forms.CharField(
        label=_("Province / region"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level1"}),
    )
    city = forms.CharField(
        label=_("City"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    address_line = forms.CharField(
        label=_("Street address"),
        max_length=255,
        help_text=_("District, street, building, floor and room."),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    postcode = CodeField(
        label=_("Postcode"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    payment_method = forms.ChoiceField(
        label=_("Payment method"),
        choices=PaymentMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how you will pay.")},
    )
    note = forms.CharField(
        label=_("Note for us"),
        max_length=1000,
        required=False,
        help_text=_("For example the best time to deliver or to call you."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        """Apply ``services.clean_address`` and put its errors on the address fields."""
        cleaned = super().clean()
        address = {field: cleaned.get(field, "") for field in ADDRESS_FIELDS}
        try:
            cleaned.update(services.clean_address(address))
        except InvalidInput as error:
            add_service_errors(self, error)
        return cleaned

    def address(self):
        """The address dict ``services.place_order`` / ``edit_order`` take."""
        return {field: self.cleaned_data[field] for field in ADDRESS_FIELDS}


def add_service_errors(form, error):
    """Put an ``OrderError`` on ``form``: per field from ``details["fields"]``, else non-field.

    A field that already has an error keeps only its own (no doubled "required").
    """
    fields = {
        name: message
        for name, message in (error.details.get("fields") or {}).items()
        if name in form.fields
    }
    if not fields:
        form.add_error(None, error.message)
        return
    for name, message in fields.items():
        if name not in form.errors:
            form.add_error(name, message)


class CheckoutForm(DeliveryFormMixin):
    """The checkout form; ``checkout_token`` is the one-time token issued with the page."""

    checkout_token = forms.CharField(max_length=64, widget=forms.HiddenInput)
    # The total the page showed: the order is placed only for that amount.
    expected_total = TypedDecimalField(
        max_digits=12, decimal_places=2, required=False, widget=forms.HiddenInput
    )

    field_order = [*ADDRESS_FIELDS, "payment_method", "note", "checkout_token", "expected_total"]

    def clean(self):
        # A mangled hidden total is no reason to refuse: place at the current total then.
        if self.errors.pop("expected_total", None):
            self.cleaned_data["expected_total"] = None
        return super().clean()


# Products picked by the search of ``mall.catalogue.find_products`` (issue 11): each result
# has a quantity box ``add-<product id>``; used by the member's and the back office's pages.
ADD_RE = re.compile(r"^add-([1-9][0-9]{0,9})$")


def product_quantity_field(label, initial=None):
    """A quantity box from 0 (none) to ``MALL_MAX_LINE_QUANTITY`` (full-width digits too)."""
    return TypedIntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=settings.MALL_MAX_LINE_QUANTITY,
        initial=initial,
        widget=forms.NumberInput(attrs={"min": 0, "class": "qty", "inputmode": "numeric"}),
    )


class ProductLinesMixin:
    """Adds the ``add-<id>`` quantity fields the posted data names (at most
    ``services.MAX_LINES``, products that exist) and gathers them in ``added_lines()``.

    A variation that leaves attributes open (WooCommerce "any value",
    ``Product.attribute_choices``) also gets one ``choice-<id>-<n>`` select per open
    attribute; the choice is needed only when a quantity is given, and travels with the
    line as ``(product, quantity, {attribute: value})`` for the services to check.
    """

    def _add_product_fields(self, data, extra_products=()):
        ids = []
        for key in data or {}:
            match = ADD_RE.match(key)
            # Carried over from an earlier search (``carried``): only products given a
            # quantity stay; a bound form keeps every box it was sent.
            if match and (self.is_bound or str(data.get(key, "")).strip() not in ("", "0")):
                ids.append(int(match.group(1)))
        ids = sorted(set(ids))[: services.MAX_LINES]
        # The products already given a quantity first, then the search's new results.
        products = Product.objects.select_related("parent").in_bulk(ids) if ids else {}
        products = {pid: products[pid] for pid in ids if pid in products}
        for product in extra_products:
            products.setdefault(product.pk, product)
        self.offered_products = list(products.values())
        for product in self.offered_products:
            self.fields[f"add-{product.pk}"] = product_quantity_field(
                _("Quantity of %(name)s") % {"name": product.display_name}
            )
            for n, (attribute, values) in enumerate((product.attribute_choices or {}).items()):
                self.fields[f"choice-{product.pk}-{n}"] = forms.ChoiceField(
                    label=attribute,
                    required=False,
                    choices=[("", _("Choose…")), *((v, v) for v in values)],
                )

    @staticmethod
    def carried(data):
        """``initial`` for a form shown again after a product search inside it: what was
        typed (a ``QueryDict``) as a plain dict, without the CSRF token."""
        return {key: value for key, value in data.items() if key != "csrfmiddlewaretoken"}

    def typed_quantity(self, name):
        """The quantity in box ``name`` as typed (bound) or carried (initial); 0 when
        empty or not a valid quantity (the form reports that when it is sent)."""
        field = self.fields[name]
        raw = self.data.get(name) if self.is_bound else self.get_initial_for_field(field, name)
        try:
            return field.clean(raw) or 0
        except forms.ValidationError:
            return 0

    def preview_rows(self):
        """``[(name, quantity, unit price)]`` of the products picked in the search boxes.
        Forms that also hold the order's lines add theirs (``preview``)."""
        return [
            (product.display_name, quantity, product.current_price())
            for product in self.offered_products
            if (quantity := self.typed_quantity(f"add-{product.pk}"))
        ]

    def preview(self):
        """What the form holds now, to read back to the member before saving: ``rows``
        (name, quantity, unit price, line total) and ``subtotal``, ``shipping_fee``,
        ``total`` (``Decimal``, the shop's pricing rule); ``None`` when nothing is picked.
        The services price the order again when it is saved."""
        rows = [
            (name, quantity, price, quantize(price * quantity))
            for name, quantity, price in self.preview_rows()
        ]
        if not rows:
            return None
        subtotal, fee, total = totals_for(row[3] for row in rows)
        return {"rows": rows, "subtotal": subtotal, "shipping_fee": fee, "total": total}

    def _choices_of(self, product):
        return {
            attribute: self.cleaned_data.get(f"choice-{product.pk}-{n}") or ""
            for n, attribute in enumerate(product.attribute_choices or {})
        }

    def clean(self):
        cleaned = super().clean()
        for product in getattr(self, "offered_products", ()):
            if not cleaned.get(f"add-{product.pk}"):
                continue
            for n, attribute in enumerate(product.attribute_choices or {}):
                if not cleaned.get(f"choice-{product.pk}-{n}"):
                    self.add_error(
                        f"choice-{product.pk}-{n}",
                        _("Choose the %(attribute)s of %(name)s.")
                        % {"attribute": attribute, "name": product.display_name},
                    )
        return cleaned

    def added_lines(self):
        """``[(product, quantity)]`` of the search results given a quantity > 0, with a
        third item ``{attribute: value}`` for a product whose attributes are chosen."""
        lines = []
        for product in self.offered_products:
            quantity = self.cleaned_data.get(f"add-{product.pk}")
            if not quantity:
                continue
            choices = self._choices_of(product)
            lines.append((product, quantity, choices) if choices else (product, quantity))
        return lines

    def add_fields(self):
        """The bound ``add-<id>`` fields with their products, for the template; each
        product's ``choice_fields`` (its open attributes' selects) set on it."""
        rows = []
        for product in self.offered_products:
            product.choice_fields = [
                self[f"choice-{product.pk}-{n}"]
                for n in range(len(product.attribute_choices or {}))
            ]
            rows.append((product, self[f"add-{product.pk}"]))
        return rows


class OrderEditForm(ProductLinesMixin, DeliveryFormMixin):
    """Change a submitted order: quantities per line (0 removes), products added from the
    search by name or SKU (``add-<product id>``), address, payment, note.

    ``version`` is the order version the form was built from (optimistic concurrency).
    """

    version = TypedIntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, order, lines, found=(), **kwargs):
        self.order = order
        self.order_lines = list(lines)
        super().__init__(*args, **kwargs)
        self._add_product_fields(self.data if self.is_bound else None, found)
        limit = settings.MALL_MAX_LINE_QUANTITY
        for line in self.order_lines:
            field = quantity_field(_("Quantity of %(name)s") % {"name": line.name}, min_value=0)
            field.initial = line.quantity
            field.widget.attrs["max"] = limit
            self.fields[f"{QUANTITY_PREFIX}{line.product_id}"] = field

    @classmethod
    def initial_for(cls, order):
        """Initial data showing ``order`` as it is now."""
        initial = dict(order.address_dict)
        initial.update(
            payment_method=order.payment_method, note=order.customer_note, version=order.version
        )
        return initial

    def quantity_fields(self):
        """``(line, bound field)`` pairs for the lines table."""
        return [(line, self[f"{QUANTITY_PREFIX}{line.product_id}"]) for line in self.order_lines]

    def clean(self):
        cleaned = super().clean()
        quantities = [
            cleaned.get(f"{QUANTITY_PREFIX}{line.product_id}") for line in self.order_lines
        ]
        quantities += [cleaned.get(f"add-{product.pk}") or 0 for product in self.offered_products]
        if quantities and all(q == 0 for q in quantities):
            raise forms.ValidationError(
                _("An order needs at least one item. To drop everything, cancel the order."),
                code="empty",
            )
        return cleaned

    def lines(self):
        """The new ``[(product, quantity), ...]`` for ``services.edit_order`` (0s left out)."""
        pairs = []
        for line in self.order_lines:
            quantity = self.cleaned_data[f"{QUANTITY_PREFIX}{line.product_id}"]
            if quantity:
                pairs.append((line.product, quantity))
        # Products picked from the search; the service merges one already on the order.
        pairs += self.added_lines()
        return pairs


class OrderCancelForm(forms.Form):
    """The member's cancel confirmation; the reason is optional."""

    reason = forms.CharField(
        label=_("Why are you cancelling?"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def rebase_typed(posted, changes):
    """A change form as posted (``posted``, a ``QueryDict``: address fields, ``note``,
    ``payment_method``, ``qty-<product id>``) moved onto the order's current version after
    someone else changed it meanwhile (``changes``: ``StaleOrder.details["changes"]``).

    A field the sender left as it was (its value equals the one before the other change)
    takes the new value, so saving again does not undo the other change (a member's, or
    an admin's made on the phone); a field both changed keeps the sender's value and is
    named in the returned list. Returns ``(data, both_changed)``.
    """
    data = posted.copy()
    both = []
    typed_lines = {
        key[len("qty-") :]: key for key in data if key.startswith("qty-") and key[4:].isdigit()
    }
    skus = dict(
        Product.objects.filter(pk__in=[int(pk) for pk in typed_lines]).values_list("sku", "pk")
    )

    def rebase(key, old, new, label):
        typed = " ".join(str(data.get(key, "")).split())
        if typed == " ".join(str(old or "").split()):
            data[key] = new or ""
        elif typed != " ".join(str(new or "").split()):
            both.append(label)

    for change in changes:
        if change.get("kind") != OrderEvent.Kind.EDITED:
            continue
        diff = change.get("data") or {}
        for field, (old, new) in (diff.get("address") or {}).items():
            label = str(Order._meta.get_field(field).verbose_name)
            rebase(field, old, new, label)
        if diff.get("payment_method"):
            rebase("payment_method", *diff["payment_method"], _("payment method"))
        if "note" in diff:
            rebase("note", *diff["note"], _("the member's note"))
        for line in diff.get("lines") or []:
            key = f"qty-{skus.get(line.get('sku'))}"
            if key in data:
                rebase(key, line.get("from"), str(line.get("to")), line.get("name", ""))
    return data, list(dict.fromkeys(both))
