"""Cleaning of what callers hand the services: addresses, text, quantities, lines, money.

Each cleaner returns the normalised value or raises ``InvalidInput`` with a message a
person can act on.
"""

import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from mall.formatting import normalize_typed
from mall.models import Product
from orders.exceptions import (
    InvalidInput,
)
from orders.models import (
    ADDRESS_FIELDS,
    Order,
    PaymentMethod,
)
from orders.pricing import quantize

MAX_LINES = 50


MAX_TEXT = 1000


# Address fields that hold digits or codes: normalised (NFKC) before validation.
CODE_FIELDS = ("phone", "postcode")

PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,28}$")


def clean_address(address):
    """Validate and normalise a delivery address dict.

    ``address`` has the keys of ``ADDRESS_FIELDS`` (``recipient``, ``phone``, ``region``,
    ``city``, ``address_line``, ``postcode``); all but ``postcode`` are required. Returns a
    new dict of stripped strings. Raises ``InvalidInput`` with ``details["fields"]``
    mapping each bad field to a message.
    """
    if not isinstance(address, dict):
        raise InvalidInput(_("The delivery address is missing."))
    limits = {f.name: f.max_length for f in Order._meta.fields if f.name in ADDRESS_FIELDS}
    cleaned, errors = {}, {}
    for field in ADDRESS_FIELDS:
        value = address.get(field, "")
        value = "" if value is None else str(value).strip()
        if field in CODE_FIELDS:
            value = normalize_typed(value)  # full-width digits from a Chinese input method
        if "\x00" in value:
            errors[field] = _("Contains characters that are not allowed.")
        elif is_blank(value) and field != "postcode":
            errors[field] = _("This field is required.")
        elif len(value) > limits[field]:
            errors[field] = _("At most %(n)d characters.") % {"n": limits[field]}
        cleaned[field] = value
    phone = cleaned["phone"]
    if "phone" not in errors:
        digits = re.sub(r"\D", "", phone)
        if not PHONE_RE.match(phone) or not 7 <= len(digits) <= 15:
            errors["phone"] = _(
                "Enter a phone number we can call, e.g. 138 0013 8000 or 021-5555 1234."
            )
    postcode = cleaned["postcode"]
    if (
        postcode
        and "postcode" not in errors
        and not re.fullmatch(r"[0-9A-Za-z \-]{3,12}", postcode)
    ):
        errors["postcode"] = _("Enter a valid postcode.")
    if errors:
        raise InvalidInput(_("Please correct the delivery address."), details={"fields": errors})
    return cleaned


# Zero-width and byte-order marks: invisible, so a field holding only these is empty.
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def is_blank(value):
    return not value.translate(INVISIBLE).strip()


def clean_code(value, label, *, required=False, max_length=MAX_TEXT):
    """``clean_text`` for a code (waybill, reference): full-width input normalised first."""
    return clean_text(
        normalize_typed("" if value is None else str(value)),
        label,
        required=required,
        max_length=max_length,
    )


def clean_text(value, label, *, required=False, max_length=MAX_TEXT):
    value = "" if value is None else str(value).strip()
    if required and is_blank(value):
        raise InvalidInput(_("%(label)s is required.") % {"label": label})
    if len(value) > max_length:
        raise InvalidInput(
            _("%(label)s is too long (at most %(n)d characters).")
            % {"label": label, "n": max_length}
        )
    if "\x00" in value:
        raise InvalidInput(
            _("%(label)s contains characters that are not allowed.") % {"label": label}
        )
    return value


