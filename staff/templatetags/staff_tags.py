"""Template filters for the back office: money, waiting times, people."""

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mall import formatting
from mall.people import person_name
from orders.models import COMMON_CARRIERS

register = template.Library()


def format_money(value):
    """Return a ``Decimal`` amount as ``"¥1,280.50"``, always with two decimals.

    The one format of :func:`mall.formatting.format_money` in the active language; pages
    set amounts in tabular figures (``.money`` / ``td.num`` in ``mall.css``). ``None``
    and values that are not numbers give ``""``.
    """
    return formatting.format_money(value)


def waiting_label(since, now=None):
    """Return how long ago ``since`` (an aware datetime) was, as ``"waiting 3 h"``.

    Within the minute ``"due now"``; under an hour in minutes, under two days in hours,
    then in days. ``None`` gives ``""``.
    """
    if since is None:
        return ""
    seconds = max(0, int(((now or timezone.now()) - since).total_seconds()))
    minutes = seconds // 60
    if minutes < 60:
        return ngettext("waiting %(n)d min", "waiting %(n)d min", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("waiting %(n)d h", "waiting %(n)d h", hours) % {"n": hours}
    days = hours // 24
    return ngettext("waiting %(n)d day", "waiting %(n)d days", days) % {"n": days}


def due_label(when, now=None):
    """Return when a call-back falls, relative to now: ``"due 12 min ago"`` or ``"due in 2 h"``.

    Within the minute ``"due now"``; under an hour in minutes, under two days in hours,
    then in days. ``None`` gives ``""``.
    """
    if when is None:
        return ""
    seconds = int((when - (now or timezone.now())).total_seconds())
    minutes = abs(seconds) // 60
    hours, days = minutes // 60, minutes // 1440
    if minutes == 0:
        return _("due now")
    if seconds <= 0:
        if minutes < 60:
            return ngettext("due %(n)d min ago", "due %(n)d min ago", minutes) % {"n": minutes}
        if hours < 48:
            return ngettext("due %(n)d h ago", "due %(n)d h ago", hours) % {"n": hours}
        return ngettext("due %(n)d day ago", "due %(n)d days ago", days) % {"n": days}
    if minutes < 60:
        return ngettext("due in %(n)d min", "due in %(n)d min", minutes) % {"n": minutes}
    if hours < 48:
        return ngettext("due in %(n)d h", "due in %(n)d h", hours) % {"n": hours}
    return ngettext("due in %(n)d day", "due in %(n)d days", days) % {"n": days}


@register.filter
def due(when):
    """``{{ order.call_back_at|due }}`` → ``due 12 min ago``."""
    return due_label(when)


@register.simple_tag
def common_carriers():
    """``{% common_carriers as carriers %}``: the carriers suggested when shipping
    (``orders.models.COMMON_CARRIERS``, the same list the settlement upload offers)."""
    return COMMON_CARRIERS


@register.filter
def get_item(mapping, key):
    """``{{ callers|get_item:order.pk }}``: a dict's value, or ``None``."""
    return mapping.get(key) if mapping else None


def person(user):
    """A user's name (``mall.people.person_name``: 王小明, Wei Li), else their username;
    ``""`` for ``None``."""
    return person_name(user)


@register.filter
def money(value):
    """``{{ order.total|money }}`` → ``¥128.50``."""
    return format_money(value)


@register.filter
def waiting(since):
    """``{{ queue.oldest|waiting }}`` → ``waiting 3 h``."""
    return waiting_label(since)


@register.filter
def carrier(value):
    """``{{ order.carrier|carrier }}``: the carrier's name; the shop's own delivery staff
    (stored as ``Order.OWN_DELIVERY_STAFF``) in the reader's language."""
    from django.utils.translation import gettext

    from orders.models import Order

    if value == Order.OWN_DELIVERY_STAFF:
        return gettext("Own delivery staff")
    return value


@register.filter(name="person")
def person_filter(user):
    """``{{ order.assigned_to|person }}`` → the person's name."""
    return person(user)


@register.inclusion_tag("staff/_subnav.html", takes_context=True)
def staff_subnav(context):
    """The back-office menu: the pages this user can open.

    Dashboard and Orders for every staff role; Deliveries too (a logistics person sees
    their own, order admins and finance pick a person: ``staff.views.DeliveryListView``);
    Cash for finance and order admins, COD settlements for finance
    (``staff.views.cash``, ``staff.views.settlements``); Reports for order admins and
    finance; the Django admin for ``is_staff`` users, as the admin site itself requires.
    """
    from orders import selectors
    from orders.models import FINANCE, ORDER_ADMINS
    from staff.views.cash import may_view_cash

    request = context.get("request")
    user = getattr(request, "user", None)
    roles = selectors.staff_roles(user) if user is not None else frozenset()
    return {
        "nav": context.get("nav", ""),
        "show_deliveries": bool(roles),
        "show_cash": bool(roles) and may_view_cash(user),
        # By role, not ``has_perm``: the menu is on every page and must not cost the
        # permission queries (the pages themselves check ``services.may_ever``).
        "show_settlements": FINANCE in roles,
        "show_reports": selectors.sees_all_orders(user) if user is not None else False,
        "show_outbox": ORDER_ADMINS in roles or bool(user is not None and user.is_superuser),
        "show_admin": bool(user is not None and user.is_active and user.is_staff),
    }
