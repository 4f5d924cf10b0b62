"""A carrier's cash-on-delivery settlement file, matched to orders and applied.

DESIGN "Cash on delivery": per matched row ``record_delivery`` (delivered) or
``record_return`` (returned / refused, all units restocked) and, for a delivered row with
an amount, one payment (method ``cod``, reference ``<carrier>:<waybill>``). Rows that do
not match (unknown waybill, amount differs from what is due, order not shipped, already
settled) are reported and never applied; the same file twice changes nothing.
"""

import dataclasses

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from mall.formatting import format_money as money
from orders import locks
from orders.cod_settlement import DELIVERED, SettlementRow
from orders.exceptions import InvalidInput, NotPermitted, OrderError
from orders.models import OWN_DELIVERY_STAFF, Order, OrderEvent, Payment, PaymentMethod, Status
from orders.services import _inputs as inputs
from orders.services import delivery, payments


@dataclasses.dataclass
class SettlementMatch:
    """A file row and what it means: ``order`` it settles, or ``problem`` why not."""

    row: SettlementRow
    order: Order | None = None
    problem: str = ""
    already_settled: bool = False

    @property
    def ok(self):
        return self.order is not None and not self.problem


def check_apply_settlement(actor):
    """Raise ``NotPermitted`` unless ``actor`` is finance (``orders.apply_cod_settlement``)."""
    if not actor.is_authenticated or not actor.has_perm("orders.apply_cod_settlement"):
        raise NotPermitted()


def settlement_reference(carrier, waybill):
    """The payment reference of a settled waybill: ``<carrier>:<waybill>``."""
    return f"{carrier}:{waybill}"[:100]


def _clean_carrier(carrier):
    carrier = inputs.clean_text(carrier, _("The carrier"), required=True, max_length=100)
    if carrier.casefold() == OWN_DELIVERY_STAFF:
        raise InvalidInput(
            _("The shop's own delivery staff hand their cash over on the cash page, not by file.")
        )
    return carrier


def _recorded_settlements(orders, references):
    """``{(order pk, reference casefolded)}`` for the ``references`` already recorded on
    ``orders``, as a payment in force or an event's ``settlement``: two queries for a
    whole file, whatever its length."""
    if not orders or not references:
        return set()
    wanted = {r.casefold() for r in references}
    found = {
        (order_id, reference.casefold())
        for order_id, reference in Payment.objects.annotate(ref=Lower("reference"))
        .filter(order__in=orders, ref__in=wanted, voided_at__isnull=True)
        .values_list("order_id", "reference")
    }
    found |= {
        (order_id, str(reference).casefold())
        for order_id, reference in OrderEvent.objects.filter(
            order__in=orders, data__settlement__in=list(references)
        ).values_list("order_id", "data__settlement")
    }
    return found


def _match(row, order, carrier, recorded=None):
    """Check one file row against its order. ``recorded``: the preview's
    ``_recorded_settlements`` (``None``: ask the database, as ``apply_settlement`` does
    under the order's lock)."""
    match = SettlementMatch(row=row, order=order)
    out = (Status.SHIPPED, Status.DELIVERED)
    if row.problem:
        match.problem = row.problem
        return match
    if order is None:
        match.problem = _("unknown waybill %(waybill)s for %(carrier)s") % {
            "waybill": row.waybill,
            "carrier": carrier,
        }
        return match
    reference = settlement_reference(carrier, row.waybill)
    if recorded is None:
        recorded = _recorded_settlements([order], [reference])
    settled = (order.pk, reference.casefold()) in recorded or (
        row.outcome != DELIVERED and order.status == Status.RETURNED
    )
    due = order.money_position().due if order.payment_method == PaymentMethod.COD else 0
    amount = row.amount or 0
    if settled or (row.outcome == DELIVERED and order.status == Status.DELIVERED and not due):
        match.problem = _("already settled (order %(number)s)") % {"number": order.number}
        match.already_settled = True
    elif row.date and not (timezone.localdate(order.placed_at) <= row.date <= timezone.localdate()):
        match.problem = _(
            "date %(date)s is before order %(number)s was placed or in the future"
        ) % {"date": row.date.isoformat(), "number": order.number}
    elif order.status not in out:
        match.problem = _("order %(number)s is not out for delivery (%(status)s)") % {
            "number": order.number,
            "status": order.get_status_display(),
        }
    elif row.outcome == DELIVERED and amount != due:
        match.problem = _("amount %(amount)s differs from the %(due)s due on %(number)s") % {
            "amount": money(amount),
            "due": money(due),
            "number": order.number,
        }
    elif row.outcome != DELIVERED and amount:
        match.problem = _("a returned parcel with an amount (%(amount)s) collected") % {
            "amount": money(row.amount)
        }
    return match


