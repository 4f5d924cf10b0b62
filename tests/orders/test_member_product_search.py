"""The member's change page finds products by name or SKU (issue 11) instead of a SKU box."""

from decimal import Decimal

import pytest
from django.urls import reverse

from mall.models import Product
from orders.models import Order, OrderEvent
from tests.factories import ProductFactory
from tests.orders.test_member_order_views import edit_data
from tests.staff.helpers import place

pytestmark = pytest.mark.django_db


def test_member_finds_a_product_by_name_or_sku_and_adds_it(client, member):
    mug = ProductFactory(sku="MUG-RED", name="Red mug", price=Decimal("50.00"), stock=10)
    tea = ProductFactory(sku="TEA-JASMINE-250", name="Jasmine tea", price=Decimal("20.00"))
    ProductFactory(sku="TEA-HIDDEN", name="Hidden tea", is_visible=False)
    order = place(member, lines=[(mug, 1)])
    client.force_login(member)
    path = reverse("orders:edit", args=[order.number])
    page = client.get(path, {"find": "jasmine"}, HTTP_ACCEPT_LANGUAGE="en")
    assert [p.sku for p, _field in page.context["form"].add_fields()] == ["TEA-JASMINE-250"]
    html = page.content.decode()
    assert 'name="add_sku"' not in html  # the SKU box is gone
    assert f'name="add-{tea.pk}"' in html
    by_sku = client.get(path, {"find": "tea-"}, HTTP_ACCEPT_LANGUAGE="en")
    assert [p.sku for p, _f in by_sku.context["form"].add_fields()] == ["TEA-JASMINE-250"]

    response = client.post(path, edit_data(order, **{f"add-{tea.pk}": "2"}))
    assert response.status_code == 302
    order = Order.objects.get(pk=order.pk)
    assert sorted(order.lines.values_list("sku", "quantity")) == [
        ("MUG-RED", 1),
        ("TEA-JASMINE-250", 2),
    ]
    assert order.subtotal == Decimal("90.00")
    event = order.events.get(kind=OrderEvent.Kind.EDITED)
    assert event.actor == member and "for_member" not in event.data


def test_member_cannot_add_a_hidden_product_by_a_hand_made_post(client, member):
    mug = ProductFactory(sku="MUG-RED", price=Decimal("50.00"), stock=10)
    hidden = ProductFactory(sku="TEA-HIDDEN", is_visible=False, stock=5)
    order = place(member, lines=[(mug, 1)])
    client.force_login(member)
    path = reverse("orders:edit", args=[order.number])
    response = client.post(path, edit_data(order, **{f"add-{hidden.pk}": "1"}))
    assert response.status_code == 200
    order = Order.objects.get(pk=order.pk)
    assert order.version == 1
    assert list(order.lines.values_list("sku", flat=True)) == ["MUG-RED"]
    assert Product.objects.get(pk=hidden.pk).stock == 5
