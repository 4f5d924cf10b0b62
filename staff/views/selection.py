"""Several orders named in one request (``?order=<number>&order=<number>``): the bulk
actions of the order list, the run sheet, the picking list and the printed sheets."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orders import selectors

# One bulk action, run sheet or print run never names more orders than this: a page of
# the list is 50, and a courier's day is far fewer; more is a mistake or an abuse.
MAX_ORDERS = 200
NUMBER_MAX_LENGTH = 20  # Order.number's max_length


class Selection:
    """The orders a request names, in the order it names them, within the user's scope.

    ``orders``: the ``Order`` rows found (from ``queryset``, scoped to what the user may
    see); ``missing``: numbers named that are not there (unknown, or another courier's:
    the same answer, as a 404 would be); ``error``: a message when the request names too
    many orders (then nothing is read); ``named``: whether any number was given.
    """

    def __init__(self, orders=(), missing=(), error="", named=False):
        self.orders = list(orders)
        self.missing = list(missing)
        self.error = error
        self.named = named

    def problems(self):
        """The messages to show about this selection (too many, not found)."""
        messages = [self.error] if self.error else []
        if self.missing:
            messages.append(
                ngettext(
                    "Order not found: %(numbers)s.",
                    "Orders not found: %(numbers)s.",
                    len(self.missing),
                )
                % {"numbers": ", ".join(self.missing)}
            )
        return messages


def too_many_message():
    return _("Choose at most %(max)d orders at a time.") % {"max": MAX_ORDERS}


def clean_numbers(values):
    """The distinct order numbers in ``values`` (strings), trimmed, in their first order.

    Empty values are skipped; a value that cannot be an order number (too long, a NUL)
    is kept as typed so it is reported as not found, never sent to the database."""
    numbers = []
    for value in values:
        number = str(value).strip().upper()
        if number and number not in numbers:
            numbers.append(number)
    return numbers


def select_orders(user, values, queryset=None):
    """Return the ``Selection`` of ``values`` (order numbers) that ``user`` may see.

    ``queryset``: the orders to look in (default ``selectors.orders_for_staff(user)``),
    with whatever ``select_related`` / ``prefetch_related`` the page needs. One query.
    """
    numbers = clean_numbers(values)
    if not numbers:
        return Selection()
    if len(numbers) > MAX_ORDERS:
        return Selection(error=too_many_message(), named=True)
    if queryset is None:
        queryset = selectors.orders_for_staff(user)
    searchable = [n for n in numbers if len(n) <= NUMBER_MAX_LENGTH and "\x00" not in n]
    found = {order.number: order for order in queryset.filter(number__in=searchable)}
    return Selection(
        orders=[found[n] for n in numbers if n in found],
        missing=[n.replace("\x00", "")[:NUMBER_MAX_LENGTH] for n in numbers if n not in found],
        named=True,
    )
