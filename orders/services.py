"""The one door for every change to an order (DESIGN: "Service layer").

Each action: takes the acting user first; checks the role's permission; opens a
transaction; re-reads and locks the order row (``select_for_update``); checks the
version where one is given; runs the django-fsm transition; adjusts stock (product rows
locked in primary-key order, so two checkouts cannot deadlock); writes exactly one
``OrderEvent``; and queues the member's e-mail with ``transaction.on_commit``.

A refused action raises an ``orders.exceptions.OrderError`` subclass and changes
nothing. Money is ``Decimal`` in the shop currency; quantities are positive integers.

Lock order, everywhere: the order row first, then product rows by ascending primary key.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from mall.models import Product
from mall.templatetags.shop import money
from orders import notifications
from orders.exceptions import (
    DuplicateReference,
    InsufficientStock,
    InvalidInput,
    NotPermitted,
    StaleOrder,
    TotalChanged,
    TransitionNotAllowed,
)
from orders.models import (
    ADDRESS_FIELDS,
    LOGISTICS,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Status,
    new_order_number,
)
from orders.pricing import quantize, totals_for

MAX_LINES = 50
MAX_TEXT = 1000
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,28}$")


class CallOutcome:
    """Outcomes of a confirmation call (``log_call``)."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    CALL_BACK = "call_back"

    @classmethod
    def choices(cls):
        return [
            (cls.REACHED, _("Reached the member")),
            (cls.NO_ANSWER, _("No answer")),
            (cls.WRONG_NUMBER, _("Wrong number")),
            (cls.CALL_BACK, _("Asked to call back later")),
        ]


# --- input checks ----------------------------------------------------------------------


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
        if "\x00" in value:
            errors[field] = _("Contains characters that are not allowed.")
        elif _is_blank(value) and field != "postcode":
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


def _is_blank(value):
    return not value.translate(INVISIBLE).strip()


def _clean_text(value, label, *, required=False, max_length=MAX_TEXT):
    value = "" if value is None else str(value).strip()
    if required and _is_blank(value):
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


def _clean_quantity(quantity):
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput(_("Quantities must be whole numbers."))
    if not 1 <= quantity <= settings.MALL_MAX_LINE_QUANTITY:
        raise InvalidInput(
            _("Quantities must be between 1 and %(max)d.")
            % {"max": settings.MALL_MAX_LINE_QUANTITY}
        )
    return quantity


def _clean_lines(lines):
    """Return ``{product_id: quantity}`` from ``[(product, quantity), ...]``; merge repeats."""
    if not lines:
        raise InvalidInput(_("The order has no items."), code="empty")
    wanted = {}
    for item in lines:
        try:
            product, quantity = item
        except (TypeError, ValueError):
            raise InvalidInput(_("Each line is a product and a quantity.")) from None
        if not isinstance(product, Product) or product.pk is None:
            raise InvalidInput(_("Unknown product."))
        wanted[product.pk] = wanted.get(product.pk, 0) + _clean_quantity(quantity)
        _clean_quantity(wanted[product.pk])
    if len(wanted) > MAX_LINES:
        raise InvalidInput(_("An order can have at most %(n)d lines.") % {"n": MAX_LINES})
    return wanted


def _clean_payment_method(value):
    if value not in PaymentMethod.values:
        raise InvalidInput(_("Choose a payment method."), code="payment_method")
    return value


def _clean_amount(amount):
    if isinstance(amount, float | bool):
        raise InvalidInput(_("Amounts are exact decimals, not floating point."))
    try:
        amount = Decimal(str(amount).strip()) if not isinstance(amount, Decimal) else amount
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter an amount such as 128.50.")) from None
    if not amount.is_finite() or amount.as_tuple().exponent > 0:
        raise InvalidInput(_("Enter an amount such as 128.50."))
    if amount <= 0:
        raise InvalidInput(_("The amount must be more than zero."))
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(_("Amounts have at most two decimal places."))
    if amount > settings.MALL_MAX_PAYMENT_AMOUNT:
        raise InvalidInput(
            _("The amount is larger than any single entry may be (%(max)s).")
            % {"max": settings.MALL_MAX_PAYMENT_AMOUNT}
        )
    return quantize(amount)


# --- locking and bookkeeping -------------------------------------------------------------


