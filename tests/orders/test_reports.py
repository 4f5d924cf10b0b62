"""The report figures (orders/reports.py): business days in the shop's time zone, exact
counts, rates, medians and money, on a small book of orders made through the services.

Times are set with ``queryset.update`` after the services ran (the services stamp
"now"); the shop's zone is Asia/Shanghai (UTC+8), so 23:30 and 00:30 local fall on
different shop days but on the same UTC day.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders import reports, services
from orders.cod_settlement import read_settlement_file
from orders.models import CodCollection, Order, OrderEvent, Payment, PaymentMethod
from tests import factories
from tests.staff.helpers import at_shop_time

pytestmark = pytest.mark.django_db

DAY_A = datetime.date(2026, 3, 10)
DAY_B = datetime.date(2026, 3, 11)


def at(day, hour, minute=0):
    return at_shop_time(day.year, day.month, day.day, hour, minute)


def stamp(order, **times):
    Order.objects.filter(pk=order.pk).update(**times)


@pytest.fixture
def book(settings):
    """Eight orders over two shop days (see each line); returns them by name."""
    assert settings.TIME_ZONE == "Asia/Shanghai"
    admin = factories.order_admin(username="desk")
    member = factories.UserFactory(username="buyer")
    o = {}
    o["late"] = factories.OrderFactory(confirmed=True)  # placed A 23:30, confirmed B 00:30
    stamp(o["late"], placed_at=at(DAY_A, 23, 30), confirmed_at=at(DAY_B, 0, 30))
    o["early"] = factories.OrderFactory(confirmed=True)  # placed B 00:30, confirmed B 02:30
    stamp(o["early"], placed_at=at(DAY_B, 0, 30), confirmed_at=at(DAY_B, 2, 30))
    o["invalid"] = factories.OrderFactory(invalid=True)
    stamp(o["invalid"], placed_at=at(DAY_B, 1), invalidated_at=at(DAY_B, 3))
    o["member_cancel"] = factories.OrderFactory(customer=member)
    services.cancel_order(member, o["member_cancel"], reason="")
    stamp(o["member_cancel"], placed_at=at(DAY_A, 10), cancelled_at=at(DAY_A, 11))
    o["staff_cancel"] = factories.OrderFactory(cancelled=True)
    stamp(o["staff_cancel"], placed_at=at(DAY_A, 12), cancelled_at=at(DAY_B, 9))
    o["delivered"] = factories.OrderFactory(delivered=True)  # own staff, COD collected
    stamp(
        o["delivered"],
        placed_at=at(DAY_A, 8),
        confirmed_at=at(DAY_A, 12),  # 4 h
        shipped_at=at(DAY_B, 10),  # 22 h
        delivered_at=at(DAY_B, 20),  # 10 h
    )
    o["refused"] = factories.OrderFactory(shipped=True)  # COD by a carrier, refused
    services.record_delivery_attempt(admin, o["refused"], outcome="refused")
    services.record_return(admin, o["refused"], reason="Refused at the door.")
    stamp(
        o["refused"],
        placed_at=at(DAY_A, 9),
        confirmed_at=at(DAY_A, 10),  # 1 h
        shipped_at=at(DAY_A, 18),  # 8 h
        returned_at=at(DAY_B, 12),
    )
    o["transfer"] = factories.OrderFactory(
        confirmed=True, payment_method=PaymentMethod.BANK_TRANSFER
    )
    stamp(o["transfer"], placed_at=at(DAY_A, 7), confirmed_at=at(DAY_A, 9))  # 2 h
    return o


def day(report, date):
    (figures,) = [d for d in report.days if d.day == date]
    return figures


def test_orders_fall_on_the_shop_day_not_the_utc_day(book):
    # Both are on 2026-03-10 in UTC (15:30 and 16:30): only the shop's zone splits them.
    assert (
        timezone.localtime(Order.objects.get(pk=book["late"].pk).placed_at, datetime.UTC).date()
        == DAY_A
    )
    assert (
        timezone.localtime(Order.objects.get(pk=book["early"].pk).placed_at, datetime.UTC).date()
        == DAY_A
    )
    report = reports.build_report(DAY_A, DAY_B)
    assert [d.day for d in report.days] == [DAY_A, DAY_B]
    a, b = day(report, DAY_A), day(report, DAY_B)
    assert (a.placed, b.placed) == (6, 2)
    # One day only: the 00:30 order is not in A, the 23:30 one is.
    only_b = reports.build_report(DAY_B, DAY_B)
    assert [d.placed for d in only_b.days] == [2]
    assert only_b.totals.placed == 2


def test_counts_per_day(book):
    report = reports.build_report(DAY_A, DAY_B)
    a, b = day(report, DAY_A), day(report, DAY_B)
    assert (a.confirmed, b.confirmed) == (3, 2)
    assert (a.invalid, b.invalid) == (0, 1)
    assert (a.cancelled_by_member, a.cancelled_by_staff) == (1, 0)
    assert (b.cancelled_by_member, b.cancelled_by_staff) == (0, 1)
    assert (a.shipped, b.shipped) == (1, 1)
    assert (a.delivered, b.delivered) == (0, 1)
    assert (a.returned, b.returned) == (0, 1)
    assert (a.value_placed, b.value_placed) == (Decimal("600.00"), Decimal("200.00"))
    assert (a.value_shipped, b.value_shipped) == (Decimal("100.00"), Decimal("100.00"))
    totals = report.totals
    assert (totals.placed, totals.confirmed, totals.cancelled, totals.shipped) == (8, 5, 2, 2)
    assert totals.value_placed == Decimal("800.00")


def test_counts_match_a_count_done_another_way(book):
    """The same figures counted in Python from the rows, by local date of each stamp."""
    report = reports.build_report(DAY_A, DAY_B)
    orders = list(Order.objects.all())

    def local_days(field):
        return [timezone.localtime(getattr(o, field)).date() for o in orders if getattr(o, field)]

    for field, attribute in [
        ("placed_at", "placed"),
        ("confirmed_at", "confirmed"),
        ("invalidated_at", "invalid"),
        ("cancelled_at", "cancelled"),
        ("shipped_at", "shipped"),
        ("delivered_at", "delivered"),
        ("returned_at", "returned"),
    ]:
        counted = local_days(field)
        for figures in report.days:
            assert getattr(figures, attribute) == counted.count(figures.day), (field, figures.day)


def test_rates(book):
    report = reports.build_report(DAY_A, DAY_B)
    a, b = day(report, DAY_A), day(report, DAY_B)
    # A: 6 placed, 4 confirmed since (late, delivered, refused, transfer), none invalid.
    assert a.confirmation_rate == round(4 / 6, 4)
    assert a.invalid_rate == 0
    assert (b.confirmation_rate, b.invalid_rate) == (0.5, 0.5)
    # COD parcels shipped on A: the refused one (returned after a refused attempt).
    assert (a.cod_shipped, a.cod_refused, a.refusal_rate) == (1, 1, 1.0)
    assert (b.cod_shipped, b.cod_refused, b.refusal_rate) == (1, 0, 0.0)
    assert report.totals.refusal_rate == 0.5
    # No parcel shipped: no rate rather than 0 %.
    empty = reports.build_report(DAY_A - datetime.timedelta(days=3), DAY_A - datetime.timedelta(1))
    assert {d.refusal_rate for d in empty.days} == {None}
    assert {d.confirmation_rate for d in empty.days} == {None}


def test_medians_and_90th_percentiles_in_hours(book):
    report = reports.build_report(DAY_A, DAY_B)
    a, b = day(report, DAY_A), day(report, DAY_B)
    # Confirmed on A after 4, 1, 2 h; on B after 1, 2 h (percentile_cont interpolation).
    assert (a.confirm_median, a.confirm_p90) == (2.0, 3.6)
    assert (b.confirm_median, b.confirm_p90) == (1.5, 1.9)
    assert (report.totals.confirm_median, report.totals.confirm_p90) == (2.0, 3.2)
    # Shipped on A 8 h after confirmation, on B 22 h.
    assert (a.ship_median, b.ship_median, b.ship_p90) == (8.0, 22.0, 22.0)
    assert (report.totals.ship_median, report.totals.ship_p90) == (15.0, 20.6)
    assert (a.deliver_median, b.deliver_median) == (None, 10.0)


def test_settlement_refusal_counts_as_refusal(book):
    """A return whose RETURNED event says outcome refused (a carrier's file) is a refusal."""
    order = factories.OrderFactory(returned=True)
    event = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.RETURNED)
    event.data["outcome"] = "refused"
    event.save(update_fields=["data"])
    stamp(order, shipped_at=at(DAY_B, 15))
    other = factories.OrderFactory(returned=True)  # returned, never refused
    stamp(other, shipped_at=at(DAY_B, 16))
    b = day(reports.build_report(DAY_A, DAY_B), DAY_B)
    assert (b.cod_shipped, b.cod_refused) == (3, 1)


