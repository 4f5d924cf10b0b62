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


def localized_fields(model, fields, language=None):
    """Return ``fields`` with each translated field of ``model`` named by its column for
    ``language`` (default: the active one): ``["name", "price"]`` → ``["name_en", "price"]``.

    For writes that bypass the translated descriptors, such as ``bulk_update``.
    """
    from django.utils import translation
    from modeltranslation.translator import translator
    from modeltranslation.utils import build_localized_fieldname

    translated = translator.get_options_for_model(model).fields
    code = language or translation.get_language()
    return [build_localized_fieldname(f, code) if f in translated else f for f in fields]
