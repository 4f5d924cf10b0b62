"""Simplified Chinese: pages switch language, and the catalogue is complete and compiled.

The catalogue checks read ``locale/zh_Hans/LC_MESSAGES/django.po`` with a small parser
(no polib, no gettext tools needed) and the compiled ``django.mo`` with the standard
library's ``gettext``, so they run on any machine.
"""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from orders.models import PaymentMethod
from tests import factories

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]")


@pytest.fixture(autouse=True)
def _back_to_default_language():
    """A Chinese request leaves its language active in the thread; later tests expect English."""
    yield
    translation.deactivate()


# --- pages --------------------------------------------------------------------------------


def test_home_page_in_chinese_from_the_language_cookie(client, db):
    factories.ProductFactory(name="Jasmine Tea", price="68.00", stock=5)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    response = client.get(reverse("home"))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "全部商品" in html  # "All products"
    assert "加入购物车" in html  # "Add to cart"
    assert "货到付款" in html  # "Cash on delivery"
    assert "Add to cart" not in html


def test_home_page_in_the_shop_language_without_a_language_choice(client, db, settings):
    """The site language (``DJANGO_LANGUAGE_CODE``) is what a visitor without a cookie or
    ``Accept-Language`` gets; the suite runs in English (``site_language``)."""
    factories.ProductFactory(name="Jasmine Tea", price="68.00", stock=5)

    html = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in html
    assert "Add to cart" in html
    assert "加入购物车" not in html

    settings.LANGUAGE_CODE = "zh-hans"
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="zh-hans">' in html and "加入购物车" in html


@pytest.mark.language("zh-hans")
def test_the_browser_s_accept_language_wins_over_the_shop_language(client, db):
    factories.ProductFactory(name="Jasmine Tea", price="68.00", stock=5)
    assert "加入购物车" in client.get(reverse("home")).content.decode()
    english = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8").content.decode()
    assert '<html lang="en">' in english and "Add to cart" in english
    chinese = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="zh-hans">' in chinese