def clean_choices(lines, products, only=None):
    """The customer's "any value" choices of ``lines``, checked: ``{product_id: {...}}``.

    ``products`` are the locked products by id (their ``attribute_choices`` now);
    ``only`` limits the check to these product ids (new lines of an edit). One choice
    per product per order. Raises ``InvalidInput`` naming the attribute to choose.
    """
    given = {}
    for item in lines:
        if len(item) > 2 and item[2]:
            if not isinstance(item[2], dict):
                raise InvalidInput(_("Choices are attribute names and values."))
            previous = given.setdefault(item[0].pk, item[2])
            if previous != item[2]:
                raise InvalidInput(
                    _("%(name)s is on the order once, with one choice.")
                    % {"name": item[0].display_name}
                )
    cleaned = {}
    for pid, product in products.items():
        if only is not None and pid not in only:
            continue
        if pid not in given and not product.attribute_choices:
            continue
        try:
            choice = product.clean_choices(given.get(pid))
        except ValueError as error:
            raise InvalidInput(str(error), code="choice") from None
        if choice:
            cleaned[pid] = choice
    return cleaned


def clean_quantity(quantity):
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput(_("Quantities must be whole numbers."))
    if not 1 <= quantity <= settings.MALL_MAX_LINE_QUANTITY:
        raise InvalidInput(
            _("Quantities must be between 1 and %(max)d.")
            % {"max": settings.MALL_MAX_LINE_QUANTITY}
        )
    return quantity


def clean_lines(lines):
    """Return ``{product_id: quantity}`` from ``[(product, quantity), ...]``; merge repeats.

    A line may carry a third item, the customer's choices for a variation's "any value"
    attributes (``{attribute: value}``); :func:`clean_choices` checks them.
    """
    if not lines:
        raise InvalidInput(_("The order has no items."), code="empty")
    wanted = {}
    for item in lines:
        try:
            product, quantity, *_choices = item
        except (TypeError, ValueError):
            raise InvalidInput(_("Each line is a product and a quantity.")) from None
        if not isinstance(product, Product) or product.pk is None:
            raise InvalidInput(_("Unknown product."))
        wanted[product.pk] = wanted.get(product.pk, 0) + clean_quantity(quantity)
        clean_quantity(wanted[product.pk])
    if len(wanted) > MAX_LINES:
        raise InvalidInput(_("An order can have at most %(n)d lines.") % {"n": MAX_LINES})
    return wanted


def clean_payment_method(value):
    if value not in PaymentMethod.values:
        raise InvalidInput(_("Choose a payment method."), code="payment_method")
    return value


def clean_language(value):
    """Return ``value`` as a code of ``LANGUAGES`` (``zh-Hans`` → ``zh-hans``).

    ``None`` or ``""`` gives the active language; a language the shop does not offer is
    refused with ``InvalidInput``.
    """
    code = (value or translation.get_language() or settings.LANGUAGE_CODE).lower()
    if code not in dict(settings.LANGUAGES):
        raise InvalidInput(_("Choose a language the shop offers."), code="language")
    return code


def clean_amount(amount, *, allow_zero=False):
    """Return ``amount`` as a ``Decimal`` of cents, > 0 (>= 0 with ``allow_zero``).

    Accepts a ``Decimal``, an ``int`` or a string such as ``"128.50"``; refuses floats,
    more than two decimal places and amounts over ``MALL_MAX_PAYMENT_AMOUNT``.
    """
    if isinstance(amount, float | bool):
        raise InvalidInput(_("Amounts are exact decimals, not floating point."))
    try:
        if not isinstance(amount, Decimal):
            amount = Decimal(normalize_typed(str(amount)))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter an amount such as 128.50.")) from None
    if not amount.is_finite() or amount.as_tuple().exponent > 0:
        raise InvalidInput(_("Enter an amount such as 128.50."))
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidInput(
            _("The amount cannot be negative.")
            if allow_zero
            else _("The amount must be more than zero.")
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(_("Amounts have at most two decimal places."))
    if amount > settings.MALL_MAX_PAYMENT_AMOUNT:
        raise InvalidInput(
            _("The amount is larger than any single entry may be (%(max)s).")
            % {"max": settings.MALL_MAX_PAYMENT_AMOUNT}
        )
    return quantize(amount)
