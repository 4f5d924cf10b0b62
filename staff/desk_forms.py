"""Forms of the confirmation desk (issue 11): changing an order for the member and
taking an order by phone. They validate input; ``orders.services`` decides the rest.

Products are picked by a small server-rendered search (``mall.catalogue.find_products``);
each result carries a quantity box named ``add-<product id>``, and each line already on
the order a box ``qty-<product id>`` (0 removes the line).
"""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from mall.formatting import CodeField, TypedIntegerField
from orders.forms import ProductLinesMixin
from orders.forms import product_quantity_field as _quantity_field
from orders.models import ADDRESS_FIELDS, Order, PaymentMethod
from staff.forms import TEXT_MAX, _textarea


def _address_fields():
    fields = {}
    for name in ADDRESS_FIELDS:
        model_field = Order._meta.get_field(name)
        # Phone and postcode are typed digits: full-width ones are read as ASCII.
        field_class = CodeField if name in ("phone", "postcode") else forms.CharField
        fields[name] = field_class(
            label=capfirst(model_field.verbose_name),
            max_length=model_field.max_length,
            required=name != "postcode",
        )
    return fields


_ADDRESS = _address_fields()


class AddressFieldsForm(forms.Form):
    """The delivery address (as on ``Order``), payment method and the member's note."""

    recipient = _ADDRESS["recipient"]
    phone = _ADDRESS["phone"]
    region = _ADDRESS["region"]
    city = _ADDRESS["city"]
    address_line = _ADDRESS["address_line"]
    postcode = _ADDRESS["postcode"]
    payment_method = forms.ChoiceField(label=_("Payment method"), choices=PaymentMethod.choices)
    note = forms.CharField(
        label=_("Member's delivery note"),
        required=False,
        max_length=TEXT_MAX,
        widget=_textarea(rows=2),
    )

    def address(self):
        return {name: self.cleaned_data.get(name, "") for name in ADDRESS_FIELDS}


class OrderEditForm(ProductLinesMixin, AddressFieldsForm):
    """An order admin changes a submitted order for the member: quantities of its lines
    (0 removes), products added from the search, address, phone, payment method, the
    member's note, and the required reason."""

    version = TypedIntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=TEXT_MAX,
        widget=_textarea(rows=2, placeholder=_("e.g. As the member asked on the phone.")),
        help_text=_("The member reads it in the e-mail listing the changes."),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)

    def __init__(self, data=None, *, order, found=(), carry=None, **kwargs):
        """``carry``: what was typed before a product search inside the form (a
        ``QueryDict``), shown again unbound, so no error is shown before saving."""
        self.order = order
        self.lines = list(order.lines.all())
        initial = {"version": order.version, **order.address_dict}
        initial.update(payment_method=order.payment_method, note=order.customer_note)
        if carry is not None:
            initial.update(self.carried(carry))
        super().__init__(data, initial=initial, **kwargs)
        for line in self.lines:
            self.fields[f"qty-{line.product_id}"] = _quantity_field(line.name, line.quantity)
        self._add_product_fields(data if data is not None else carry, found)

    def preview_rows(self):
        rows = []
        for line in self.lines:
            name = f"qty-{line.product_id}"
            raw = self.data.get(name) if self.is_bound else self.initial.get(name)
            quantity = line.quantity if raw in (None, "") else self.typed_quantity(name)
            if quantity:
                rows.append((line.name, quantity, line.unit_price))
        return rows + super().preview_rows()

    def line_fields(self):
        return [(line, self[f"qty-{line.product_id}"]) for line in self.lines]

    def wanted_lines(self):
        """The order's new ``[(product, quantity)]``: kept lines with their new quantity,
        plus the products added (added to a line already there when it is one); a new
        line of a variation with open attributes carries its choices as a third item (a
        line already on the order keeps the choice made when it was ordered)."""
        wanted = {}
        products = {}
        choices = {}
        for line in self.lines:
            qty = self.cleaned_data.get(f"qty-{line.product_id}")
            qty = line.quantity if qty is None else qty
            if qty:
                wanted[line.product_id] = qty
                products[line.product_id] = line.product
        for product, qty, *chosen in self.added_lines():
            wanted[product.pk] = wanted.get(product.pk, 0) + qty
            products[product.pk] = product
            if chosen and product.pk not in {line.product_id for line in self.lines}:
                choices[product.pk] = chosen[0]
        return [
            (products[pid], qty, choices[pid]) if pid in choices else (products[pid], qty)
            for pid, qty in wanted.items()
        ]


class MemberSearchForm(forms.Form):
    """Find the member on the phone by phone, name or e-mail."""

    member_q = CodeField(
        label=_("Phone, name or e-mail"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
    )


class NewMemberForm(forms.Form):
    """A member who has no account yet: name, phone, optional e-mail (no password)."""

    step = forms.CharField(widget=forms.HiddenInput, initial="member")
    name = forms.CharField(label=_("Name"), max_length=150)
    phone = CodeField(label=_("Phone"), max_length=30)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False, max_length=254)


class PhoneOrderForm(ProductLinesMixin, AddressFieldsForm):
    """The order taken by phone: products from the search, address (pre-filled from the
    member's last order), payment method, note; optionally confirmed at once with a call
    note, the admin having just spoken to the member."""

    step = forms.CharField(widget=forms.HiddenInput, initial="order")
    member = TypedIntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    confirm_now = forms.BooleanField(
        label=_("Confirm the order now (I have just checked it with the member)"),
        required=False,
    )
    call_note = forms.CharField(
        label=_("Call note"),
        required=False,
        max_length=TEXT_MAX,
        widget=_textarea(rows=2, placeholder=_("e.g. Address and items read back to the member.")),
    )

    def __init__(self, data=None, *, found=(), carry=None, **kwargs):
        """``carry``: what was typed before a product search inside the form (a
        ``QueryDict``), shown again unbound, so no error is shown before placing."""
        if carry is not None:
            kwargs["initial"] = {**kwargs.get("initial", {}), **self.carried(carry)}
        super().__init__(data, **kwargs)
        self._add_product_fields(data if data is not None else carry, found)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("confirm_now") and not (cleaned.get("call_note") or "").strip():
            self.add_error("call_note", _("A call note is needed to confirm the order now."))
        return cleaned
