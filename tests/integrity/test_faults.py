"""Faults: a database error mid-action leaves nothing behind; a failed e-mail undoes nothing.

Issue 6, item 5. The database error is a real one, raised by the database: the event
write is replaced by a statement on a table that does not exist, after the action has
already changed stock, lines, payments and the order row in its transaction. On
PostgreSQL that also aborts the transaction, so the rollback is the only way out.
Runs on SQLite and PostgreSQL.
"""

import logging
import smtplib
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import DatabaseError, connection
from django.utils import timezone

from mall.models import Product
from orders import services
from orders.models import (
    CodCollection,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentStatus,
    Remittance,
    Status,
)
from tests.factories import ADDRESS, OrderFactory, ProductFactory, finance_clerk, order_admin

pytestmark = pytest.mark.django_db


def break_event_write(monkeypatch):
    """From now on, make writing an ``OrderEvent`` fail with a database error (the
    services write every new row through ``orders.services._rows.insert``).

    Before failing it notes what the action's open transaction already holds, to prove
    the fault came after the stock, line, payment and order writes. Returns that note.
    """
    from orders.services import _rows

    seen = {}
    insert = _rows.insert

    def failing_insert(objs):
        objs = list(objs)
        if not isinstance(objs[0], OrderEvent):
            return insert(objs)
        order = objs[0].order
        seen["stock"] = dict(Product.objects.values_list("sku", "stock"))
        seen["version"] = Order.objects.get(pk=order.pk).version
        seen["status"] = Order.objects.get(pk=order.pk).status
        seen["lines"] = list(order.lines.values_list("sku", "quantity"))
        seen["payments"] = Payment.objects.filter(order=order).count()
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO orders_orderevent_injected_fault (id) VALUES (1)")

    monkeypatch.setattr(_rows, "insert", failing_insert)
    return seen


def state_of(order, *products):
    """Everything an action could change, read fresh from the database."""
    order = Order.objects.get(pk=order.pk)
    return {
        "status": order.status,
        "payment_status": order.payment_status,
        "version": order.version,
        "address": order.address_dict,
        "total": order.total,
        "lines": list(order.lines.order_by("sku").values_list("sku", "quantity", "line_total")),
        "payments": list(order.payments.values_list("reference", "amount", "voided_at")),
        "events": order.events.count(),
        "stock": {p.sku: Product.objects.get(pk=p.pk).stock for p in products},
    }


@pytest.fixture
def mug(db):
    return ProductFactory(sku="MUG", price=Decimal("50.00"), stock=10)


@pytest.fixture
def tea(db):
    return ProductFactory(sku="TEA", price=Decimal("30.00"), stock=10)


def test_place_order_fault_leaves_no_order_and_no_reserved_stock(member, mug, tea, monkeypatch):
    seen = break_event_write(monkeypatch)

    with pytest.raises(DatabaseError):
        services.place_order(
            member, lines=[(mug, 2), (tea, 1)], address=dict(ADDRESS), payment_method="cod"
        )

    assert seen["stock"] == {"MUG": 8, "TEA": 9}  # reserved, then the fault
    assert seen["lines"] == [("MUG", 2), ("TEA", 1)]
    assert Product.objects.get(pk=mug.pk).stock == 10
    assert Product.objects.get(pk=tea.pk).stock == 10
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert OrderEvent.objects.count() == 0


def test_cancel_order_fault_keeps_the_order_and_its_stock(member, mug, monkeypatch):
    order = OrderFactory(customer=member, lines=[(mug, 3)])
    before = state_of(order, mug)
    assert before["stock"] == {"MUG": 7}
    seen = break_event_write(monkeypatch)

    with pytest.raises(DatabaseError):
        services.cancel_order(member, order)

    assert seen["stock"] == {"MUG": 10} and seen["status"] == Status.CANCELLED
    assert seen["version"] == 2
    assert state_of(order, mug) == before
    assert before["status"] == Status.SUBMITTED and before["version"] == 1


def test_invalidate_order_fault_keeps_the_order_and_its_stock(admin_user, mug, monkeypatch):
    order = OrderFactory(lines=[(mug, 3)])
    before = state_of(order, mug)
    seen = break_event_write(monkeypatch)

    with pytest.raises(DatabaseError):
        services.invalidate_order(admin_user, order, reason="Fake address.")

    assert (seen["stock"], seen["status"], seen["version"]) == ({"MUG": 10}, Status.INVALID, 2)
    assert state_of(order, mug) == before
    assert (before["status"], before["stock"], before["events"]) == (
        Status.SUBMITTED,
        {"MUG": 7},
        1,
    )


