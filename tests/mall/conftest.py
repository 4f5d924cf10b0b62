"""Fixtures of the catalogue tests: the public WooCommerce sample, CSV writing helpers."""

import csv
from pathlib import Path

import pytest
from django.conf import settings

from tests.woocommerce import WC_HEADER

WC_SAMPLE = Path(settings.BASE_DIR).parent / "shared/data/woocommerce_sample_products.csv"
DEMO_CATALOGUE = Path(settings.BASE_DIR) / "mall/demo/demo_catalogue.csv"


@pytest.fixture
def wc_sample():
    """Path of ../shared's WooCommerce sample export; skip only where it is absent."""
    if not WC_SAMPLE.exists():
        pytest.skip(
            f"{WC_SAMPLE} is absent: a user's own clone has no ../shared (CI always has it)"
        )
    return WC_SAMPLE


@pytest.fixture
def write_csv(tmp_path):
    """Return ``write(rows, header=WC_HEADER, name=..., bom=False)`` -> path of a new CSV.

    ``rows`` are dicts keyed by header names (missing keys are blank).
    """

    def write(rows, header=WC_HEADER, name="products.csv", bom=False):
        path = tmp_path / name
        with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, header, lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({key: row.get(key, "") for key in header})
        return path

    return write
