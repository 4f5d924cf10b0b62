"""Small guards shared by the ``check_*`` functions of every step."""

from django.utils.translation import gettext as _
from django_fsm import can_proceed

from orders.exceptions import (
    NotPermitted,
    TransitionNotAllowed,
)
from orders.models import (
    Status,
)


def is_owner(actor, order):
    return actor.is_authenticated and order.customer_id == actor.pk


def require_perm(actor, method):
    """Raise ``NotPermitted`` unless ``actor`` holds the role a transition names."""
    meta = method._django_fsm
    order = method.__self__
    if not actor.is_authenticated or not any(
        t.has_perm(order, actor) for t in meta.transitions.values()
    ):
        raise NotPermitted()


def require_state(method, message=None):
    if not can_proceed(method, check_conditions=False):
        raise TransitionNotAllowed(message)


def check_status_message(order):
    return {
        Status.CONFIRMED: _("The order is already confirmed."),
        Status.INVALID: _("The order was marked invalid."),
        Status.ALLOCATED: _("The order is already allocated for delivery."),
        Status.SHIPPED: _("The order has already shipped."),
        Status.DELIVERED: _("The order was delivered."),
        Status.RETURNED: _("The order came back to the shop and is closed."),
        Status.CANCELLED: _("The order is cancelled."),
    }.get(order.status)