def _lock_order(order):
    """Re-read ``order`` under a row lock; never trust the caller's copy."""
    try:
        return Order.objects.select_for_update().get(pk=order.pk)
    except Order.DoesNotExist:
        raise InvalidInput(_("This order does not exist.")) from None


def _lock_products(product_ids):
    """Lock product rows in ascending primary-key order and return them by id."""
    rows = Product.objects.select_for_update().filter(pk__in=product_ids).order_by("pk")
    return {p.pk: p for p in rows}


def _check_version(order, expected_version):
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise InvalidInput(_("The order version is missing.")) from None
    if expected != order.version:
        changes = list(
            order.events.filter(order_version__gt=expected)
            .exclude(kind=OrderEvent.Kind.CALL_LOGGED)
            .values("kind", "note", "data", "created_at", "order_version")
        )
        raise StaleOrder(
            _(
                "The order changed after you opened it (you saw version %(seen)d, it is now "
                "version %(now)d). Review the changes below before acting."
            )
            % {"seen": expected, "now": order.version},
            details={"changes": changes, "current_version": order.version},
        )


def _record(order, actor, kind, *, before, note="", data=None, bump=True, fields=()):
    """Save ``fields`` of ``order`` (bumping ``version``) and write its one event.

    ``before`` is ``(status, payment_status)`` read before the change.
    """
    if bump:
        order.version += 1
        order.save(update_fields=[*fields, "version", "updated_at"])
    return OrderEvent.objects.create(
        order=order,
        actor=actor,
        kind=kind,
        from_status=before[0],
        to_status=order.status,
        from_payment_status=before[1],
        to_payment_status=order.payment_status,
        note=note,
        data=data or {},
        order_version=order.version,
    )


def _notify(order, kind):
    order_id = order.pk
    transaction.on_commit(lambda: notifications.send_order_email(order_id, kind))


def _state(order):
    return (order.status, order.payment_status)


def _refuse_unsellable(products):
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


def _reserve(products, deltas):
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


def _release_stock(order):
    """Return every line's quantity to stock (invalid and cancelled orders)."""
    quantities = dict(order.lines.values_list("product_id", "quantity"))
    products = _lock_products(quantities)
    _reserve(products, {pid: -qty for pid, qty in quantities.items()})
    return {products[pid].sku: qty for pid, qty in quantities.items()}


# --- who may do what now -------------------------------------------------------------------


def _is_owner(actor, order):
    return actor.is_authenticated and order.customer_id == actor.pk


def _require_perm(actor, method):
    """Raise ``NotPermitted`` unless ``actor`` holds the role a transition names."""
    meta = method._django_fsm
    order = method.__self__
    if not actor.is_authenticated or not any(
        t.has_perm(order, actor) for t in meta.transitions.values()
    ):
        raise NotPermitted()


def _require_state(method, message=None):
    if not can_proceed(method, check_conditions=False):
        raise TransitionNotAllowed(message)


def _check_status_message(order):
    return {
        Status.CONFIRMED: _("The order is already confirmed."),
        Status.INVALID: _("The order was marked invalid."),
        Status.ALLOCATED: _("The order is already allocated for delivery."),
        Status.SHIPPED: _("The order has already shipped."),
        Status.CANCELLED: _("The order is cancelled."),
    }.get(order.status)


def check_edit(actor, order):
    """Raise unless ``actor`` may change ``order`` now (owner, while submitted)."""
    _require_perm(actor, order.edit)
    _require_state(
        order.edit,
        _(
            "The order was confirmed by our staff and can no longer be changed online. "
            "Please call us if something is wrong."
        )
        if order.status in (Status.CONFIRMED, Status.ALLOCATED)
        else _check_status_message(order),
    )


def check_cancel(actor, order):
    """Raise unless ``actor`` may cancel ``order`` now.

    An order admin cancels submitted, invalid, confirmed or allocated orders; the owner
    only while submitted. Refused while money is held (refund first).
    """
    is_admin = actor.has_perm("orders.cancel_order")
    # The owner's refusal once the order left ``submitted`` is about its state, not the
    # role: say which state, before any permission check, so a member whose page was
    # stale, or who lost a race to the admin's confirm or to their own second click,
    # gets "confirmed ... call us" / "is cancelled", never ``NotPermitted`` (a 403).
    if not is_admin and _is_owner(actor, order) and order.status != Status.SUBMITTED:
        raise TransitionNotAllowed(
            _(
                "The order was confirmed by our staff and can no longer be cancelled online. "
                "Please call us."
            )
            if order.status in (Status.CONFIRMED, Status.ALLOCATED)
            else _check_status_message(order)
        )
    _require_perm(actor, order.cancel)
    _require_state(order.cancel, _check_status_message(order))
    if not order.no_money_held():
        raise TransitionNotAllowed(
            _("Money is held for this order: record the refund before cancelling it."),
            code="money_held",
        )


