"""Who is calling a member now: a soft notice, not a lock (issue 11, "Who is calling now").

When an order admin says they are phoning the member now (the "I am calling the member
now" button on the order page) or opens the form that changes the order for the member,
the order shows "being called by <name> since <time>" to the other admins for ``HOLD``
or until a call is logged or the order is confirmed. Merely viewing the order claims
nothing. Anyone may still act: the services' version check keeps confirmations safe.
Kept in the cache (Redis when ``REDIS_URL`` is set, so every web process sees it).
"""

import datetime

from django.core.cache import cache
from django.utils import timezone

from mall.people import person_name
from orders import services

HOLD = datetime.timedelta(minutes=10)


def _key(order_pk):
    return f"mall:calling:{order_pk}"


def claim(order, user):
    """Record that ``user`` is calling the member of ``order`` unless someone else is.

    Returns the notice in force afterwards (``{"user_id", "name", "since"}``).
    """
    current = cache.get(_key(order.pk))
    if current and current["user_id"] != user.pk:
        return current
    notice = {
        "user_id": user.pk,
        "name": person_name(user),
        "since": current["since"] if current else timezone.now(),
    }
    cache.set(_key(order.pk), notice, int(HOLD.total_seconds()))
    return notice


def current(order):
    """The notice in force for ``order`` (``{"user_id", "name", "since"}``) or ``None``
    (always ``None`` once the order no longer awaits confirmation,
    ``services.awaits_confirmation``)."""
    if not services.awaits_confirmation(order):
        return None
    return cache.get(_key(order.pk))


def release(order):
    """Forget who was calling (a call was logged or the order confirmed)."""
    cache.delete(_key(order.pk))


def callers(orders):
    """``{order_pk: notice}`` for the ``orders`` someone is calling now (one cache read);
    only orders still awaiting confirmation: one confirmed, invalid or cancelled has left
    the desk, whatever a notice says."""
    keys = {_key(order.pk): order.pk for order in orders if services.awaits_confirmation(order)}
    found = cache.get_many(list(keys))
    return {keys[key]: notice for key, notice in found.items()}
