"""``services.place_order`` in as few statements as the bare SQL needs (issue 16).

The bare transaction of the checkout benchmark does six statements for a two-line
order: lock the products, update their stock (two), insert the order, its lines, its
event. ``place_order`` does: lock (one statement, stock-sharing parents found by a
subquery), one UPDATE for all the stock, the order, its lines, its event, the member's
e-mail promised in the outbox in the same transaction (issue 15), the member's language
(one upsert); a checkout token costs no statement (a double submit's twin is looked
up only when this attempt fails). Pinned here
so a change that adds a round trip per order shows; the guarantees stay pinned by
tests/orders/test_services.py and the PostgreSQL race tests in tests/integrity/.
"""

from decimal import Decimal

import pytest
from django.db import IntegrityError

from mall.models import Product, Profile
from orders import services
from orders.models import Order, OrderEvent
from tests.factories import ADDRESS, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def products(db):
    return [
        ProductFactory(price=Decimal("50.00"), stock=10),
        ProductFactory(price=Decimal("20.00"), stock=5),
    ]


def place(member, products, **kwargs):
    return services.place_order(
        member,
        lines=[(products[0], 2), (products[1], 1)],
        address=ADDRESS,
        payment_method="cod",
        **kwargs,
    )


@pytest.mark.parametrize(("token", "statements"), [(None, 7), ("tok-1", 7)])
def test_a_two_line_order_is_placed_in_seven_statements_with_or_without_a_token(
    member, products, django_assert_num_queries, token, statements
):
    # + the transaction's own SAVEPOINT and RELEASE inside the test's transaction
    with django_assert_num_queries(statements + 2):
        order = place(member, products, checkout_token=token)
    order.refresh_from_db()
    assert (order.status, order.total, order.owed) == ("submitted", Decimal("130.00"), order.total)
    assert [(line.sku, line.quantity) for line in order.lines.order_by("pk")] == [
        (products[0].sku, 2),
        (products[1].sku, 1),
    ]
    assert list(Product.objects.order_by("pk").values_list("stock", flat=True)) == [8, 4]
    assert list(order.events.values_list("kind", flat=True)) == [OrderEvent.Kind.PLACED]
    assert Profile.objects.get(user=member).language == order.language
    assert list(order.emails.values_list("kind", "event__kind")) == [("placed", "placed")]


def test_the_members_language_is_upserted_not_duplicated(member, products):
    Profile.objects.create(user=member, language="en", phone="139 0000 0000")
    place(member, products, language="zh-hans")
    profile = Profile.objects.get(user=member)
    assert (profile.language, profile.phone) == ("zh-hans", "139 0000 0000")


def test_a_taken_order_number_is_drawn_again_and_nothing_is_kept_twice(
    member, products, monkeypatch
):
    """A collision with an existing number rolls the whole attempt back (stock, lines)
    and places again under a fresh number: no savepoint per order for a one-in-a-million
    event."""
    from orders.services import ordering

    first = place(member, products)
    drawn = iter([first.number, "ZZZZ-ZZZZ"])
    monkeypatch.setattr(ordering, "new_order_number", lambda: next(drawn))
    second = place(member, products)
    assert second.number == "ZZZZ-ZZZZ"
    assert Order.objects.count() == 2
    assert list(Product.objects.order_by("pk").values_list("stock", flat=True)) == [6, 3]
    assert second.lines.count() == 2 and second.events.count() == 1


def test_numbers_taken_every_time_give_up_with_the_database_error(member, products, monkeypatch):
    from orders.services import ordering

    first = place(member, products)
    monkeypatch.setattr(ordering, "new_order_number", lambda: first.number)
    with pytest.raises(IntegrityError):
        place(member, products)
    assert Order.objects.count() == 1
    assert list(Product.objects.order_by("pk").values_list("stock", flat=True)) == [8, 4]


def test_rows_written_by_the_prepared_insert_read_back_as_the_orm_writes_them(member, products):
    """``orders.services._rows.insert`` (the checkout's INSERTs, issue 16) stores every
    column as ``save()`` does: decimals, JSON, the time stamps, the defaults."""
    from orders.services import _rows

    order = place(member, products, checkout_token="tok-rows")
    twin = Order.objects.get(pk=order.pk)
    twin.pk, twin.number, twin.checkout_token = None, "ZZZZ-2345", None
    twin._state.adding = True
    (written,) = _rows.insert([twin])
    event = OrderEvent(
        order=written,
        actor=member,
        kind="placed",
        data={"total": "130.00", "n": [1, 2]},
        order_version=1,
    )
    _rows.insert([event])
    fresh = Order.objects.get(pk=written.pk)
    assert fresh.pk != order.pk and fresh.number == "ZZZZ-2345"
    skip = {"id", "number", "checkout_token", "placed_at", "updated_at"}
    for field in Order._meta.concrete_fields:
        if field.attname not in skip:
            assert getattr(fresh, field.attname) == getattr(order, field.attname), field.name
    assert fresh.placed_at >= order.placed_at and fresh.total == Decimal("130.00")
    stored = OrderEvent.objects.get(pk=event.pk)
    assert (stored.order_id, stored.actor_id, stored.data) == (
        written.pk,
        member.pk,
        {"total": "130.00", "n": [1, 2]},
    )
    assert stored.created_at is not None and stored.order_version == 1
    with pytest.raises(IntegrityError):  # a taken number is the database's refusal
        twin.pk, twin._state.adding = None, True
        _rows.insert([twin])
