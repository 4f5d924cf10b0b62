"""The confirmation desk's rules in the services (issue 11): call-backs, confirming as a
call that reached the member, changes made for the member, orders taken by phone.

Each refusal also asserts that nothing changed.
"""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from mall.models import Product
from orders import services
from orders.exceptions import InvalidInput, NotPermitted, TransitionNotAllowed
from orders.models import Order, OrderEvent, Status
from tests.factories import ADDRESS, OrderFactory, ProductFactory, UserFactory
from tests.staff.helpers import allocate, confirm, place

pytestmark = pytest.mark.django_db


def snapshot(order):
    order = Order.objects.get(pk=order.pk)
    return {
        "status": order.status,
        "version": order.version,
        "call_back_at": order.call_back_at,
        "total": order.total,
        "events": order.events.count(),
        "lines": sorted(order.lines.values_list("product_id", "quantity")),
        "address": order.address_dict,
        "stock": sorted(Product.objects.values_list("pk", "stock")),
    }


def refused(exc_type, func, *args, order, **kwargs):
    before = snapshot(order)
    with pytest.raises(exc_type) as info:
        func(*args, **kwargs)
    assert snapshot(order) == before
    return info.value


def reload(order):
    return Order.objects.get(pk=order.pk)


# --- log_call with a call-back time --------------------------------------------------------


def test_call_back_is_stored_on_the_order_without_a_version_bump(member, admin_user):
    order = place(member)
    when = timezone.now() + datetime.timedelta(hours=2)
    event = services.log_call(
        admin_user, order, outcome="call_back", note="At work", call_back_at=when
    )
    order = reload(order)
    assert order.call_back_at == when
    assert order.version == 1
    assert event.kind == OrderEvent.Kind.CALL_LOGGED
    assert event.actor == admin_user
    assert event.data == {"outcome": "call_back", "call_back_at": when.isoformat()}


@pytest.mark.parametrize(
    "offset",
    [
        datetime.timedelta(minutes=-1),
        datetime.timedelta(0),
        datetime.timedelta(days=14, minutes=1),
        datetime.timedelta(days=30),
    ],
    ids=["past", "now", "just-over-14-days", "a-month"],
)
def test_call_back_in_the_past_or_beyond_14_days_is_refused(member, admin_user, offset):
    order = place(member)
    error = refused(
        InvalidInput,
        services.log_call,
        admin_user,
        order,
        order=order,
        outcome="call_back",
        call_back_at=timezone.now() + offset,
    )
    assert error.code == "call_back_at"


def test_call_back_needs_an_aware_time(member, admin_user):
    order = place(member)
    naive = datetime.datetime.now() + datetime.timedelta(hours=1)
    for value in (None, naive, "2030-01-01 10:00"):
        error = refused(
            InvalidInput,
            services.log_call,
            admin_user,
            order,
            order=order,
            outcome="call_back",
            call_back_at=value,
        )
        assert error.code == "call_back_at"


def test_a_call_back_time_with_another_outcome_is_refused(member, admin_user):
    order = place(member)
    refused(
        InvalidInput,
        services.log_call,
        admin_user,
        order,
        order=order,
        outcome="no_answer",
        call_back_at=timezone.now() + datetime.timedelta(hours=1),
    )


def test_call_back_within_14_days_is_accepted(member, admin_user):
    order = place(member)
    when = timezone.now() + datetime.timedelta(days=13, hours=23)
    services.log_call(admin_user, order, outcome="call_back", call_back_at=when)
    assert reload(order).call_back_at == when


def _booked(member, admin_user):
    order = place(member)
    services.log_call(
        admin_user,
        order,
        outcome="call_back",
        call_back_at=timezone.now() + datetime.timedelta(hours=1),
    )
    assert reload(order).call_back_at is not None
    return reload(order)


def test_next_call_clears_the_call_back(member, admin_user):
    order = _booked(member, admin_user)
    services.log_call(admin_user, order, outcome="no_answer")
    order = reload(order)
    assert order.call_back_at is None
    assert order.version == 1


def test_confirmation_clears_the_call_back(member, admin_user):
    order = _booked(member, admin_user)
    services.confirm_order(admin_user, order, expected_version=1, call_note="Reached.")
    order = reload(order)
    assert (order.status, order.call_back_at, order.version) == (Status.CONFIRMED, None, 2)


def test_invalidation_clears_the_call_back(member, admin_user):
    order = _booked(member, admin_user)
    services.invalidate_order(admin_user, order, reason="Fake address")
    order = reload(order)
    assert (order.status, order.call_back_at) == (Status.INVALID, None)


def test_cancellation_clears_the_call_back(member, admin_user):
    order = _booked(member, admin_user)
    services.cancel_order(admin_user, order, reason="Member changed their mind")
    order = reload(order)
    assert (order.status, order.call_back_at) == (Status.CANCELLED, None)


