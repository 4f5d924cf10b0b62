"""The member's pages: cart, checkout, and "My orders" (list, detail, edit, cancel).

Thin views: a form parses the input, one service call makes the change, an
``OrderError`` becomes a form error or a message, then redirect-after-POST. What a member
may do to an order now comes from ``services.allowed_actions``; which orders they see
comes from ``selectors.orders_for_member`` (anyone else's order is a 404).
"""

import re
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import ListView, TemplateView

from mall.catalogue import find_products
from mall.http import safe_next
from mall.models import Address, Product, Profile
from mall.people import person_name
from orders import selectors, services
from orders.cart import Cart, CartError
from orders.delivery_words import attempt_words
from orders.exceptions import InsufficientStock, InvalidInput, OrderError, StaleOrder
from orders.forms import (
    CartAddForm,
    CartUpdateForm,
    CheckoutForm,
    OrderCancelForm,
    OrderEditForm,
    add_service_errors,
    rebase_typed,
)
from orders.models import Order, OrderEvent, PaymentMethod, Status
from orders.templatetags.order_tags import money

TOKENS_SESSION_KEY = "checkout_tokens"
CART_TOKEN_SESSION_KEY = "checkout_cart_token"  # the one every checkout page of the cart carries
MAX_TOKENS = 20  # open checkout pages (tabs) per session whose token stays valid
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what secrets.token_urlsafe issues


