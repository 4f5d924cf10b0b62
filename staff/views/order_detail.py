"""The order page: lines, money, ledger, timeline and the forms of the actions allowed now."""

from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from orders import selectors, services
from orders.exceptions import OrderError
from orders.models import DeliveryOutcome, OrderEvent
from staff import calling
from staff import forms as staff_forms
from staff.timeline import describe_changes, timeline
from staff.views._base import STALE_SESSION_KEY, StaffRequiredMixin, order_for_staff

# Refusals worth explaining on the page before anyone tries: business rules, not states.
EXPLAINED_REFUSALS = ("unpaid", "money_held")
# Actions offered in the order page's "What you can do now" box (voiding sits in the ledger).
BOX_ACTIONS = frozenset(
    {
        "confirm",
        "allocate",
        "ship",
        "attempt",
        "deliver",
        "payment",
        "refund",
        "call",
        "invalidate",
        "cancel",
        "return",
    }
)


def _explained_refusals(user, order, allowed):
    """Messages for ship/cancel refused by a business rule (e.g. "not paid yet")."""
    notices = []
    for action, check in (("ship", services.check_ship), ("cancel", services.check_cancel)):
        if action in allowed or not services.may_ever(user, action):
            continue
        try:
            check(user, order)
        except OrderError as exc:
            if exc.code in EXPLAINED_REFUSALS:
                notices.append(exc.message)
    return notices


def delivery_facts(order, events):
    """What happened at the door, from the order's ``events`` (already fetched, oldest
    first): ``attempts`` (count), ``last_outcome`` (the last attempt's outcome label) and
    ``cash`` — for a delivery with cash taken: ``due``, ``collected``, ``difference``
    (``Decimal``; ``difference`` = collected - due), ``short`` and ``over`` (``Decimal``
    >= 0), read from the DELIVERED event's data (nothing is worked out again here).
    """
    attempts, last_outcome, cash = 0, "", None
    for event in events:
        if event.kind == OrderEvent.Kind.DELIVERY_ATTEMPTED:
            attempts += 1
            outcome = (event.data or {}).get("outcome", "")
            last_outcome = dict(DeliveryOutcome.choices).get(outcome, outcome)
        elif event.kind == OrderEvent.Kind.DELIVERED and "collected" in (event.data or {}):
            due = Decimal(event.data["due"])
            collected = Decimal(event.data["collected"])
            difference = Decimal(event.data.get("difference", collected - due))
            cash = {
                "due": due,
                "collected": collected,
                "difference": difference,
                "short": -difference if difference < 0 else Decimal("0.00"),
                "over": difference if difference > 0 else Decimal("0.00"),
            }
    return {"attempts": attempts, "last_outcome": last_outcome, "cash": cash}


def _call_desk(user, order, allowed, events):
    """The confirmation desk's notices for the order page (issue 11), from the events
    already read for the timeline (no query): whether confirming needs the "reached
    afterwards" tick, the unanswered calls, the suggestion to mark the order invalid, and
    who is calling the member now (read, never claimed: viewing is not calling)."""
    outcomes = [e.data.get("outcome") for e in events if e.kind == OrderEvent.Kind.CALL_LOGGED]
    unanswered = sum(1 for o in outcomes if o in services.CallOutcome.UNANSWERED)
    desk = {
        "needs_tick": bool(outcomes) and outcomes[-1] in services.CallOutcome.UNANSWERED,
        "attempts": len(outcomes),
        "unanswered": unanswered,
        "suggest_invalid_url": "",
        "caller": None,
        "mine": None,
        "can_claim": False,
    }
    # "invalidate" is allowed only while the order awaits confirmation (the services' check).
    if "invalidate" in allowed and unanswered >= settings.MALL_MAX_CALL_ATTEMPTS:
        reason = _("Member unreachable: %(n)d calls unanswered.") % {"n": unanswered}
        desk["suggest_invalid_url"] = (
            reverse("staff:order-invalidate", args=[order.number])
            + "?"
            + urlencode({"reason": reason})
        )
    # The notice is about the confirmation call: only while the order awaits it.
    if "call" in allowed and services.awaits_confirmation(order):
        notice = calling.current(order)
        desk["can_claim"] = True
        if notice and notice["user_id"] != user.pk:
            desk["caller"] = notice
        elif notice:
            desk["mine"] = notice
    return desk


def detail_context(request, order, bound=None):
    """Everything the order page shows; ``bound`` maps action → a form with errors.

    Query count does not grow with the number of lines, payments or events.
    """
    user = request.user
    bound = bound or {}
    allowed = services.allowed_actions(user, order)
    position = order.money_position()
    payments = list(order.payments.select_related("recorded_by", "voided_by"))
    totals = order.ledger_totals(entries=payments)
    net = position.net

    stale = request.session.pop(STALE_SESSION_KEY % order.number, None)
    events = list(selectors.staff_timeline(order))
    desk = _call_desk(user, order, allowed, events)
    form_makers = {
        "call": lambda: staff_forms.CallForm(order=order),
        "confirm": lambda: staff_forms.ConfirmForm(
            order=order,
            needs_tick=desk["needs_tick"],
            initial={"call_note": (stale or {}).get("call_note", "")},
        ),
        "allocate": lambda: staff_forms.AllocateForm(order=order),
        "ship": lambda: staff_forms.ShipForm(order=order),
        "payment": lambda: staff_forms.PaymentForm(order=order, balance_due=position.due),
        "refund": lambda: staff_forms.RefundForm(order=order, net_received=net),
        "attempt": lambda: staff_forms.DeliveryAttemptForm(order=order),
        "deliver": lambda: staff_forms.DeliverForm(order=order),
    }
    action_forms = {
        action: bound.get(action) or make()
        for action, make in form_makers.items()
        if action in allowed
    }
    if "confirm" in bound:
        # A confirm form sent back as typed shows the tick if the services now need it
        # (another admin may have logged an unanswered call meanwhile).
        bound["confirm"].needs_tick = desk["needs_tick"]
    return {
        "order": order,
        "lines": list(order.lines.all()),
        "payments": payments,
        "money": {
            "paid": totals.paid,
            "refunded": totals.refunded,
            "credit_noted": totals.credit_noted,
            "money_back": totals.refunded - totals.credit_noted,
            "owed": position.owed,
            "net": position.net,
            "balance_due": position.due,
            "credit_due": position.credit,
        },
        "allowed": allowed,
        "forms": action_forms,
        "can_void": "void" in allowed,
        "box_actions": allowed & BOX_ACTIONS,
        "notices": _explained_refusals(user, order, allowed),
        "timeline": timeline(order, events),
        "delivery": delivery_facts(order, events),
        "desk": desk,
        "stale": (
            {
                "seen_version": stale.get("seen_version"),
                "current_version": order.version,
                "changes": describe_changes(stale.get("changes", [])),
            }
            if stale
            else None
        ),
        "member_orders": order.customer.orders.count(),
        "nav": "orders",
    }


class OrderDetailView(StaffRequiredMixin, View):
    """One order: lines, money, address, ledger, timeline and the actions allowed now."""

    nav = "orders"

    def get(self, request, number):
        order = order_for_staff(request, number)
        return render(request, "staff/order_detail.html", detail_context(request, order))
