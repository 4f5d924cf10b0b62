"""Order events in plain words for the back office (timeline and "what changed").

Events store raw values (state names, SKUs, field names, amounts as strings); staff
read labels. Everything here only formats: it never decides what an order allows.
"""

from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from orders.models import (
    DeliveryOutcome,
    Order,
    OrderEvent,
    PaymentMethod,
    PaymentStatus,
    Status,
)
from orders.services import CallOutcome
from staff.templatetags.staff_tags import format_money, person


def _label(choices, value):
    """The label of ``value`` in a ``TextChoices`` class, or the value itself if unknown."""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _field_label(name):
    try:
        return str(Order._meta.get_field(name).verbose_name).capitalize()
    except FieldDoesNotExist:  # a key from older data is shown as it is
        return name


def _quoted(value):
    return f"“{value}”" if value else _("(empty)")


def _stock_lines(released):
    if not released:
        return []
    items = ", ".join(f"{sku} × {qty}" for sku, qty in sorted(released.items()))
    return [_("Returned to stock: %(items)s") % {"items": items}]


def _edit_details(data):
    details = []
    for field, change in (data.get("address") or {}).items():
        old, new = change
        details.append(
            _("%(field)s: %(old)s → %(new)s")
            % {"field": _field_label(field), "old": _quoted(old), "new": _quoted(new)}
        )
    if data.get("payment_method"):
        old, new = data["payment_method"]
        details.append(
            _("Payment method: %(old)s → %(new)s")
            % {"old": _label(PaymentMethod, old), "new": _label(PaymentMethod, new)}
        )
    if "note" in data:
        old, new = data["note"]
        details.append(_("Note: %(old)s → %(new)s") % {"old": _quoted(old), "new": _quoted(new)})
    for line in data.get("lines") or []:
        name = f"{line.get('name') or ''} ({line.get('sku')})".strip()
        if not line.get("from"):
            details.append(_("Added %(name)s × %(to)s") % {"name": name, "to": line.get("to")})
        elif not line.get("to"):
            details.append(
                _("Removed %(name)s (was × %(from)s)") % {"name": name, "from": line.get("from")}
            )
        else:
            details.append(
                _("%(name)s: quantity %(from)s → %(to)s")
                % {"name": name, "from": line.get("from"), "to": line.get("to")}
            )
    if data.get("total"):
        old, new = data["total"]
        details.append(
            _("Total: %(old)s → %(new)s") % {"old": format_money(old), "new": format_money(new)}
        )
    return details


def _ledger_details(data):
    details = []
    if "amount" in data:
        details.append(
            _("%(kind)s of %(amount)s by %(method)s, reference %(reference)s, dated %(date)s")
            % {
                "kind": _("Refund") if data.get("kind") == "refund" else _("Payment"),
                "amount": format_money(data["amount"]),
                "method": _label(PaymentMethod, data.get("method", "")).lower(),
                "reference": data.get("reference", ""),
                "date": data.get("received_on", ""),
            }
        )
    if data.get("kind") == "refund":
        details.append(
            _("Credit note: the member owes less")
            if data.get("credit_note")
            else _("Money back: the member still owes the order")
        )
    if data.get("remittance"):
        details.append(
            _("Cash handed over by the courier, remittance %(number)s")
            % {"number": data["remittance"]}
        )
    if data.get("settlement"):
        details.append(
            _("From the carrier's settlement file (%(reference)s, line %(line)s)")
            % {"reference": data["settlement"], "line": data.get("settlement_line", "")}
        )
    if "net_received" in data:
        details.append(
            _("Net received afterwards: %(net)s") % {"net": format_money(data["net_received"])}
        )
    if data.get("due") not in (None, "0", "0.00"):
        details.append(_("Still due afterwards: %(due)s") % {"due": format_money(data["due"])})
    if data.get("credit") not in (None, "0", "0.00"):
        details.append(
            _("Credit to pay back afterwards: %(credit)s")
            % {"credit": format_money(data["credit"])}
        )
    return details