def check_confirm(actor, order):
    """Raise unless ``actor`` (order admin) may confirm ``order`` now (submitted)."""
    _require_perm(actor, order.confirm)
    _require_state(order.confirm, _check_status_message(order))


def check_invalidate(actor, order):
    """Raise unless ``actor`` (order admin) may mark ``order`` invalid now (submitted)."""
    _require_perm(actor, order.invalidate)
    _require_state(order.invalidate, _check_status_message(order))


def check_allocate(actor, order):
    """Raise unless ``actor`` (order admin) may allocate ``order`` now (confirmed/allocated)."""
    _require_perm(actor, order.allocate)
    _require_state(
        order.allocate,
        _("Only confirmed orders can be allocated.")
        if order.status == Status.SUBMITTED
        else _check_status_message(order),
    )


def check_ship(actor, order):
    """Raise unless ``actor`` may record the shipment of ``order`` now.

    Order admins ship any allocated order, a logistics person the ones assigned to them;
    a prepaid order must be paid first, cash on delivery ships unpaid.
    """
    _require_perm(actor, order.ship)
    _require_state(
        order.ship,
        _("Allocate the order to a delivery person before recording the shipment.")
        if order.status in (Status.SUBMITTED, Status.CONFIRMED)
        else _check_status_message(order),
    )
    if not order.paid_if_prepaid():
        raise TransitionNotAllowed(
            _(
                "This order is paid by %(method)s and is not paid yet (%(state)s): finance must "
                "record the payment before it ships."
            )
            % {
                "method": order.get_payment_method_display().lower(),
                "state": order.get_payment_status_display().lower(),
            },
            code="unpaid",
        )


def check_log_call(actor, order):
    """Raise unless ``actor`` may log a call on ``order`` (order admin, order not final)."""
    if not actor.is_authenticated or not actor.has_perm("orders.log_call"):
        raise NotPermitted()
    if order.status in (Status.SHIPPED, Status.CANCELLED):
        raise TransitionNotAllowed(_check_status_message(order))


def check_record_payment(actor, order):
    """Raise unless ``actor`` (finance) may record a payment now (confirmed or later)."""
    _require_perm(actor, order.receive_payment)
    if not order.accepts_payments():
        raise TransitionNotAllowed(
            _(
                "Payments are recorded once the order is confirmed, and not on cancelled or "
                "invalid orders."
            )
        )
    _require_state(order.receive_payment)


def check_record_refund(actor, order):
    """Raise unless ``actor`` (finance) may record a refund now (money is held)."""
    _require_perm(actor, order.refund)
    _require_state(
        order.refund, _("No money is held for this order, so there is nothing to refund.")
    )


def check_void(actor, order):
    """Raise unless ``actor`` (finance) may void ledger entries of ``order`` (it has some)."""
    _require_perm(actor, order.void_entry)
    if not order.payments.filter(voided_at__isnull=True).exists():
        raise TransitionNotAllowed(_("There are no ledger entries to void."))


ACTION_CHECKS = {
    "edit": check_edit,
    "cancel": check_cancel,
    "confirm": check_confirm,
    "invalidate": check_invalidate,
    "allocate": check_allocate,
    "ship": check_ship,
    "call": check_log_call,
    "payment": check_record_payment,
    "refund": check_record_refund,
    "void": check_void,
}


def allowed_actions(actor, order):
    """Return the set of action names (keys of ``ACTION_CHECKS``) ``actor`` may take now.

    Pages show exactly these; the services re-check under the lock when the form comes.
    """
    allowed = set()
    for name, check in ACTION_CHECKS.items():
        try:
            check(actor, order)
        except (NotPermitted, TransitionNotAllowed):
            continue
        allowed.add(name)
    return allowed


