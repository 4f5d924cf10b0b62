"""Order numbers reveal nothing about other orders (issue 6, item 3; DESIGN: "Order").

A number is read over the phone and typed into URLs, so it must not give away how many
orders there are, which came before or after, or the primary key: 200 orders placed
one after another get unique numbers in no order, consecutive numbers share no more
than chance would, and none contains its order's primary key.
"""

import re

import pytest
from django.db import connection

from orders.models import ORDER_NUMBER_ALPHABET, Order
from tests import factories

pytestmark = pytest.mark.django_db

COUNT = 200
FIRST_PK = 52_347  # five digits, so "contains the pk" is a meaningful test


def start_ids_at(value):
    """Make the next order's primary key ``value`` (on SQLite and PostgreSQL)."""
    table = Order._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, value]
            )
        else:
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, value - 1]
            )


@pytest.fixture
def orders(member):
    start_ids_at(FIRST_PK)
    product = factories.ProductFactory(stock=None)
    for _ in range(COUNT):
        factories.OrderFactory(customer=member, lines=[(product, 1)])
    return list(Order.objects.order_by("pk").values_list("pk", "number"))


def test_numbers_are_unique_random_and_unrelated_to_the_pk(orders):
    pks = [pk for pk, _number in orders]
    numbers = [number for _pk, number in orders]
    assert len(orders) == COUNT
    assert pks[0] == FIRST_PK and pks == sorted(pks)

    assert len(set(numbers)) == COUNT
    # No sequence: neither rising nor falling with the order of placing.
    assert numbers != sorted(numbers)
    assert numbers != sorted(numbers, reverse=True)
    rises = sum(a < b for a, b in zip(numbers, numbers[1:], strict=False))
    assert 60 < rises < 140  # about half, as for random draws (199 pairs)

    pattern = re.compile(rf"[{ORDER_NUMBER_ALPHABET}]{{4}}-[{ORDER_NUMBER_ALPHABET}]{{4}}")
    for pk, number in orders:
        assert pattern.fullmatch(number), number
        compact = number.replace("-", "")
        assert str(pk) not in compact

    # Consecutive numbers differ almost everywhere (random: 31 in 32 characters per place).
    differing = [
        sum(x != y for x, y in zip(a, b, strict=True))
        for a, b in zip(numbers, numbers[1:], strict=False)
    ]
    assert sum(differing) / len(differing) > 6.5
    # No shared prefix as with a date- or counter-based scheme.
    assert len({number[:3] for number in numbers}) > 150