def test_calls_are_logged_until_the_order_ships(member, admin_user, logistics_user):
    order = allocate(confirm(place(member), admin_user), admin_user, logistics_user)
    services.log_call(admin_user, order, outcome="reached", note="Delivery day agreed")
    assert reload(order).events.filter(kind=OrderEvent.Kind.CALL_LOGGED).count() == 1
    order = services.ship_order(admin_user, order, carrier="own", tracking_number="")
    refused(
        TransitionNotAllowed,
        services.log_call,
        admin_user,
        order,
        order=order,
        outcome="reached",
    )


# --- confirm_order: the call that reached the member ---------------------------------------


def test_confirmation_event_says_the_call_reached_the_member(member, admin_user):
    order = place(member)
    services.confirm_order(admin_user, order, expected_version=1, call_note="Spoke to Li.")
    event = reload(order).events.get(kind=OrderEvent.Kind.CONFIRMED)
    assert event.note == "Spoke to Li."
    assert event.data == {"confirmed_version": 1, "call_outcome": "reached"}
    assert event.actor == admin_user


@pytest.mark.parametrize("outcome", ["no_answer", "wrong_number"])
def test_confirm_after_an_unanswered_call_needs_the_tick(member, admin_user, outcome):
    order = place(member)
    services.log_call(admin_user, order, outcome=outcome)
    error = refused(
        InvalidInput,
        services.confirm_order,
        admin_user,
        order,
        order=order,
        expected_version=1,
        call_note="Reached now.",
    )
    assert error.code == "reached_after_failed"
    services.confirm_order(
        admin_user, order, expected_version=1, call_note="Reached now.", reached_after_failed=True
    )
    event = reload(order).events.get(kind=OrderEvent.Kind.CONFIRMED)
    assert reload(order).status == Status.CONFIRMED
    assert event.data["reached_after_failed"] is True


def test_only_the_latest_call_counts_for_the_tick(member, admin_user):
    order = place(member)
    services.log_call(admin_user, order, outcome="no_answer")
    services.log_call(
        admin_user,
        order,
        outcome="call_back",
        call_back_at=timezone.now() + datetime.timedelta(hours=1),
    )
    assert not services.needs_reached_tick(reload(order))
    services.confirm_order(admin_user, order, expected_version=1, call_note="Called back.")
    assert reload(order).status == Status.CONFIRMED


# --- edit_order by an order admin ----------------------------------------------------------


def test_admin_changes_a_submitted_order_for_the_member(
    member, admin_user, django_capture_on_commit_callbacks
):
    mug = ProductFactory(sku="MUG", name="Mug", price=Decimal("50.00"), stock=10)
    tea = ProductFactory(sku="TEA", name="Tea", price=Decimal("20.00"), stock=5)
    member.email = "li@example.com"
    member.save()
    order = place(member, lines=[(mug, 2)])
    assert Product.objects.get(pk=mug.pk).stock == 8
    with django_capture_on_commit_callbacks(execute=True):
        order = services.edit_order(
            admin_user,
            order,
            expected_version=1,
            lines=[(mug, 1), (tea, 2)],
            address={**ADDRESS, "city": "Suzhou"},
            reason="As the member asked on the phone",
        )
    order = reload(order)
    assert order.version == 2
    assert order.status == Status.SUBMITTED
    assert order.city == "Suzhou"
    assert order.subtotal == Decimal("90.00")
    assert Product.objects.get(pk=mug.pk).stock == 9
    assert Product.objects.get(pk=tea.pk).stock == 3
    event = order.events.get(kind=OrderEvent.Kind.EDITED)
    assert event.actor == admin_user
    assert event.note == "As the member asked on the phone"
    assert event.data["for_member"] == {"id": member.pk, "name": member.get_full_name()}
    assert event.data["address"] == {"city": [ADDRESS["city"], "Suzhou"]}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["li@example.com"]
    assert order.number in message.subject
    assert "Suzhou" in message.body and "TEA" in message.body


def test_admin_edit_needs_a_reason(member, admin_user):
    order = place(member)
    for reason in (None, "", "   "):
        refused(
            InvalidInput,
            services.edit_order,
            admin_user,
            order,
            order=order,
            expected_version=1,
            address={**ADDRESS, "city": "Suzhou"},
            reason=reason,
        )


def test_member_edit_needs_no_reason_and_sends_no_mail(member, django_capture_on_commit_callbacks):
    member.email = "li@example.com"
    member.save()
    order = place(member)
    with django_capture_on_commit_callbacks(execute=True):
        services.edit_order(member, order, expected_version=1, address={**ADDRESS, "city": "Wuxi"})
    event = reload(order).events.get(kind=OrderEvent.Kind.EDITED)
    assert "for_member" not in event.data
    assert event.actor == member
    assert mail.outbox == []