def test_query_count_does_not_grow_with_days_or_people(book):
    def count(first, last):
        with CaptureQueriesContext(connection) as queries:
            reports.build_report(first, last)
        return len(queries)

    today = timezone.localdate()
    one_day = count(today, today)  # the book's people acted today; today is counted live
    for _i in range(3):
        factories.OrderFactory(delivered=True)  # three more couriers, three more admins
    assert count(today, today) == one_day
    # A year to today: the closed days are rolled up the first time (one read, two
    # writes, and the savepoint around them here), then read back (the one read).
    assert count(today - datetime.timedelta(days=365), today) == one_day + 1 + 4
    assert count(today - datetime.timedelta(days=365), today) == one_day + 1
    # With nobody to name, the one query for the people's names is not needed; the
    # closed day is read from its roll-up, nothing counted live (tests/orders/
    # test_report_days.py pins the closed-day counts).
    assert count(DAY_A - datetime.timedelta(days=1), DAY_A - datetime.timedelta(days=1)) == 7


def test_money_per_method_refunds_cod_and_refund_due():
    finance = factories.finance_clerk(username="till")
    today = timezone.localdate()
    transfer = factories.OrderFactory(confirmed=True, payment_method=PaymentMethod.BANK_TRANSFER)
    services.record_payment(
        finance, transfer, amount=Decimal("110.00"), method="bank_transfer",
        reference="B1", received_on=today,
    )  # fmt: skip
    services.record_refund(
        finance, transfer, amount=Decimal("10.00"), reference="CN1", credit_note=True
    )
    postal = factories.OrderFactory(confirmed=True, payment_method=PaymentMethod.POSTAL_REMITTANCE)
    services.record_payment(
        finance,
        postal,
        amount=Decimal("150.00"),
        method="postal_remittance",
        reference="P1",
        received_on=today,
        as_credit=True,
    )  # fmt: skip  (40.00 too much: refund due)
    services.record_payment(
        finance, factories.OrderFactory(confirmed=True, payment_method="bank_transfer"),
        amount=Decimal("5.00"), method="bank_transfer", reference="V1", received_on=today,
    )  # fmt: skip
    services.void_payment(finance, Payment.objects.get(reference="V1"), reason="Typo.")
    # Cash on delivery: one delivered by own staff (cash in hand), one remitted, one out.
    in_hand = factories.OrderFactory(delivered=True)
    remitted = factories.OrderFactory(delivered=True)
    collection = CodCollection.objects.get(order=remitted)
    services.record_remittance(
        finance,
        courier=collection.courier,
        collections=[collection],
        counted_amount=Decimal("100.00"),
        note="A note short.",
    )  # fmt: skip  (110.00 expected: 10.00 short)
    factories.OrderFactory(own_shipped=True)  # out for delivery, 110.00 to collect

    report = reports.build_report(today, today)
    (money_day,) = report.money_days
    assert money_day.received == {
        "bank_transfer": Decimal("110.00"),
        "postal_remittance": Decimal("150.00"),
        "cod": Decimal("110.00"),  # the remittance's payment: what was collected
    }
    assert money_day.refunds_credit_note == Decimal("10.00")
    assert money_day.refunds_money_back == Decimal("0.00")
    assert report.cod == {
        "shipped_uncollected": (1, Decimal("110.00")),
        "carrier_unsettled": (0, Decimal("0.00")),
        "with_couriers": (1, CodCollection.objects.get(order=in_hand).amount),
        "remitted": (1, Decimal("110.00")),
    }
    # Refund due: 150 held on 110 owed (the credit note lowered both owed and held).
    assert report.refund_due == (1, Decimal("40.00"))
    (courier,) = [c for c in report.couriers if c.courier == collection.courier]
    assert (courier.deliveries, courier.cash_collected) == (1, Decimal("110.00"))
    assert (courier.remittances, courier.remittance_difference) == (1, Decimal("-10.00"))
    (clerk,) = [c for c in report.clerks if c.clerk == finance]
    assert (clerk.payments, clerk.refunds, clerk.remittances) == (4, 1, 1)


