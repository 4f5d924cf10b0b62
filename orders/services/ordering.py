"""Placing an order and the member's changes before confirmation.

DESIGN: ``place_order``, ``edit_order``.
"""

import re
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mall.formatting import format_money as money
from mall.formatting import normalize_typed
from mall.models import Profile
from mall.people import person_name
from orders import locks, selectors
from orders.exceptions import (
    InvalidInput,
    NotPermitted,
    OrderError,
    TotalChanged,
)
from orders.models import (
    ADDRESS_FIELDS,
    Order,
    OrderEvent,
    OrderLine,
    Status,
    new_order_number,
)
from orders.pricing import quantize, totals_for
from orders.services import _bookkeeping as bookkeeping
from orders.services import _guards as guards
from orders.services import _inputs as inputs
from orders.services import _rows as rows
from orders.services import _stock as stock


def check_edit(actor, order):
    """Raise unless ``actor`` may change ``order`` now: the owner, or an order admin for
    the member (``orders.edit_order_for_member``), only while submitted."""
    guards.require_perm(actor, order.edit)
    guards.require_state(
        order.edit,
        _(
            "The order was confirmed by our staff and can no longer be changed online. "
            "Please call us if something is wrong."
        )
        if guards.is_owner(actor, order) and order.status in (Status.CONFIRMED, Status.ALLOCATED)
        else guards.check_status_message(order),
    )


def line_name(product, choices, language):
    """The name an order line keeps: ``product``'s name with the member's ``choices``, in
    the order's ``language`` (a member's Chinese order names its lines in Chinese even
    when an admin working in English adds one)."""
    if language == translation.get_language():
        return product.name_with_choices(choices)
    with translation.override(language):
        return product.name_with_choices(choices)


def member_name(user):
    """How an event's data names the member (``mall.people.person_name``)."""
    return person_name(user)


def check_place_for_member(actor):
    """Raise ``NotPermitted`` unless ``actor`` may take orders by phone (order admin)."""
    if not actor.is_authenticated or not actor.has_perm("orders.place_order_for_member"):
        raise NotPermitted()


def create_member(actor, *, name, phone, email=""):
    """Register a member who phoned in an order (order admin), with no password.

    ``name`` (required, at most 150 characters) becomes the first name; ``phone`` is
    checked as a delivery phone is (full-width digits read as ASCII) and its
    ``selectors.phone_key`` (the digits, without China's +86) becomes the username
    (``-2``, ``-3`` ... added only when a staff account holds it); a phone a member has
    already (as username or on an order, with or without +86) is refused, so one person
    does not get two accounts, also when registered twice at once; ``email`` is
    optional, unique ignoring case. The member can set a password later through
    password reset. Raises ``NotPermitted``, ``InvalidInput``
    (``details["fields"]`` maps each bad field to a message). Returns the new user.
    """
    check_place_for_member(actor)
    User = get_user_model()
    errors = {}
    name = "" if name is None else str(name).strip()
    if inputs.is_blank(name):
        errors["name"] = _("This field is required.")
    elif len(name) > 150 or "\x00" in name:
        errors["name"] = _("At most %(n)d characters.") % {"n": 150}
    phone = normalize_typed("" if phone is None else str(phone))
    digits = re.sub(r"\D", "", phone)
    key = selectors.phone_key(phone)
    if not inputs.PHONE_RE.match(phone) or not 7 <= len(digits) <= 15:
        errors["phone"] = _(
            "Enter a phone number we can call, e.g. 138 0013 8000 or 021-5555 1234."
        )
    else:
        existing = selectors.member_with_phone(key)
        if existing is not None:
            errors["phone"] = _phone_taken(existing)
    email = "" if email is None else str(email).strip()
    if email:
        try:
            if len(email) > 254:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            errors["email"] = _("Enter a valid e-mail address.")
        else:
            email = User.objects.normalize_email(email)
            holder = User.objects.filter(email__iexact=email).first()
            if holder is not None and not selectors.members().filter(pk=holder.pk).exists():
                errors["email"] = _(
                    "This e-mail address belongs to a staff account: give the member's own "
                    "address, or none."
                )
            elif holder is not None:
                errors["email"] = _(
                    "A member with this e-mail address exists already: find them instead."
                )
    if errors:
        raise InvalidInput(_("Please correct the member's details."), details={"fields": errors})
    try:
        with transaction.atomic():
            username, n = key, 1
            while holder := User.objects.filter(username__iexact=username).first():
                if selectors.members().filter(pk=holder.pk).exists():
                    # A member registered with this phone since the check above (two
                    # clicks at once): refused, never a second account "-2".
                    raise IntegrityError("phone registered meanwhile")
                n += 1  # a staff account holds these digits
                username = f"{key}-{n}"
            user = User(username=username, first_name=name, email=email)
            user.set_unusable_password()
            user.save()
    except IntegrityError:
        # Registered twice at once (a double click): the username, the phone's digits, is
        # unique, so the second waits for the first and is refused here.
        existing = selectors.member_with_phone(key)
        raise InvalidInput(
            _("Please correct the member's details."),
            details={
                "fields": {
                    "phone": _phone_taken(existing)
                    if existing
                    else _("This phone number was registered a moment ago: find the member.")
                }
            },
        ) from None
    return user


