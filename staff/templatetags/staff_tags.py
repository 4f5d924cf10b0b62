"""Template filters for the back office: money, waiting times, people."""

import html

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


def esc(value):
    """``value`` escaped for HTML as ``django.utils.html.conditional_escape`` does it (safe
    strings kept, everything else ``html.escape``d with quotes), as a plain ``str``."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value), quote=True)


# One row of the order list (``order_rows``); the markup staff/order_list.html had.
ROW_HTML = (
    "\n      ".join(
        [
            "<tr{}>",
            '<td><input type="checkbox" name="order" value="{}" aria-label="{}"></td>',
            '<td class="staff-number"><a href="{}{}{}">{}</a>{}</td>',
            '<td class="staff-nowrap">{}{}{}</td>',
            '<td class="wrap-anywhere">{}<br><span class="muted staff-small">{}</span></td>',
            '<td class="wrap-anywhere">{}<br><span class="staff-nowrap staff-small">{}</span></td>',
            '<td class="wrap-anywhere">{}</td>',
            '<td class="num">{}</td>',
            '<td><span class="badge pay-{}">{}</span><br>'
            '<span class="muted staff-small">{}</span></td>',
            '<td><span class="badge status-{}">{}</span></td>',
            "<td>{}</td>",
        ]
    )
    + "\n    </tr>"
)


@register.simple_tag
def order_rows(orders, callers):
    """The order list's table rows (``<tr>`` per order), written in Python (issue 16).

    ``orders``: the page's orders, annotated by ``selectors.with_call_attempts``
    (``call_attempts``, ``overdue``) with ``customer`` and ``assigned_to`` loaded;
    ``callers``: ``{order_pk: {"name", "since"}}`` of the others phoning an order now.
    Fifty rows of ten cells through the template engine cost ~20 ms of variable lookups
    and filter calls (docs/benchmarks.md); here every value is still escaped (``esc``:
    what Django's ``escape`` does, without its lazy-string wrapper per call) and every
    label translated, at a fraction of that. The markup is the one
    ``staff/order_list.html`` had.
    """
    from django.urls import reverse
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext, ngettext

    from orders.models import PaymentMethod, PaymentStatus, Status

    # Labels once per page, not per row (``get_FOO_display`` rebuilds its map per call).
    statuses = {value: esc(label) for value, label in Status.choices}
    pay_statuses = {value: esc(label) for value, label in PaymentStatus.choices}
    methods = {value: esc(label) for value, label in PaymentMethod.choices}
    # One reverse for the page: numbers are [0-9A-Z-], safe in a path as they are.
    money = formatting.money_formatter()
    placeholder = "0000-0000"
    detail_url = reverse("staff:order-detail", args=[placeholder])
    head, tail = (esc(part) for part in detail_url.split(placeholder))
    tick = gettext("Tick order %(number)s")
    now = timezone.now()
    zone = timezone.get_current_timezone()
    rows = []
    for order in orders:
        number = esc(order.number)
        caller = callers.get(order.pk) if callers else None
        calling = ""
        if caller:
            since = timezone.localtime(caller["since"], zone).strftime("%H:%M")
            text = gettext("being called by %(name)s since %(since)s") % {
                "name": caller["name"],
                "since": since,
            }
            calling = f'<br><span class="staff-small staff-calling">{esc(text)}</span>'
        age = ""
        if order.status == Status.SUBMITTED:
            attempts = order.call_attempts
            calls = ngettext("%(n)s call", "%(n)s calls", attempts) % {"n": attempts}
            age = (
                '<br><span class="staff-small staff-age">'
                f"{esc(waiting_label(order.placed_at, now))} · {esc(calls)}</span>"
            )
        call_back = ""
        if order.call_back_at:
            call_back = (
                '<br><span class="staff-small staff-call-back">'
                f"{esc(due_label(order.call_back_at, now))}</span>"
            )
        customer = order.customer
        rows.append(
            ROW_HTML.format(
                ' class="staff-overdue"' if order.overdue else "",
                number,
                esc(tick % {"number": order.number}),
                head,
                number,
                tail,
                number,
                calling,
                timezone.localtime(order.placed_at, zone).strftime("%Y-%m-%d %H:%M"),
                age,
                call_back,
                esc(person(customer)),
                esc(customer.email if customer else ""),
                esc(order.recipient),
                esc(order.phone),
                esc(order.city),
                esc(money(order.total)),
                esc(order.payment_status),
                pay_statuses.get(order.payment_status) or esc(order.payment_status),
                methods.get(order.payment_method) or esc(order.payment_method),
                esc(order.status),
                statuses.get(order.status) or esc(order.status),
                esc(person(order.assigned_to) or "—"),
            )
        )
    # Every value above went through ``esc`` (Django's escaping) before it was placed.
    return mark_safe("\n    ".join(rows))  # noqa: S308