def test_people_admins_calls_and_attempts():
    admin = factories.order_admin(username="caller")
    today = timezone.localdate()
    first = factories.OrderFactory()
    services.log_call(admin, first, outcome="no_answer")
    services.log_call(admin, first, outcome="no_answer")
    services.confirm_order(
        admin,
        first,
        expected_version=first.version,
        call_note="Reached.",
        reached_after_failed=True,
    )
    second = factories.OrderFactory()
    services.confirm_order(admin, second, expected_version=second.version, call_note="Reached.")
    third = factories.OrderFactory()
    services.log_call(admin, third, outcome="wrong_number")
    services.invalidate_order(admin, third, reason="No such number.")
    report = reports.build_report(today, today)
    (figures,) = [a for a in report.admins if a.admin == admin]
    assert (figures.calls, figures.confirmations, figures.invalidations) == (3, 2, 1)
    # first: 2 calls logged + the confirming call; second: the confirming call alone.
    assert figures.attempts_per_confirmation == 2.0


def test_courier_attempts_and_refusals():
    admin = factories.order_admin()
    order = factories.OrderFactory(own_shipped=True)
    services.record_delivery_attempt(admin, order, outcome="not_home")
    services.record_delivery_attempt(admin, order, outcome="refused")
    today = timezone.localdate()
    (courier,) = reports.build_report(today, today).couriers
    assert courier.courier == Order.objects.get(pk=order.pk).assigned_to
    assert (courier.deliveries, courier.failed_attempts, courier.refusals) == (0, 2, 1)


