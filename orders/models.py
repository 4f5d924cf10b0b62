"""Orders, their lines, their audit trail and the money recorded against them.

The two state machines (``Order.status`` and ``Order.payment_status``) are django-fsm
fields with ``protected=True``: nothing assigns them directly. The transition methods
below hold the model-local guards (``conditions=``) and name who may take them
(``permission=``); ``orders.services`` is the only caller, and it adds locking, version
checks, stock, events and notifications around them. Rules come from DESIGN.md's two
state tables.
"""

import dataclasses
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone


def new_order_number():
    """Return a fresh random order number such as ``7KQ2-M9XD``.

    32^8 (about 10^12) values drawn with ``secrets``: nothing about other orders (count,
    sequence, date) can be read from one, and there is no daily cap. Uniqueness is held by
    the database; ``services.place_order`` draws again on the rare collision.
    """
    raw = "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _i in range(8))
    return f"{raw[:4]}-{raw[4:]}"


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    INVALID = "invalid", _("Invalid")
    ALLOCATED = "allocated", _("Allocated to delivery")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    RETURNED = "returned", _("Returned")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")


class PaymentMethod(models.TextChoices):
    COD = "cod", _("Cash on delivery")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    POSTAL_REMITTANCE = "postal_remittance", _("Post-office remittance")


PREPAID_METHODS = (PaymentMethod.BANK_TRANSFER, PaymentMethod.POSTAL_REMITTANCE)
# Orders nothing is owed for any more (DESIGN "Money: one rule": ``owed`` is 0); a payment
# arriving for one of them is credit to pay back.
CLOSED_STATUSES = (Status.CANCELLED, Status.INVALID, Status.RETURNED)
# Payments are recordable on every order but one still awaiting its confirmation call.
PAYABLE_STATUSES = tuple(s for s in Status.values if s != Status.SUBMITTED)
FINAL_STATUSES = (Status.RETURNED, Status.CANCELLED)
# The shop's own delivery staff as the carrier: no waybill, the assigned courier collects.
OWN_DELIVERY_STAFF = "own"

# A cash-on-delivery order with something still due in these statuses is money to come
# in: out for delivery, or delivered and not paid yet (the reports' "now" figures).
COD_OUTSTANDING_STATUSES = (Status.SHIPPED, Status.DELIVERED)
# Carriers offered as suggestions when shipping and when uploading a settlement file (the
# field stays free text: a shop may use any carrier).
COMMON_CARRIERS = ("SF Express", "China Post EMS", "JD Logistics", "ZTO Express", "YTO Express")


class DeliveryOutcome(models.TextChoices):
    """What happened at the door on a failed attempt (``record_delivery_attempt``)."""

    NOT_HOME = "not_home", _("Nobody at home")
    WRONG_ADDRESS = "wrong_address", _("Wrong or incomplete address")
    REFUSED = "refused", _("Refused by the member")
    POSTPONED = "postponed", _("Member asked for another day")
    OTHER = "other", _("Other")


# Group names, created by the data migration orders/0002_roles.
ORDER_ADMINS = "Order admins"
FINANCE = "Finance"
LOGISTICS = "Logistics"
STAFF_GROUPS = (ORDER_ADMINS, FINANCE, LOGISTICS)


# --- permission callables for django-fsm (instance, user) -> bool ---------------------------


def _is_owner(order, user):
    return bool(user and user.is_authenticated and order.customer_id == user.pk)


def can_edit(order, user):
    """The member who placed the order, or an order admin changing it for the member on
    the phone (DESIGN: ``edit_order(..., reason=...)``)."""
    return _is_owner(order, user) or bool(
        user and user.is_authenticated and user.has_perm("orders.edit_order_for_member")
    )


def can_cancel(order, user):
    """An order admin or the owning member (the owner only while submitted: see
    ``services.check_cancel``, which says why when it refuses)."""
    return user.has_perm("orders.cancel_order") or _is_owner(order, user)


def can_ship(order, user):
    """An order admin ships any allocated order; a logistics person only those assigned to them."""
    if user.has_perm("orders.ship_order"):
        return True
    return (
        user.has_perm("orders.ship_assigned_order")
        and order.assigned_to_id is not None
        and order.assigned_to_id == user.pk
    )


def can_deliver(order, user):
    """An order admin records any delivery; a logistics person only for orders assigned
    to them (DESIGN: ``record_delivery_attempt``, ``record_delivery``)."""
    if user.has_perm("orders.record_delivery"):
        return True
    return (
        user.has_perm("orders.record_assigned_delivery")
        and order.assigned_to_id is not None
        and order.assigned_to_id == user.pk
    )


