"""Django admin for the catalogue: categories and products (variations inline on the parent)."""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from mall.formatting import CodeField, TypedDecimalField, TypedIntegerField
from mall.models import Category, Product


def _stock_text(stock):
    return "" if stock is None else str(stock)


class ProductAdminForm(forms.ModelForm):
    """The product form, which never writes back a stock figure that orders changed meanwhile.

    Orders reserve stock while the page is open (root opens it at 15, a member orders
    2, the database says 13). The hidden ``stock_seen`` carries the figure the page
    showed. On save, with the product row locked (``select_for_update``, held by the
    admin's transaction until the save is written): a stock field left as shown keeps
    the database's current figure; a changed one is refused if the database moved since
    the page was opened, so the admin enters the new figure again knowing it.
    """

    stock_seen = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Product
        # The admin passes the fields of its fieldsets / inline; these are the editable ones.
        fields = (
            "sku",
            "name",
            "slug",
            "is_visible",
            "position",
            "price",
            "sale_price",
            "sale_starts",
            "sale_ends",
            "stock",
            "in_stock",
            "stock_from_parent",
            "is_variable",
            "parent",
            "attributes",
            "attribute_choices",
            "wc_id",
            "short_description",
            "description",
            "categories",
            "image_urls",
        )
        # Typed digits and codes: full-width ones (a Chinese input method) read as ASCII.
        field_classes = {
            "sku": CodeField,
            "price": TypedDecimalField,
            "sale_price": TypedDecimalField,
            "stock": TypedIntegerField,
            "position": TypedIntegerField,
            "wc_id": TypedIntegerField,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stock_kept = False
        if self.instance.pk is not None:
            self.initial["stock_seen"] = _stock_text(self.instance.stock)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None or "stock" not in self.fields or "stock" not in cleaned:
            return cleaned
        raw = self.data.get(self.add_prefix("stock_seen"))
        if raw is None or not (raw == "" or raw.isdigit()):
            self.add_error(None, gettext("This page is out of date: reload it and save again."))
            return cleaned
        seen = int(raw) if raw else None
        with transaction.atomic():
            current = (
                Product.objects.select_for_update()
                .filter(pk=self.instance.pk)
                .values_list("stock", flat=True)
                .first()
            )
        if cleaned["stock"] == seen:
            # The admin did not touch the stock: keep what orders left in the database.
            cleaned["stock"] = current
            self.stock_kept = True
        elif current != seen:
            self.add_error(
                "stock",
                gettext(
                    "Stock changed to %(stock)s since you opened this page (orders were placed "
                    "or cancelled). Enter the new figure again."
                )
                % {"stock": gettext("not tracked") if current is None else current},
            )
            # Show the figure as it is now, and count it as seen from here on.
            self.data = self.data.copy()
            self.data[self.add_prefix("stock")] = _stock_text(current)
            self.data[self.add_prefix("stock_seen")] = _stock_text(current)
        return cleaned

    @property
    def changed_data(self):
        """What the admin changed, for the change message and for saving inline rows."""
        changed = [name for name in super().changed_data if name != "stock_seen"]
        if self.stock_kept:
            changed = [name for name in changed if name != "stock"]
        return changed


@admin.register(Category)
class CategoryAdmin(TranslationAdmin):
    """Categories: the name in each language side by side; search by either name or slug."""

    list_display = ("name", "parent", "slug")
    list_select_related = ("parent", "parent__parent")
    list_filter = (("parent", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name_zh_hans", "name_en", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)
    ordering = ("parent__name", "name")


class VariationInline(TranslationTabularInline):
    """The variations of a variable product, edited on the parent's page."""

    model = Product
    form = ProductAdminForm
    fk_name = "parent"
    extra = 0
    fields = (
        "sku",
        "slug",
        "attributes",
        "price",
        "sale_price",
        "stock",
        "stock_seen",
        "in_stock",
        "is_visible",
        "position",
    )
    show_change_link = True
    verbose_name = _("variation")
    verbose_name_plural = _("variations")


@admin.register(Product)
class ProductAdmin(TranslationAdmin):
    """Products: search by SKU or name (either language); a variable product edits its
    variations inline. Names and descriptions are edited in each language side by side.

    Stock reserved by orders while the page is open is never overwritten
    (``ProductAdminForm``).
    """

    form = ProductAdminForm

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
    search_fields = ("sku", "name_zh_hans", "name_en")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)
    filter_horizontal = ("categories",)
    readonly_fields = ("created_at", "updated_at")
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("sku", "name", "slug", "is_visible", "position")}),
        (
            _("Price and stock"),
            {
                "fields": (
                    "price",
                    "sale_price",
                    "sale_starts",
                    "sale_ends",
                    "stock",
                    "stock_seen",
                    "in_stock",
                    "stock_from_parent",
                )
            },
        ),
        (
            _("Variations"),
            {"fields": ("is_variable", "parent", "attributes", "attribute_choices", "wc_id")},
        ),
        (
            _("Description"),
            {"fields": ("short_description", "description", "categories", "image_urls")},
        ),
        (_("History"), {"fields": ("created_at", "updated_at")}),
    )

    def save_model(self, request, obj, form, change):
        # The admin's save runs in one transaction with the row lock the form's clean()
        # took; re-read under the lock anyway, so a figure kept as it was is the
        # database's figure at the moment of writing.
        with transaction.atomic():
            if change and getattr(form, "stock_kept", False):
                obj.stock = (
                    Product.objects.select_for_update()
                    .values_list("stock", flat=True)
                    .get(pk=obj.pk)
                )
            super().save_model(request, obj, form, change)

    def get_inlines(self, request, obj):
        return [VariationInline] if obj is not None and obj.is_variable else []

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "categories":
            # Category.__str__ shows the path from the root: fetch the parents with it.
            kwargs["queryset"] = Category.objects.select_related("parent", "parent__parent")
        return super().formfield_for_manytomany(db_field, request, **kwargs)