@pytest.mark.parametrize(
    "environment,expected",
    [
        ({}, "zh-hans"),
        ({"DJANGO_LANGUAGE_CODE": "en"}, "en"),
        ({"DJANGO_LANGUAGE_CODE": "fr"}, None),
    ],
)
def test_the_shop_language_comes_from_the_environment(environment, expected):
    """Simplified Chinese unless ``DJANGO_LANGUAGE_CODE`` says ``en``; anything else stops
    the start with a clear message (``ImproperlyConfigured``)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_LANGUAGE_CODE"}
    env.update(environment, DJANGO_SETTINGS_MODULE="mall.settings")
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.LANGUAGE_CODE)"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if expected is None:
        assert result.returncode != 0
        assert "DJANGO_LANGUAGE_CODE='fr'" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected


def test_staff_order_list_in_chinese_from_accept_language(login, admin_user):
    order = factories.OrderFactory(payment_method=PaymentMethod.BANK_TRANSFER)
    client = login(admin_user)

    response = client.get(reverse("staff:order-list"), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert order.number in html
    assert "待确认" in html  # status "Awaiting confirmation"
    assert "未付款" in html  # payment status "Unpaid"
    assert "银行转账" in html  # payment method "Bank transfer"
    assert "导出这些订单（CSV）" in html  # "Export these orders (CSV)"
    assert "Awaiting confirmation" not in html


def test_staff_payment_form_label_follows_the_request_language(login, finance_user):
    """The amount label is built when the form class is defined; it must still translate."""
    order = factories.OrderFactory(confirmed=True)
    client = login(finance_user)
    url = reverse("staff:order-detail", args=[order.number])

    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert f"金额（{settings.MALL_CURRENCY}）" in chinese
    assert f"Amount ({settings.MALL_CURRENCY})" not in chinese
    assert f"Amount ({settings.MALL_CURRENCY})" in english


# --- the catalogue ------------------------------------------------------------------------


def parse_po(path):
    """Return the entries of a .po file as dicts.

    Keys: ``msgctxt`` and ``msgid_plural`` (or None), ``msgid``, ``msgstr`` (list: one
    item, or one per plural form), ``flags`` (set), ``obsolete`` (bool, ``#~``). Handles
    the subset of the format that ``makemessages`` writes: comments, ``msgctxt``,
    continued strings and ``msgstr[n]``.
    """
    entries = []
    entry = None
    field = None

    def start():
        return {
            "msgctxt": None,
            "msgid": None,
            "msgid_plural": None,
            "msgstr": {},
            "flags": set(),
            "obsolete": False,
        }

    def finish():
        if entry is not None and entry["msgid"] is not None:
            entry["msgstr"] = [entry["msgstr"][k] for k in sorted(entry["msgstr"])]
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line or (line.startswith("#") and entry and entry["msgid"] is not None):
            finish()
            entry, field = None, None
            if not line:
                continue
        if entry is None:
            entry = start()
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        entry["obsolete"] = entry["obsolete"] or obsolete
        if line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(field, int):
                entry["msgstr"][field] += value
            else:
                entry[field] += value
            continue
        keyword, _, rest = line.partition(" ")
        value = ast.literal_eval(rest)
        if keyword.startswith("msgstr["):
            field = int(keyword[7:-1])
            entry["msgstr"][field] = value
        elif keyword == "msgstr":
            field = 0
            entry["msgstr"][0] = value
        else:  # msgctxt, msgid, msgid_plural
            field = keyword
            entry[keyword] = value
    finish()
    return entries


@pytest.fixture(scope="module")
def po_entries():
    entries = parse_po(PO_FILE)
    assert entries and entries[0]["msgid"] == "", "the .po file has no header"
    return entries


def test_po_parser_reads_a_known_entry(po_entries):
    by_id = {e["msgid"]: e for e in po_entries}
    assert by_id["Awaiting confirmation"]["msgstr"] == ["待确认"]
    assert by_id["%(counter)s product"]["msgid_plural"] == "%(counter)s products"
    assert len(po_entries) > 500


def test_header_declares_one_plural_form(po_entries):
    header = po_entries[0]["msgstr"][0]
    assert "Plural-Forms: nplurals=1; plural=0;" in header
    assert "charset=UTF-8" in header
    assert "fuzzy" not in po_entries[0]["flags"]


def test_every_msgid_has_a_translation(po_entries):
    untranslated = [
        e["msgid"]
        for e in po_entries[1:]
        if not e["obsolete"] and (not e["msgstr"] or not all(s.strip() for s in e["msgstr"]))
    ]
    fuzzy = [e["msgid"] for e in po_entries[1:] if "fuzzy" in e["flags"] and not e["obsolete"]]
    plural_forms = [
        e["msgid"] for e in po_entries[1:] if e["msgid_plural"] and len(e["msgstr"]) != 1
    ]
    assert untranslated == []
    assert fuzzy == []
    assert plural_forms == []


def test_translations_keep_placeholders_and_edge_whitespace(po_entries):
    problems = []
    for e in po_entries[1:]:
        source = e["msgid_plural"] or e["msgid"]
        for text in e["msgstr"]:
            if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(source)):
                problems.append(("placeholders", e["msgid"], text))
            if text[:1].isspace() != e["msgid"][:1].isspace():
                problems.append(("leading whitespace", e["msgid"], text))
            if text[-1:].isspace() != e["msgid"][-1:].isspace():
                problems.append(("trailing whitespace", e["msgid"], text))
            if text.count("<") != e["msgid"].count("<"):
                problems.append(("HTML tags", e["msgid"], text))
    assert problems == []


def test_compiled_mo_matches_the_po(po_entries):
    """The committed django.mo is compiled from the current django.po (re-run compilemessages)."""
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for e in po_entries[1:]:
        if e["obsolete"]:
            continue
        if e["msgid_plural"] and e["msgctxt"] is not None:
            got = compiled.npgettext(e["msgctxt"], e["msgid"], e["msgid_plural"], 1)
        elif e["msgid_plural"]:
            got = compiled.ngettext(e["msgid"], e["msgid_plural"], 1)
        elif e["msgctxt"] is not None:
            got = compiled.pgettext(e["msgctxt"], e["msgid"])
        else:
            got = compiled.gettext(e["msgid"])
        if got != e["msgstr"][0]:
            stale.append(e["msgid"])
    assert stale == []