def _form_errors_text(form):
    """The form's errors as one sentence per field, labelled, for a message."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            parts.append(f"{label}: {error}" if label else str(error))
    return " ".join(parts)


# --- cart ---------------------------------------------------------------------------------


def cart_context(cart):
    """Lines and money of ``cart`` for the cart and checkout pages (``Decimal`` amounts)."""
    lines = cart.lines()
    subtotal, shipping_fee, total = cart.totals()
    free_from = settings.MALL_FREE_SHIPPING_FROM
    return {
        "lines": lines,
        "subtotal": subtotal,
        "shipping_fee": shipping_fee,
        "total": total,
        "has_problems": cart.has_problems,
        "standard_shipping_fee": settings.MALL_SHIPPING_FEE,
        "free_shipping_from": free_from,
        "missing_for_free_shipping": max(free_from - subtotal, 0) if shipping_fee else 0,
    }


class CartView(TemplateView):
    """``/cart/``: lines with quantity inputs, money, shipping explained, checkout button."""

    template_name = "orders/cart.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cart = Cart(self.request.session)
        context.update(cart_context(cart))
        form = CartUpdateForm(lines=context["lines"])
        context["rows"] = [(line, form[f"qty-{line.product.pk}"]) for line in context["lines"]]
        return context


class CartAddView(View):
    """POST ``product``, ``quantity`` (default 1), ``next``: add to the cart, then go back.

    Goes back to ``next`` when it is on this site (a listing's "Add to cart" sends the
    listing, so the shopper stays where they were), else to the product's page. The
    message says how many items the cart now holds.
    """

    http_method_names = ["post"]

    def post(self, request):
        form = CartAddForm(request.POST)
        back = safe_next(request, request.POST.get("next"))
        if not form.is_valid():
            messages.error(
                request,
                _("Could not add to the cart. %(errors)s") % {"errors": _form_errors_text(form)},
            )
            return redirect(back or "orders:cart")
        product = (
            Product.objects.select_related("parent").filter(pk=form.cleaned_data["product"]).first()
        )
        hidden = product is not None and (
            not product.is_visible or (product.parent_id and not product.parent.is_visible)
        )
        if product is None or hidden:
            # A hidden product is as unknown as a missing one: no name, and never back to
            # its own page (a 404 for the member).
            if hidden and back and back.split("?")[0] == product.get_absolute_url():
                back = None
            messages.error(request, _("This product is not available."))
            return redirect(back or "orders:cart")
        back = back or product.get_absolute_url()
        quantity = form.cleaned_data["quantity"]
        # The customer's values for a variation's "any value" attributes: choice-<name>.
        choices = {
            key.removeprefix("choice-"): value
            for key, value in request.POST.items()
            if key.startswith("choice-") and value
        }
        choices = {name: choices[name] for name in product.attribute_choices if name in choices}
        cart = Cart(request.session)
        try:
            cart.add(product, quantity, choices)
        except CartError as error:
            messages.error(request, error.message)
        else:
            units = len(cart)
            messages.success(
                request,
                " ".join(
                    (
                        _("Added %(quantity)d × %(name)s to your cart.")
                        % {"quantity": quantity, "name": product.name_with_choices(choices)},
                        ngettext(
                            "Your cart holds %(count)d item.",
                            "Your cart holds %(count)d items.",
                            units,
                        )
                        % {"count": units},
                    )
                ),
            )
        return redirect(back)


class CartUpdateView(View):
    """POST new quantities (``qty-<product id>``, 0 removes) or ``remove=<product id>``."""

    http_method_names = ["post"]

    def post(self, request):
        cart = Cart(request.session)
        remove = request.POST.get("remove", "")
        if remove:
            line = next((li for li in cart.lines() if str(li.product.pk) == remove), None)
            cart.remove(remove)
            if line:
                messages.success(
                    request,
                    _("Removed %(name)s from your cart.") % {"name": line.product.display_name},
                )
            return redirect("orders:cart")
        form = CartUpdateForm(request.POST, lines=cart.lines())
        if not form.is_valid():
            messages.error(
                request,
                _("Your cart was not changed. %(errors)s") % {"errors": _form_errors_text(form)},
            )
            return redirect("orders:cart")
        try:
            changed = cart.update(form.quantities())
        except CartError as error:
            messages.error(
                request, _("Your cart was not changed. %(errors)s") % {"errors": error.message}
            )
        else:
            if changed:
                messages.success(request, _("Your cart is updated."))
        return redirect("orders:cart")


# --- checkout -----------------------------------------------------------------------------


def _issue_token(session):
    """The cart's checkout token, remembered in the session (the last few kept).

    Every checkout page of one cart carries the same token, so two tabs submitted at
    once are one double submit (one order), not two orders of one cart; the token is
    spent when the order is placed, and the next cart gets a new one.
    """
    tokens = [t for t in session.get(TOKENS_SESSION_KEY, []) if isinstance(t, str)]
    current = session.get(CART_TOKEN_SESSION_KEY)
    if isinstance(current, str) and current in tokens:
        return current
    token = secrets.token_urlsafe(32)
    session[TOKENS_SESSION_KEY] = [*tokens, token][-MAX_TOKENS:]
    session[CART_TOKEN_SESSION_KEY] = token
    return token


def _token_issued(session, token):
    return bool(token) and token in session.get(TOKENS_SESSION_KEY, [])


def _spend_token(session, token):
    session[TOKENS_SESSION_KEY] = [t for t in session.get(TOKENS_SESSION_KEY, []) if t != token]
    if session.get(CART_TOKEN_SESSION_KEY) == token:
        del session[CART_TOKEN_SESSION_KEY]


class CheckoutView(LoginRequiredMixin, View):
    """``/checkout/``: delivery address, payment method and note; places the order.

    A hidden one-time ``checkout_token`` (the cart's, remembered in the session) goes
    to ``services.place_order``: submitting the same page twice, or two checkout tabs of
    one cart at once, finds the order the first submit made instead of placing another.
    """

    template_name = "orders/checkout.html"

    def get(self, request):
        cart = Cart(request.session)
        refusal = self._cart_refusal(cart)
        if refusal:
            return refusal
        form = CheckoutForm(initial=self._initial())
        return self._render(form, cart, _issue_token(request.session))

    def post(self, request):
        token = request.POST.get("checkout_token", "")
        if not TOKEN_RE.fullmatch(token):
            token = ""  # not one we issued (and a NUL would break the query on PostgreSQL)
        if token:
            already = selectors.orders_for_member(request.user).filter(checkout_token=token).first()
            if already:
                # Spent here too: a session whose save was lost after the order was placed
                # (the database restarting) must get a new token on its next checkout page,
                # not this one again and again.
                _spend_token(request.session, token)
                messages.info(
                    request,
                    _("Your order %(number)s was already placed; it was not placed twice.")
                    % {"number": already.number},
                )
                return redirect(already)
        cart = Cart(request.session)
        refusal = self._cart_refusal(cart)
        if refusal:
            return refusal
        form = CheckoutForm(request.POST)
        shown = request.POST.get("cart_signature")
        # The page's fingerprint of the cart (absent from hand-made posts, which the
        # service's total check still covers).
        if shown is not None and shown != cart.signature():
            form.is_valid()
            form.add_error(
                None,
                _(
                    "Your cart changed since this page was shown (in another tab or window). "
                    "Please check the items and the total below, then place the order."
                ),
            )
            return self._render(form, cart, token)
        if not _token_issued(request.session, token):
            form.is_valid()
            form.add_error(
                None,
                _(
                    "This checkout page has expired. Please check your details and place the "
                    "order again."
                ),
            )
            return self._render(form, cart, _issue_token(request.session))
        if form.is_valid():
            try:
                order = services.place_order(
                    request.user,
                    lines=cart.order_lines(),
                    address=form.address(),
                    payment_method=form.cleaned_data["payment_method"],
                    note=form.cleaned_data["note"],
                    checkout_token=token,
                    expected_total=form.cleaned_data.get("expected_total"),
                    language=translation.get_language(),
                )
            except OrderError as error:
                add_service_errors(form, error)
            else:
                cart.clear()
                _spend_token(request.session, token)
                messages.success(request, _placed_message(order))
                return redirect(order)
        return self._render(form, Cart(request.session), token)

    def _cart_refusal(self, cart):
        if not cart.lines():
            messages.info(self.request, _("Your cart is empty: add something before checking out."))
            return redirect("orders:cart")
        if cart.has_problems:
            messages.error(
                self.request,
                _("Some items in your cart cannot be ordered as they are. Please fix them first."),
            )
            return redirect("orders:cart")
        return None

    def _initial(self):
        """Start from the member's default saved address (account page), else the address
        of their most recent order, else their name and phone for a first order."""
        user = self.request.user
        last = selectors.orders_for_member(user).first()
        initial = {"payment_method": last.payment_method} if last else {}
        saved = Address.objects.filter(user=user, is_default=True).first()
        if saved:
            return {**initial, **saved.as_dict()}
        if last:
            return {**initial, **last.address_dict}
        profile = Profile.objects.filter(user=user).first()
        return {
            "recipient": person_name(user, username_fallback=False),
            "phone": profile.phone if profile else "",
        }

    def _render(self, form, cart, token):
        context = {
            "form": form,
            "checkout_token": token,
            "cart_signature": cart.signature(),
            "has_field_errors": any(name != "__all__" for name in form.errors),
            "payment_choices": _payment_choices(form),
            **cart_context(cart),
        }
        return render(self.request, self.template_name, context)


PAYMENT_EXPLANATIONS = {
    PaymentMethod.COD: gettext_lazy(
        "Pay our courier in cash when the parcel arrives. Nothing to pay now."
    ),
    PaymentMethod.BANK_TRANSFER: gettext_lazy(
        "Pay in advance by bank transfer. After our phone call confirms the order, transfer "
        "the total, quoting your order number, to: %(details)s. We send the parcel once the "
        "money has arrived."
    ),
    PaymentMethod.POSTAL_REMITTANCE: gettext_lazy(
        "Pay in advance at a post office. After our phone call confirms the order, send a "
        "remittance of the total, quoting your order number, to: %(details)s. We send the "
        "parcel once the money has arrived."
    ),
}


def _payment_details(method):
    if method == PaymentMethod.BANK_TRANSFER:
        return settings.MALL_BANK_DETAILS
    if method == PaymentMethod.POSTAL_REMITTANCE:
        return settings.MALL_REMITTANCE_DETAILS
    return ""


def _payment_choices(form):
    """``(radio widget, label, explanation)`` for each payment method of ``form``."""
    explanations = {
        method: str(text) % {"details": _payment_details(method)}
        if "%(details)s" in str(text)
        else str(text)
        for method, text in PAYMENT_EXPLANATIONS.items()
    }
    return [(radio, explanations.get(radio.data["value"], "")) for radio in form["payment_method"]]


def _placed_message(order):
    return _(
        "Thank you! Your order %(number)s is placed. What happens next: we will call you on "
        "%(phone)s to confirm the delivery address. Until then you can still change or cancel "
        "the order on this page."
    ) % {"number": order.number, "phone": order.phone}


# --- my orders ----------------------------------------------------------------------------


STATUS_EXPLANATIONS = {
    Status.SUBMITTED: gettext_lazy(
        "We have received your order and will call you on %(phone)s to confirm the delivery "
        "address and details. Until then you can change or cancel it here."
    ),
    Status.CONFIRMED: gettext_lazy(
        "We confirmed the order with you by phone. It is being prepared and will be handed "
        "to our delivery team."
    ),
    Status.ALLOCATED: gettext_lazy(
        "Our delivery team is preparing your parcel. You will get an e-mail with the waybill "
        "number when it leaves."
    ),
    Status.SHIPPED: gettext_lazy("Your parcel is on its way."),
    Status.DELIVERED: gettext_lazy("Your parcel was delivered. Thank you for your order."),
    Status.RETURNED: gettext_lazy(
        "Your parcel came back to us and the order is closed: nothing more is owed for it. "
        "Please call us on %(shop_phone)s if you still want the goods."
    ),
    Status.INVALID: gettext_lazy(
        "We could not accept this order (for example we could not confirm the address). "
        "Please call us on %(shop_phone)s if you think this is a mistake."
    ),
    Status.CANCELLED: gettext_lazy("This order is cancelled. Nothing will be delivered."),
}

LOCKED_EXPLANATIONS = {
    Status.CONFIRMED: gettext_lazy(
        "Our staff have confirmed this order with you by phone, so it can no longer be changed "
        "or cancelled online. If something is wrong, please call us on %(shop_phone)s."
    ),
    Status.ALLOCATED: gettext_lazy(
        "Our staff have confirmed this order and passed it to delivery, so it can no longer "
        "be changed or cancelled online. If something is wrong, please call us on "
        "%(shop_phone)s."
    ),
    Status.SHIPPED: gettext_lazy("This order has shipped, so it can no longer be changed."),
    Status.INVALID: gettext_lazy(
        "We could not accept this order, so it can no longer be changed online. Please call "
        "us on %(shop_phone)s."
    ),
    Status.CANCELLED: gettext_lazy("This order is cancelled, so it can no longer be changed."),
}


def _explain(texts, order):
    text = texts.get(order.status)
    if text is None:
        return ""
    return str(text) % {"phone": order.phone, "shop_phone": settings.MALL_PHONE}


def refusal_message(order, error):
    """Why the member cannot change or cancel ``order`` now, in words.

    Uses the order's state to explain a refusal of ``services`` (whose message is meant
    for every role) and falls back to the service's own message.
    """
    return _explain(LOCKED_EXPLANATIONS, order) or str(error.message)


def _field_label(name):
    return capfirst(str(Order._meta.get_field(name).verbose_name))


def _method_label(value):
    try:
        return str(PaymentMethod(value).label)
    except ValueError:
        return value or ""


def _event_details(event, order):
    """Short lines telling the member what an event of their order changed."""
    data = event.data or {}
    kind = event.kind
    details = []
    if kind == OrderEvent.Kind.EDITED:
        for line in data.get("lines", []):
            if not line.get("to"):
                details.append(_("Removed %(name)s") % {"name": line.get("name", line.get("sku"))})
            elif not line.get("from"):
                details.append(
                    _("Added %(n)s × %(name)s")
                    % {"n": line["to"], "name": line.get("name", line.get("sku"))}
                )
            else:
                details.append(
                    _("%(name)s: quantity %(old)s → %(new)s")
                    % {
                        "name": line.get("name", line.get("sku")),
                        "old": line["from"],
                        "new": line["to"],
                    }
                )
        for name, (old, new) in (data.get("address") or {}).items():
            details.append(
                _("%(field)s: “%(old)s” → “%(new)s”")
                % {"field": _field_label(name), "old": old, "new": new}
            )
        if data.get("payment_method"):
            old, new = data["payment_method"]
            details.append(
                _("Payment method: %(old)s → %(new)s")
                % {"old": _method_label(old), "new": _method_label(new)}
            )
        if "note" in data:
            details.append(_("Note changed"))
        if data.get("total"):
            old, new = data["total"]
            details.append(_("Total: %(old)s → %(new)s") % {"old": money(old), "new": money(new)})
    elif kind == OrderEvent.Kind.SHIPPED and data.get("carrier") == Order.OWN_DELIVERY_STAFF:
        details.append(_("Our own courier brings it"))
    elif kind == OrderEvent.Kind.SHIPPED and data.get("carrier"):
        details.append(
            _("%(carrier)s, waybill number %(waybill)s")
            % {"carrier": data["carrier"], "waybill": data.get("tracking_number", "")}
        )
    elif kind == OrderEvent.Kind.DELIVERY_ATTEMPTED:
        details.append(
            _("We could not deliver: %(why)s") % {"why": attempt_words(data.get("outcome"))}
        )
        if data.get("next_attempt_on"):
            details.append(_("Next attempt on %(day)s") % {"day": data["next_attempt_on"]})
    elif kind == OrderEvent.Kind.DELIVERED:
        if data.get("received_by"):
            details.append(_("Received by %(name)s") % {"name": data["received_by"]})
        if data.get("collected") not in (None, "0", "0.00"):
            details.append(
                _("Paid in cash to our courier: %(amount)s") % {"amount": money(data["collected"])}
            )
    elif kind == OrderEvent.Kind.RETURNED:
        if data.get("credit") not in (None, "0", "0.00"):
            details.append(
                _("We owe you %(amount)s and will pay it back") % {"amount": money(data["credit"])}
            )
    elif kind in (OrderEvent.Kind.PAYMENT_RECORDED, OrderEvent.Kind.REFUND_RECORDED):
        if data.get("amount"):
            details.append(
                _("%(amount)s by %(method)s")
                % {"amount": money(data["amount"]), "method": _method_label(data.get("method"))}
            )
        if kind == OrderEvent.Kind.REFUND_RECORDED:
            details.append(
                _("A credit note: you owe less")
                if data.get("credit_note")
                else _("Money paid back to you")
            )
        elif data.get("remittance"):
            details.append(_("The cash you paid our courier"))
    elif kind == OrderEvent.Kind.PLACED and data.get("total"):
        details.append(_("Total %(total)s") % {"total": money(data["total"])})
    if event.note and event.actor_id == order.customer_id:
        # Only the member's own words (a cancellation reason); staff notes stay internal.
        details.append(_("Your note: %(note)s") % {"note": event.note})
    return details


def timeline_entries(order, events=None):
    """The member's timeline: ``{"event", "label", "details"}`` dicts, oldest first.

    ``events``: the member's events if already fetched (``selectors.member_timeline``).
    """
    labels = {OrderEvent.Kind.EDITED: _("You changed the order")}
    if events is None:
        events = selectors.member_timeline(order)
    return [
        {
            "event": event,
            "label": (
                _("Our staff changed the order as you asked")
                if event.kind == OrderEvent.Kind.EDITED and (event.data or {}).get("for_member")
                else labels.get(event.kind) or event.get_kind_display()
            ),
            "details": _event_details(event, order),
        }
        for event in events
    ]


def delivery_progress(order, events):
    """The parcel's way to the member, in their words, from ``events`` (oldest first):
    a list of ``{"when", "text", "state"}`` (``state``: ``shipped``, ``attempted``,
    ``delivered`` or ``returned``). Empty until the order ships."""
    Kind = OrderEvent.Kind
    steps = []
    for event in events:
        data = event.data or {}
        if event.kind == Kind.SHIPPED:
            if data.get("carrier") == Order.OWN_DELIVERY_STAFF:
                text = _("Shipped: our own courier brings it to you.")
            elif data.get("tracking_number"):
                text = _("Shipped with %(carrier)s, waybill number %(waybill)s.") % {
                    "carrier": data.get("carrier", ""),
                    "waybill": data["tracking_number"],
                }
            else:
                text = _("Shipped with %(carrier)s.") % {"carrier": data.get("carrier", "")}
            steps.append({"when": event.created_at, "text": text, "state": "shipped"})
        elif event.kind == Kind.DELIVERY_ATTEMPTED:
            why = attempt_words(data.get("outcome"))
            if data.get("next_attempt_on"):
                text = _("We tried to deliver, but %(why)s. Next attempt on %(day)s.") % {
                    "why": why,
                    "day": data["next_attempt_on"],
                }
            else:
                text = _("We tried to deliver, but %(why)s. We will call you to arrange it.") % {
                    "why": why
                }
            steps.append({"when": event.created_at, "text": text, "state": "attempted"})
        elif event.kind == Kind.DELIVERED:
            if data.get("received_by"):
                text = _("Delivered, received by %(name)s.") % {"name": data["received_by"]}
            else:
                text = _("Delivered.")
            steps.append({"when": event.created_at, "text": text, "state": "delivered"})
        elif event.kind == Kind.RETURNED:
            steps.append(
                {
                    "when": event.created_at,
                    "text": _("The parcel came back to us; the order is closed."),
                    "state": "returned",
                }
            )
    return steps


class MemberOrderMixin(LoginRequiredMixin):
    """Finds the signed-in member's order from ``number``; anyone else's is a 404."""

    def get_order(self):
        number = self.kwargs["number"]
        if "\x00" in number:
            raise Http404  # no order has one, and PostgreSQL refuses NUL in a query
        return get_object_or_404(selectors.orders_for_member(self.request.user), number=number)


class OrderListView(LoginRequiredMixin, ListView):
    """``/account/orders/``: the member's orders, newest first, paginated."""

    template_name = "orders/order_list.html"
    context_object_name = "orders"
    paginate_by = 20

    def get_queryset(self):
        return selectors.orders_for_member(self.request.user).annotate(
            item_count=Sum("lines__quantity")
        )

    def paginate_queryset(self, queryset, page_size):
        """A page past the end shows the last page, a malformed one the first (no 404)."""
        paginator = self.get_paginator(queryset, page_size)
        raw = self.request.GET.get(self.page_kwarg)
        page = paginator.get_page(paginator.num_pages if raw == "last" else raw)
        return paginator, page, page.object_list, page.has_other_pages()