def preview_settlement(*, carrier, rows):
    """Match each ``SettlementRow`` of ``rows`` to an order of ``carrier`` (by waybill,
    ignoring case). Returns ``SettlementMatch`` per row, in file order; a waybill twice
    in the file is a problem on its second row. Reads only."""
    carrier = _clean_carrier(carrier)
    waybills = {r.waybill.casefold() for r in rows if r.waybill}
    orders = {}
    for order in (
        Order.objects.annotate(waybill=Lower("tracking_number"))
        .filter(carrier__iexact=carrier, waybill__in=waybills)
        .order_by("pk")
    ):
        orders.setdefault(order.waybill, order)
    recorded = _recorded_settlements(
        list(orders.values()),
        [settlement_reference(carrier, r.waybill) for r in rows if r.waybill],
    )
    seen, matches = set(), []
    for row in rows:
        match = _match(row, orders.get(row.waybill.casefold()), carrier, recorded)
        key = row.waybill.casefold()
        if key and key in seen and not match.problem:
            match.problem = _("waybill %(waybill)s appears twice in the file") % {
                "waybill": row.waybill
            }
        seen.add(key)
        matches.append(match)
    return matches


@dataclasses.dataclass
class SettlementResult:
    """What ``apply_settlement`` did: the matches applied and those left out."""

    applied: list
    skipped: list


def apply_settlement(actor, *, carrier, rows, apply_good_rows=False):
    """Apply a settlement file's ``rows`` (finance); all of it, or nothing.

    Each row is matched again under the order's lock (``preview_settlement`` may be
    stale). When any row has a problem nothing is applied, unless ``apply_good_rows``
    says to apply the rows without one. Delivered rows go through the delivery service
    and, with an amount, one payment (reference ``<carrier>:<waybill>``); returned and
    refused rows through the return service with every unit restocked. One transaction:
    a failure on any row rolls back every row. Raises ``NotPermitted``, ``InvalidInput``
    (problems and ``apply_good_rows`` false: ``details["problems"]`` lists ``(line,
    problem)``), ``OrderError`` from a service (with the row's line in the message).
    Returns a ``SettlementResult``.
    """
    check_apply_settlement(actor)
    carrier = _clean_carrier(carrier)
    with transaction.atomic():
        matches = preview_settlement(carrier=carrier, rows=rows)
        bad = [m for m in matches if not m.ok]
        if bad and not apply_good_rows:
            raise InvalidInput(
                _(
                    "%(n)d row(s) cannot be applied, so nothing was: fix the file, or apply "
                    "only the rows without a problem."
                )
                % {"n": len(bad)},
                code="settlement_problems",
                details={"problems": [(m.row.line, m.problem) for m in bad]},
            )
        good = [m for m in matches if m.ok]
        if not good:
            raise InvalidInput(_("No row of the file can be applied."), code="nothing_to_apply")
        applied = []
        for match in sorted(good, key=lambda m: m.order.pk):
            order = locks.lock_order(match.order)
            again = _match(match.row, order, carrier)
            if again.problem:
                raise InvalidInput(
                    _("Line %(line)d: %(problem)s (changed meanwhile). Nothing was applied.")
                    % {"line": match.row.line, "problem": again.problem},
                    code="settlement_changed",
                )
            try:
                _apply_row(actor, order, match.row, carrier)
            except OrderError as error:
                raise InvalidInput(
                    _("Line %(line)d: %(problem)s Nothing was applied.")
                    % {"line": match.row.line, "problem": error.message},
                    code="settlement_failed",
                ) from error
            applied.append(again)
    return SettlementResult(applied=applied, skipped=bad)


def _apply_row(actor, order, row, carrier):
    reference = settlement_reference(carrier, row.waybill)
    # ``outcome`` lets the reports tell a refusal from another return (issue 12).
    data = {"settlement": reference, "settlement_line": row.line, "outcome": row.outcome}
    if row.outcome == DELIVERED:
        if order.status == Status.SHIPPED:
            delivery.deliver_locked(
                actor,
                order,
                note=_("Delivered, per %(carrier)s settlement file") % {"carrier": carrier},
                data=data,
            )
        if row.amount:
            payments.enter_payment(
                actor,
                order,
                amount=row.amount,
                method=PaymentMethod.COD,
                reference=reference,
                # The file's day (checked by _match to lie between the order and today).
                received_on=row.date or timezone.localdate(),
                note=_("Cash on delivery settled by %(carrier)s") % {"carrier": carrier},
                data=data,
            )
    else:
        delivery.return_locked(
            actor,
            order,
            reason=_("%(outcome)s, per %(carrier)s settlement file")
            % {
                "outcome": _("Refused") if row.outcome == "refused" else _("Returned"),
                "carrier": carrier,
            },
            restock=True,
            data=data,
        )
