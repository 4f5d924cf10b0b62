"""Settings of the benchmark's floor server: the production settings, plus the floor
view's URL (``bench.floor``) in front of the shop's own URLs."""

from mall.settings_production import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