class OrderDetailView(MemberOrderMixin, TemplateView):
    """``/account/orders/<number>/``: lines, money, address, payment, status, timeline."""

    template_name = "orders/order_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        order = self.get_order()
        allowed = services.allowed_actions(self.request.user, order)
        may_change = bool({"edit", "cancel"} & allowed)
        position = order.money_position()
        totals = order.ledger_totals()
        # The figures add up (DESIGN "Money: one rule"): total - credit notes = owed;
        # received - money paid back = held; still to pay = owed - held.
        received = totals.paid
        # Cash for the courier only while the parcel is still to be delivered.
        cash_due = (
            order.payment_method == PaymentMethod.COD
            and order.status
            in (Status.SUBMITTED, Status.CONFIRMED, Status.ALLOCATED, Status.SHIPPED)
            and position.due > 0
        )
        events = list(selectors.member_timeline(order))
        context.update(
            order=order,
            cash_due=cash_due,
            lines=order.lines.all(),
            timeline=timeline_entries(order, events),
            progress=delivery_progress(order, events),
            credit=position.credit,
            can_edit="edit" in allowed,
            can_cancel="cancel" in allowed,
            status_explanation=_explain(STATUS_EXPLANATIONS, order),
            # After staff confirmed, say why the edit and cancel buttons are gone.
            locked_explanation=""
            if may_change or order.status not in (Status.CONFIRMED, Status.ALLOCATED)
            else _explain(LOCKED_EXPLANATIONS, order),
            received=received,
            refunded=totals.refunded - totals.credit_noted,
            credit_noted=totals.credit_noted,
            owed=position.owed,
            amount_due=position.due,
            awaiting_prepayment=order.awaiting_prepayment,
            payment_details=_payment_details(order.payment_method),
        )
        return context


