"""WooCommerce product-export columns shared by the importer tests."""

from mall.wc_headers import english_header

# The columns WooCommerce writes most often, in its own order (mall.wc_headers holds them,
# for the importer, these tests and bench/import_products.py alike).
WC_HEADER = english_header(attributes=2)