def _phone_taken(member):
    return _("%(name)s is registered with this phone number already: find them instead.") % {
        "name": person_name(member)
    }


def place_order(
    actor,
    *,
    lines,
    address,
    payment_method,
    note="",
    checkout_token=None,
    expected_total=None,
    language=None,
    customer=None,
):
    """Place an order for ``actor`` (a signed-in member) and reserve its stock.

    ``customer``: the member an order admin takes the order for by phone (needs
    ``orders.place_order_for_member``, else ``NotPermitted``; a staff account, the
    admin's own included, is refused with ``InvalidInput``); the order is the member's,
    the event's actor is the admin and its data names the member.

    ``lines``: list of ``(Product, quantity)`` pairs, quantity a positive int up to
    ``MALL_MAX_LINE_QUANTITY`` (repeats of one product are merged). ``address``: dict of
    the address fields (see ``clean_address``). ``payment_method``: ``cod``,
    ``bank_transfer`` or ``postal_remittance``. ``checkout_token``: optional one-time
    token of the checkout form; placing again with the same token returns the order it
    made instead of a second one (double submit). ``expected_total``: optional ``Decimal``
    total the member was shown; if prices or the cart changed so the total differs,
    ``TotalChanged`` is raised and nothing is placed. ``language``: the code of
    ``LANGUAGES`` the member is using (default: the active language); the order keeps it
    for its e-mails and it becomes the member's preference (``mall.models.Profile``); for
    an order taken by phone it defaults to the member's saved language instead.

    Unit prices are the products' current prices, copied onto the lines. Raises
    ``NotPermitted`` (anonymous), ``InvalidInput`` (bad lines, address, method, note, or
    a product no longer for sale), ``InsufficientStock``. Returns the new ``Order``.
    """
    if not actor.is_authenticated:
        raise NotPermitted(_("Please sign in to place an order."))
    for_member = customer is not None and customer.pk != actor.pk
    if for_member:
        check_place_for_member(actor)
        if customer.pk is None or not selectors.members().filter(pk=customer.pk).exists():
            raise InvalidInput(
                _("Orders by phone are for members: choose an active member, not a staff account."),
                code="customer",
            )
    elif customer is not None and not selectors.members().filter(pk=actor.pk).exists():
        # An order admin choosing themselves on the phone order page.
        raise InvalidInput(
            _("Orders by phone are for members: choose an active member, not a staff account."),
            code="customer",
        )
    owner = customer if for_member else actor
    wanted = inputs.clean_lines(lines)
    cleaned_address = inputs.clean_address(address)
    payment_method = inputs.clean_payment_method(payment_method)
    note = inputs.clean_text(note, _("The note"))
    if for_member and not language:
        # An order taken by phone: the member's own language, not the admin's page's.
        saved = Profile.objects.filter(user=owner).values_list("language", flat=True).first()
        language = saved or settings.LANGUAGE_CODE
    language = inputs.clean_language(language)
    number = new_order_number()
    for attempt in range(NUMBER_ATTEMPTS):
        try:
            return _place(
                actor,
                owner,
                for_member=for_member,
                lines=lines,
                wanted=wanted,
                address=cleaned_address,
                payment_method=payment_method,
                note=note,
                checkout_token=checkout_token,
                expected_total=expected_total,
                language=language,
                number=number,
            )
        except (IntegrityError, OrderError) as error:
            # Nothing was kept (one transaction). A double submit's twin held the product
            # locks until it committed: its order is the answer, whether this attempt
            # then failed on the taken token or found the unit the twin took gone (no
            # read for the twin on the path of every checkout).
            if checkout_token:
                existing = _placed_with_token(checkout_token, owner)
                if existing:
                    return existing
            # A drawn number already taken (about one in a million at a million
            # orders): draw again and place again, from the start.
            if (
                attempt == NUMBER_ATTEMPTS - 1
                or not isinstance(error, IntegrityError)
                or not Order.objects.filter(number=number).exists()
            ):
                raise
            number = new_order_number()
    raise AssertionError("unreachable")  # pragma: no cover