def may_ever(actor, action):
    """Whether ``actor``'s role can ever take ``action`` (for a 403 on hand-made posts)."""
    perms = {
        "confirm": ["orders.confirm_order"],
        "invalidate": ["orders.invalidate_order"],
        "cancel": ["orders.cancel_order"],
        "allocate": ["orders.allocate_order"],
        "ship": ["orders.ship_order", "orders.ship_assigned_order"],
        "call": ["orders.log_call"],
        "payment": ["orders.record_payment"],
        "refund": ["orders.record_refund"],
        "void": ["orders.void_payment"],
    }[action]
    return actor.is_authenticated and any(actor.has_perm(p) for p in perms)


# --- the actions -------------------------------------------------------------------------------


def place_order(
    actor, *, lines, address, payment_method, note="", checkout_token=None, expected_total=None
):
    """Place an order for ``actor`` (a signed-in member) and reserve its stock.

    ``lines``: list of ``(Product, quantity)`` pairs, quantity a positive int up to
    ``MALL_MAX_LINE_QUANTITY`` (repeats of one product are merged). ``address``: dict of
    the address fields (see ``clean_address``). ``payment_method``: ``cod``,
    ``bank_transfer`` or ``postal_remittance``. ``checkout_token``: optional one-time
    token of the checkout form; placing again with the same token returns the order it
    made instead of a second one (double submit). ``expected_total``: optional ``Decimal``
    total the member was shown; if prices or the cart changed so the total differs,
    ``TotalChanged`` is raised and nothing is placed.

    Unit prices are the products' current prices, copied onto the lines. Raises
    ``NotPermitted`` (anonymous), ``InvalidInput`` (bad lines, address, method, note, or
    a product no longer for sale), ``InsufficientStock``. Returns the new ``Order``.
    """
    if not actor.is_authenticated:
        raise NotPermitted(_("Please sign in to place an order."))
    wanted = _clean_lines(lines)
    cleaned_address = clean_address(address)
    payment_method = _clean_payment_method(payment_method)
    note = _clean_text(note, _("The note"))
    if checkout_token:
        existing = Order.objects.filter(checkout_token=checkout_token, customer=actor).first()
        if existing:
            return existing

    try:
        with transaction.atomic():
            products = _lock_products(wanted)
            if checkout_token:
                # A double submit's twin request held these product locks until it
                # committed; read again now (READ COMMITTED sees its order) so the second
                # click returns that order instead of reserving again, or of reporting
                # the unit the first click just took as out of stock.
                existing = Order.objects.filter(
                    checkout_token=checkout_token, customer=actor
                ).first()
                if existing:
                    return existing
            if len(products) != len(wanted):
                raise InvalidInput(_("A product in your cart no longer exists."))
            _refuse_unsellable(products.values())
            _reserve(products, wanted)

            now = timezone.now()
            priced = [
                (products[pid], qty, products[pid].current_price(now))
                for pid, qty in wanted.items()
            ]
            subtotal, fee, total = totals_for(quantize(price * qty) for _p, qty, price in priced)
            if expected_total is not None and Decimal(expected_total) != total:
                raise TotalChanged(
                    _(
                        "The total changed from %(old)s to %(new)s since the page was shown "
                        "(a price or your cart changed). Please check the order and place it "
                        "again."
                    )
                    % {"old": money(expected_total), "new": money(total)},
                    details={"total": total},
                )
            order = Order(
                customer=actor,
                payment_method=payment_method,
                customer_note=note,
                subtotal=subtotal,
                shipping_fee=fee,
                total=total,
                checkout_token=checkout_token or None,
                **cleaned_address,
            )
            for attempt in range(5):
                try:
                    with transaction.atomic():
                        order.save()
                    break
                except IntegrityError:
                    if (
                        checkout_token
                        and Order.objects.filter(checkout_token=checkout_token).exists()
                    ):
                        raise
                    if attempt == 4:
                        raise
                    order.number = new_order_number()
            OrderLine.objects.bulk_create(
                OrderLine(
                    order=order,
                    product=product,
                    sku=product.sku,
                    name=product.display_name,
                    unit_price=price,
                    quantity=qty,
                    line_total=quantize(price * qty),
                )
                for product, qty, price in priced
            )
            _record(
                order,
                actor,
                OrderEvent.Kind.PLACED,
                before=("", ""),
                bump=False,
                data={
                    "lines": [
                        {"sku": p.sku, "quantity": q, "unit_price": str(price)}
                        for p, q, price in priced
                    ],
                    "total": str(total),
                },
            )
            _notify(order, "placed")
    except IntegrityError:
        if checkout_token:
            existing = Order.objects.filter(checkout_token=checkout_token, customer=actor).first()
            if existing:
                return existing
        raise
    return order