def test_presets():
    today = datetime.date(2026, 3, 1)
    assert reports.preset_range("today", today) == (today, today)
    assert reports.preset_range("yesterday", today) == ((datetime.date(2026, 2, 28),) * 2)
    assert reports.preset_range("last_7_days", today) == (datetime.date(2026, 2, 23), today)
    assert reports.preset_range("this_month", today) == (today, today)
    assert reports.preset_range("last_month", today) == (
        datetime.date(2026, 2, 1),
        datetime.date(2026, 2, 28),
    )


def test_bad_ranges_raise_value_error():
    with pytest.raises(ValueError):
        reports.build_report(DAY_B, DAY_A)
    with pytest.raises(ValueError):
        reports.build_report(DAY_A, DAY_A + datetime.timedelta(days=366))


def test_carrier_delivered_cod_is_outstanding_until_its_settlement_file():
    """A parcel a carrier delivered is money still out until the carrier's settlement
    file pays it; the own courier's delivery is cash in the courier's hands."""
    admin = factories.order_admin(username="desk")
    finance = factories.finance_clerk(username="till")
    today = timezone.localdate()
    carried = factories.OrderFactory(shipped=True)  # COD, carrier "Own fleet", 110.00 due
    assert carried.carrier != Order.OWN_DELIVERY_STAFF
    own = factories.OrderFactory(own_shipped=True)

    def cod():
        report = reports.build_report(today, today)
        return {k: report.cod[k] for k in ("shipped_uncollected", "carrier_unsettled")}, (
            report.cod["with_couriers"]
        )

    zero = (0, Decimal("0.00"))
    assert cod() == ({"shipped_uncollected": (2, Decimal("220.00")), "carrier_unsettled": zero},
                     zero)  # fmt: skip
    services.record_delivery(admin, carried, received_by="Door")
    services.record_delivery(admin, own, collected_amount=Decimal("110.00"))
    assert Order.objects.get(pk=carried.pk).status == "delivered"
    out_now = {"shipped_uncollected": zero, "carrier_unsettled": (1, Decimal("110.00"))}
    assert cod() == (out_now, (1, Decimal("110.00")))

    rows = read_settlement_file(
        f"waybill number,amount,outcome,date\n{carried.tracking_number},110.00,delivered,"
        f"{today.isoformat()}\n".encode(),
        "settlement.csv",
    )
    services.apply_settlement(finance, carrier=carried.carrier, rows=rows)
    carried = Order.objects.get(pk=carried.pk)
    assert (carried.held, carried.payment_status) == (Decimal("110.00"), "paid")
    assert cod() == ({"shipped_uncollected": zero, "carrier_unsettled": zero},
                     (1, Decimal("110.00")))  # fmt: skip
