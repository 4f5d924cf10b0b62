"""Issue 13, item 6: dates, times, amounts and counts typed on a Chinese input method.

Full-width digits (``２０２６－０３－１１``), the ideographic space and stray spaces are
read by NFKC before validation, in every staff and member form that takes them; what is
stored (and shown back) is the plain form.
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from mall.forms import AccountForm, AddressForm
from mall.models import Address, Profile
from orders.models import Order
from staff.cash_forms import RemittanceForm
from staff.desk_forms import NewMemberForm, PhoneOrderForm
from staff.filters import OrderFilter
from staff.forms import (
    CallForm,
    ConfirmForm,
    DeliverForm,
    DeliveryAttemptForm,
    PaymentForm,
    ReturnForm,
    RunSheetForm,
)
from staff.views.reports import ReportRangeForm
from tests import factories

pytestmark = pytest.mark.django_db


def full_width(text):
    """``text`` as a Chinese input method types it: full-width digits, letters and
    punctuation, the ideographic space for a space."""
    return "".join(
        "\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text
    )


def test_full_width_helper_types_what_a_chinese_input_method_types():
    assert full_width("2026-03-11 10:30") == "２０２６－０３－１１\u3000１０：３０"


def test_report_range_reads_full_width_days():
    form = ReportRangeForm(
        {"from": full_width("2026-03-10"), "to": f"  {full_width('2026-03-11')} "},
        table_keys=[],
    )
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["start"], form.cleaned_data["end"]) == (
        datetime.date(2026, 3, 10),
        datetime.date(2026, 3, 11),
    )


def test_report_page_with_full_width_range(login, admin_user):
    response = login(admin_user).get(
        reverse("staff:reports"), {"from": full_width("2026-03-10"), "to": full_width("2026-03-11")}
    )
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.first, report.last) == (datetime.date(2026, 3, 10), datetime.date(2026, 3, 11))


def test_order_list_filter_reads_full_width_days(login, admin_user):
    order = factories.OrderFactory()
    today = timezone.localdate()
    response = login(admin_user).get(
        reverse("staff:order-list"),
        {"placed_from": full_width(today.isoformat()), "placed_to": full_width(today.isoformat())},
    )
    assert response.status_code == 200
    listed = OrderFilter(
        {"placed_from": full_width(today.isoformat())},
        queryset=Order.objects.all(),
        request=response.wsgi_request,
    )
    assert listed.is_valid(), listed.errors
    assert listed.form.cleaned_data["placed_from"] == today
    assert order in listed.qs


def test_call_back_time_typed_full_width():
    order = factories.OrderFactory()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    form = CallForm(
        {"outcome": "call_back", "call_back_at": full_width(f"{tomorrow.isoformat()} 10:30")},
        order=order,
    )
    assert form.is_valid(), form.errors
    moment = timezone.localtime(form.cleaned_data["call_back_at"])
    assert (moment.date(), moment.hour, moment.minute) == (tomorrow, 10, 30)


def test_payment_date_and_amount_typed_full_width():
    order = factories.OrderFactory(confirmed=True)
    today = timezone.localdate()
    form = PaymentForm(
        {
            "amount": full_width("100.00"),
            "method": order.payment_method,
            "reference": full_width("SF 1234"),
            "received_on": full_width(today.isoformat()),
        },
        order=order,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["received_on"] == today
    assert form.cleaned_data["amount"] == Decimal("100.00")
    assert form.cleaned_data["reference"] == "SF 1234"


def test_next_delivery_attempt_typed_full_width():
    order = factories.OrderFactory(own_shipped=True)
    day = timezone.localdate() + datetime.timedelta(days=2)
    form = DeliveryAttemptForm(
        {"outcome": "not_home", "next_attempt_on": full_width(day.isoformat())}, order=order
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["next_attempt_on"] == day


def test_run_sheet_day_typed_full_width():
    form = RunSheetForm({"date": full_width("2026-03-11")})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["date"] == datetime.date(2026, 3, 11)


def test_cash_taken_and_cash_counted_typed_full_width():
    order = factories.OrderFactory(own_shipped=True)
    form = DeliverForm(
        {"received_by": "Member", "collected_amount": full_width("100.00")}, order=order
    )
    form.is_valid()
    assert form.cleaned_data["collected_amount"] == Decimal("100.00")

    remittance = RemittanceForm({"counted": f" {full_width('1,5')} "})
    remittance.is_valid()
    assert "counted" in remittance.errors  # a comma is not a decimal point, full width or not
    remittance = RemittanceForm({"counted": f" {full_width('15.50')} "})
    remittance.is_valid()
    assert remittance.cleaned_data["counted"] == Decimal("15.50")


def test_returned_units_and_hidden_versions_typed_full_width():
    order = factories.OrderFactory(shipped=True)
    line = order.lines.get()
    form = ReturnForm(
        {"reason": "Refused", "restock_choice": "some", f"units-{line.pk}": full_width("1")},
        order=order,
    )
    form.is_valid()
    assert form.cleaned_data[f"units-{line.pk}"] == 1

    confirm = ConfirmForm({"version": full_width(str(order.version))}, order=order)
    confirm.is_valid()
    assert confirm.cleaned_data["version"] == order.version


def test_phone_order_desk_reads_full_width_phone_postcode_and_member():
    member_form = NewMemberForm(
        {"step": "member", "name": "王芳", "phone": full_width("138 0013 8000")}
    )
    assert member_form.is_valid(), member_form.errors
    assert member_form.cleaned_data["phone"] == "138 0013 8000"
    order_form = PhoneOrderForm(
        {"postcode": full_width("200000"), "phone": full_width("13800138000"), "member": "７"}
    )
    order_form.is_valid()
    assert order_form.cleaned_data["postcode"] == "200000"
    assert order_form.cleaned_data["phone"] == "13800138000"
    assert order_form.cleaned_data["member"] == 7


def test_account_phone_typed_full_width_is_stored_plain(member):
    form = AccountForm(
        {
            "phone": full_width("138 0013 8000"),
            "email": member.email or "m@example.com",
            "language": "en",
        },
        user=member,
    )
    assert form.is_valid(), form.errors
    form.save()
    assert Profile.for_user(member).phone == "138 0013 8000"


def test_saved_address_with_full_width_phone_and_postcode_is_stored_plain(member):
    form = AddressForm(
        {
            "recipient": "王芳",
            "phone": full_width("13800138000"),
            "region": "上海市",
            "city": "上海市",
            "address_line": "黄浦区南京东路 1 号",
            "postcode": full_width("200000"),
        },
        instance=Address(user=member),
    )
    assert form.is_valid(), form.errors
    address = form.save()
    address.refresh_from_db()
    assert (address.phone, address.postcode) == ("13800138000", "200000")
