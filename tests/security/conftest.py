"""Fixtures for the security suite: one user per role, a small catalogue, two orders."""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from mall.models import Address, Category, Product, Profile
from orders.models import CodCollection, Order, OrderEvent, Payment, Remittance
from tests import factories
from tests.staff.helpers import allocate, confirm, place

ROLES = (
    "anonymous",
    "member",
    "other_member",
    "order_admin",
    "finance",
    "logistics",
    "superuser",
)


@dataclass
class World:
    """Users by role, a listed product in a category, and two orders of ``member``.

    ``submitted`` is a fresh order (the member may still change it); ``allocated`` is
    confirmed and allocated to ``users["logistics"]`` (every staff role may see it);
    ``address`` is the member's saved (default) delivery address.
    """

    users: dict
    category: Category
    product: Product
    submitted: Order
    allocated: Order
    address: Address

    def client(self, role, **kwargs):
        """A test client signed in as ``role`` (not signed in for ``anonymous``)."""
        client = Client(**kwargs)
        user = self.users[role]
        if user is not None:
            client.force_login(user)
        return client


@pytest.fixture
def world(member, other_member, admin_user, finance_user, logistics_user, superuser):
    category = factories.CategoryFactory(name="Mugs", slug="mugs")
    product = factories.ProductFactory(sku="MUG-RED", name="Red mug", price="50.00", stock=50)
    product.categories.add(category)
    submitted = place(member, lines=[(product, 1)])
    allocated = allocate(
        confirm(place(member, lines=[(product, 2)]), admin_user), admin_user, logistics_user
    )
    users = {
        "anonymous": None,
        "member": member,
        "other_member": other_member,
        "order_admin": admin_user,
        "finance": finance_user,
        "logistics": logistics_user,
        "superuser": superuser,
    }
    address = Address.objects.create(user=member, is_default=True, **factories.ADDRESS)
    return World(users, category, product, submitted, allocated, address)


def database_state():
    """Everything a request could change that matters here, for before/after comparisons."""
    return {
        "orders": sorted(
            Order.objects.values_list(
                "pk", "status", "payment_status", "version", "assigned_to", "tracking_number"
            )
        ),
        "events": OrderEvent.objects.count(),
        "payments": sorted(Payment.objects.values_list("pk", "amount", "voided_at")),
        "stock": sorted(Product.objects.values_list("pk", "stock")),
        "products": Product.objects.count(),
        "collections": sorted(CodCollection.objects.values_list("pk", "remittance_id")),
        "remittances": Remittance.objects.count(),
        "addresses": sorted(Address.objects.values_list("pk", "user", "is_default", "city")),
        "profiles": sorted(Profile.objects.values_list("user", "phone", "language")),
        "passwords": sorted(get_user_model().objects.values_list("pk", "password", "email")),
    }