def edit_order(
    actor, order, *, expected_version, lines=None, address=None, payment_method=None, note=None
):
    """Let the owning member change a submitted order, re-balancing reserved stock.

    ``lines`` replaces the whole list of ``(Product, quantity)`` pairs (``None`` keeps it);
    a product kept on the order keeps the unit price it was ordered at, a new product
    takes today's price. ``address`` replaces the address fields; ``payment_method`` and
    ``note`` replace theirs. ``expected_version`` is the version the member's form showed.

    Raises ``NotPermitted`` (not the owner), ``TransitionNotAllowed`` (no longer
    submitted), ``StaleOrder``, ``InvalidInput``, ``InsufficientStock``. Returns the order;
    when nothing differs it is returned unchanged, with no event.
    """
    with transaction.atomic():
        order = _lock_order(order)
        check_edit(actor, order)
        _check_version(order, expected_version)
        before = _state(order)
        diff, fields = {}, []

        if address is not None:
            cleaned = clean_address(address)
            changed = {
                f: [getattr(order, f), cleaned[f]]
                for f in ADDRESS_FIELDS
                if getattr(order, f) != cleaned[f]
            }
            if changed:
                diff["address"] = changed
                for f in changed:
                    setattr(order, f, cleaned[f])
                fields += list(changed)
        if payment_method is not None:
            payment_method = _clean_payment_method(payment_method)
            if payment_method != order.payment_method:
                diff["payment_method"] = [order.payment_method, payment_method]
                order.payment_method = payment_method
                fields.append("payment_method")
        if note is not None:
            note = _clean_text(note, _("The note"))
            if note != order.customer_note:
                diff["note"] = [order.customer_note, note]
                order.customer_note = note
                fields.append("customer_note")
        if lines is not None:
            wanted = _clean_lines(lines)
            current = {line.product_id: line for line in order.lines.all()}
            deltas = {
                pid: wanted.get(pid, 0) - (current[pid].quantity if pid in current else 0)
                for pid in set(wanted) | set(current)
            }
            deltas = {pid: d for pid, d in deltas.items() if d}
            if deltas:
                products = _lock_products(deltas)
                if len(products) != len(deltas):
                    raise InvalidInput(_("A product on the order no longer exists."))
                # Only what the member adds must still be for sale; fewer units never are refused.
                _refuse_unsellable([products[pid] for pid, d in deltas.items() if d > 0])
                _reserve(products, deltas)
                line_diff = []
                now = timezone.now()
                for pid in deltas:
                    line = current.get(pid)
                    new_qty = wanted.get(pid, 0)
                    if line is None:
                        product = products[pid]
                        price = product.current_price(now)
                        OrderLine.objects.create(
                            order=order,
                            product=product,
                            sku=product.sku,
                            name=product.display_name,
                            unit_price=price,
                            quantity=new_qty,
                            line_total=quantize(price * new_qty),
                        )
                        line_diff.append(
                            {
                                "sku": product.sku,
                                "name": product.display_name,
                                "from": 0,
                                "to": new_qty,
                            }
                        )
                        continue
                    line_diff.append(
                        {"sku": line.sku, "name": line.name, "from": line.quantity, "to": new_qty}
                    )
                    if new_qty == 0:
                        line.delete()
                    else:
                        line.quantity = new_qty
                        line.line_total = quantize(line.unit_price * new_qty)
                        line.save(update_fields=["quantity", "line_total"])
                diff["lines"] = sorted(line_diff, key=lambda d: d["sku"])
                subtotal, fee, total = totals_for(order.lines.values_list("line_total", flat=True))
                if total != order.total:
                    diff["total"] = [str(order.total), str(total)]
                order.subtotal, order.shipping_fee, order.total = subtotal, fee, total
                fields += ["subtotal", "shipping_fee", "total"]

        if not diff:
            return order
        order.edit()
        _record(order, actor, OrderEvent.Kind.EDITED, before=before, data=diff, fields=fields)
    return order


