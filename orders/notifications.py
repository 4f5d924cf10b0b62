"""E-mails to the member about their order, sent after the change has committed.

``orders.services`` writes an ``OutboxEmail`` row with the change and, once committed,
hands it to ``orders.tasks`` (a Celery worker, or this process without a broker); a
failed send is kept in the outbox for staff to retry and never undoes or blocks the
order change.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

SUBJECTS = {
    "placed": _("We received your order %(number)s"),
    "confirmed": _("Your order %(number)s is confirmed"),
    "invalidated": _("We could not accept your order %(number)s"),
    "cancelled": _("Your order %(number)s is cancelled"),
    "shipped": _("Your order %(number)s is on its way"),
    "paid": _("Payment received for order %(number)s"),
    "delivery_attempted": _("We could not deliver your order %(number)s"),
    "delivered": _("Your order %(number)s is delivered"),
    "returned": _("Your order %(number)s came back to us"),
    "changed_for_member": _("We changed your order %(number)s as you asked"),
}

# The event an e-mail tells about (its data gives the details: outcome, cash taken...).
EVENT_OF_KIND = {
    "delivery_attempted": "delivery_attempted",
    "delivered": "delivered",
    "returned": "returned",
}


def _event_context(order, kind):
    """``event`` (the latest event the ``kind`` e-mail tells about, or ``None``) and, for
    a failed attempt, ``why`` (the outcome in the member's words)."""
    from orders.delivery_words import attempt_words

    event_kind = EVENT_OF_KIND.get(kind)
    if event_kind is None:
        return {}
    event = order.events.filter(kind=event_kind).order_by("-created_at", "-pk").first()
    data = event.data if event else {}
    return {
        "event": event,
        "why": attempt_words(data.get("outcome")) if kind == "delivery_attempted" else "",
        "collected": data.get("collected") if data.get("collected") not in ("0", "0.00") else None,
    }


def change_lines(data):
    """Plain-words lines for the member of an edit's diff (``OrderEvent.data`` of kind
    ``edited``): address fields, payment method, note, lines, total."""
    from mall.formatting import format_money
    from orders.models import Order, PaymentMethod

    lines = []
    for field, (old, new) in (data.get("address") or {}).items():
        label = str(Order._meta.get_field(field).verbose_name).capitalize()
        lines.append(f"{label}: {old or '-'} → {new or '-'}")
    if data.get("payment_method"):
        old, new = data["payment_method"]
        labels = dict(PaymentMethod.choices)
        lines.append(f"{_('Payment method')}: {labels.get(old, old)} → {labels.get(new, new)}")
    if "note" in data:
        old, new = data["note"]
        lines.append(f"{_('Note')}: {old or '-'} → {new or '-'}")
    for line in data.get("lines") or []:
        lines.append(
            f"{line.get('name')} ({line.get('sku')}): {line.get('from')} → {line.get('to')}"
        )
    if data.get("total"):
        old, new = data["total"]
        lines.append(f"{_('Total')}: {format_money(old)} → {format_money(new)}")
    return lines


def build_order_email(order_id, kind):
    """The ``kind`` e-mail (a key of ``SUBJECTS``) about order ``order_id``, ready to send:
    an ``EmailMultiAlternatives`` rendered from ``orders/email/<kind>.txt`` and ``.html``
    in the order's language (``Order.language``, the one the member placed it in):
    subject, body, money, dates and status labels alike, whatever language the staff
    member who acted uses. ``None`` when the member has no e-mail address. Raises
    ``Order.DoesNotExist`` for an unknown order and whatever a broken template raises.
    """
    from orders.models import Order

    order = Order.objects.select_related("customer").get(pk=order_id)
    if not order.customer.email:
        logger.info("order %s: no e-mail address for %s mail", order.number, kind)
        return None
    with translation.override(order.email_language):
        context = {
            "order": order,
            "lines": list(order.lines.all()),
            "MALL_NAME": settings.MALL_NAME,
            "MALL_CURRENCY": settings.MALL_CURRENCY,
            "MALL_PHONE": settings.MALL_PHONE,
            "MALL_BANK_DETAILS": settings.MALL_BANK_DETAILS,
            "MALL_REMITTANCE_DETAILS": settings.MALL_REMITTANCE_DETAILS,
            "kind": kind,
            "LANGUAGE_CODE": order.email_language,
            "position": order.money_position(),
            **_event_context(order, kind),
        }
        if kind == "changed_for_member":
            event = order.events.filter(kind="edited").order_by("-created_at", "-pk").first()
            context["changes"] = change_lines(event.data if event else {})
            context["reason"] = event.note if event else ""
        subject = str(SUBJECTS[kind] % {"number": order.number})
        text = render_to_string(f"orders/email/{kind}.txt", context)
        html = render_to_string("orders/email/message.html", {**context, "body": text})
    message = EmailMultiAlternatives(subject, text, to=[order.customer.email])
    message.attach_alternative(html, "text/html")
    return message


def send_order_email(order_id, kind):
    """Send the member the ``kind`` e-mail about order ``order_id`` now, in this process
    (``build_order_email`` renders it).

    Never raises: any failure is logged with the order and kind. Returns ``True`` when
    the message was handed to the backend. The services do not call this directly: they
    queue an ``OutboxEmail`` that ``orders.tasks`` sends exactly once.
    """
    try:
        message = build_order_email(order_id, kind)
        if message is None:
            return False
        message.send()
        return True
    except Exception:
        logger.exception("order %s: could not send the %s e-mail", order_id, kind)
        return False
