"""The Django admin shows orders, events and payments but changes none of them."""

import pytest
from django.urls import reverse

from orders.models import Order, OrderEvent, Payment, Status
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_order(db):
    return OrderFactory(paid=True)


def test_order_changelist_lists_and_filters(login, superuser, paid_order):
    other = OrderFactory()
    client = login(superuser)
    url = reverse("admin:orders_order_changelist")
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert paid_order.number in html and other.number in html
    assert "Confirmed" in html  # the status label, not the stored value
    response = client.get(url, {"status__exact": "submitted"})
    assert list(response.context["cl"].queryset) == [other]
    response = client.get(url, {"q": paid_order.customer.email})
    assert list(response.context["cl"].queryset) == [paid_order]


def test_order_page_is_read_only_with_inlines(login, superuser, paid_order):
    client = login(superuser)
    url = reverse("admin:orders_order_change", args=[paid_order.pk])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="status"' not in html and 'name="total"' not in html
    assert 'name="city"' not in html
    assert paid_order.lines.get().sku in html
    assert f"REF-{paid_order.number}" in html  # the payment inline
    assert "Order placed" in html  # the event inline


def test_order_cannot_be_changed_added_or_deleted(login, superuser, paid_order):
    client = login(superuser)
    before = Order.objects.filter(pk=paid_order.pk).values().get()
    response = client.post(
        reverse("admin:orders_order_change", args=[paid_order.pk]),
        {"city": "Elsewhere", "status": "cancelled", "total": "0.00"},
    )
    assert response.status_code == 403
    assert client.get(reverse("admin:orders_order_add")).status_code == 403
    response = client.post(
        reverse("admin:orders_order_delete", args=[paid_order.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    response = client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "delete_selected", "_selected_action": [paid_order.pk], "post": "yes"},
    )
    assert Order.objects.filter(pk=paid_order.pk).values().get() == before
    assert Order.objects.get(pk=paid_order.pk).status == Status.CONFIRMED


@pytest.mark.parametrize("model", [OrderEvent, Payment])
def test_events_and_payments_are_view_only(login, superuser, paid_order, model):
    client = login(superuser)
    name = model._meta.model_name
    entry = model.objects.filter(order=paid_order).first()
    count = model.objects.count()
    assert client.get(reverse(f"admin:orders_{name}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:orders_{name}_change", args=[entry.pk])).status_code == 200
    assert client.get(reverse(f"admin:orders_{name}_add")).status_code == 403
    response = client.post(reverse(f"admin:orders_{name}_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 403
    response = client.post(reverse(f"admin:orders_{name}_change", args=[entry.pk]), {"note": "x"})
    assert response.status_code == 403
    assert model.objects.count() == count
    assert model.objects.get(pk=entry.pk).note == entry.note


def test_staff_flag_without_permissions_sees_nothing(login, member, paid_order):
    member.is_staff = True
    member.save()
    response = login(member).get(reverse("admin:orders_order_changelist"))
    assert response.status_code == 403