def _units(units):
    return ", ".join(f"{sku} × {qty}" for sku, qty in sorted(units.items()))


def _attempt_details(data):
    outcome = _label(DeliveryOutcome, data.get("outcome", ""))
    details = [
        _("Attempt %(n)s: %(outcome)s") % {"n": data.get("attempt", "?"), "outcome": outcome}
    ]
    if data.get("next_attempt_on"):
        details.append(_("Next attempt on %(day)s") % {"day": data["next_attempt_on"]})
    return details


def _delivered_details(data):
    details = []
    if data.get("received_by"):
        details.append(_("Received by %(name)s") % {"name": data["received_by"]})
    if "collected" in data:
        collected, due = Decimal(data["collected"]), Decimal(data.get("due", "0"))
        values = {"collected": format_money(collected), "due": format_money(due)}
        if collected < due:
            values["diff"] = format_money(due - collected)
            details.append(_("Cash taken: %(collected)s of %(due)s due: %(diff)s short") % values)
        elif collected > due:
            values["diff"] = format_money(collected - due)
            details.append(_("Cash taken: %(collected)s of %(due)s due: %(diff)s over") % values)
        else:
            details.append(_("Cash taken: %(collected)s, as due") % values)
    if data.get("settlement"):
        details.append(
            _("From the carrier's settlement file (%(reference)s, line %(line)s)")
            % {"reference": data["settlement"], "line": data.get("settlement_line", "")}
        )
    return details


def _returned_details(data):
    details = _stock_lines(data.get("stock_released"))
    if data.get("written_off"):
        details.append(_("Written off: %(items)s") % {"items": _units(data["written_off"])})
    if not data.get("stock_released") and not data.get("written_off"):
        details.append(_("No units were reserved: stock unchanged"))
    if data.get("credit") not in (None, "0", "0.00"):
        details.append(
            _("Credit to pay back to the member: %(credit)s")
            % {"credit": format_money(data["credit"])}
        )
    if data.get("settlement"):
        details.append(
            _("From the carrier's settlement file (%(reference)s, line %(line)s)")
            % {"reference": data["settlement"], "line": data.get("settlement_line", "")}
        )
    return details


def describe(kind, data):
    """Return a list of plain-words detail lines for an event ``kind`` and its ``data``.

    ``data`` is the event's JSON dict (e.g. an edit's diff ``{"address": {field: [old,
    new]}, "lines": [{"sku", "name", "from", "to"}], "total": [old, new]}``). Unknown keys
    are listed as they are, so nothing recorded is hidden.
    """
    data = data or {}
    Kind = OrderEvent.Kind
    if kind == Kind.PLACED:
        lines = data.get("lines") or []
        details = [
            _("%(qty)s × %(sku)s at %(price)s")
            % {
                "qty": line.get("quantity"),
                "sku": line.get("sku"),
                "price": format_money(line.get("unit_price")),
            }
            for line in lines
        ]
        if data.get("total"):
            details.append(_("Total: %(total)s") % {"total": format_money(data["total"])})
        return details
    if kind == Kind.EDITED:
        return _edit_details(data)
    if kind == Kind.CALL_LOGGED:
        outcome = dict(CallOutcome.choices()).get(data.get("outcome"), data.get("outcome", ""))
        details = [_("Outcome: %(outcome)s") % {"outcome": outcome}]
        when = parse_datetime(data["call_back_at"]) if data.get("call_back_at") else None
        if when:
            details.append(
                _("Call back at %(when)s")
                % {"when": date_format(timezone.localtime(when), "Y-m-d H:i")}
            )
        return details
    if kind == Kind.CONFIRMED:
        details = []
        if data.get("call_outcome") == CallOutcome.REACHED:
            details.append(_("Call: reached the member"))
        if data.get("reached_after_failed"):
            details.append(_("Reached after an unanswered call"))
        if data.get("confirmed_version"):
            details.append(_("Reviewed version %(v)s") % {"v": data["confirmed_version"]})
        return details
    if kind == Kind.INVALIDATED:
        return _stock_lines(data.get("stock_released"))
    if kind == Kind.CANCELLED:
        details = [_("Cancelled by the member")] if data.get("by_member") else []
        return details + _stock_lines(data.get("stock_released"))
    if kind == Kind.ALLOCATED:
        return [_("Assigned to %(name)s") % {"name": data.get("to_name") or data.get("to")}]
    if kind == Kind.REALLOCATED:
        return [
            _("Re-assigned from %(old)s to %(new)s")
            % {
                "old": data.get("from_name") or data.get("from"),
                "new": data.get("to_name") or data.get("to"),
            }
        ]
    if kind == Kind.SHIPPED:
        if data.get("carrier") == Order.OWN_DELIVERY_STAFF:
            details = [_("Carried by our own delivery staff")]
        else:
            details = [_("Carrier: %(carrier)s") % {"carrier": data.get("carrier", "")}]
        if data.get("tracking_number") or data.get("carrier") != Order.OWN_DELIVERY_STAFF:
            details.append(
                _("Waybill number: %(number)s") % {"number": data.get("tracking_number", "")}
            )
        return details
    if kind in (Kind.PAYMENT_RECORDED, Kind.REFUND_RECORDED, Kind.PAYMENT_VOIDED):
        return _ledger_details(data)
    if kind == Kind.DELIVERY_ATTEMPTED:
        return _attempt_details(data)
    if kind == Kind.DELIVERED:
        return _delivered_details(data)
    if kind == Kind.RETURNED:
        return _returned_details(data)
    return [f"{key}: {value}" for key, value in sorted(data.items())]


