"""The accessibility audit the browser tests run on every page finds what it should.

Without this, a broken audit script would pass every page and prove nothing.
"""

import pytest

from tests.e2e.helpers import A11Y_SCRIPT

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BAD_PAGE = """<!doctype html><html><head><title> </title></head><body>
<form>
  <input type="hidden" name="csrfmiddlewaretoken" value="x">
  <input id="nameless" name="q">
  <label for="other">Not this field</label><select id="picked" name="choice"></select>
  <label for="blank"></label><textarea id="blank" name="note"></textarea>
  <button type="submit"></button>
  <button type="button"><span aria-hidden="true"></span></button>
  <input type="button" name="nothing">
  <input type="submit">
</form></body></html>"""

GOOD_PAGE = """<!doctype html><html lang="en"><head><title>Fine</title></head><body>
<form>
  <input type="hidden" name="csrfmiddlewaretoken" value="x">
  <label for="q">Search</label><input id="q" name="q">
  <label>Quantity <input type="number" name="quantity"></label>
  <select name="language" aria-label="Language"><option>English</option></select>
  <span id="note-label">Note</span><textarea name="note" aria-labelledby="note-label"></textarea>
  <button type="submit">Save <span class="visually-hidden">the order</span></button>
  <button type="button" aria-label="Close">×</button>
  <input type="submit" value="Send">
</form></body></html>"""


@pytest.fixture
def blank_page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_audit_lists_every_offender(blank_page):
    blank_page.set_content(BAD_PAGE)

    assert blank_page.evaluate(A11Y_SCRIPT) == [
        "<html> has no lang attribute",
        "the page has no title",
        'form control without a label: <input id="nameless" name="q">',
        'form control without a label: <select id="picked" name="choice">',
        'form control without a label: <textarea id="blank" name="note">',
        'button without an accessible name: <button type="submit">',
        'button without an accessible name: <button type="button">',
        'button without an accessible name: <input name="nothing" type="button">',
    ]


def test_audit_accepts_the_ways_of_labelling(blank_page):
    blank_page.set_content(GOOD_PAGE)

    assert blank_page.evaluate(A11Y_SCRIPT) == []