class OrderEditView(MemberOrderMixin, View):
    """``/account/orders/<number>/edit/``: change a submitted order (``services.edit_order``).

    The form carries the ``version`` it showed; if the order changed meanwhile the edit
    is refused (``StaleOrder``) and the form shows the order as it is now.
    """

    template_name = "orders/order_edit.html"

    def get(self, request, number):
        order = self.get_order()
        refused = self._refusal(order)
        if refused:
            return refused
        form = OrderEditForm(
            initial=OrderEditForm.initial_for(order),
            order=order,
            lines=self._lines(order),
            found=find_products(self._find()),
        )
        return self._render(order, form)

    def _find(self):
        return self.request.GET.get("find", "")[:100]

    def post(self, request, number):
        order = self.get_order()
        refused = self._refusal(order)
        if refused:
            return refused
        form = OrderEditForm(request.POST, order=order, lines=self._lines(order))
        if form.is_valid():
            seen_version = form.cleaned_data["version"]
            try:
                updated = services.edit_order(
                    request.user,
                    order,
                    expected_version=seen_version,
                    lines=form.lines(),
                    address=form.address(),
                    payment_method=form.cleaned_data["payment_method"],
                    note=form.cleaned_data["note"],
                )
            except StaleOrder as stale:
                return self._stale(order, stale)
            except (InvalidInput, InsufficientStock) as error:
                add_service_errors(form, error)
                return self._render(order, form)
            except OrderError as error:
                # Refused for the order's state (confirmed meanwhile): explain it as it is now.
                messages.error(request, refusal_message(self.get_order(), error))
                return redirect(order)
            if updated.version == seen_version:
                messages.info(request, _("Nothing was changed."))
            else:
                messages.success(
                    request,
                    _("Your changes to order %(number)s are saved.") % {"number": order.number},
                )
            return redirect(updated)
        return self._render(order, form)

    def _lines(self, order):
        return order.lines.select_related("product")

    def _stale(self, order, stale):
        """Changed meanwhile (by our staff on the phone, or in another window): nothing
        is saved; the form comes back on the order as it is now, with what the member
        typed kept where they changed something, and what changed listed in words."""
        from orders.notifications import change_lines

        fresh = self.get_order()
        refused = self._refusal(fresh)
        if refused:
            return refused
        changes = stale.details.get("changes", [])
        data, _both = rebase_typed(self.request.POST, changes)
        data["version"] = str(fresh.version)
        form = OrderEditForm(data, order=fresh, lines=self._lines(fresh))
        by_staff = any(
            c.get("kind") == OrderEvent.Kind.EDITED and (c.get("data") or {}).get("for_member")
            for c in changes
        )
        messages.warning(
            self.request,
            _(
                "Our staff changed this order while you were editing it, so your changes were "
                "not saved yet. What changed is listed below; your own changes are kept: check "
                "them and save again."
            )
            if by_staff
            else _(
                "This order was changed meanwhile (perhaps in another window), so your "
                "changes were not saved yet. What changed is listed below; your own changes "
                "are kept: check them and save again."
            ),
        )
        changed = [
            line
            for c in changes
            if c.get("kind") == OrderEvent.Kind.EDITED
            for line in change_lines(c.get("data") or {})
        ]
        response = self._render(fresh, form, changed=changed)
        response.status_code = 409
        return response

    def _refusal(self, order):
        try:
            services.check_edit(self.request.user, order)
        except OrderError as error:
            messages.error(self.request, refusal_message(order, error))
            return redirect(order)
        return None

    def _render(self, order, form, changed=None):
        return render(
            self.request,
            self.template_name,
            {
                "order": order,
                "form": form,
                "payment_choices": _payment_choices(form),
                "find": self._find(),
                "changed": changed,
            },
        )


class OrderCancelView(MemberOrderMixin, View):
    """``/account/orders/<number>/cancel/``: GET asks "Cancel order X?", POST cancels."""

    template_name = "orders/order_cancel.html"

    def get(self, request, number):
        order = self.get_order()
        refused = self._refusal(order)
        if refused:
            return refused
        return render(request, self.template_name, {"order": order, "form": OrderCancelForm()})

    def post(self, request, number):
        order = self.get_order()
        refused = self._refusal(order)
        if refused:
            return refused
        form = OrderCancelForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"order": order, "form": form})
        try:
            services.cancel_order(request.user, order, reason=form.cleaned_data["reason"])
        except InvalidInput as error:
            form.add_error("reason", error.message)
            return render(request, self.template_name, {"order": order, "form": form})
        except OrderError as error:
            messages.error(request, refusal_message(self.get_order(), error))
        else:
            messages.success(
                request,
                _("Order %(number)s is cancelled. Nothing will be delivered.")
                % {"number": order.number},
            )
        return redirect(order)

    def _refusal(self, order):
        try:
            services.check_cancel(self.request.user, order)
        except OrderError as error:
            messages.error(self.request, refusal_message(order, error))
            return redirect(order)
        return None
