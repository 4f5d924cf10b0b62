"""Where the browser tests find Chromium and how they start it (shared by every folder)."""

import os

CHROMIUM = os.environ.get("MALL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_available():
    """Whether the Chromium the tests drive is installed and executable."""
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)