class Order(FSMModelMixin, models.Model):
    """A member's order: what was bought, where it goes, and where it stands.

    ``Order.OWN_DELIVERY_STAFF`` (``"own"``) is the carrier value of the shop's own
    delivery staff (DESIGN "Cash on delivery").

    Money fields are ``Decimal`` in the shop currency; ``total = subtotal + shipping_fee``.
    ``version`` grows by one on every change so that an admin confirms exactly the
    version they reviewed (optimistic concurrency).
    """

    OWN_DELIVERY_STAFF = OWN_DELIVERY_STAFF

    number = models.CharField(
        _("order number"), max_length=20, unique=True, default=new_order_number, editable=False
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    status = FSMField(_("status"), default=Status.SUBMITTED, choices=Status.choices, protected=True)
    payment_status = FSMField(
        _("payment status"),
        default=PaymentStatus.UNPAID,
        choices=PaymentStatus.choices,
        protected=True,
    )
    payment_method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices
    )

    # Delivery address, copied at checkout: later profile changes must not move an order.
    recipient = models.CharField(_("recipient"), max_length=100)
    phone = models.CharField(_("phone"), max_length=30)
    region = models.CharField(_("province / region"), max_length=100)
    city = models.CharField(_("city"), max_length=100)
    address_line = models.CharField(_("address"), max_length=255)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    customer_note = models.TextField(_("note from the member"), blank=True, max_length=1000)

    subtotal = models.DecimalField(_("subtotal"), max_digits=12, decimal_places=2)
    shipping_fee = models.DecimalField(_("shipping fee"), max_digits=12, decimal_places=2)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)

    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("delivery person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_orders",
    )
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("waybill number"), max_length=100, blank=True)
    received_by = models.CharField(_("received by"), max_length=100, blank=True)

    # The money position (DESIGN "Money: one rule"), kept by the services in the same
    # transaction as every ledger or status change so that queues and lists filter on
    # it without summing the ledger per row. ``owed``: what the member owes (total less
    # credit notes, 0 once cancelled, invalid or returned); ``held``: payments less
    # refunds in force. ``due`` and ``credit`` follow from these two (``MoneyPosition``).
    owed = models.DecimalField(_("owed"), max_digits=12, decimal_places=2, default=Decimal("0"))
    held = models.DecimalField(_("held"), max_digits=12, decimal_places=2, default=Decimal("0"))

    placed_at = models.DateTimeField(_("placed"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    invalidated_at = models.DateTimeField(_("marked invalid"), null=True, blank=True)
    allocated_at = models.DateTimeField(_("allocated"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    next_attempt_on = models.DateField(_("next delivery attempt"), null=True, blank=True)
    # When the member asked to be called back (``log_call`` outcome ``call_back``); cleared
    # by the next call, confirmation, invalidation or cancellation. Never bumps ``version``.
    call_back_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid in full"), null=True, blank=True)

    version = models.PositiveIntegerField(_("version"), default=1)
    # The language the member used at checkout: every e-mail about the order is written in
    # it. "" (orders placed before languages were kept) means the shop's LANGUAGE_CODE.
    language = models.CharField(
        _("language"), max_length=10, blank=True, default="", choices=settings.LANGUAGES
    )
    # One-time token from the checkout form: a double submit finds the order it made.
    checkout_token = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-pk"]
        permissions = [
            ("confirm_order", _("Can confirm orders after the phone call")),
            ("invalidate_order", _("Can mark orders invalid")),
            ("cancel_order", _("Can cancel any member's order")),
            ("allocate_order", _("Can allocate orders to delivery staff")),
            ("ship_order", _("Can record the shipment of any order")),
            ("ship_assigned_order", _("Can record the shipment of orders assigned to them")),
            ("log_call", _("Can log calls to members")),
            ("edit_order_for_member", _("Can change a member's submitted order for them")),
            ("place_order_for_member", _("Can take orders by phone for members")),
            ("record_payment", _("Can record payments received")),
            ("record_refund", _("Can record refunds")),
            ("void_payment", _("Can void mistaken payment entries")),
            ("record_delivery", _("Can record delivery attempts and deliveries of any order")),
            (
                "record_assigned_delivery",
                _("Can record delivery attempts and deliveries of orders assigned to them"),
            ),
            ("record_return", _("Can record parcels returned to the shop")),
            ("record_remittance", _("Can record cash handed over by couriers")),
            ("apply_cod_settlement", _("Can apply carriers' cash-on-delivery settlement files")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal__gte=0), name="order_subtotal_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(shipping_fee__gte=0), name="order_shipping_fee_not_negative"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(condition=Q(version__gte=1), name="order_version_positive"),
            models.CheckConstraint(condition=Q(owed__gte=0), name="order_owed_not_negative"),
            models.CheckConstraint(condition=Q(held__gte=0), name="order_held_not_negative"),
        ]
        # The back-office list sorts newest first with the primary key as tie-break
        # (``ordering``); with ``id`` in the index a page deep in the list is found by an
        # index-only scan (bench/, docs/benchmarks.md). Search indexes (trigram, PostgreSQL
        # only) live in migration 0003 because SQLite cannot build them.
        indexes = [
            models.Index(fields=["-placed_at", "-id"], name="order_placed_id_idx"),
            models.Index(fields=["status", "-placed_at", "-id"], name="order_status_placed_id_idx"),
            models.Index(
                fields=["payment_status", "-placed_at", "-id"], name="order_paystatus_placed_id_idx"
            ),
            models.Index(fields=["customer", "-placed_at"], name="order_customer_placed_idx"),
            models.Index(fields=["assigned_to", "status"], name="order_assignee_status_idx"),
            # The reports (issue 12) read each step's orders of a range of days: one
            # partial index per step's time, holding only the orders that took it. The
            # three steps with a duration carry the previous step's time (INCLUDE, on
            # PostgreSQL), so the range's median and 90th percentile are index-only scans.
            *(
                models.Index(
                    fields=[field],
                    condition=Q(**{f"{field}__isnull": False}),
                    include=[previous] if previous else None,
                    name=f"order_{field}_idx",
                )
                for field, previous in (
                    ("confirmed_at", "placed_at"),
                    ("invalidated_at", None),
                    ("cancelled_at", None),
                    ("shipped_at", "confirmed_at"),
                    ("delivered_at", "shipped_at"),
                    ("returned_at", None),
                )
            ),
            # The reports' cash-on-delivery money still to come in (a "now" figure): the
            # parcels out and those delivered and not paid yet (a carrier's settlement
            # file to come, or an own courier's cash not remitted) — a few thousand
            # orders, read index-only; status and carrier tell the figures apart.
            models.Index(
                fields=["id"],
                include=["owed", "held", "status", "carrier"],
                condition=Q(status__in=COD_OUTSTANDING_STATUSES, payment_method=PaymentMethod.COD)
                & Q(owed__gt=F("held")),
                name="order_cod_outstanding_idx",
            ),
            # The refund-due total and queue: few orders hold more than they owe.
            models.Index(
                fields=["-placed_at"], condition=Q(held__gt=F("owed")), name="order_refund_due_idx"
            ),
            models.Index(
                fields=["call_back_at"],
                name="order_call_back_idx",
                condition=Q(call_back_at__isnull=False),
            ),
            # The awaiting-confirmation queue (issue 16): its exact tab count and its
            # pages (oldest first) read this small index alone, the call-back time (the
            # queue's rule) in it too.
            models.Index(
                fields=["placed_at", "id", "call_back_at"],
                condition=Q(status="submitted"),
                name="order_awaiting_idx",
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("orders:detail", args=[self.number])

    @property
    def email_language(self):
        """The language of the member's e-mails about this order (a code of ``LANGUAGES``)."""
        return self.language or settings.LANGUAGE_CODE

    # --- read helpers ------------------------------------------------------------------

    @property
    def is_prepaid(self):
        return self.payment_method in PREPAID_METHODS

    @property
    def ships_by_own_staff(self):
        """Whether the shop's own delivery staff carry the parcel (they collect the cash)."""
        return self.carrier == OWN_DELIVERY_STAFF

    @property
    def is_live(self):
        """Not cancelled, invalid or returned: the member still owes for it."""
        return self.status not in CLOSED_STATUSES

    @property
    def awaiting_prepayment(self):
        """A prepaid order still going ahead whose money has not all arrived."""
        return (
            self.is_prepaid
            and self.status in (Status.SUBMITTED, Status.CONFIRMED, Status.ALLOCATED)
            and self.money_position().due > 0
        )

    @property
    def address_dict(self):
        """The delivery address as the dict ``services.place_order`` takes."""
        return {field: getattr(self, field) for field in ADDRESS_FIELDS}

    def ledger_totals(self, entries=None):
        """Return ``LedgerTotals`` of the entries in force (payments, refunds, credit notes).

        One query, or none when ``entries`` (this order's ``Payment`` rows, already read
        by a page: voided ones are left out here) is given. The services derive ``owed``
        and ``held`` from it after every change; pages use ``money_position()``, which
        reads the two stored figures.
        """
        zero = Decimal("0.00")
        paid = refunded = credit_noted = zero
        any_refund = False
        if entries is None:
            rows = self.payments.filter(voided_at__isnull=True).values_list(
                "kind", "amount", "credit_note"
            )
        else:
            rows = [(e.kind, e.amount, e.credit_note) for e in entries if e.voided_at is None]
        for kind, amount, credit_note in rows:
            if kind == Payment.Kind.PAYMENT:
                paid += amount
            else:
                any_refund = True
                refunded += amount
                if credit_note:
                    credit_noted += amount
        return LedgerTotals(paid, refunded, credit_noted, any_refund)

    def money_position(self):
        """Where the order stands in money: a ``MoneyPosition`` (``Decimal`` amounts).

        Reads the stored ``owed`` and ``held`` (no query); see ``MoneyPosition`` for the
        rule. ``Order.position_from_ledger`` computes the same figures from the entries.
        """
        return MoneyPosition(owed=self.owed, held=self.held)

    def position_from_ledger(self, totals=None):
        """The ``MoneyPosition`` the entries in force imply (DESIGN "Money: one rule").

        - ``owed`` = total - credit-note refunds (never below 0); 0 when the order is
          cancelled, invalid or returned;
        - ``held`` = payments - refunds.
        """
        totals = totals or self.ledger_totals()
        zero = Decimal("0.00")
        owed = max(self.total - totals.credit_noted, zero) if self.is_live else zero
        return MoneyPosition(owed=owed, held=totals.paid - totals.refunded)

    def payment_status_for(self, position, any_refund):
        """The payment status a ``MoneyPosition`` implies (DESIGN "Money: one rule").

        held <= 0 -> ``refunded`` if a refund is in force, else ``unpaid``;
        0 < held < owed -> ``partially_paid``; held >= owed -> ``paid``.
        """
        if position.held <= 0:
            return PaymentStatus.REFUNDED if any_refund else PaymentStatus.UNPAID
        if position.held < position.owed:
            return PaymentStatus.PARTIALLY_PAID
        return PaymentStatus.PAID

    def money_held(self):
        """Whether the shop holds money for this order (``held`` > 0)."""
        return self.held > 0

    # --- conditions -------------------------------------------------------------------

    def no_money_held(self):
        return not self.money_held()

    def nothing_due_if_prepaid(self):
        """A prepaid order ships only when nothing is due (DESIGN ``ship_order``)."""
        return not self.is_prepaid or self.money_position().due == 0

    def accepts_payments(self):
        return self.status in PAYABLE_STATUSES

    # --- Order.status transitions (DESIGN: "Order.status transitions") ------------------

    @transition(field=status, source=Status.SUBMITTED, target=Status.SUBMITTED, permission=can_edit)
    def edit(self, **kwargs):
        """The member changes lines, address or payment method before confirmation."""

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.CONFIRMED,
        permission="orders.confirm_order",
    )
    def confirm(self, **kwargs):
        """An order admin reached the member and the order is valid."""

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.INVALID,
        permission="orders.invalidate_order",
    )
    def invalidate(self, **kwargs):
        """An order admin found the order invalid (bad address, unreachable, fake)."""

    @transition(
        field=status,
        source=[Status.SUBMITTED, Status.INVALID, Status.CONFIRMED, Status.ALLOCATED],
        target=Status.CANCELLED,
        conditions=[no_money_held],
        permission=can_cancel,
    )
    def cancel(self, **kwargs):
        """Cancel; refused while the shop holds money for the order (refund first)."""

    @transition(
        field=status,
        source=[Status.CONFIRMED, Status.ALLOCATED],
        target=Status.ALLOCATED,
        permission="orders.allocate_order",
    )
    def allocate(self, **kwargs):
        """Assign (or re-assign) the order to a logistics person."""

    @transition(
        field=status,
        source=Status.ALLOCATED,
        target=Status.SHIPPED,
        conditions=[nothing_due_if_prepaid],
        permission=can_ship,
    )
    def ship(self, **kwargs):
        """Record the shipment; a prepaid order must be paid, cash on delivery ships unpaid."""

    @transition(field=status, source=Status.SHIPPED, target=Status.SHIPPED, permission=can_deliver)
    def attempt_delivery(self, **kwargs):
        """A delivery attempt failed (not home, refused ...); the parcel is still out."""

    @transition(
        field=status, source=Status.SHIPPED, target=Status.DELIVERED, permission=can_deliver
    )
    def deliver(self, **kwargs):
        """The member received the parcel."""

    @transition(
        field=status,
        source=[Status.SHIPPED, Status.DELIVERED],
        target=Status.RETURNED,
        permission="orders.record_return",
    )
    def return_to_shop(self, **kwargs):
        """The parcel came back to the shop (refused, undeliverable, or sent back)."""

    # --- Order.payment_status transitions (independent of status) -------------------------

    @transition(
        field=payment_status,
        source=[
            PaymentStatus.UNPAID,
            PaymentStatus.PARTIALLY_PAID,
            PaymentStatus.PAID,
            PaymentStatus.REFUNDED,
        ],
        target=RETURN_VALUE(PaymentStatus.PARTIALLY_PAID, PaymentStatus.PAID),
        conditions=[accepts_payments],
        permission="orders.record_payment",
    )
    def receive_payment(self, *, new_status, **kwargs):
        """Money arrived; the new status is recomputed by the service from the ledger."""
        return new_status

    @transition(
        field=payment_status,
        source=[PaymentStatus.PARTIALLY_PAID, PaymentStatus.PAID],
        target=RETURN_VALUE(
            PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_PAID, PaymentStatus.PAID
        ),
        permission="orders.record_refund",
    )
    def refund(self, *, new_status, **kwargs):
        """Money went back to the member."""
        return new_status

    @transition(
        field=payment_status,
        source="*",
        target=RETURN_VALUE(*PaymentStatus.values),
        permission="orders.void_payment",
    )
    def void_entry(self, *, new_status, **kwargs):
        """A mistaken ledger entry was voided; the status returns to what the rest implies."""
        return new_status

    @transition(field=payment_status, source="*", target=RETURN_VALUE(*PaymentStatus.values))
    def follow_money(self, *, new_status, **kwargs):
        """``owed`` changed (cancelled, returned, a total edited): the status follows it.

        No permission of its own: it runs inside the action that changed ``owed``.
        """
        return new_status

    # Methods that change data: templates must not call them.
    for _method in (
        edit, confirm, invalidate, cancel, allocate, ship, attempt_delivery, deliver,
        return_to_shop, receive_payment, refund, void_entry, follow_money,
    ):  # fmt: skip
        _method.alters_data = True
    del _method


@dataclasses.dataclass(frozen=True)
class LedgerTotals:
    """Sums of an order's entries in force (``Decimal``): payments, refunds, credit notes."""

    paid: Decimal
    refunded: Decimal
    credit_noted: Decimal
    any_refund: bool


@dataclasses.dataclass(frozen=True)
class MoneyPosition:
    """An order's money position (DESIGN "Money: one rule"), written once here.

    ``owed``: what the member owes; ``held`` (also ``net``): money received less money
    paid back; ``due`` = max(owed - held, 0), what is still to collect (the courier's
    "collect on delivery", the prepaid balance); ``credit`` = max(held - owed, 0), money
    to pay back (the "refund due" queue). ``due_q`` and ``credit_q`` are the same two
    rules for filtering orders in SQL.
    """

    owed: Decimal
    held: Decimal

    @property
    def net(self):
        return self.held

    @property
    def due(self):
        return max(self.owed - self.held, Decimal("0.00"))

    @property
    def credit(self):
        return max(self.held - self.owed, Decimal("0.00"))

    @staticmethod
    def due_q():
        """Orders with something still to collect (``due`` > 0)."""
        return Q(owed__gt=F("held"))

    @staticmethod
    def credit_q():
        """Orders holding money beyond what is owed (``credit`` > 0)."""
        return Q(held__gt=F("owed"))


ADDRESS_FIELDS = ("recipient", "phone", "region", "city", "address_line", "postcode")


class OrderLine(models.Model):
    """One product on an order, with the product's SKU, name and price copied at the time.

    The copy (as django-oscar's ``Line`` keeps it) means a later price change, rename or
    deletion in the catalogue never changes what the member ordered or owes.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("mall.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(_("SKU"), max_length=100)
    name = models.CharField(_("name"), max_length=300)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"))
    # The units this line took from stock: 0 for a product whose stock was not tracked
    # when it was reserved. A release gives back exactly this, whatever happened to the
    # product's tracking meanwhile (DESIGN "Stock").
    reserved_quantity = models.PositiveIntegerField(_("units reserved"), default=0)
    line_total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)
    chosen_attributes = models.JSONField(
        _("chosen attributes"),
        default=dict,
        blank=True,
        help_text=_(
            "What the customer chose for the attributes the variation leaves open "
            '(WooCommerce \'any value\'), e.g. {"Size": "Large"}; also in the name.'
        ),
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_price_not_negative"),
            models.CheckConstraint(condition=Q(line_total__gte=0), name="line_total_not_negative"),
            models.UniqueConstraint(fields=["order", "product"], name="line_one_per_product"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.name}"


class OrderEvent(models.Model):
    """One entry of an order's append-only audit trail: who did what, when, from and to.

    Written by ``orders.services`` in the same transaction as the change it records;
    never updated or deleted.
    """

    class Kind(models.TextChoices):
        PLACED = "placed", _("Order placed")
        EDITED = "edited", _("Changed by the member")
        CALL_LOGGED = "call_logged", _("Call logged")
        CONFIRMED = "confirmed", _("Confirmed")
        INVALIDATED = "invalidated", _("Marked invalid")
        CANCELLED = "cancelled", _("Cancelled")
        ALLOCATED = "allocated", _("Allocated")
        REALLOCATED = "reallocated", _("Re-assigned")
        SHIPPED = "shipped", _("Shipped")
        DELIVERY_ATTEMPTED = "delivery_attempted", _("Delivery attempted")
        DELIVERED = "delivered", _("Delivered")
        RETURNED = "returned", _("Returned to the shop")
        PAYMENT_RECORDED = "payment_recorded", _("Payment recorded")
        REFUND_RECORDED = "refund_recorded", _("Refund recorded")
        PAYMENT_VOIDED = "payment_voided", _("Ledger entry voided")

    # Kinds a member sees on their own order page (staff-internal calls stay internal).
    MEMBER_VISIBLE = (
        Kind.PLACED,
        Kind.EDITED,
        Kind.CONFIRMED,
        Kind.INVALIDATED,
        Kind.CANCELLED,
        Kind.SHIPPED,
        Kind.DELIVERY_ATTEMPTED,
        Kind.DELIVERED,
        Kind.RETURNED,
        Kind.PAYMENT_RECORDED,
        Kind.REFUND_RECORDED,
    )

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("what"), max_length=30, choices=Kind.choices)
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    from_payment_status = models.CharField(max_length=20, choices=PaymentStatus.choices, blank=True)
    to_payment_status = models.CharField(max_length=20, choices=PaymentStatus.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    order_version = models.PositiveIntegerField(_("order version after the event"))
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "pk"]
        # The reports (issue 12) count one kind of event over a range of days.
        indexes = [
            models.Index(fields=["kind", "created_at"], name="event_kind_created_idx"),
            # The reports' calls per confirmation: an order's calls before a time.
            models.Index(
                fields=["order", "created_at"],
                condition=Q(kind="call_logged"),
                name="event_call_order_idx",
            ),
        ]

    def __str__(self):
        return f"{self.order_id} {self.kind}"


class Payment(models.Model):
    """Money received for an order (``kind=payment``) or paid back (``kind=refund``).

    ``amount`` is a positive ``Decimal`` in the shop currency; the kind gives the sign.
    A mistaken entry is voided (``voided_at`` and friends set once), never deleted; the
    reference (courier receipt, bank or remittance number) is unique per order among
    entries in force, so one transfer cannot be counted twice.
    """

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=100)
    received_on = models.DateField(_("date received"))
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.TextField(_("reason for voiding"), blank=True)
    # Refunds only: True when the refund lowers what the member owes (goods missing or
    # damaged, a price concession), False when it gives back money still owed (paid
    # twice, paid to the wrong account). DESIGN "Money: one rule".
    credit_note = models.BooleanField(_("credit note"), default=False)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["recorded_at", "pk"]
        # The reports (issue 12): money by day received, entries by day recorded.
        indexes = [
            models.Index(fields=["received_on", "method"], name="payment_received_method_idx"),
            models.Index(fields=["recorded_at"], name="payment_recorded_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(credit_note=False) | Q(kind="refund"), name="payment_credit_note_refund"
            ),
            # One bank / receipt number counts once per order, whatever its case.
            models.UniqueConstraint(
                F("order"),
                Lower("reference"),
                condition=Q(voided_at__isnull=True),
                name="payment_reference_unique_per_order",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} ({self.reference})"

    @property
    def is_voided(self):
        return self.voided_at is not None

    @property
    def signed_amount(self):
        return -self.amount if self.kind == self.Kind.REFUND else self.amount


def new_remittance_number():
    """Return a fresh remittance number such as ``RM-7KQ2M9XD`` (random, as order numbers)."""
    return "RM-" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _i in range(8))


class Remittance(models.Model):
    """Cash a courier handed over to finance, counted (DESIGN "Cash on delivery").

    ``expected`` is the sum of its collections, ``counted`` what finance counted and
    ``difference = counted - expected`` (negative: a shortfall). A difference stays here,
    visible in reports, and is never spread over the orders; ``note`` says why.
    """

    number = models.CharField(
        _("remittance number"), max_length=20, unique=True, default=new_remittance_number
    )
    courier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("courier"),
        on_delete=models.PROTECT,
        related_name="remittances",
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    expected = models.DecimalField(_("expected"), max_digits=12, decimal_places=2)
    counted = models.DecimalField(_("counted"), max_digits=12, decimal_places=2)
    difference = models.DecimalField(_("difference"), max_digits=12, decimal_places=2)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("remittance")
        verbose_name_plural = _("remittances")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expected__gt=0), name="remittance_expected_positive"
            ),
            models.CheckConstraint(condition=Q(counted__gte=0), name="remittance_counted_not_neg"),
            models.CheckConstraint(
                condition=Q(difference=F("counted") - F("expected")),
                name="remittance_difference_is_counted_less_expected",
            ),
        ]

    def __str__(self):
        return self.number


class CodCollectionQuerySet(models.QuerySet):
    def in_hand(self, courier=None):
        """The collections still in the couriers' hands (no remittance yet); of
        ``courier`` only when given. The one place this rule is written."""
        rows = self.filter(remittance__isnull=True)
        return rows if courier is None else rows.filter(courier=courier)


class CodCollection(models.Model):
    """Cash a courier took at the door for a cash-on-delivery order.

    Created by ``services.record_delivery``; in the courier's hands (``remittance`` null)
    until ``services.record_remittance`` hands it to finance, which records the order's
    payment (``payment``).
    """

    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="cod_collection", verbose_name=_("order")
    )
    courier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("courier"),
        on_delete=models.PROTECT,
        related_name="cod_collections",
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    collected_at = models.DateTimeField(_("collected"), auto_now_add=True)
    remittance = models.ForeignKey(
        Remittance,
        verbose_name=_("remittance"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="collections",
    )
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="cod_collection"
    )

    objects = CodCollectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("cash-on-delivery collection")
        verbose_name_plural = _("cash-on-delivery collections")
        ordering = ["collected_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="collection_amount_positive"),
        ]
        indexes = [
            models.Index(
                fields=["courier", "collected_at"],
                condition=Q(remittance__isnull=True),
                name="collection_in_hand_idx",
            ),
        ]

    def __str__(self):
        return f"{self.order} {self.amount}"


class OutboxEmail(models.Model):
    """One e-mail to a member about one order event (issue 15): the outbox.

    Written by ``orders.services`` in the same transaction as the event it tells about,
    so an order change and the promise of its e-mail commit together; ``(event, kind)``
    is unique, so one event never queues the same e-mail twice. ``orders.tasks`` sends
    it under a row lock and stamps ``sent_at``: a task that runs twice (a worker killed
    mid-task, a retry, a staff retry click) finds the stamp and sends nothing.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not sent (no address)")
        SUPERSEDED = "superseded", _("Not sent (a later e-mail says it all)")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="emails")
    event = models.ForeignKey(
        OrderEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="emails"
    )
    kind = models.CharField(_("e-mail"), max_length=30)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-pk"]
        permissions = [("retry_email", "Can send a failed member e-mail again")]
        constraints = [
            models.UniqueConstraint(fields=["event", "kind"], name="outbox_one_mail_per_event"),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="outbox_state_idx")]

    def __str__(self):
        return f"{self.order_id} {self.kind} {self.state}"

    # The e-mail named by the event it tells about (labels the shop translates already).
    KIND_EVENTS = {
        "placed": OrderEvent.Kind.PLACED,
        "confirmed": OrderEvent.Kind.CONFIRMED,
        "invalidated": OrderEvent.Kind.INVALIDATED,
        "cancelled": OrderEvent.Kind.CANCELLED,
        "shipped": OrderEvent.Kind.SHIPPED,
        "paid": OrderEvent.Kind.PAYMENT_RECORDED,
        "delivery_attempted": OrderEvent.Kind.DELIVERY_ATTEMPTED,
        "delivered": OrderEvent.Kind.DELIVERED,
        "returned": OrderEvent.Kind.RETURNED,
        "changed_for_member": OrderEvent.Kind.EDITED,
    }

    @property
    def kind_label(self):
        """What the e-mail tells about, in words (the event's label)."""
        event_kind = self.KIND_EVENTS.get(self.kind)
        return event_kind.label if event_kind else self.kind


class BackgroundJob(models.Model):
    """What every piece of back-office work done by a worker (issue 15) has: whose it is
    (``user``, the only one who sees it), the ``language`` its texts are written in, its
    ``state``, the progress ``rows_done`` of ``rows_total`` its page shows, the ``error``
    of a failure, and when it was made and finished. Abstract: ``ExportJob`` and
    ``SettlementJob`` each keep their own table, with their own ``State`` and ``file``.

    A subclass sets ``label`` (its ``__str__``) and ``COUNTING_STATES``, the states in
    which ``percent`` is the progress of the rows; in any other state it is 100.
    """

    label = "job"
    COUNTING_STATES = ()

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=10, default="en")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.label} {self.pk} ({self.state})"

    @property
    def percent(self):
        """Progress, 0 to 100."""
        if self.state not in self.COUNTING_STATES:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class ExportJob(BackgroundJob):
    """A large export of the staff order list made by a worker (issue 15).

    ``query`` is the list's query string (its filters) and ``file_format`` ``csv`` or
    ``xlsx``; ``rows_done`` of ``rows_total`` is the progress the page shows. The file is
    kept in the default storage (a volume every web process and worker shares) under
    ``exports/``. Only ``user`` sees it.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Being made")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    label = "export"
    COUNTING_STATES = (State.QUEUED, State.RUNNING, State.FAILED)  # done: 100

    query = models.TextField(blank=True)
    file_format = models.CharField(max_length=4, default="csv")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    file = models.FileField(upload_to="exports/", blank=True)


class SettlementJob(BackgroundJob):
    """A carrier's settlement file too long to match in the request (issue 15), read,
    matched and applied by a worker.

    The uploaded ``file`` is kept in the default storage under ``settlements/``; the
    worker reads it into ``rows`` (``SettlementRow.as_dict`` each) and its preview into
    ``preview`` (per row: line, waybill, order number, outcome, amount, due, problem),
    ``rows_done`` of ``rows_total`` being the progress. ``ready`` waits for the user's
    "apply"; ``applying`` → ``applied`` happens once (the worker checks the state under
    the job's row lock), its sentence in ``outcome``. ``error`` says why a read or an
    apply failed. Only ``user`` sees it.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        READING = "reading", _("Being read and matched")
        READY = "ready", _("Ready to apply")
        APPLYING = "applying", _("Being applied")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")

    label = "settlement"
    COUNTING_STATES = (State.QUEUED, State.READING)  # the reading's progress; then 100

    carrier = models.CharField(max_length=100)
    filename = models.CharField(max_length=200, blank=True)
    file = models.FileField(upload_to="settlements/", blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    rows = models.JSONField(default=list, blank=True)
    preview = models.JSONField(default=list, blank=True)
    apply_good_rows = models.BooleanField(default=False)
    outcome = models.TextField(blank=True)


class ReportDay(models.Model):
    """The report figures of one closed business day, kept so a report need not recount
    it (``orders.report_days``; issue 12 "Fast at scale").

    ``figures`` is the day's roll-up as ``orders.report_days`` writes it, computed by the
    same SQL as a live report, or NULL when a change touched the day since (or before it
    was ever computed): the next report recomputes it. ``generation`` counts those
    changes, so a report that read the day before a change cannot store what it computed
    over the newer NULL. Never edited by hand: ``report_days.forget`` empties days.
    """

    day = models.DateField(_("business day"), primary_key=True)
    figures = models.JSONField(null=True, blank=True)
    generation = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report day")
        verbose_name_plural = _("report days")

    def __str__(self):
        return self.day.isoformat()
