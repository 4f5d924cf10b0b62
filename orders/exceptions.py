"""Errors raised by ``orders.services`` when an action is refused.

Every refusal is an ``OrderError`` with a stable ``code`` (for tests and scripts) and a
translated ``message`` (for the page). A refused action changes nothing.
"""

from django.utils.translation import gettext_lazy as _


class OrderError(Exception):
    """Base class: an action on an order was refused and nothing changed."""

    code = "error"
    default_message = _("The action could not be completed.")

    def __init__(self, message=None, *, code=None, details=None):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.details = details or {}
        super().__init__(str(self.message))


class NotPermitted(OrderError):
    """The acting user's role may not take this action on this order."""

    code = "not_permitted"
    default_message = _("You are not allowed to do that.")


class TransitionNotAllowed(OrderError):
    """The order's current state does not allow the action."""

    code = "not_allowed"
    default_message = _("This action is not possible in the order's current state.")


class StaleOrder(OrderError):
    """The order changed since the version the user reviewed.

    ``details["changes"]`` lists the events recorded after that version.
    """

    code = "stale"
    default_message = _("The order was changed since you opened it. Review it again.")


class InsufficientStock(OrderError):
    """Not enough units are left for one or more products.

    ``details["products"]`` maps SKU to units still available.
    """

    code = "out_of_stock"
    default_message = _("Sorry, some items are out of stock.")


class TotalChanged(OrderError):
    """The order's total differs from the one the member was shown (a price or the cart
    changed meanwhile); ``details["total"]`` is the new total."""

    code = "total_changed"
    default_message = _("The total changed since the page was shown. Please check it again.")


class InvalidInput(OrderError):
    """The arguments were malformed (bad quantity, amount, reference, assignee ...)."""

    code = "invalid"
    default_message = _("The information given is not valid.")


class DuplicateReference(InvalidInput):
    """A payment entry with this reference is already in force on the order."""

    code = "duplicate_reference"
    default_message = _("A payment with this reference is already recorded for this order.")
