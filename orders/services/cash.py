"""Cash on delivery from the courier's hand to the books (DESIGN "Cash on delivery").

A courier's cash in hand is the sum of their ``CodCollection`` rows not yet remitted;
``record_remittance`` hands a set of them to finance and records one payment per order.
"""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from mall.people import person_name
from orders.exceptions import AlreadyRemitted, InvalidInput, NotPermitted
from orders.models import CodCollection, Order, PaymentMethod, Remittance
from orders.services import _inputs as inputs
from orders.services import payments


def check_record_remittance(actor):
    """Raise ``NotPermitted`` unless ``actor`` is finance (``orders.record_remittance``)."""
    if not actor.is_authenticated or not actor.has_perm("orders.record_remittance"):
        raise NotPermitted()


def cash_in_hand():
    """Every courier holding cash: rows of ``courier`` (user), ``amount`` (``Decimal``),
    ``collections`` (count) and ``oldest`` (datetime of the oldest collection), the
    largest amount first. One query."""
    rows = (
        CodCollection.objects.in_hand()
        .values("courier")
        .annotate(amount=Sum("amount"), collections=Count("pk"), oldest=Min("collected_at"))
        .order_by("-amount", "courier")
    )
    rows = list(rows)
    users = get_user_model().objects.in_bulk([r["courier"] for r in rows])
    return [{**r, "courier": users[r["courier"]]} for r in rows]


def record_remittance(actor, *, courier, collections, counted_amount, note=""):
    """Record the cash ``courier`` handed over to finance (``actor``, finance).

    ``collections``: the ``CodCollection`` rows (or their primary keys) handed over, each
    the courier's and not yet remitted; ``counted_amount``: the cash finance counted, a
    ``Decimal`` >= 0; ``note``: required when counted differs from the collections' sum.
    Locks the orders, then the collections, in primary-key order; a collection remitted
    meanwhile (two clerks at once) refuses the whole remittance with ``AlreadyRemitted``.
    Records one ``Payment`` per collection (method ``cod``, reference the remittance
    number) through the ledger, so each order's payment status follows; a shortfall
    stays on the remittance (``difference``), never spread over the orders. Raises
    ``NotPermitted``, ``AlreadyRemitted``, ``InvalidInput``. Returns the ``Remittance``.
    """
    check_record_remittance(actor)
    ids = sorted({getattr(c, "pk", c) for c in collections or []})
    if not ids or not all(isinstance(i, int) for i in ids):
        raise InvalidInput(_("Choose the cash the courier is handing over."), code="collections")
    counted = inputs.clean_amount(counted_amount, allow_zero=True)
    note = inputs.clean_text(note, _("The note"))
    with transaction.atomic():
        order_ids = sorted(
            CodCollection.objects.filter(pk__in=ids).values_list("order_id", flat=True)
        )
        # Order rows first (as every action locks them), then the collections: a refund
        # or another remittance touching the same order waits here, never in a cycle.
        list(Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk"))
        rows = list(
            CodCollection.objects.select_for_update()
            .filter(pk__in=ids)
            .select_related("order")
            .order_by("pk")
        )
        if len(rows) != len(ids) or any(c.courier_id != getattr(courier, "pk", None) for c in rows):
            raise InvalidInput(
                _("Some of that cash is not in this courier's hands."), code="collections"
            )
        if any(c.remittance_id is not None for c in rows):
            raise AlreadyRemitted()
        expected = sum((c.amount for c in rows), Decimal("0.00"))
        difference = counted - expected
        if difference and not note:
            raise InvalidInput(
                _("The counted cash differs from the collections by %(diff)s: say why in the note.")
                % {"diff": difference},
                code="note_required",
            )
        remittance = Remittance.objects.create(
            courier=courier,
            received_by=actor,
            expected=expected,
            counted=counted,
            difference=difference,
            note=note,
        )
        today = timezone.localdate()
        for collection in rows:
            order = Order.objects.select_for_update().get(pk=collection.order_id)
            payment = payments.enter_payment(
                actor,
                order,
                amount=collection.amount,
                method=PaymentMethod.COD,
                reference=remittance.number,
                received_on=max(today, timezone.localdate(order.placed_at)),
                note=_("Cash handed over by %(courier)s") % {"courier": _name(courier)},
                data={"remittance": remittance.number, "collection_id": collection.pk},
            )
            collection.remittance = remittance
            collection.payment = payment
            collection.save(update_fields=["remittance", "payment"])
    return remittance


def _name(user):
    return person_name(user)
