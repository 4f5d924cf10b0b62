"""Catalogue texts in both shop languages (django-modeltranslation).

Each field below gets one column per language in ``LANGUAGES`` (``name_zh_hans``,
``name_en``); reading ``product.name`` gives the active language's text, falling back to
the other language where it is empty (``MODELTRANSLATION_FALLBACK_LANGUAGES``), and a
query on ``name`` reads the active language's column. The admin edits them side by side.
"""

from modeltranslation.translator import TranslationOptions, register

from mall.models import Category, Product


@register(Category)
class CategoryTranslationOptions(TranslationOptions):
    fields = ("name",)


@register(Product)
class ProductTranslationOptions(TranslationOptions):
    fields = ("name", "short_description", "description")