def cancel_order(actor, order, *, reason=""):
    """Cancel ``order`` and return its reserved stock (once: not again for an invalid order).

    The owning member may cancel while submitted (reason optional); an order admin may
    cancel a submitted, invalid, confirmed or allocated order and must give a reason.
    Refused while money is held (refund first). Raises ``NotPermitted``,
    ``TransitionNotAllowed``, ``InvalidInput``. Returns the order.
    """
    with transaction.atomic():
        order = _lock_order(order)
        check_cancel(actor, order)
        acting_as_owner = _is_owner(actor, order) and order.status == Status.SUBMITTED
        reason = _clean_text(reason, _("A reason"), required=not acting_as_owner)
        before = _state(order)
        released = {} if order.status == Status.INVALID else _release_stock(order)
        order.cancel()
        order.cancelled_at = timezone.now()
        _record(
            order,
            actor,
            OrderEvent.Kind.CANCELLED,
            before=before,
            note=reason,
            data={"stock_released": released, "by_member": acting_as_owner},
            fields=["status", "cancelled_at"],
        )
        _notify(order, "cancelled")
    return order


def confirm_order(actor, order, *, expected_version, call_note):
    """Mark a submitted order valid after the phone call (order admin).

    ``expected_version`` is the version the admin reviewed; if the member changed the
    order since, ``StaleOrder`` is raised with the changes. ``call_note`` (required)
    records what was checked on the call. Raises ``NotPermitted``,
    ``TransitionNotAllowed``, ``StaleOrder``, ``InvalidInput``. Returns the order.
    """
    with transaction.atomic():
        order = _lock_order(order)
        check_confirm(actor, order)
        _check_version(order, expected_version)
        call_note = _clean_text(call_note, _("A call note"), required=True)
        before = _state(order)
        order.confirm()
        order.confirmed_at = timezone.now()
        _record(
            order,
            actor,
            OrderEvent.Kind.CONFIRMED,
            before=before,
            note=call_note,
            data={"confirmed_version": order.version},
            fields=["status", "confirmed_at"],
        )
        _notify(order, "confirmed")
    return order


def invalidate_order(actor, order, *, reason):
    """Mark a submitted order invalid (order admin) and return its reserved stock.

    ``reason`` is required. Raises ``NotPermitted``, ``TransitionNotAllowed``,
    ``InvalidInput``. Returns the order.
    """
    with transaction.atomic():
        order = _lock_order(order)
        check_invalidate(actor, order)
        reason = _clean_text(reason, _("A reason"), required=True)
        before = _state(order)
        released = _release_stock(order)
        order.invalidate()
        order.invalidated_at = timezone.now()
        _record(
            order,
            actor,
            OrderEvent.Kind.INVALIDATED,
            before=before,
            note=reason,
            data={"stock_released": released},
            fields=["status", "invalidated_at"],
        )
        _notify(order, "invalidated")
    return order


