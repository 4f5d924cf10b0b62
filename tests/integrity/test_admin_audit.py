"""The Django admin offers no way to add, change or delete events and payments.

Issue 6, item 4: the audit trail is append-only and a payment is voided through the
services, never edited or deleted, so not even a superuser gets those buttons. Runs on
SQLite and PostgreSQL.
"""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from orders.models import CodCollection, Order, OrderEvent, OrderLine, Payment, Remittance
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_order():
    return OrderFactory(paid=True)  # events: placed, confirmed, payment_recorded


@pytest.mark.parametrize("model", [OrderEvent, Payment, Order, Remittance, CodCollection])
def test_model_admin_grants_no_add_change_or_delete(model, superuser, paid_order):
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/admin/")
    request.user = superuser
    row = model.objects.filter(
        **({"order": paid_order} if model in (OrderEvent, Payment) else {})
    ).first()

    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request, row) is False
    assert model_admin.has_delete_permission(request, row) is False
    assert model_admin.has_view_permission(request, row) is True
    assert "delete_selected" not in model_admin.get_actions(request)


def test_order_admin_inlines_are_read_only(superuser, paid_order):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    inlines = admin.site._registry[Order].get_inline_instances(request, paid_order)

    assert {inline.model for inline in inlines} == {OrderLine, OrderEvent, Payment}
    for inline in inlines:
        assert inline.has_add_permission(request, paid_order) is False
        assert inline.has_change_permission(request, paid_order) is False
        assert inline.has_delete_permission(request, paid_order) is False


@pytest.mark.parametrize("model_name", ["orderevent", "payment"])
def test_admin_pages_refuse_edits_and_change_nothing(model_name, client, superuser, paid_order):
    client.force_login(superuser)
    model = {"orderevent": OrderEvent, "payment": Payment}[model_name]
    row = model.objects.filter(order=paid_order).order_by("pk").last()
    before = list(model.objects.values())
    change_url = reverse(f"admin:orders_{model_name}_change", args=[row.pk])

    assert client.get(reverse(f"admin:orders_{model_name}_changelist")).status_code == 200
    assert client.get(change_url).status_code == 200  # viewable, read-only
    assert client.get(reverse(f"admin:orders_{model_name}_add")).status_code == 403
    assert client.post(change_url, {"note": "rewritten", "amount": "1.00"}).status_code == 403
    delete_url = reverse(f"admin:orders_{model_name}_delete", args=[row.pk])
    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    response = client.post(
        reverse(f"admin:orders_{model_name}_changelist"),
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )
    assert response.status_code == 200  # no such action: the list is shown again
    assert b"delete_selected" not in response.content

    assert list(model.objects.values()) == before
    assert paid_order.events.count() == 3
    assert list(paid_order.payments.values_list("amount", "voided_at")) == [
        (Decimal("110.00"), None)
    ]