# Draws of an order number before giving up (each collision is ~1e-6 at 10^6 orders).
NUMBER_ATTEMPTS = 5


def _placed_with_token(checkout_token, owner):
    """The order ``owner`` already placed with ``checkout_token`` (a double submit's twin,
    committed: READ COMMITTED sees it once its product locks were released), or None."""
    return Order.objects.filter(checkout_token=checkout_token, customer=owner).first()


def _place(
    actor,
    owner,
    *,
    for_member,
    lines,
    wanted,
    address,
    payment_method,
    note,
    checkout_token,
    expected_total,
    language,
    number,
):
    """``place_order``'s transaction, its inputs cleaned: lock, check, reserve, write.

    Seven statements for a member's order of any number of lines (lock the products,
    update their stock, insert the order, its lines, its event and its outbox e-mail,
    upsert the member's language), one more when a variation sells from its parent's
    stock. Raises ``IntegrityError`` when ``number`` or ``checkout_token`` is taken (the
    caller decides: a taken token is a double submit, see ``place_order``), and what
    ``place_order`` documents.
    """
    with transaction.atomic():
        products = locks.lock_products(wanted)
        if not set(wanted) <= set(products):  # (products may hold stock-sharing parents)
            raise InvalidInput(_("A product in your cart no longer exists."))
        stock.refuse_unsellable([products[pid] for pid in wanted])
        chosen = inputs.clean_choices(lines, {pid: products[pid] for pid in wanted})
        stock.reserve(products, wanted)

        now = timezone.now()
        priced = [
            (products[pid], qty, products[pid].current_price(now)) for pid, qty in wanted.items()
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
            number=number,
            customer=owner,
            payment_method=payment_method,
            customer_note=note,
            language=language,
            subtotal=subtotal,
            shipping_fee=fee,
            total=total,
            owed=total,
            checkout_token=checkout_token or None,
            **address,
        )
        rows.insert([order])
        rows.insert(
            OrderLine(
                order=order,
                product=product,
                sku=product.sku,
                name=line_name(product, chosen.get(product.pk), language),
                chosen_attributes=chosen.get(product.pk, {}),
                unit_price=price,
                quantity=qty,
                reserved_quantity=stock.reservable(product, qty),
                line_total=quantize(price * qty),
            )
            for product, qty, price in priced
        )
        bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.PLACED,
            before=("", ""),
            bump=False,
            data={
                "lines": [
                    {"sku": p.sku, "quantity": q, "unit_price": str(price)}
                    | ({"chosen": chosen[p.pk]} if p.pk in chosen else {})
                    for p, q, price in priced
                ],
                "total": str(total),
                **(
                    {"for_member": {"id": owner.pk, "name": member_name(owner)}}
                    if for_member
                    else {}
                ),
            },
        )
        if not for_member:  # the language the member chose by using it: one upsert
            Profile.objects.bulk_create(
                [Profile(user=owner, language=language)],
                update_conflicts=True,
                unique_fields=["user"],
                update_fields=["language"],
            )
        bookkeeping.notify(order, "placed")
    return order


