"""The member's e-mails: sent after commit, plain text unescaped, HTML escaped exactly once."""

from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from orders import services
from orders.notifications import send_order_email
from tests.factories import ADDRESS, OrderFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

TRICKY = {**ADDRESS, "recipient": "O'Brien & <Sons>", "address_line": "5 Rue d'Arc & Co"}


@pytest.fixture
def order(db):
    product = ProductFactory(name="Mug & Saucer", price=Decimal("50.00"), stock=10)
    return OrderFactory(
        customer=UserFactory(username="obrien"), address=TRICKY, lines=[(product, 2)]
    )


@pytest.mark.parametrize(
    "kind",
    [
        "placed",
        "confirmed",
        "invalidated",
        "cancelled",
        "shipped",
        "paid",
        "delivery_attempted",
        "delivered",
        "returned",
    ],
)
def test_every_mail_renders_plain_text_and_escaped_html(order, kind):
    order.carrier, order.tracking_number = "SF & Co", "WB<1>"
    order.save(update_fields=["carrier", "tracking_number"])
    assert send_order_email(order.pk, kind) is True
    message = mail.outbox[-1]
    assert order.number in message.subject
    assert "Dear O'Brien & <Sons>," in message.body
    assert "&amp;" not in message.body and "&#x27;" not in message.body
    html = message.alternatives[0][0]
    assert "Dear O&#x27;Brien &amp; &lt;Sons&gt;," in html
    assert "<Sons>" not in html and "&amp;amp;" not in html


def test_placed_mail_has_lines_money_and_the_phone_we_will_call(order):
    send_order_email(order.pk, "placed")
    body = mail.outbox[-1].body
    assert f"We will call you shortly on {ADDRESS['phone']}" in body
    assert "2 × Mug & Saucer" in body
    assert "Total: ¥110.00" in body
    assert "You pay the courier in cash when the parcel arrives." in body


def test_mails_go_out_after_commit_for_each_step(
    member, admin_user, logistics_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = OrderFactory(customer=member)
    assert [m.subject for m in mail.outbox] == [f"We received your order {order.number}"]
    with django_capture_on_commit_callbacks(execute=True):
        order = services.confirm_order(admin_user, order, expected_version=1, call_note="ok")
        order = services.allocate_order(admin_user, order, assignee=logistics_user)
        order = services.ship_order(
            admin_user, order, carrier="SF Express", tracking_number="SF123"
        )
    assert [m.subject for m in mail.outbox[1:]] == [
        f"Your order {order.number} is confirmed",
        f"Your order {order.number} is on its way",
    ]
    shipped = mail.outbox[-1].body
    assert "SF Express" in shipped and "SF123" in shipped
    assert "Please have ¥110.00 in cash ready for the courier." in shipped


def test_paid_mail_when_payment_completes(
    member, admin_user, finance_user, django_capture_on_commit_callbacks
):
    order = OrderFactory(customer=member, payment_method="bank_transfer", confirmed=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_payment(
            finance_user,
            order,
            amount=Decimal("110.00"),
            method="bank_transfer",
            reference="BANK-1",
            received_on=timezone.localdate(),
        )
    assert [m.subject for m in mail.outbox] == [f"Payment received for order {order.number}"]
    assert "(¥110.00)" in mail.outbox[0].body