def test_edit_order_fault_keeps_lines_address_and_stock(member, mug, tea, monkeypatch):
    order = OrderFactory(customer=member, lines=[(mug, 2)])
    before = state_of(order, mug, tea)
    seen = break_event_write(monkeypatch)

    with pytest.raises(DatabaseError):
        services.edit_order(
            member,
            order,
            expected_version=1,
            lines=[(mug, 5), (tea, 2)],
            address={**ADDRESS, "recipient": "Zhang Min"},
        )

    assert seen["stock"] == {"MUG": 5, "TEA": 8}
    assert seen["lines"] == [("MUG", 5), ("TEA", 2)]
    assert seen["version"] == 2
    assert state_of(order, mug, tea) == before
    assert before["lines"] == [("MUG", 2, Decimal("100.00"))]
    assert before["address"]["recipient"] == "Li Wei"
    assert before["stock"] == {"MUG": 8, "TEA": 10}


def test_record_payment_fault_records_no_money(finance_user, mug, monkeypatch):
    order = OrderFactory(confirmed=True, lines=[(mug, 2)])
    before = state_of(order, mug)
    seen = break_event_write(monkeypatch)

    with pytest.raises(DatabaseError):
        services.record_payment(
            finance_user,
            order,
            amount=Decimal("110.00"),
            method="cod",
            reference="RCPT-9",
            received_on=timezone.localdate(),
        )

    assert seen["payments"] == 1
    assert seen["version"] == 3
    assert state_of(order, mug) == before
    assert before["payments"] == []
    assert (before["payment_status"], before["version"]) == (PaymentStatus.UNPAID, 2)
    assert Payment.objects.count() == 0


def test_after_a_fault_the_same_action_succeeds(member, mug, monkeypatch):
    # Nothing half-done blocks a retry: no stuck lock, no used-up stock, no stray row.
    seen = break_event_write(monkeypatch)
    with pytest.raises(DatabaseError):
        services.place_order(member, lines=[(mug, 10)], address=dict(ADDRESS), payment_method="cod")
    assert seen["stock"] == {"MUG": 0}
    monkeypatch.undo()

    order = services.place_order(
        member, lines=[(mug, 10)], address=dict(ADDRESS), payment_method="cod"
    )

    assert Product.objects.get(pk=mug.pk).stock == 0
    assert list(Order.objects.values_list("pk", flat=True)) == [order.pk]
    assert list(order.events.values_list("kind", flat=True)) == ["placed"]


# --- notifications ------------------------------------------------------------------------------


@pytest.fixture
def mail_server_down(monkeypatch):
    """The mail backend raises as an unreachable SMTP server would; returns the error."""
    error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    def send_messages(self, messages):
        raise error

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    return error


def failures_logged(caplog):
    return [
        (r.getMessage(), r.exc_info[1])
        for r in caplog.records
        if r.name == "orders.notifications" and r.levelno == logging.ERROR
    ]


def test_mail_is_sent_when_the_server_is_up(member, mug, django_capture_on_commit_callbacks):
    # The control for the tests below: the e-mail does render and send.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order = services.place_order(
            member, lines=[(mug, 2)], address=dict(ADDRESS), payment_method="cod"
        )
    assert len(callbacks) == 1
    assert [m.subject for m in mail.outbox] == [f"We received your order {order.number}"]
    assert mail.outbox[0].to == ["member@example.com"]


