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


class MoneyHeld(TransitionNotAllowed):
    """The shop holds money for the order: it cannot be cancelled until refunded."""

    code = "money_held"
    default_message = _("Money is held for this order: record the refund before cancelling it.")


class PrepaidNotPaid(TransitionNotAllowed):
    """A prepaid order with money still due cannot ship (DESIGN ``ship_order``)."""

    code = "unpaid"
    default_message = _("This prepaid order is not paid yet: finance must record the payment.")


class PaymentBeyondDue(InvalidInput):
    """A payment on a live order is more than is due; recording it needs ``as_credit``."""

    code = "beyond_due"
    default_message = _(
        "The amount is more than is due. Tick 'record as credit' to record it anyway; the "
        "excess will be listed as a refund due."
    )


class AlreadyRemitted(TransitionNotAllowed):
    """A cash-on-delivery collection was handed over already (another clerk was faster)."""

    code = "already_remitted"
    default_message = _(
        "Some of this cash was recorded as handed over meanwhile (by another clerk?). "
        "Nothing was recorded: check the courier's cash in hand and try again."
    )
