"""Each order's e-mails are written in the language the member placed it in (issue 14).

The staff act in the other language on purpose: the member's language must win for the
subject, the body, the money, the dates and the status labels of every milestone.
"""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone, translation

from mall.models import Profile
from orders import services
from orders.exceptions import InvalidInput
from orders.models import PaymentMethod
from tests.factories import ADDRESS, ProductFactory

pytestmark = pytest.mark.django_db

STAFF_LANGUAGE = {"zh-hans": "en", "en": "zh-hans"}

SUBJECTS = {
    "zh-hans": [
        "我们已收到您的订单 {n}",
        "您的订单 {n} 已确认",
        "已收到订单 {n} 的付款",
        "您的订单 {n} 已发货",
    ],
    "en": [
        "We received your order {n}",
        "Your order {n} is confirmed",
        "Payment received for order {n}",
        "Your order {n} is on its way",
    ],
}
REFUSED_SUBJECTS = {
    "zh-hans": [
        "我们已收到您的订单 {n}",
        "很抱歉，我们无法受理您的订单 {n}",
        "您的订单 {n} 已取消",
    ],
    "en": [
        "We received your order {n}",
        "We could not accept your order {n}",
        "Your order {n} is cancelled",
    ],
}
# Words of the English templates that must never appear in a Chinese e-mail.
ENGLISH_WORDS = re.compile(
    r"\b(Dear|order|Order|Status|Total|Subtotal|Shipping|Payment|Please|Thank|placed|"
    r"Paid|Unpaid|Confirmed|Shipped|Cancelled|Invalid|courier|Cash|cash)\b"
)


def _place(member, language, payment_method):
    product = ProductFactory(sku="TEA-1", name="Tea", price=Decimal("50.00"), stock=10)
    with translation.override(language):
        return services.place_order(
            member,
            lines=[(product, 2)],
            address=dict(ADDRESS),
            payment_method=payment_method,
            language=language,
        )


def _chinese_only(text):
    """Drop what is the same in every language: order numbers, names, SKUs, the shop."""
    for keep in (*ADDRESS.values(), "Harbour Mall", "SF Express", "SF123", "BANK-1", "TEA-1"):
        text = text.replace(keep, "")
    return text


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_milestone_mail_is_in_the_order_language(
    language, member, admin_user, finance_user, logistics_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = _place(member, language, PaymentMethod.BANK_TRANSFER)
    assert order.language == language
    assert Profile.objects.get(user=member).language == language
    with (
        translation.override(STAFF_LANGUAGE[language]),
        django_capture_on_commit_callbacks(execute=True),
    ):
        order = services.confirm_order(admin_user, order, expected_version=1, call_note="ok")
        services.record_payment(
            finance_user,
            order,
            amount=Decimal("110.00"),
            method="bank_transfer",
            reference="BANK-1",
            received_on=timezone.localdate(),
        )
        order = services.allocate_order(admin_user, order, assignee=logistics_user)
        services.ship_order(admin_user, order, carrier="SF Express", tracking_number="SF123")

    n = order.number
    assert [m.subject for m in mail.outbox] == [s.format(n=n) for s in SUBJECTS[language]]
    placed, confirmed, paid, shipped = (m.body for m in mail.outbox)
    placed_at = timezone.localtime(order.placed_at)
    if language == "zh-hans":
        assert placed.startswith("Li Wei，您好：")
        assert "合计: ¥110.00" in placed
        assert f"{placed_at.year}年{placed_at.month}月{placed_at.day}日" in placed
        assert "状态: 待确认 · 未付款" in placed
        assert "（¥110.00）" in paid and "已付款" in paid
        assert "状态: 已发货 · 已付款" in shipped
        for body in (placed, confirmed, paid, shipped):
            assert not ENGLISH_WORDS.search(_chinese_only(body)), body
        assert '<html lang="zh-hans">' in mail.outbox[0].alternatives[0][0]
    else:
        assert placed.startswith("Dear Li Wei,")
        assert "Total: ¥110.00" in placed
        assert f"{placed_at.strftime('%b')}. {placed_at.day}, {placed_at.year}" in placed
        assert "Status: Awaiting confirmation · Unpaid" in placed
        assert "(¥110.00)" in paid
        assert "Status: Shipped · Paid" in shipped
        assert not re.search(r"[\u4e00-\u9fff]", "".join(m.body for m in mail.outbox))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_refusal_mails_are_in_the_order_language(
    language, member, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = _place(member, language, PaymentMethod.COD)
    with (
        translation.override(STAFF_LANGUAGE[language]),
        django_capture_on_commit_callbacks(execute=True),
    ):
        order = services.invalidate_order(admin_user, order, reason="No such street")
        services.cancel_order(admin_user, order, reason="Invalid address")
    n = order.number
    assert [m.subject for m in mail.outbox] == [s.format(n=n) for s in REFUSED_SUBJECTS[language]]
    cancelled = mail.outbox[-1].body
    if language == "zh-hans":
        assert "状态: 已取消" in cancelled
        for message in mail.outbox:
            assert not ENGLISH_WORDS.search(_chinese_only(message.body)), message.body
    else:
        assert "Status: Cancelled" in cancelled


def test_an_order_from_before_languages_were_kept_mails_in_the_shop_language(
    member, settings, django_capture_on_commit_callbacks
):
    settings.LANGUAGE_CODE = "zh-hans"
    with django_capture_on_commit_callbacks(execute=True):
        order = _place(member, "en", PaymentMethod.COD)
    type(order).objects.filter(pk=order.pk).update(language="")
    from orders.notifications import send_order_email

    assert send_order_email(order.pk, "confirmed") is True
    assert mail.outbox[-1].subject == f"您的订单 {order.number} 已确认"


def test_an_unknown_language_is_refused_and_nothing_is_placed(member):
    product = ProductFactory(stock=5)
    with pytest.raises(InvalidInput):
        services.place_order(
            member,
            lines=[(product, 1)],
            address=dict(ADDRESS),
            payment_method="cod",
            language="fr",
        )
    product.refresh_from_db()
    assert product.stock == 5 and not member.orders.exists()
