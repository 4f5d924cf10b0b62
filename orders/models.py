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
PAYABLE_STATUSES = (Status.CONFIRMED, Status.ALLOCATED, Status.SHIPPED)
FINAL_STATUSES = (Status.SHIPPED, Status.CANCELLED)

# Group names, created by the data migration orders/0002_roles.
ORDER_ADMINS = "Order admins"
FINANCE = "Finance"
LOGISTICS = "Logistics"
STAFF_GROUPS = (ORDER_ADMINS, FINANCE, LOGISTICS)


# --- permission callables for django-fsm (instance, user) -> bool ---------------------------


def _is_owner(order, user):
    return bool(user and user.is_authenticated and order.customer_id == user.pk)


def can_edit(order, user):
    """Only the member who placed the order edits it (DESIGN: ``edit_order``)."""
    return _is_owner(order, user)


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


class Order(FSMModelMixin, models.Model):
    """A member's order: what was bought, where it goes, and where it stands.

    Money fields are ``Decimal`` in the shop currency; ``total = subtotal + shipping_fee``.
    ``version`` grows by one on every change so that an admin confirms exactly the
    version they reviewed (optimistic concurrency).
    """

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

    placed_at = models.DateTimeField(_("placed"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    invalidated_at = models.DateTimeField(_("marked invalid"), null=True, blank=True)
    allocated_at = models.DateTimeField(_("allocated"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
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
            ("record_payment", _("Can record payments received")),
            ("record_refund", _("Can record refunds")),
            ("void_payment", _("Can void mistaken payment entries")),
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
    def awaiting_prepayment(self):
        """A prepaid order still going ahead whose money has not all arrived."""
        return (
            self.is_prepaid
            and self.payment_status in (PaymentStatus.UNPAID, PaymentStatus.PARTIALLY_PAID)
            and self.status in (Status.SUBMITTED, Status.CONFIRMED, Status.ALLOCATED)
        )

    @property
    def address_dict(self):
        """The delivery address as the dict ``services.place_order`` takes."""
        return {field: getattr(self, field) for field in ADDRESS_FIELDS}

    def money_summary(self):
        """Return ``(paid, refunded, net)`` from the entries in force, as ``Decimal``."""
        sums = {Payment.Kind.PAYMENT: Decimal("0.00"), Payment.Kind.REFUND: Decimal("0.00")}
        for kind, amount in self.payments.filter(voided_at__isnull=True).values_list(
            "kind", "amount"
        ):
            sums[kind] += amount
        paid, refunded = sums[Payment.Kind.PAYMENT], sums[Payment.Kind.REFUND]
        return paid, refunded, paid - refunded

    def money_position(self, paid=None, refunded=None):
        """Where the order stands in money: a ``MoneyPosition`` of ``Decimal`` amounts.

        ``paid`` and ``refunded`` (payments and refunds in force) are read from the ledger
        unless given (lists annotate them: ``selectors.with_net_received``).

        - ``due``: what is still to collect, ``total - paid``; a refund is money returned
          for a reason (goods back, a discount), not an amount to collect again; nothing is
          due on a cancelled or invalid order.
        - ``credit``: money held beyond what the order needs, to pay back: ``net - total``,
          or all of ``net`` on a cancelled or invalid order.
        """
        if paid is None or refunded is None:
            paid, refunded, _net = self.money_summary()
        net = paid - refunded
        zero = Decimal("0.00")
        if self.status in (Status.CANCELLED, Status.INVALID):
            return MoneyPosition(paid, refunded, net, zero, max(net, zero))
        return MoneyPosition(
            paid, refunded, net, max(self.total - paid, zero), max(net - self.total, zero)
        )

    @property
    def cash_to_collect(self):
        """Cash the courier collects on delivery (``Decimal``), ``None`` for prepaid orders."""
        if self.is_prepaid:
            return None
        return self.money_position().due

    def payment_status_for(self, net, any_refund):
        """The payment status that ``net`` money held implies (DESIGN: payment status rules).

        ``net`` is payments minus refunds in force (``Decimal``); ``any_refund`` says whether
        a refund is in force. net <= 0 -> ``unpaid`` (``refunded`` if a refund exists),
        0 < net < total -> ``partially_paid``, net >= total -> ``paid``.
        """
        if net <= 0:
            return PaymentStatus.REFUNDED if any_refund else PaymentStatus.UNPAID
        if net < self.total:
            return PaymentStatus.PARTIALLY_PAID
        return PaymentStatus.PAID

    def money_held(self):
        """Whether the shop holds money for this order (net received > 0)."""
        return self.money_summary()[2] > 0

    # --- conditions -------------------------------------------------------------------

    def no_money_held(self):
        return not self.money_held()

    def paid_if_prepaid(self):
        return not self.is_prepaid or self.payment_status == PaymentStatus.PAID

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
        conditions=[paid_if_prepaid],
        permission=can_ship,
    )
    def ship(self, **kwargs):
        """Record the shipment; a prepaid order must be paid, cash on delivery ships unpaid."""

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


@dataclasses.dataclass(frozen=True)
class MoneyPosition:
    """``Order.money_position()``: paid, refunded, net held, still due, credit to pay back."""

    paid: Decimal
    refunded: Decimal
    net: Decimal
    due: Decimal
    credit: Decimal


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
    line_total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)

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

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
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