def _title(kind, data):
    """An event's title; a change made by an admin for the member says so (issue 11)."""
    data = data or {}
    if data.get("for_member") and kind in (OrderEvent.Kind.EDITED, OrderEvent.Kind.PLACED):
        name = data["for_member"].get("name", "")
        if kind == OrderEvent.Kind.EDITED:
            return _("Changed for the member %(name)s") % {"name": name}
        return _("Order taken by phone for %(name)s") % {"name": name}
    return _label(OrderEvent.Kind, kind)


def _change(choices, old, new):
    if not old or old == new:
        return ""
    return f"{_label(choices, old)} → {_label(choices, new)}"


def timeline(order, events):
    """Return ``events`` (``OrderEvent`` rows, actor selected) as dicts for the template.

    Each dict: ``when`` (datetime), ``title``, ``actor`` (name, or "System"),
    ``by_member`` (bool), ``status_change`` and ``payment_change`` (``"A → B"`` or ``""``),
    ``note`` and ``details`` (list of strings).
    """
    entries = []
    for event in events:
        entries.append(
            {
                "when": event.created_at,
                "kind": event.kind,
                "title": _title(event.kind, event.data),
                "actor": person(event.actor) if event.actor else _("System"),
                "by_member": event.actor_id is not None and event.actor_id == order.customer_id,
                "status_change": _change(Status, event.from_status, event.to_status),
                "payment_change": _change(
                    PaymentStatus, event.from_payment_status, event.to_payment_status
                ),
                "note": event.note,
                "details": describe(event.kind, event.data),
                "version": event.order_version,
            }
        )
    return entries


def serialise_changes(changes):
    """Make ``StaleOrder.details["changes"]`` storable in the session (JSON)."""
    stored = []
    for change in changes:
        created = change.get("created_at")
        stored.append(
            {
                "kind": change.get("kind", ""),
                "note": change.get("note", ""),
                "data": change.get("data") or {},
                "created_at": created.isoformat() if hasattr(created, "isoformat") else created,
                "order_version": change.get("order_version"),
            }
        )
    return stored


def describe_changes(stored):
    """Return stored stale-order changes as ``title``/``when``/``note``/``details`` dicts."""
    return [
        {
            "title": _title(change.get("kind", ""), change.get("data")),
            "when": parse_datetime(change["created_at"]) if change.get("created_at") else None,
            "note": change.get("note", ""),
            "details": describe(change.get("kind"), change.get("data")),
            "version": change.get("order_version"),
        }
        for change in stored
    ]
