"""WooCommerce product-export columns and helpers shared by the importer tests."""

import io

from django.core.management import call_command
from django.core.management.base import CommandError

from mall.models import Product
from mall.wc_headers import english_header

# The columns WooCommerce writes most often, in its own order (mall.wc_headers holds them,
# for the importer, these tests and bench/import_products.py alike).
WC_HEADER = english_header(attributes=2)


def run_import(path, *args):
    """Run the command; return (stdout, stderr, CommandError or None)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_products", str(path), *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def product(sku):
    return Product.objects.with_sku(sku).select_related("parent").get()