def edit_order(
    actor,
    order,
    *,
    expected_version,
    lines=None,
    address=None,
    payment_method=None,
    note=None,
    reason=None,
):
    """Change a submitted order, re-balancing reserved stock: the owning member, or an
    order admin for the member on the phone.

    An order admin (``orders.edit_order_for_member``, not the owner) must give
    ``reason`` (e.g. "as the member asked on the phone"); the event's actor is the
    admin, its note the reason and its data names the member (``for_member``), and the
    member gets an e-mail listing the changes. ``note`` stays the member's delivery note.

    ``lines`` replaces the whole list of ``(Product, quantity)`` pairs (``None`` keeps it);
    a product kept on the order keeps the unit price it was ordered at, a new product
    takes today's price. ``address`` replaces the address fields; ``payment_method`` and
    ``note`` replace theirs. ``expected_version`` is the version the member's form showed.

    Raises ``NotPermitted`` (not the owner), ``TransitionNotAllowed`` (no longer
    submitted), ``StaleOrder``, ``InvalidInput``, ``InsufficientStock``. Returns the order;
    when nothing differs it is returned unchanged, with no event.
    """
    with transaction.atomic():
        order = locks.lock_order(order)
        check_edit(actor, order)
        bookkeeping.check_version(order, expected_version)
        for_member = not guards.is_owner(actor, order)
        if for_member:
            reason = inputs.clean_text(reason, _("A reason"), required=True)
        before = bookkeeping.state(order)
        diff, fields = {}, []

        if address is not None:
            cleaned = inputs.clean_address(address)
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
            payment_method = inputs.clean_payment_method(payment_method)
            if payment_method != order.payment_method:
                diff["payment_method"] = [order.payment_method, payment_method]
                order.payment_method = payment_method
                fields.append("payment_method")
        if note is not None:
            note = inputs.clean_text(note, _("The note"))
            if note != order.customer_note:
                diff["note"] = [order.customer_note, note]
                order.customer_note = note
                fields.append("customer_note")
        if lines is not None:
            wanted = inputs.clean_lines(lines)
            current = {line.product_id: line for line in order.lines.all()}
            deltas = {
                pid: wanted.get(pid, 0) - (current[pid].quantity if pid in current else 0)
                for pid in set(wanted) | set(current)
            }
            deltas = {pid: d for pid, d in deltas.items() if d}
            if deltas:
                products = locks.lock_products(deltas)
                if not set(deltas) <= set(products):
                    raise InvalidInput(_("A product on the order no longer exists."))
                # Only what the member adds must still be for sale; fewer units never are refused.
                stock.refuse_unsellable([products[pid] for pid, d in deltas.items() if d > 0])
                # A new line of a variation with "any value" attributes needs the choice;
                # an existing line keeps the one made when it was ordered.
                added = {pid for pid in deltas if pid not in current}
                chosen = inputs.clean_choices(
                    lines, {pid: products[pid] for pid in added}, only=added
                )
                # Stock moves by what each line holds now against what it will hold: a
                # line reserved while the product was untracked holds 0 and gives back 0.
                reserved = {
                    pid: stock.reservable(products[pid], wanted.get(pid, 0)) for pid in deltas
                }
                stock.reserve(
                    products,
                    {
                        pid: reserved[pid]
                        - (current[pid].reserved_quantity if pid in current else 0)
                        for pid in deltas
                    },
                )
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
                            name=line_name(product, chosen.get(pid), order.language),
                            chosen_attributes=chosen.get(pid, {}),
                            unit_price=price,
                            quantity=new_qty,
                            reserved_quantity=reserved[pid],
                            line_total=quantize(price * new_qty),
                        )
                        line_diff.append(
                            {
                                "sku": product.sku,
                                "name": line_name(product, chosen.get(pid), order.language),
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
                        line.reserved_quantity = reserved[pid]
                        line.line_total = quantize(line.unit_price * new_qty)
                        line.save(update_fields=["quantity", "reserved_quantity", "line_total"])
                diff["lines"] = sorted(line_diff, key=lambda d: d["sku"])
                subtotal, fee, total = totals_for(order.lines.values_list("line_total", flat=True))
                if total != order.total:
                    diff["total"] = [str(order.total), str(total)]
                order.subtotal, order.shipping_fee, order.total = subtotal, fee, total
                fields += ["subtotal", "shipping_fee", "total"]
                fields += bookkeeping.settle_money(order, order.follow_money)

        if not diff:
            return order
        order.edit()
        note_text = ""
        if for_member:
            customer = order.customer
            diff["for_member"] = {"id": customer.pk, "name": member_name(customer)}
            note_text = reason
        bookkeeping.record(
            order,
            actor,
            OrderEvent.Kind.EDITED,
            before=before,
            note=note_text,
            data=diff,
            fields=fields,
        )
        if for_member:
            bookkeeping.notify(order, "changed_for_member")
    return order
