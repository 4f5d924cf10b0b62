"""Django admin for orders: a read-only window for superusers.

Every change to an order goes through ``orders.services`` (locks, version, stock, one
event, e-mails), so the admin edits nothing here: no adding, changing or deleting orders,
lines, events (append-only) or payments (mistakes are voided through the services, never
deleted). Staff work orders in the back office at ``/staff/``.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from orders.models import CodCollection, Order, OrderEvent, OrderLine, Payment, Remittance


class ReadOnlyMixin:
    """Admin pieces that can be viewed but never added, changed or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyMixin, admin.TabularInline):
    model = OrderLine
    fields = ("sku", "name", "unit_price", "quantity", "line_total", "product")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


EVENT_FIELDS = (
    "created_at",
    "kind",
    "actor",
    "from_status",
    "to_status",
    "from_payment_status",
    "to_payment_status",
    "note",
    "data",
    "order_version",
)


class OrderEventInline(ReadOnlyMixin, admin.TabularInline):
    model = OrderEvent
    fields = EVENT_FIELDS
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at", "pk")

    def get_queryset(self, request):
        # One query for the trail, not one per event's actor.
        return super().get_queryset(request).select_related("actor")


class PaymentInline(ReadOnlyMixin, admin.TabularInline):
    model = Payment
    fields = (
        "kind",
        "amount",
        "method",
        "reference",
        "received_on",
        "credit_note",
        "recorded_by",
        "recorded_at",
        "voided_at",
        "voided_by",
        "void_reason",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by", "voided_by")


@admin.register(Order)
class OrderAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Orders, read-only: state, money and address change only through ``orders.services``."""

    list_display = (
        "number",
        "customer",
        "status",
        "payment_status",
        "payment_method",
        "total",
        "placed_at",
    )
    list_filter = ("status", "payment_status", "payment_method")
    search_fields = ("number", "recipient", "phone", "customer__email")
    list_select_related = ("customer", "assigned_to")
    list_per_page = 50
    date_hierarchy = "placed_at"
    ordering = ("-placed_at", "-pk")
    inlines = (OrderLineInline, PaymentInline, OrderEventInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "customer",
                    "status",
                    "payment_status",
                    "payment_method",
                    "version",
                    "back_office_link",
                )
            },
        ),
        (_("Money"), {"fields": ("subtotal", "shipping_fee", "total")}),
        (
            _("Delivery address"),
            {
                "fields": (
                    "recipient",
                    "phone",
                    "region",
                    "city",
                    "address_line",
                    "postcode",
                    "customer_note",
                )
            },
        ),
        (_("Delivery"), {"fields": ("assigned_to", "carrier", "tracking_number")}),
        (
            _("Milestones"),
            {
                "fields": (
                    "placed_at",
                    "confirmed_at",
                    "invalidated_at",
                    "allocated_at",
                    "shipped_at",
                    "cancelled_at",
                    "paid_at",
                    "updated_at",
                )
            },
        ),
    )
    readonly_fields = tuple(name for _title, options in fieldsets for name in options["fields"])

    @admin.display(description=_("Back office"))
    def back_office_link(self, obj):
        url = reverse("staff:order-detail", args=[obj.number])
        return format_html('<a href="{}">{}</a>', url, _("Work this order in the back office"))


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The append-only audit trail: viewable, never added, changed or deleted here."""

    list_display = ("created_at", "order", "kind", "actor", "from_status", "to_status")
    list_filter = ("kind",)
    search_fields = ("order__number", "note")
    list_select_related = ("order", "actor")
    date_hierarchy = "created_at"
    readonly_fields = ("order", *EVENT_FIELDS)
    fields = readonly_fields


@admin.register(Payment)
class PaymentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Money in and out; a mistaken entry is voided through the services, never deleted."""

    list_display = (
        "recorded_at",
        "order",
        "kind",
        "amount",
        "method",
        "reference",
        "received_on",
        "voided_at",
    )
    list_filter = ("kind", "method")
    search_fields = ("order__number", "reference")
    list_select_related = ("order", "recorded_by")
    readonly_fields = (
        "order",
        "kind",
        "amount",
        "method",
        "reference",
        "received_on",
        "credit_note",
        "note",
        "recorded_by",
        "recorded_at",
        "voided_at",
        "voided_by",
        "void_reason",
    )
    fields = readonly_fields


class CodCollectionInline(ReadOnlyMixin, admin.TabularInline):
    model = CodCollection
    fields = ("order", "amount", "collected_at", "payment")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Remittance)
class RemittanceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Couriers' cash handed over to finance; recorded through ``services.record_remittance``."""

    list_display = (
        "number",
        "courier",
        "received_by",
        "received_at",
        "expected",
        "counted",
        "difference",
    )
    list_filter = ("courier",)
    search_fields = ("number", "courier__username", "note")
    list_select_related = ("courier", "received_by")
    date_hierarchy = "received_at"
    readonly_fields = (
        "number",
        "courier",
        "received_by",
        "received_at",
        "expected",
        "counted",
        "difference",
        "note",
    )
    fields = readonly_fields
    inlines = (CodCollectionInline,)


@admin.register(CodCollection)
class CodCollectionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Cash taken at the door; in the courier's hands until its remittance."""

    list_display = ("collected_at", "order", "courier", "amount", "remittance")
    list_filter = ("courier",)
    search_fields = ("order__number", "remittance__number")
    list_select_related = ("order", "courier", "remittance")
    readonly_fields = ("order", "courier", "amount", "collected_at", "remittance", "payment")
    fields = readonly_fields
