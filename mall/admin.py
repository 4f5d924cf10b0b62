"""Django admin for the catalogue: categories and products (variations inline on the parent)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from mall.models import Category, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """Categories: search by name or slug, filter by parent."""

    list_display = ("name", "parent", "slug")
    list_select_related = ("parent", "parent__parent")
    list_filter = (("parent", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)
    ordering = ("parent__name", "name")


class VariationInline(admin.TabularInline):
    """The variations of a variable product, edited on the parent's page."""

    model = Product
    fk_name = "parent"
    extra = 0
    fields = (
        "sku",
        "slug",
        "attributes",
        "price",
        "sale_price",
        "stock",
        "in_stock",
        "is_visible",
        "position",
    )
    show_change_link = True
    verbose_name = _("variation")
    verbose_name_plural = _("variations")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """Products: search by SKU or name; a variable product edits its variations inline."""

    list_display = (
        "sku",
        "name",
        "parent",
        "price",
        "sale_price",
        "stock",
        "in_stock",
        "is_visible",
        "is_variable",
    )
    list_display_links = ("sku", "name")
    list_select_related = ("parent",)
    list_filter = (
        "is_visible",
        "in_stock",
        "is_variable",
        ("parent", admin.EmptyFieldListFilter),
        ("categories", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("sku", "name")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)
    filter_horizontal = ("categories",)
    readonly_fields = ("created_at", "updated_at")
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("sku", "name", "slug", "is_visible", "position")}),
        (
            _("Price and stock"),
            {"fields": ("price", "sale_price", "sale_starts", "sale_ends", "stock", "in_stock")},
        ),
        (_("Variations"), {"fields": ("is_variable", "parent", "attributes")}),
        (
            _("Description"),
            {"fields": ("short_description", "description", "categories", "image_urls")},
        ),
        (_("History"), {"fields": ("created_at", "updated_at")}),
    )

    def get_inlines(self, request, obj):
        return [VariationInline] if obj is not None and obj.is_variable else []

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "categories":
            # Category.__str__ shows the path from the root: fetch the parents with it.
            kwargs["queryset"] = Category.objects.select_related("parent", "parent__parent")
        return super().formfield_for_manytomany(db_field, request, **kwargs)