def logistics_staff():
    """Active users of the Logistics group, by name: the people an order can go to."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=LOGISTICS)
        .order_by("first_name", "last_name", "username")
        .distinct()
    )


def allocate_order(actor, order, *, assignee):
    """Allocate a confirmed order to ``assignee``, or re-assign an allocated one.

    ``assignee`` must be an active member of the Logistics group, and differ from the
    current one. The event records the old and new assignee. Raises ``NotPermitted``,
    ``TransitionNotAllowed``, ``InvalidInput``. Returns the order.
    """
    with transaction.atomic():
        order = _lock_order(order)
        check_allocate(actor, order)
        if assignee is None or not logistics_staff().filter(pk=assignee.pk).exists():
            raise InvalidInput(_("Choose a person from the Logistics group."), code="assignee")
        if order.assigned_to_id == assignee.pk:
            raise InvalidInput(_("The order is already assigned to this person."), code="assignee")
        previous = order.assigned_to
        before = _state(order)
        order.allocate()
        order.assigned_to = assignee
        order.allocated_at = timezone.now()
        _record(
            order,
            actor,
            OrderEvent.Kind.REALLOCATED if previous else OrderEvent.Kind.ALLOCATED,
            before=before,
            data={
                "from": previous.get_username() if previous else None,
                "from_name": (previous.get_full_name() or previous.get_username())
                if previous
                else None,
                "to": assignee.get_username(),
                "to_name": assignee.get_full_name() or assignee.get_username(),
            },
            fields=["status", "assigned_to", "allocated_at"],
        )
    return order


def ship_order(actor, order, *, carrier, tracking_number):
    """Record the shipment of an allocated order (completes the order).

    ``carrier`` and ``tracking_number`` (the waybill number) are required. Allowed to
    order admins, and to the logistics person the order is assigned to; a prepaid order
    must be paid first. Raises ``NotPermitted``, ``TransitionNotAllowed`` (code
    ``unpaid`` for an unpaid prepaid order), ``InvalidInput``. Returns the order.
    """
    with transaction.atomic():
        order = _lock_order(order)
        check_ship(actor, order)
        carrier = _clean_text(carrier, _("The carrier"), required=True, max_length=100)
        tracking_number = _clean_text(
            tracking_number, _("The waybill number"), required=True, max_length=100
        )
        before = _state(order)
        order.ship()
        order.carrier, order.tracking_number = carrier, tracking_number
        order.shipped_at = timezone.now()
        _record(
            order,
            actor,
            OrderEvent.Kind.SHIPPED,
            before=before,
            data={"carrier": carrier, "tracking_number": tracking_number},
            fields=["status", "carrier", "tracking_number", "shipped_at"],
        )
        _notify(order, "shipped")
    return order


def log_call(actor, order, *, outcome, note=""):
    """Log a call attempt to the member; changes nothing else and keeps ``version``.

    ``outcome`` is one of ``CallOutcome`` (``reached``, ``no_answer``, ``wrong_number``,
    ``call_back``). Raises ``NotPermitted``, ``TransitionNotAllowed`` (order final),
    ``InvalidInput``. Returns the event.
    """
    with transaction.atomic():
        order = _lock_order(order)
        check_log_call(actor, order)
        outcomes = dict(CallOutcome.choices())
        if outcome not in outcomes:
            raise InvalidInput(_("Choose how the call went."), code="outcome")
        note = _clean_text(note, _("The note"))
        return _record(
            order,
            actor,
            OrderEvent.Kind.CALL_LOGGED,
            before=_state(order),
            note=note,
            data={"outcome": outcome},
            bump=False,
        )


def _apply_ledger(order, method, payment):
    """Recompute the payment status from the entries in force via transition ``method``."""
    _paid, refunded, net = order.money_summary()
    new_status = order.payment_status_for(net, refunded > 0)
    was_paid = order.payment_status == PaymentStatus.PAID
    method(new_status=new_status, payment=payment)
    fields = ["payment_status"]
    if order.payment_status == PaymentStatus.PAID and not was_paid:
        order.paid_at = timezone.now()
        fields.append("paid_at")
    elif order.payment_status != PaymentStatus.PAID and order.paid_at:
        order.paid_at = None
        fields.append("paid_at")
    return fields, net


def _payment_data(payment, net):
    return {
        "payment_id": payment.pk,
        "kind": payment.kind,
        "amount": str(payment.amount),
        "method": payment.method,
        "reference": payment.reference,
        "received_on": payment.received_on.isoformat(),
        "net_received": str(net),
    }


def _create_entry(order, reference, **fields):
    # "RC-1" and "rc-1" are one bank or receipt number: compared without case.
    if order.payments.filter(reference__iexact=reference, voided_at__isnull=True).exists():
        raise DuplicateReference(
            _("Reference %(ref)s is already recorded for this order: it would be counted twice.")
            % {"ref": reference}
        )
    try:
        with transaction.atomic():
            return Payment.objects.create(order=order, reference=reference, **fields)
    except IntegrityError:
        raise DuplicateReference() from None


def record_payment(actor, order, *, amount, method, reference, received_on, note=""):
    """Record money received for a confirmed, allocated or shipped order (finance).

    ``amount``: ``Decimal`` > 0 (at most two places); ``method``: ``cod`` (cash the
    courier collected), ``bank_transfer`` or ``postal_remittance``; ``reference``: the
    courier receipt, bank or remittance number, unique among the order's entries in force;
    ``received_on``: a ``date``, not in the future. The payment status is recomputed
    (partially paid, paid; more than the total shows as credit due). Raises
    ``NotPermitted``, ``TransitionNotAllowed``, ``DuplicateReference``, ``InvalidInput``.
    Returns the ``Payment``.
    """
    with transaction.atomic():
        order = _lock_order(order)
        check_record_payment(actor, order)
        amount = _clean_amount(amount)
        method = _clean_payment_method(method)
        reference = _clean_text(reference, _("The reference"), required=True, max_length=100)
        note = _clean_text(note, _("The note"))
        if not isinstance(received_on, datetime.date) or isinstance(received_on, datetime.datetime):
            raise InvalidInput(_("Enter the date the money was received."))
        if received_on > timezone.localdate():
            raise InvalidInput(_("The date received cannot be in the future."))
        if received_on < timezone.localdate(order.placed_at):
            raise InvalidInput(_("The date received cannot be before the order was placed."))
        before = _state(order)
        payment = _create_entry(
            order,
            reference,
            kind=Payment.Kind.PAYMENT,
            amount=amount,
            method=method,
            received_on=received_on,
            note=note,
            recorded_by=actor,
        )
        fields, net = _apply_ledger(order, order.receive_payment, payment)
        _record(
            order,
            actor,
            OrderEvent.Kind.PAYMENT_RECORDED,
            before=before,
            note=note,
            data=_payment_data(payment, net),
            fields=fields,
        )
        if order.payment_status == PaymentStatus.PAID and before[1] != PaymentStatus.PAID:
            _notify(order, "paid")
    return payment


def record_refund(actor, order, *, amount, reference, note=""):
    """Record money paid back to the member (finance); at most the net amount held.

    ``amount``: ``Decimal`` > 0; ``reference``: the refund's transfer or receipt number,
    unique among the order's entries in force. The refund goes back by the order's
    payment method, dated today. Raises ``NotPermitted``, ``TransitionNotAllowed`` (nothing
    held), ``DuplicateReference``, ``InvalidInput``. Returns the ``Payment`` (kind refund).
    """
    with transaction.atomic():
        order = _lock_order(order)
        check_record_refund(actor, order)
        amount = _clean_amount(amount)
        reference = _clean_text(reference, _("The reference"), required=True, max_length=100)
        note = _clean_text(note, _("The note"))
        _paid, _refunded, net = order.money_summary()
        if amount > net:
            raise InvalidInput(
                _("A refund cannot exceed the money held for the order (%(net)s).")
                % {"net": money(net)},
                code="refund_too_large",
            )
        before = _state(order)
        payment = _create_entry(
            order,
            reference,
            kind=Payment.Kind.REFUND,
            amount=amount,
            method=order.payment_method,
            received_on=timezone.localdate(),
            note=note,
            recorded_by=actor,
        )
        fields, net = _apply_ledger(order, order.refund, payment)
        _record(
            order,
            actor,
            OrderEvent.Kind.REFUND_RECORDED,
            before=before,
            note=note,
            data=_payment_data(payment, net),
            fields=fields,
        )
    return payment


def void_payment(actor, payment, *, reason):
    """Void a mistaken ledger entry (finance); it stays on the ledger, struck through.

    ``reason`` is required. Refused if the entry is already voided, or if voiding a
    payment would leave more refunded than received (void the refund first). The payment
    status is recomputed. Raises ``NotPermitted``, ``TransitionNotAllowed``,
    ``InvalidInput``. Returns the voided ``Payment``.
    """
    with transaction.atomic():
        order = _lock_order(payment.order)
        check_void(actor, order)
        try:
            payment = Payment.objects.select_for_update().get(pk=payment.pk, order=order)
        except Payment.DoesNotExist:
            raise InvalidInput(_("This ledger entry does not exist.")) from None
        if payment.voided_at is not None:
            raise TransitionNotAllowed(_("This entry is already voided."), code="already_voided")
        reason = _clean_text(reason, _("A reason"), required=True)
        _paid, _refunded, net = order.money_summary()
        if payment.kind == Payment.Kind.PAYMENT and net - payment.amount < 0:
            raise TransitionNotAllowed(
                _(
                    "Voiding this payment would leave more refunded than received: "
                    "void the refund first."
                ),
                code="void_refund_first",
            )
        before = _state(order)
        payment.voided_at = timezone.now()
        payment.voided_by = actor
        payment.void_reason = reason
        payment.save(update_fields=["voided_at", "voided_by", "void_reason"])
        fields, net = _apply_ledger(order, order.void_entry, payment)
        _record(
            order,
            actor,
            OrderEvent.Kind.PAYMENT_VOIDED,
            before=before,
            note=reason,
            data=_payment_data(payment, net),
            fields=fields,
        )
    return payment