def test_failed_mail_does_not_undo_a_placed_order(
    member, mug, mail_server_down, caplog, django_capture_on_commit_callbacks
):
    with (
        caplog.at_level(logging.ERROR, logger="orders.notifications"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        order = services.place_order(
            member, lines=[(mug, 2)], address=dict(ADDRESS), payment_method="cod"
        )

    assert len(callbacks) == 1
    assert mail.outbox == []
    assert failures_logged(caplog) == [
        (f"order {order.pk}: could not send the placed e-mail", mail_server_down)
    ]
    order = Order.objects.get(pk=order.pk)
    assert (order.status, order.version) == (Status.SUBMITTED, 1)
    assert Product.objects.get(pk=mug.pk).stock == 8
    assert list(order.events.values_list("kind", flat=True)) == ["placed"]
    # The e-mail waits in the outbox as failed, with the error, for staff to retry.
    assert list(order.emails.values_list("kind", "state", "attempts", "last_error")) == [
        ("placed", "failed", 1, "SMTPServerDisconnected: Connection unexpectedly closed")
    ]


def test_failed_mail_does_not_block_the_next_steps(
    member,
    admin_user,
    finance_user,
    mug,
    mail_server_down,
    caplog,
    django_capture_on_commit_callbacks,
):
    order = OrderFactory(customer=member, lines=[(mug, 2)])
    with caplog.at_level(logging.ERROR, logger="orders.notifications"):
        with django_capture_on_commit_callbacks(execute=True):
            services.confirm_order(admin_user, order, expected_version=1, call_note="OK.")
        with django_capture_on_commit_callbacks(execute=True):
            services.record_payment(
                finance_user,
                order,
                amount=Decimal("110.00"),
                method="cod",
                reference="RCPT-1",
                received_on=timezone.localdate(),
            )
        refund_free = OrderFactory(customer=member, lines=[(mug, 1)])
        with django_capture_on_commit_callbacks(execute=True):
            services.cancel_order(member, refund_free)

    assert [message for message, _exc in failures_logged(caplog)] == [
        f"order {order.pk}: could not send the confirmed e-mail",
        f"order {order.pk}: could not send the paid e-mail",
        f"order {refund_free.pk}: could not send the cancelled e-mail",
    ]
    order = Order.objects.get(pk=order.pk)
    assert (order.status, order.payment_status, order.version) == (
        Status.CONFIRMED,
        PaymentStatus.PAID,
        3,
    )
    assert Order.objects.get(pk=refund_free.pk).status == Status.CANCELLED
    assert Product.objects.get(pk=mug.pk).stock == 8


# --- the last mile: delivery, attempts, returns, remittances (issue 10) -------------------


def _own_shipped(mug):
    return OrderFactory(own_shipped=True, lines=[(mug, 2)])


def test_record_delivery_fault_leaves_no_cash_in_hand(mug, monkeypatch):
    order = _own_shipped(mug)
    before = state_of(order, mug)
    seen = break_event_write(monkeypatch)
    with pytest.raises(DatabaseError):
        services.record_delivery(order.assigned_to, order, collected_amount=Decimal("110.00"))
    assert seen["status"] == Status.DELIVERED
    assert state_of(order, mug) == before
    assert not CodCollection.objects.exists()


def test_record_return_fault_keeps_the_stock_out(mug, monkeypatch):
    order = _own_shipped(mug)
    before = state_of(order, mug)
    assert before["stock"] == {"MUG": 8}
    seen = break_event_write(monkeypatch)
    with pytest.raises(DatabaseError):
        services.record_return(order_admin(), order, reason="Refused")
    assert seen["stock"]["MUG"] == 10 and seen["status"] == Status.RETURNED
    assert state_of(order, mug) == before
    assert OrderLine.objects.get(order=order).reserved_quantity == 2


def test_record_delivery_attempt_fault_writes_nothing(mug, monkeypatch):
    order = _own_shipped(mug)
    before = state_of(order, mug)
    break_event_write(monkeypatch)
    with pytest.raises(DatabaseError):
        services.record_delivery_attempt(order.assigned_to, order, outcome="not_home")
    assert state_of(order, mug) == before


def test_record_remittance_fault_leaves_the_cash_with_the_courier(mug, monkeypatch):
    order = _own_shipped(mug)
    services.record_delivery(order.assigned_to, order, collected_amount=Decimal("110.00"))
    before = state_of(order, mug)
    break_event_write(monkeypatch)
    with pytest.raises(DatabaseError):
        services.record_remittance(
            finance_clerk(),
            courier=order.assigned_to,
            collections=list(CodCollection.objects.all()),
            counted_amount=Decimal("110.00"),
        )
    assert state_of(order, mug) == before
    assert not Remittance.objects.exists()
    assert CodCollection.objects.get().remittance is None


def test_each_last_mile_action_writes_exactly_one_event(mug):
    order = _own_shipped(mug)
    courier, admin = order.assigned_to, order_admin()
    counts = [order.events.count()]
    services.record_delivery_attempt(courier, order, outcome="not_home")
    counts.append(order.events.count())
    services.record_delivery(courier, order, collected_amount=Decimal("110.00"))
    counts.append(order.events.count())
    services.record_remittance(
        finance_clerk(),
        courier=courier,
        collections=list(CodCollection.objects.all()),
        counted_amount=Decimal("110.00"),
    )
    counts.append(order.events.count())
    services.record_return(admin, order, reason="Sent back")
    counts.append(order.events.count())
    assert [b - a for a, b in zip(counts, counts[1:], strict=False)] == [1, 1, 1, 1]
