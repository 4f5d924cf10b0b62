"""Retake the README screenshots from a running demo (``make run``), in both languages.

    make run PORT=8001 &          # a fresh clone: demo catalogue, accounts and orders
    .venv/bin/python docs/screenshots/take.py http://127.0.0.1:8001

Uses Debian's Chromium (``$MALL_CHROMIUM``, default ``/usr/bin/chromium``) through
Playwright; Chinese pages need a CJK font (``apt-get install fonts-wqy-microhei``).
"""

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("MALL_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def shoot(browser, base, name, path, *, locale, user=None):
    context = browser.new_context(
        base_url=base, locale=locale, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    if user:
        page.goto("/accounts/login/")
        page.locator("input[name=username]").fill(user)
        page.locator("input[name=password]").fill(f"{user}-demo-pass")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
    page.goto(path)
    page.screenshot(path=str(HERE / f"{name}.png"), full_page=False)
    context.close()
    print(f"{name}.png  {locale}  {path}")


def main(base):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        shoot(browser, base, "storefront", "/", locale="en-US")
        shoot(browser, base, "storefront-zh", "/", locale="zh-CN")
        shoot(browser, base, "staff-dashboard", "/staff/", locale="en-US", user="admin1")
        shoot(
            browser,
            base,
            "staff-order-list-zh",
            "/staff/orders/?sort=-placed_at",
            locale="zh-CN",
            user="admin1",
        )
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
