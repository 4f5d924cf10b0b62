"""factory-boy factories for the catalogue, users and orders.

Orders in later states are made by running the real services, so a factory order has
the same stock, events and version as one made through the pages:
``OrderFactory(confirmed=True)``, ``OrderFactory(allocated=True)``,
``OrderFactory(shipped=True)``, ``OrderFactory(paid=True)`` and so on.
"""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from mall.models import Category, Product
from orders import services
from orders.models import FINANCE, LOGISTICS, ORDER_ADMINS, Order, PaymentMethod

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            for name in extracted:
                self.groups.add(Group.objects.get(name=name))
        if create:
            self.save()


def order_admin(**kwargs):
    """A user in the Order admins group."""
    return UserFactory(groups=[ORDER_ADMINS], **kwargs)


def finance_clerk(**kwargs):
    """A user in the Finance group."""
    return UserFactory(groups=[FINANCE], **kwargs)


def logistics_person(**kwargs):
    """A user in the Logistics group."""
    return UserFactory(groups=[LOGISTICS], **kwargs)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.LazyAttribute(lambda o: o.sku.lower())
    price = Decimal("50.00")
    stock = 10


ADDRESS = {
    "recipient": "Li Wei",
    "phone": "138 0013 8000",
    "region": "Shanghai",
    "city": "Shanghai",
    "address_line": "88 Harbour Road, Building 3, Room 1201",
    "postcode": "200000",
}


class OrderFactory(factory.Factory):
    """Places a real order through ``services.place_order`` and walks it forward.

    ``lines`` defaults to two units of a fresh product priced 50.00 (stock 10).
    Traits run the real services: ``confirmed``, ``invalid``, ``allocated``, ``shipped``,
    ``paid`` (records a payment of the full total), ``cancelled``; after shipping:
    ``own_shipped`` (carried by the shop's own delivery staff, no waybill),
    ``delivered`` (by own staff; cash on delivery collected in full by the courier),
    ``returned`` (shipped, then back at the shop, all units restocked).
    """

    class Meta:
        model = Order

    customer = factory.SubFactory(UserFactory)
    lines = None
    address = factory.LazyFunction(lambda: dict(ADDRESS))
    payment_method = PaymentMethod.COD
    note = ""

    class Params:
        confirmed = factory.Trait(_steps=("confirm",))
        invalid = factory.Trait(_steps=("invalidate",))
        allocated = factory.Trait(_steps=("confirm", "allocate"))
        shipped = factory.Trait(_steps=("confirm", "allocate", "ship"))
        paid = factory.Trait(_steps=("confirm", "pay"))
        cancelled = factory.Trait(_steps=("cancel",))
        own_shipped = factory.Trait(_steps=("confirm", "allocate", "ship_own"))
        delivered = factory.Trait(_steps=("confirm", "allocate", "ship_own", "deliver"))
        returned = factory.Trait(_steps=("confirm", "allocate", "ship", "return"))

    _steps = ()

    @classmethod
    def _create(cls, model_class, customer, lines, address, payment_method, note, _steps=()):
        if lines is None:
            lines = [(ProductFactory(), 2)]
        order = services.place_order(
            customer, lines=lines, address=address, payment_method=payment_method, note=note
        )
        admin = None
        for step in _steps:
            admin = admin or order_admin()
            if step == "confirm":
                order = services.confirm_order(
                    admin, order, expected_version=order.version, call_note="Address checked."
                )
            elif step == "invalidate":
                order = services.invalidate_order(admin, order, reason="Fake address.")
            elif step == "cancel":
                order = services.cancel_order(admin, order, reason="Member asked by phone.")
            elif step == "allocate":
                order = services.allocate_order(admin, order, assignee=logistics_person())
            elif step == "pay":
                services.record_payment(
                    finance_clerk(),
                    order,
                    amount=order.total,
                    method=order.payment_method,
                    reference=f"REF-{order.number}",
                    received_on=timezone.localdate() - datetime.timedelta(days=0),
                )
                order = Order.objects.get(pk=order.pk)
            elif step == "ship":
                order = services.ship_order(
                    admin, order, carrier="Own fleet", tracking_number=f"WB-{order.number}"
                )
            elif step == "ship_own":
                order = services.ship_order(admin, order, carrier=Order.OWN_DELIVERY_STAFF)
            elif step == "deliver":
                due = order.money_position().due
                order = services.record_delivery(
                    admin,
                    order,
                    collected_amount=due if services.collects_cash(order) and due else None,
                    received_by="Recipient",
                )
            elif step == "return":
                order = services.record_return(admin, order, reason="Refused at the door.")
        return Order.objects.get(pk=order.pk)

    _build = _create
