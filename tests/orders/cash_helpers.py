"""Helpers for the cash tests: cash-on-delivery orders delivered by a named courier, and
snapshots of everything a remittance or a settlement file could change."""

from decimal import Decimal

from mall.models import Product
from orders import services
from orders.models import CodCollection, Order, OrderEvent, Payment, Remittance
from tests.factories import OrderFactory, ProductFactory


def shipped_own(courier, admin, *, lines=None, customer=None):
    """A cash-on-delivery order (110.00 by default) out with ``courier`` (own staff)."""
    kwargs = {"customer": customer} if customer is not None else {}
    order = OrderFactory(confirmed=True, lines=lines, **kwargs)
    order = services.allocate_order(admin, order, assignee=courier)
    return services.ship_order(admin, order, carrier=Order.OWN_DELIVERY_STAFF)


def collected(courier, admin, *, amount=None, lines=None, customer=None):
    """A cash-on-delivery order delivered by ``courier``, who took ``amount`` (default:
    everything due). Returns the order; its collection is ``order.cod_collection``."""
    order = shipped_own(courier, admin, lines=lines, customer=customer)
    due = order.money_position().due
    order = services.record_delivery(
        admin, order, collected_amount=due if amount is None else Decimal(amount)
    )
    return Order.objects.get(pk=order.pk)


def shipped_by(carrier, admin, *, waybill, lines=None, payment_method="cod"):
    """An order shipped by a third-party ``carrier`` with waybill number ``waybill``."""
    order = OrderFactory(confirmed=True, lines=lines, payment_method=payment_method)
    courier = order.assigned_to
    if courier is None:
        from tests.factories import logistics_person

        courier = logistics_person()
    order = services.allocate_order(admin, order, assignee=courier)
    return services.ship_order(admin, order, carrier=carrier, tracking_number=waybill)


def money_state():
    """Orders (status, money), payments, events, collections, remittances and stock."""
    return {
        "orders": sorted(
            Order.objects.values_list("pk", "status", "payment_status", "version", "owed", "held")
        ),
        "payments": sorted(
            Payment.objects.values_list("pk", "order_id", "kind", "amount", "reference")
        ),
        "events": OrderEvent.objects.count(),
        "collections": sorted(
            CodCollection.objects.values_list("pk", "courier_id", "amount", "remittance_id")
        ),
        "remittances": Remittance.objects.count(),
        "stock": sorted(Product.objects.values_list("pk", "stock")),
    }


def mug(sku="MUG", price="50.00", stock=10):
    return ProductFactory(sku=sku, price=Decimal(price), stock=stock)