def test_admin_edit_of_a_confirmed_order_is_refused(member, admin_user):
    order = confirm(place(member), admin_user)
    error = refused(
        TransitionNotAllowed,
        services.edit_order,
        admin_user,
        order,
        order=order,
        expected_version=order.version,
        address={**ADDRESS, "city": "Suzhou"},
        reason="Member asked",
    )
    assert error.message == "The order is already confirmed."


@pytest.mark.parametrize("role", ["finance_user", "logistics_user", "other_member"])
def test_edit_for_a_member_by_other_roles_is_refused(member, role, request):
    actor = request.getfixturevalue(role)
    order = place(member)
    refused(
        NotPermitted,
        services.edit_order,
        actor,
        order,
        order=order,
        expected_version=1,
        address={**ADDRESS, "city": "Suzhou"},
        reason="Asked",
    )


# --- place_order for a member (an order taken by phone) ------------------------------------


def test_admin_places_an_order_for_a_member(member, admin_user):
    mug = ProductFactory(sku="MUG", price=Decimal("50.00"), stock=3)
    order = services.place_order(
        admin_user,
        lines=[(mug, 2)],
        address=ADDRESS,
        payment_method="cod",
        customer=member,
    )
    assert order.customer == member
    assert order.status == Status.SUBMITTED
    assert Product.objects.get(pk=mug.pk).stock == 1
    event = order.events.get()
    assert event.kind == OrderEvent.Kind.PLACED
    assert event.actor == admin_user
    assert event.data["for_member"] == {"id": member.pk, "name": member.get_full_name()}


@pytest.mark.parametrize("role", ["finance_user", "logistics_user", "other_member"])
def test_phone_order_by_other_roles_is_refused(member, role, request):
    actor = request.getfixturevalue(role)
    mug = ProductFactory(sku="MUG", price=Decimal("50.00"), stock=3)
    orders_before = Order.objects.count()
    with pytest.raises(NotPermitted):
        services.place_order(
            actor, lines=[(mug, 1)], address=ADDRESS, payment_method="cod", customer=member
        )
    assert Order.objects.count() == orders_before
    assert Product.objects.get(pk=mug.pk).stock == 3


def test_phone_order_for_an_inactive_member_is_refused(admin_user):
    gone = UserFactory(is_active=False)
    mug = ProductFactory(sku="MUG", price=Decimal("50.00"), stock=3)
    with pytest.raises(InvalidInput):
        services.place_order(
            admin_user, lines=[(mug, 1)], address=ADDRESS, payment_method="cod", customer=gone
        )
    assert Order.objects.count() == 0


def test_create_member_without_password(admin_user):
    user = services.create_member(
        admin_user, name="Wang Fang", phone="138 0013 8000", email="Wang@Example.com"
    )
    assert user.first_name == "Wang Fang"
    assert user.username == "13800138000"
    assert user.email == "Wang@example.com"
    assert not user.has_usable_password()
    # One person, one account: the same phone again is refused, naming the member.
    with pytest.raises(InvalidInput) as info:
        services.create_member(admin_user, name="Wang Fang", phone="13800138000")
    assert info.value.details["fields"]["phone"] == (
        "Wang Fang is registered with this phone number already: find them instead."
    )
    # A staff account that happens to hold those digits as username is not a member:
    # the new member's username takes a suffix.
    UserFactory(username="13900139000", is_staff=True)
    other = services.create_member(admin_user, name="Zhou Yu", phone="139 0013 9000")
    assert other.username == "13900139000-2"


def test_create_member_refuses_bad_details_and_other_roles(admin_user, finance_user, member):
    member.email = "li@example.com"
    member.save()
    with pytest.raises(InvalidInput) as info:
        services.create_member(admin_user, name=" ", phone="12", email="LI@example.com")
    assert set(info.value.details["fields"]) == {"name", "phone", "email"}
    with pytest.raises(NotPermitted):
        services.create_member(finance_user, name="X", phone="13800138000")


def test_superuser_order_factory_still_places_for_themselves(superuser):
    order = OrderFactory(customer=superuser)
    assert "for_member" not in order.events.get().data


def test_a_staff_e_mail_for_a_new_member_says_whose_it_is(admin_user, finance_user):
    finance_user.email = "qian@shop.example"
    finance_user.save()
    with pytest.raises(InvalidInput) as info:
        services.create_member(
            admin_user, name="Wang Fang", phone="138 0013 8001", email="QIAN@shop.example"
        )
    assert info.value.details["fields"]["email"] == (
        "This e-mail address belongs to a staff account: give the member's own address, or none."
    )
