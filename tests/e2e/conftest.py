"""Browser tests: Playwright for Python driving Debian's Chromium against ``live_server``.

Chromium is found at ``$MALL_CHROMIUM`` (default ``/usr/bin/chromium``); Playwright's own
browser download is never used. Without Chromium the tests are skipped with a note,
except when ``MALL_REQUIRE_E2E=1`` (CI), where a missing browser is an error.
Screenshots go to ``test-artifacts/screenshots/`` (git-ignored); the folder is printed at
the end of the run.
"""

import os
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, chromium_available

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(config, items):
    e2e = [item for item in items if item.get_closest_marker("e2e")]
    if not e2e or chromium_available():
        return
    if os.environ.get("MALL_REQUIRE_E2E") == "1":
        raise pytest.UsageError(
            f"MALL_REQUIRE_E2E=1 but no Chromium at {CHROMIUM}: the browser tests must run."
        )
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    for item in e2e:
        item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"e2e screenshots: {SCREENSHOTS}")


@pytest.fixture
def open_context(browser, live_server):
    """Return a function making a fresh browser context (one per actor) on the live server."""
    contexts = []

    def _open(locale="en-US"):
        context = browser.new_context(
            base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    """Return a function saving a full-page screenshot of ``page`` as ``<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _shot(page, name):
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can see whether the test passed."""
    report = yield
    setattr(item, f"e2e_report_{report.when}", report)
    return report


@pytest.fixture
def actor(open_context, request):
    """Return a function making an ``Actor`` (own browser context) named ``name``.

    After a passing test, fails if any page an actor landed on escaped the accessibility
    audit (every navigation must go through ``Actor.goto`` / ``Actor.click``).
    """
    from tests.e2e.helpers import Actor

    actors = []

    def _actor(name):
        person = Actor(name, open_context())
        actors.append(person)
        return person

    yield _actor
    report = getattr(request.node, "e2e_report_call", None)
    if report is not None and report.passed:
        missed = {person.name: person.unaudited() for person in actors if person.unaudited()}
        assert not missed, f"pages visited without the accessibility audit: {missed}"
