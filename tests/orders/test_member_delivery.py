"""The member's side of the last mile: delivery progress and money on the order page in
their words, and the e-mails of an attempt, a delivery and a return."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.models import Order
from tests.staff.helpers import allocate, confirm, pay, place, reload

pytestmark = pytest.mark.django_db


def detail(client, order):
    return client.get(reverse("orders:detail", args=[order.number]))


def out_for_delivery(member, admin_user, courier, *, method="cod", own=True):
    order = allocate(confirm(place(member, payment_method=method), admin_user), admin_user, courier)
    if own:
        return services.ship_order(admin_user, order, carrier=Order.OWN_DELIVERY_STAFF)
    return services.ship_order(admin_user, order, carrier="SF Express", tracking_number="SF77")


def test_progress_shipped_attempted_delivered(login, member, admin_user, logistics_user):
    order = out_for_delivery(member, admin_user, logistics_user)
    client = login(member)
    html = detail(client, order).content.decode()
    assert "Shipped: our own courier brings it to you." in html
    assert "Our own courier" in html and "Waybill number" not in html
    assert "Please have ¥110.00 ready in cash for our courier." in html

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    services.record_delivery_attempt(
        logistics_user, order, outcome="not_home", next_attempt_on=tomorrow, note="Gate shut."
    )
    page = detail(client, order)
    html = page.content.decode()
    assert (
        f"We tried to deliver, but nobody was at home. Next attempt on {tomorrow.isoformat()}."
        in html
    )
    assert "Gate shut." not in html  # the courier's note stays internal
    assert [step["state"] for step in page.context["progress"]] == ["shipped", "attempted"]
    assert "Please have ¥110.00 ready in cash for our courier." in html

    services.record_delivery(
        logistics_user, reload(order), collected_amount=Decimal("110.00"), received_by="Li Wei"
    )
    page = detail(client, order)
    html = page.content.decode()
    assert [step["state"] for step in page.context["progress"]] == [
        "shipped",
        "attempted",
        "delivered",
    ]
    assert "Delivered, received by Li Wei." in html
    assert "Your parcel was delivered. Thank you for your order." in html
    assert "Paid in cash to our courier: ¥110.00" in html  # history
    # Delivered: no more cash to have ready.
    assert page.context["cash_due"] is False
    assert "ready in cash" not in html


def test_attempt_without_a_next_date_says_we_will_call(login, member, admin_user, logistics_user):
    order = out_for_delivery(member, admin_user, logistics_user, own=False)
    services.record_delivery_attempt(logistics_user, order, outcome="wrong_address")
    html = detail(login(member), order).content.decode()
    assert "Shipped with SF Express, waybill number SF77." in html
    assert (
        "We tried to deliver, but we could not find the address. We will call you to arrange it."
        in html
    )


def test_returned_paid_order_says_we_owe_the_member(
    login, member, admin_user, finance_user, logistics_user
):
    order = confirm(place(member, payment_method="bank_transfer"), admin_user)
    pay(order, finance_user)
    order = allocate(reload(order), admin_user, logistics_user)
    order = services.ship_order(admin_user, order, carrier="SF Express", tracking_number="SF5")
    services.record_return(admin_user, order, reason="Refused.", restock=True)
    page = detail(login(member), order)
    html = page.content.decode()
    assert [step["state"] for step in page.context["progress"]] == ["shipped", "returned"]
    assert "The parcel came back to us; the order is closed." in html
    assert "Your parcel came back to us and the order is closed" in html
    assert page.context["credit"] == Decimal("110.00")
    assert "We owe you" in html
    assert "We will pay ¥110.00 back to you." in html
    assert "We owe you ¥110.00 and will pay it back" in html  # history
    assert "Still to pay" not in html and "Please pay" not in html
    assert "Refused." not in html  # the staff's reason stays internal


def test_member_history_tells_credit_note_from_money_back(login, member, admin_user, finance_user):
    order = confirm(place(member, payment_method="bank_transfer"), admin_user)
    pay(order, finance_user)
    services.record_refund(
        finance_user, reload(order), amount=Decimal("10.00"), reference="CN", credit_note=True
    )
    services.record_refund(finance_user, reload(order), amount=Decimal("5.00"), reference="MB")
    html = detail(login(member), order).content.decode()
    assert "A credit note: you owe less" in html
    assert "Money paid back to you" in html


# --- e-mails ----------------------------------------------------------------------------------


def test_mails_of_an_attempt_and_a_delivery(
    member, admin_user, logistics_user, django_capture_on_commit_callbacks
):
    order = out_for_delivery(member, admin_user, logistics_user)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_delivery_attempt(
            logistics_user, order, outcome="postponed", next_attempt_on=tomorrow
        )
    message = mail.outbox[-1]
    assert message.subject == f"We could not deliver your order {order.number}"
    assert (
        f"We tried to deliver your order {order.number}, but you asked us to come another day."
        in message.body
    )
    assert f"We will try again on {tomorrow.isoformat()}." in message.body
    assert "Please have ¥110.00 in cash ready for the courier." in message.body

    with django_capture_on_commit_callbacks(execute=True):
        services.record_delivery(
            logistics_user, reload(order), collected_amount=Decimal("100.00"), received_by="Li"
        )
    message = mail.outbox[-1]
    assert message.subject == f"Your order {order.number} is delivered"
    assert f"Your order {order.number} was delivered and received by Li." in message.body
    assert "You paid our courier ¥100.00 in cash." in message.body


def test_mail_of_a_return_with_credit(
    member, admin_user, finance_user, logistics_user, django_capture_on_commit_callbacks
):
    order = confirm(place(member, payment_method="bank_transfer"), admin_user)
    pay(order, finance_user)
    order = allocate(reload(order), admin_user, logistics_user)
    order = services.ship_order(admin_user, order, carrier="SF Express", tracking_number="SF6")
    with django_capture_on_commit_callbacks(execute=True):
        services.record_return(admin_user, order, reason="Refused.", restock=False)
    message = mail.outbox[-1]
    assert message.subject == f"Your order {order.number} came back to us"
    assert "came back to us and is now closed. Nothing more is owed for it." in message.body
    assert "We owe you ¥110.00 and will pay it back" in message.body
    assert "Refused." not in message.body


def test_shipped_mail_by_own_courier_says_the_cash_due(
    member, admin_user, finance_user, logistics_user, django_capture_on_commit_callbacks
):
    """COD 110.00, 110.00 paid by transfer then refunded as money back: 110.00 to have ready."""
    order = confirm(place(member), admin_user)
    pay(order, finance_user, reference="BANK-1")
    services.record_refund(finance_user, reload(order), amount=Decimal("110.00"), reference="MB-1")
    order = allocate(reload(order), admin_user, logistics_user)
    assert order.payment_status == "refunded"
    with django_capture_on_commit_callbacks(execute=True):
        services.ship_order(admin_user, order, carrier=Order.OWN_DELIVERY_STAFF)
    body = mail.outbox[-1].body
    assert f"Your order {order.number} has shipped: our own courier brings it to you." in body
    assert "waybill" not in body.lower() and " own," not in body
    assert "Please have ¥110.00 in cash ready for the courier." in body


def test_shipped_mail_asks_for_only_what_is_due(
    member, admin_user, finance_user, logistics_user, django_capture_on_commit_callbacks
):
    order = confirm(place(member), admin_user)
    pay(order, finance_user, amount=Decimal("40.00"))
    order = allocate(reload(order), admin_user, logistics_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.ship_order(admin_user, order, carrier="SF Express", tracking_number="SF8")
    body = mail.outbox[-1].body
    assert "has shipped with SF Express, waybill number SF8." in body
    assert "Please have ¥70.00 in cash ready for the courier." in body


def test_shipped_mail_asks_for_nothing_when_paid(
    member, admin_user, finance_user, logistics_user, django_capture_on_commit_callbacks
):
    order = confirm(place(member), admin_user)
    pay(order, finance_user)
    order = allocate(reload(order), admin_user, logistics_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.ship_order(admin_user, order, carrier=Order.OWN_DELIVERY_STAFF)
    assert "in cash" not in mail.outbox[-1].body
