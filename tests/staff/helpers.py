"""Helpers for the back-office tests: walk orders forward through the real services and
take snapshots that show whether anything changed."""

import datetime

from django.utils import timezone

from orders import services
from orders.models import Order, OrderEvent, Payment
from tests import factories


def reload(order):
    return Order.objects.get(pk=order.pk)


def snapshot(order):
    """Everything a staff action could change on ``order``."""
    order = reload(order)
    payments = Payment.objects.filter(order=order)
    return {
        "status": order.status,
        "payment_status": order.payment_status,
        "version": order.version,
        "events": OrderEvent.objects.filter(order=order).count(),
        "payments": payments.count(),
        "voided": payments.filter(voided_at__isnull=False).count(),
        "assigned_to": order.assigned_to_id,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
    }


def place(customer, *, payment_method="cod", lines=None, address=None):
    """A submitted order (two units at 50.00 + 10.00 shipping = 110.00 by default)."""
    return factories.OrderFactory(
        customer=customer,
        payment_method=payment_method,
        lines=lines,
        **({"address": address} if address else {}),
    )


def confirm(order, admin):
    return services.confirm_order(admin, order, expected_version=order.version, call_note="OK.")


def allocate(order, admin, courier):
    return services.allocate_order(admin, order, assignee=courier)


def pay(order, finance, amount=None, reference=None, as_credit=False):
    return services.record_payment(
        finance,
        order,
        amount=amount if amount is not None else order.total,
        method=order.payment_method,
        reference=reference or f"PAY-{order.number}",
        received_on=timezone.localdate(),
        as_credit=as_credit,
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def at_shop_time(year, month, day, hour, minute):
    """An aware datetime at the given wall-clock time in the shop's time zone."""
    return timezone.make_aware(
        datetime.datetime(year, month, day, hour, minute), timezone.get_default_timezone()
    )
