"""Import products from a WooCommerce product export (CSV or XLSX).

WooCommerce's exporter (``WC_Product_CSV_Exporter``) writes one row per product or
variation with column headers in any order, in the shop's admin language. This module
reads that format generally, not one particular file:

* UTF-8 with or without a byte-order mark, UTF-16 with one, or an XLSX workbook (its
  first sheet); quoted fields may span several lines; ``;`` and tab delimiters are
  recognised from the header (``mall.import_sources``).
* Headers in English or as WooCommerce's translations write them (``UGS``, ``Nom``,
  ``Tarif régulier``, ``常规售价``, ``Артикул``…): the table is ``mall.wc_headers``.
* ``Type`` is a comma-separated set: ``simple``, ``variable``, ``variation``,
  ``grouped``, ``external``, plus the flags ``virtual`` and ``downloadable``.
* List cells (``Categories``, ``Images``, attribute values) are comma-separated with
  literal commas escaped as ``\\,``; ``Categories`` nest with ``>``.
* Cells that start with ``=``, ``+``, ``-`` or ``@`` are exported with a leading ``'``
  (spreadsheet-injection guard), which is removed here; descriptions carry line breaks
  as a literal ``\\n``.
* ``Parent`` names a variation's parent by SKU or as ``id:NNN`` (the parent row's ``ID``).
* Sale dates as WooCommerce and its plugins write them: ``2024-01-15``,
  ``2024-01-15 0:00:00`` (unpadded hour), with or without seconds, with a ``T``, with a
  UTC offset, or a Unix timestamp.
* ``Stock`` ``parent``: the variation's units are counted on its parent
  (``Product.stock_from_parent``); a negative stock (oversold in the source shop) is
  imported as 0 with a warning.
* Prices with thousands separators: ``1,250.00`` and ``1.250,00`` are clear; ``1,250``
  or ``1.250`` alone could be either, so the file's other prices decide (a file that
  writes ``19,90`` uses the comma for decimals) and a warning says which reading was
  taken; with no other price to go by the row is rejected with both readings.

Mapping to the catalogue (DESIGN: "Domain model"): simple, virtual and downloadable rows
become purchasable products; a variable row becomes a non-purchasable parent
(``is_variable=True``, no price) and its variations purchasable products with their
``attributes``; grouped and external rows are skipped. A variation is always named after
its parent's current name (WooCommerce writes "Hoodie - Red"; the attribute values are
kept apart, ``Product.display_name`` joins them). A variation's blank attribute value
means "any value" in WooCommerce: the customer chooses it from the parent's values
(``Product.attribute_choices``). Hidden rows (``Visibility in catalog = hidden``) and
rows not published (``Published`` 0 or -1) are imported with ``is_visible=False``. Sale
dates are in the shop's ``TIME_ZONE``; a date-only end includes the whole day.

Identity: a row is matched to a stored product by SKU, in any letter case, then by
WooCommerce ``ID`` (``Product.wc_id``); a row without SKU gets ``WC-<ID>`` as SKU; a row
with neither is rejected. Two rows for the same product (the same SKU, in any case):
the later one updates it, with a warning.

Partial files: a column absent from the file leaves that field alone, so a file of
``SKU,Regular price`` changes prices only; a column present with an empty cell clears
the field where emptiness means something (descriptions, prices, sale dates, stock =
not tracked, categories, images), and leaves the name, ``Published``, ``Visibility`` and
``In stock?`` alone.

A row with bad data is rejected with its line number and the rest is imported. All
writes of one file happen in one transaction; ``dry_run`` rolls it back.
"""

from __future__ import annotations

import contextvars
import datetime
import html
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import ngettext as _ngettext

from mall import wc_headers
from mall.formatting import normalize_typed
from mall.import_languages import name_categories
from mall.import_sources import ImportFileError, open_table
from mall.models import Category, Product
from mall.translation import localized_fields

__all__ = ["ImportFileError", "ImportReport", "RowNote", "import_products"]

# Kinds of WooCommerce product rows.
SIMPLE, VARIABLE, VARIATION, GROUPED, EXTERNAL = (
    "simple",
    "variable",
    "variation",
    "grouped",
    "external",
)
_KINDS = {SIMPLE, VARIABLE, VARIATION, GROUPED, EXTERNAL}
_FLAGS = {"virtual", "downloadable"}
_REJECTED = "rejected"

_SKU_MAX = Product._meta.get_field("sku").max_length
_NAME_MAX = Product._meta.get_field("name").max_length
_SLUG_MAX = Product._meta.get_field("slug").max_length
_CATEGORY_NAME_MAX = Category._meta.get_field("name").max_length
_MAX_PRICE = Decimal("9999999999.99")  # max_digits=12, decimal_places=2
_CENT = Decimal("0.01")
_MAX_INT = 2_147_483_647  # the largest integer every database's integer column holds
_MAX_WC_ID = 9_223_372_036_854_775_807
_INJECTION_TRIGGERS = ("'=", "'+", "'-", "'@", "'\t", "'\r")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_IMAGE_URL = re.compile(r"^(https?://[^\s]+|/[^/\s][^\s]*)$", re.IGNORECASE)
_BATCH = 500
_WRITE_BATCH = 2000  # rows written together (their products are in memory together)

# Labels of cells in row errors, translated only when an error shows them.
_LABELS = {
    "price": gettext_lazy("regular price"),
    "sale_price": gettext_lazy("sale price"),
    "sale_starts": gettext_lazy("sale start date"),
    "sale_ends": gettext_lazy("sale end date"),
    "in_stock": gettext_lazy("In stock?"),
    "published": gettext_lazy("Published"),
}

# Cells holding codes, numbers, dates and flags: read in NFKC (issue 13 item 6), so a
# full-width ``ｔ－ｄｕｐ`` is the SKU ``t-dup`` and ``２０２４－０１－１５`` a date. Names,
# descriptions, categories and image URLs are kept as written.
_CODE_FIELDS = frozenset(
    {
        "id",
        "type",
        "sku",
        "published",
        "visibility",
        "sale_starts",
        "sale_ends",
        "in_stock",
        "stock",
        "sale_price",
        "price",
        "parent",
        "position",
    }
)

_TRUE = {"1", "yes", "true", "y"}
_FALSE = {"0", "no", "false", "n"}


# --------------------------------------------------------------------------- messages

# The language of the report while the catalogue's language is active (set by
# import_products): names and descriptions are written in the catalogue language, the
# messages stay in the language of the person running the import.
_MESSAGES_LANGUAGE = contextvars.ContextVar("mall_import_messages_language", default=None)


def _(message):
    """``gettext`` in the language of the import's messages (see ``_MESSAGES_LANGUAGE``)."""
    language = _MESSAGES_LANGUAGE.get()
    if language is None or language == translation.get_language():
        return gettext(message)
    with translation.override(language):
        return gettext(message)


def ngettext(singular, plural, number):
    """``ngettext`` in the language of the import's messages (see ``_MESSAGES_LANGUAGE``)."""
    language = _MESSAGES_LANGUAGE.get()
    if language is None or language == translation.get_language():
        return _ngettext(singular, plural, number)
    with translation.override(language):
        return _ngettext(singular, plural, number)


# --------------------------------------------------------------------------- headers


def _header_key(title):
    """A header as compared: NFKC, any case, one space between words, plain apostrophes."""
    text = unicodedata.normalize("NFKC", title).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.casefold().split())


def _header_tables():
    columns, attributes = {}, []
    for name, header, _locale in wc_headers.all_headers():
        key = _header_key(header)
        if "{n}" in key:
            part = "name" if name == "attribute_name" else "value"
            pattern = re.escape(key).replace(re.escape("{n}"), r"(\d+)")
            attributes.append((re.compile(f"^{pattern}$"), part))
        else:
            columns.setdefault(key, name)
    return columns, attributes


_COLUMNS, _ATTRIBUTE_COLUMNS = _header_tables()
_FIELDS = tuple(dict.fromkeys(_COLUMNS.values()))


class RowError(Exception):
    """One row has bad data; ``str(error)`` is the reason shown in the report."""


@dataclass(frozen=True)
class RowNote:
    """A report entry about one CSV row: its first line number, SKU and the reason."""

    line: int
    sku: str
    reason: str

    def __str__(self):
        where = _("line %(line)d") % {"line": self.line}
        if self.sku:
            where += f" (SKU {self.sku})"
        return f"{where}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do).

    ``created``, ``updated`` (changed) and ``unchanged`` list SKUs; ``skipped``,
    ``rejected`` and ``warnings`` are :class:`RowNote` entries in line order.
    """

    dry_run: bool = False
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[RowNote] = field(default_factory=list)
    rejected: list[RowNote] = field(default_factory=list)
    warnings: list[RowNote] = field(default_factory=list)
    categories_created: list[str] = field(default_factory=list)

    @property
    def ok(self):
        """Whether no row was rejected."""
        return not self.rejected

    def summary(self):
        """The one-line summary, e.g. ``created 22, updated 0, skipped 2, rejected 0, ...``."""
        return _(
            "created %(created)d, updated %(updated)d, skipped %(skipped)d, "
            "rejected %(rejected)d, unchanged %(unchanged)d"
        ) % {
            "created": len(self.created),
            "updated": len(self.updated),
            "skipped": len(self.skipped),
            "rejected": len(self.rejected),
            "unchanged": len(self.unchanged),
        }


@dataclass(slots=True)
class _Row:
    """One parsed row (values converted and validated).

    ``present`` holds the fields whose column the file has: only those are written. A
    ``None`` in ``is_visible`` or ``in_stock`` means the row's cells say nothing.
    """

    line: int
    kind: str
    sku: str
    wc_id: int | None = None
    present: frozenset = frozenset()
    kind_given: bool = False
    name: str = ""
    short_description: str = ""
    description: str = ""
    price: Decimal | None = None
    sale_price: Decimal | None = None
    sale_starts: datetime.datetime | None = None
    sale_ends: datetime.datetime | None = None
    stock: int | None = None
    stock_from_parent: bool = False
    in_stock: bool | None = None
    is_visible: bool | None = None
    categories: list[tuple[str, ...]] = field(default_factory=list)
    image_urls: list[str] = field(default_factory=list)
    parent_ref: tuple[str, str | int] | None = None  # ("sku", "cc-hoodie") or ("id", 742)
    position: int = 0
    attributes_given: bool = False
    attributes: dict[str, str] = field(default_factory=dict)
    open_attributes: list[str] = field(default_factory=list)  # "any value" on a variation
    attribute_values: dict[str, list[str]] = field(default_factory=dict)  # on a parent
    ambiguous: list[tuple[str, _Ambiguous]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Filled in while resolving:
    product: _StoredProduct | None = None  # the stored product this row updates
    set_sku: bool = False  # matched by ID, and the file gives it a new SKU
    set_wc_id: bool = False
    parent_row: _Row | None = None
    parent_product: _StoredProduct | None = None
    # Filled in while writing, on a variable row: what its variations need of it.
    saved: _Parent | None = None

    @property
    def key(self):
        """The identity within the file: the SKU in lower case, else ``("id", ID)``."""
        return self.sku.lower() if self.sku else ("id", self.wc_id)


@dataclass(slots=True, eq=False)
class _StoredProduct:
    """What matching a row needs of a stored product, not the model instance itself.

    50,000 ``Product`` instances take about 150 MB (every translated text, the JSON fields
    decoded); the writer loads the instances a batch at a time (``_Writer``).
    """

    pk: int
    sku: str
    wc_id: int | None
    is_variable: bool
    parent_id: int | None


@dataclass(slots=True, frozen=True)
class _Parent:
    """A variable product as its variations are written: id, current name (in the run's
    language), attribute values."""

    pk: int
    name: str
    attribute_choices: dict

    @classmethod
    def of(cls, product):
        return cls(product.pk, product.name, product.attribute_choices)


# --------------------------------------------------------------------------- reading


def _clean(value):
    """Strip a cell and undo WooCommerce's spreadsheet-injection escape (``'=...``)."""
    value = (value or "").strip()
    if value[:2] in _INJECTION_TRIGGERS:
        value = value[1:]
    return value


def _unescape_entities(text):
    """Decode well-formed HTML entities (WordPress stores ``&`` in term names as ``&amp;``)."""
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def _split_list(value):
    """Split a WooCommerce list cell on unescaped commas; ``\\,`` is a literal comma."""
    if not value:
        return []
    parts = (part.replace("\\,", ",").strip() for part in _UNESCAPED_COMMA.split(value))
    return [part for part in parts if part]


def _description(value):
    """Turn the exporter's literal ``\\n`` back into line breaks (``\\\\n`` stays ``\\n``)."""
    parts = value.split("\\\\n")
    return "\\n".join(part.replace("\\n", "\n") for part in parts)


def _flag(value, label, *, default, extra_true=(), extra_false=()):
    text = value.strip().lower()
    if not text:
        return default
    if text in _TRUE or text in extra_true:
        return True
    if text in _FALSE or text in extra_false:
        return False
    raise RowError(_("unknown %(label)s value %(value)r") % {"label": label, "value": value})


def _kind(value):
    tokens = {token.strip().lower() for token in value.split(",") if token.strip()}
    unknown = tokens - _KINDS - _FLAGS
    if unknown:
        raise RowError(_("unknown product type %(type)r") % {"type": value})
    kinds = tokens & _KINDS
    if len(kinds) > 1:
        raise RowError(_("conflicting product types %(type)r") % {"type": value})
    return kinds.pop() if kinds else SIMPLE


@dataclass(frozen=True)
class _Ambiguous:
    """A price like ``1,250``: ``thousands`` if ``mark`` separates thousands, else ``decimal``."""

    text: str
    label: str
    mark: str
    thousands: Decimal
    decimal: Decimal

    def readings(self):
        return _(
            "%(label)s %(value)r is ambiguous: %(thousands)s if '%(mark)s' separates "
            "thousands, %(decimal)s if it is the decimal point; write it without a "
            "thousands separator"
        ) % {
            "label": self.label,
            "value": self.text,
            "mark": self.mark,
            "thousands": self.thousands,
            "decimal": self.decimal,
        }


class _Numbers:
    """Reads amounts and remembers which decimal mark the file's unambiguous ones use."""

    _SPACES = str.maketrans("", "", " \u00a0\u202f'")

    def __init__(self):
        self.decimal_marks = set()

    def decimal_mark(self):
        """The file's decimal mark (``.`` or ``,``), or ``None`` when unknown or mixed."""
        return next(iter(self.decimal_marks)) if len(self.decimal_marks) == 1 else None

    def amount(self, value, label):
        """``Decimal`` (2 places), ``None`` for a blank cell, or an :class:`_Ambiguous`."""
        if not value:
            return None
        text = value.translate(self._SPACES)
        sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
        number = self._read(digits, value, label)
        if isinstance(number, _Ambiguous):
            if sign:
                raise RowError(_("negative %(label)s %(value)s") % {"label": label, "value": value})
            return number
        return _checked_amount(Decimal(sign + str(number)) if sign else number, value, label)

    def _read(self, text, value, label):
        marks = [mark for mark in ",." if mark in text]
        if not marks:
            return self._plain(text, value, label)
        if len(marks) == 2:
            decimal = "," if text.rfind(",") > text.rfind(".") else "."
            group = "." if decimal == "," else ","
            whole, _sep, fraction = text.rpartition(decimal)
            if not re.fullmatch(rf"\d{{1,3}}(\{group}\d{{3}})*", whole) or not fraction.isdigit():
                raise _unparseable(label, value)
            self.decimal_marks.add(decimal)
            return self._plain(whole.replace(group, "") + "." + fraction, value, label)
        mark = marks[0]
        if text.count(mark) > 1:
            if not re.fullmatch(rf"\d{{1,3}}(\{mark}\d{{3}})+", text):
                raise _unparseable(label, value)
            self.decimal_marks.add("." if mark == "," else ",")
            return self._plain(text.replace(mark, ""), value, label)
        whole, _sep, fraction = text.partition(mark)
        if not fraction.isdigit() or (whole and not whole.isdigit()):
            raise _unparseable(label, value)
        if len(fraction) != 3 or whole in ("", "0"):
            self.decimal_marks.add(mark)
            return self._plain(f"{whole or 0}.{fraction}", value, label)
        return _Ambiguous(
            text=value,
            label=label,
            mark=mark,
            thousands=_checked_amount(Decimal(whole + fraction), value, label),
            decimal=_checked_amount(Decimal(f"{whole}.{fraction}"), value, label),
        )

    @staticmethod
    def _plain(text, value, label):
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise _unparseable(label, value) from None
        if not number.is_finite():
            raise _unparseable(label, value)
        return number


def _unparseable(label, value):
    return RowError(_("unparseable %(label)s %(value)r") % {"label": label, "value": value})


def _checked_amount(number, value, label):
    if number < 0:
        raise RowError(_("negative %(label)s %(value)s") % {"label": label, "value": value})
    if number > _MAX_PRICE:
        raise RowError(_("%(label)s %(value)s is too large") % {"label": label, "value": value})
    return number.quantize(_CENT, rounding=ROUND_HALF_UP)


_GROUPED_INTEGER = re.compile(r"-?\d{1,3}([,.]\d{3})+")


def _stock(value, row):
    """Set ``row.stock`` / ``row.stock_from_parent`` from a ``Stock`` cell.

    Blank: not tracked. ``parent``: counted on the parent. A negative figure (oversold in
    the source shop) becomes 0 with a warning. ``1,250`` is 1250 (a stock is whole).
    """
    text = value.translate(_Numbers._SPACES)
    if not text:
        row.stock = None
        return
    if text.casefold() == "parent":
        row.stock_from_parent = True
        row.stock = None
        return
    if _GROUPED_INTEGER.fullmatch(text):
        text = text.replace(",", "").replace(".", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RowError(_("unparseable stock %(value)r") % {"value": value}) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise RowError(_("unparseable stock %(value)r") % {"value": value})
    if number > _MAX_INT:
        raise RowError(_("stock %(value)s is too large") % {"value": value})
    if number < 0:
        if number < -_MAX_INT:
            raise RowError(_("unparseable stock %(value)r") % {"value": value})
        row.warnings.append(
            _("stock %(value)s: oversold by %(n)d in the source shop; imported as 0")
            % {"value": value, "n": -int(number)}
        )
        number = Decimal(0)
    row.stock = int(number)


def _shop_tz():
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


_DATE = re.compile(
    r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,6})\d*)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)?"
)


def _date(value, label, *, end_of_day):
    """Parse a sale date as WooCommerce and its plugins write it, in the shop's time zone.

    ``2024-01-15`` (a day: its start, or for an end the whole day), ``2024-01-15 0:00``,
    ``2024-01-15 00:00:00``, ``2024-01-15T00:00:00+08:00``, ``2024/01/15 0:00`` or a
    Unix timestamp (seconds, as WooCommerce stores them). Raises :class:`RowError`.
    """
    text = value.strip()
    if not text:
        return None
    if text.isdigit() and 9 <= len(text) <= 11:
        return datetime.datetime.fromtimestamp(int(text), tz=datetime.UTC)
    match = _DATE.fullmatch(text)
    try:
        if not match:
            raise ValueError(text)
        parts = match.groupdict()
        day = datetime.date(int(parts["y"]), int(parts["m"]), int(parts["d"]))
        if parts["H"] is None:
            moment = datetime.datetime.combine(
                day, datetime.time.max if end_of_day else datetime.time.min
            )
        else:
            moment = datetime.datetime.combine(
                day,
                datetime.time(
                    int(parts["H"]),
                    int(parts["M"]),
                    int(parts["S"] or 0),
                    int((parts["f"] or "0").ljust(6, "0")),
                ),
            )
        tz = parts["tz"]
        if tz:
            offset = 0 if tz == "Z" else int(tz[1:3]) * 60 + int(tz[-2:])
            sign = -1 if tz.startswith("-") else 1
            zone = datetime.timezone(datetime.timedelta(minutes=sign * offset))
            return moment.replace(tzinfo=zone)
    except ValueError:
        raise RowError(
            _("unparseable %(label)s %(value)r (expected YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS])")
            % {"label": label, "value": value}
        ) from None
    return moment.replace(tzinfo=_shop_tz())


def _categories(value):
    paths = []
    for item in _split_list(value):
        path = tuple(_unescape_entities(part.strip()) for part in item.split(">") if part.strip())
        if not path:
            continue
        if any(len(name) > _CATEGORY_NAME_MAX for name in path):
            raise RowError(
                _("category name longer than %(max)d characters") % {"max": _CATEGORY_NAME_MAX}
            )
        if path not in paths:
            paths.append(path)
    return paths


class _Reader:
    """Maps a file's header to our fields and yields its rows as cleaned text.

    Iterating yields ``(line, {field: text}, {number: {"name"|"value": text}}, extra,
    formulas)`` for each non-blank row, ``formulas`` naming the used columns (as the
    header writes them) whose XLSX cell is a formula without a stored result;
    ``present`` is the set of fields the header has.
    """

    def __init__(self, table):
        self.table = table
        try:
            _line, header = next(table)
        except StopIteration:
            raise ImportFileError(_("the file is empty")) from None
        self.columns = {}  # index -> field name
        self.attribute_columns = {}  # index -> (number, "name" | "value")
        for index, title in enumerate(header):
            key = _header_key(title)
            name = _COLUMNS.get(key)
            if name and name not in self.columns.values():
                self.columns[index] = name
                continue
            for pattern, part in _ATTRIBUTE_COLUMNS:
                match = pattern.match(key)
                if match:
                    self.attribute_columns[index] = (int(match.group(1)), part)
                    break
        if not any(cell.strip() for cell in header):
            raise ImportFileError(_("the file is empty"))
        self.present = frozenset(self.columns.values())
        if not self.present & {"sku", "id"}:
            shown = ", ".join(cell.strip() for cell in header[:6] if cell.strip())
            raise ImportFileError(
                _(
                    "not a WooCommerce product export: no SKU or ID column (the header "
                    "reads: %(header)s)"
                )
                % {"header": shown}
            )
        self.width = len(header)
        self.titles = [cell.strip() for cell in header]

    def __iter__(self):
        codes = _CODE_FIELDS
        used = self.columns.keys() | self.attribute_columns.keys()
        for line, cells in self.table:
            unvalued = getattr(cells, "unvalued", ())
            if not unvalued and not "".join(cells).strip():
                continue
            values = dict.fromkeys(self.present, "")
            for index, name in self.columns.items():
                if index < len(cells):
                    cell = cells[index]
                    values[name] = _clean(normalize_typed(cell) if name in codes else cell)
            attributes = {}
            for index, (number, part) in self.attribute_columns.items():
                if index < len(cells):
                    attributes.setdefault(number, {})[part] = _clean(cells[index])
            extra = [cell for cell in cells[self.width :] if cell.strip()]
            formulas = [self.titles[index] for index in unvalued if index in used]
            yield line, values, attributes, extra, formulas


def _parse(line, values, attributes, extra, present, numbers, formulas=()):
    """Convert one row's cells to a :class:`_Row`; raise :class:`RowError` on bad data."""
    text = "".join(values.values()) + "".join(
        v for parts in attributes.values() for v in parts.values()
    )
    if "\x00" in text:
        # No database text column can hold NUL (PostgreSQL refuses it outright).
        raise RowError(_("the row contains a NUL character"))
    kind_text = values.get("type", "")
    kind = _kind(kind_text) if kind_text else SIMPLE
    row = _Row(
        line=line,
        kind=kind,
        sku=values.get("sku", ""),
        present=present,
        kind_given=bool(kind_text),
        attributes_given=bool(attributes),
    )
    if kind in (GROUPED, EXTERNAL):
        return row  # skipped by the caller; its other cells do not matter
    if extra:
        raise RowError(_("the row has more cells than the header (a quoting problem?)"))
    if formulas:
        # Its result is not in the file (openpyxl and some tools write formulas only):
        # reading the cell as empty would clear a price or stock without a word.
        raise RowError(
            ngettext(
                "%(columns)s is a formula without a value: save the file in Excel or "
                "LibreOffice first (which stores the results) or paste values only",
                "%(columns)s are formulas without a value: save the file in Excel or "
                "LibreOffice first (which stores the results) or paste values only",
                len(formulas),
            )
            % {"columns": ", ".join(formulas)}
        )
    wc_id = values.get("id", "")
    if wc_id:
        if not wc_id.isdigit() or not 0 < int(wc_id) <= _MAX_WC_ID:
            raise RowError(_("unparseable ID %(value)r") % {"value": wc_id})
        row.wc_id = int(wc_id)
    if not row.sku and row.wc_id is None:
        raise RowError(_("no SKU and no ID"))
    if len(row.sku) > _SKU_MAX:
        raise RowError(_("SKU longer than %(max)d characters") % {"max": _SKU_MAX})
    row.name = _unescape_entities(values.get("name", ""))
    if len(row.name) > _NAME_MAX:
        raise RowError(_("name longer than %(max)d characters") % {"max": _NAME_MAX})
    row.short_description = _description(values.get("short_description", ""))
    row.description = _description(values.get("description", ""))
    for name in ("price", "sale_price"):
        amount = numbers.amount(values.get(name, ""), _LABELS[name])
        if isinstance(amount, _Ambiguous):
            row.ambiguous.append((name, amount))
        else:
            setattr(row, name, amount)
    row.sale_starts = _date(values.get("sale_starts", ""), _LABELS["sale_starts"], end_of_day=False)
    row.sale_ends = _date(values.get("sale_ends", ""), _LABELS["sale_ends"], end_of_day=True)
    if row.sale_starts and row.sale_ends and row.sale_ends < row.sale_starts:
        raise RowError(_("the sale ends before it starts"))
    _stock(values.get("stock", ""), row)
    if row.stock_from_parent and row.kind_given and kind != VARIATION:
        raise RowError(_("Stock 'parent' on a product that is not a variation"))
    if values.get("in_stock", ""):
        row.in_stock = _flag(
            values["in_stock"],
            _LABELS["in_stock"],
            default=True,
            extra_true={"instock", "backorder", "onbackorder"},
            extra_false={"outofstock"},
        )
    says = []
    if values.get("published", ""):
        says.append(
            _flag(
                values["published"],
                _LABELS["published"],
                default=True,
                extra_true={"publish"},
                extra_false={"-1", "draft", "private", "pending"},
            )
        )
    visibility = values.get("visibility", "").lower()
    if visibility:
        if visibility not in {"visible", "catalog", "search", "hidden"}:
            raise RowError(
                _("unknown catalogue visibility %(value)r") % {"value": values["visibility"]}
            )
        says.append(visibility != "hidden")
    row.is_visible = all(says) if says else None
    row.categories = _categories(values.get("categories", ""))
    for url in dict.fromkeys(_split_list(values.get("images", ""))):
        if _IMAGE_URL.match(url):
            row.image_urls.append(url)
        else:
            row.warnings.append(_("image %(url)r is not an http(s) URL: ignored") % {"url": url})
    try:
        row.position = int(values.get("position", "") or 0)
    except ValueError:
        raise RowError(
            _("unparseable position %(value)r") % {"value": values["position"]}
        ) from None
    if abs(row.position) > _MAX_INT:
        raise RowError(_("position %(value)s is too large") % {"value": values["position"]})
    parent = values.get("parent", "")
    if kind == VARIATION and parent:
        if parent.lower().startswith("id:"):
            number = parent[3:].strip()
            if not number.isdigit() or not 0 < int(number) <= _MAX_WC_ID:
                raise RowError(_("unparseable Parent %(value)r") % {"value": parent})
            row.parent_ref = ("id", int(number))
        else:
            row.parent_ref = ("sku", parent)
    for number in sorted(attributes):
        name = _unescape_entities(attributes[number].get("name", ""))
        value = attributes[number].get("value", "")
        if not name:
            continue
        if kind == VARIATION:
            if value:
                row.attributes[name] = _unescape_entities(value.replace("\\,", ","))
            else:
                # A blank value means "any" in WooCommerce: the customer chooses it.
                row.open_attributes.append(name)
        elif kind == VARIABLE:
            row.attribute_values[name] = [_unescape_entities(v) for v in _split_list(value)]
    return row


def _check_sale(row):
    """As in WooCommerce, a sale price applies only below a regular price (same row)."""
    if row.kind == VARIABLE or row.sale_price is None or "price" not in row.present:
        return
    if row.price is None:
        row.warnings.append(_("sale price without a regular price: ignored"))
        row.sale_price = None
    elif row.sale_price >= row.price:
        row.warnings.append(_("sale price not below the regular price: ignored"))
        row.sale_price = None


def _read(path, report):
    """Parse every row of the file (pass one); bad rows go to ``report.rejected``.

    Returns the rows in file order; a rejected row stays as a placeholder of kind
    ``"rejected"`` so that variations naming it say so.
    """
    reader = _Reader(open_table(path))
    limit = settings.MALL_IMPORT_MAX_ROWS
    numbers = _Numbers()
    rows, seen, count = [], {}, 0
    for line, values, attributes, extra, formulas in reader:
        count += 1
        if count > limit:
            raise ImportFileError(
                _(
                    "the file has more than %(limit)d rows (MALL_IMPORT_MAX_ROWS); split "
                    "it into smaller files"
                )
                % {"limit": limit}
            )
        sku = values.get("sku", "")
        try:
            row = _parse(line, values, attributes, extra, reader.present, numbers, formulas)
        except RowError as error:
            report.rejected.append(RowNote(line, sku, str(error)))
            wc_id = values.get("id", "")
            wc_id = int(wc_id) if wc_id.isdigit() and int(wc_id) <= _MAX_WC_ID else None
            rows.append(_Row(line=line, kind=_REJECTED, sku=sku, wc_id=wc_id))
            continue
        if row.kind in (GROUPED, EXTERNAL):
            reason = (
                _("grouped product: a set of other products, not sold itself")
                if row.kind == GROUPED
                else _("external product: sold on another website")
            )
            report.skipped.append(RowNote(line, sku, reason))
            rows.append(row)
            continue
        earlier = seen.get(row.key)
        if earlier is not None:
            if earlier.sku != row.sku:
                row.warnings.append(
                    _(
                        "SKU %(sku)s is %(other)s of line %(line)d in another letter case: "
                        "this row updates the same product"
                    )
                    % {"sku": row.sku, "other": earlier.sku, "line": earlier.line}
                )
            else:
                row.warnings.append(
                    _("the same product as line %(line)d: this later row updates it")
                    % {"line": earlier.line}
                )
            rows[rows.index(earlier)] = _Row(line=earlier.line, kind="superseded", sku="")
        seen[row.key] = row
        rows.append(row)
    if not count:
        raise ImportFileError(_("the file has a header but no product rows"))

    mark = numbers.decimal_mark()
    for index, row in enumerate(rows):
        try:
            for name, amount in row.ambiguous:
                if mark is None:
                    raise RowError(amount.readings())
                number = amount.decimal if amount.mark == mark else amount.thousands
                setattr(row, name, number)
                row.warnings.append(
                    _(
                        "%(label)s %(value)r read as %(amount)s: the file's other prices "
                        "use '%(mark)s' as the decimal point"
                    )
                    % {"label": amount.label, "value": amount.text, "amount": number, "mark": mark}
                )
        except RowError as error:
            report.rejected.append(RowNote(row.line, row.sku, str(error)))
            rows[index] = _Row(line=row.line, kind=_REJECTED, sku=row.sku, wc_id=row.wc_id)
            continue
        _check_sale(row)
    rows = [row for row in rows if row.kind != "superseded"]
    for row in rows:
        report.warnings += [RowNote(row.line, row.sku, warning) for warning in row.warnings]
        row.warnings = []
    return rows


# --------------------------------------------------------------------------- writing


class _Categories:
    """All categories in memory, creating missing nodes of a ``>`` path on demand."""

    def __init__(self, report):
        self.report = report
        self.by_key = {}
        self.slugs = set()
        for category in Category.objects.all():
            self.by_key[(category.parent_id, category.name)] = category
            self.slugs.add(category.slug)

    def resolve(self, path):
        """Return the leaf :class:`Category` of ``path`` (a tuple of names), creating nodes."""
        parent = None
        for name in path:
            key = (parent.pk if parent else None, name)
            node = self.by_key.get(key)
            if node is None:
                node = Category.objects.create(
                    name=name, parent=parent, slug=self._slug(name, parent)
                )
                self.by_key[key] = node
                self.slugs.add(node.slug)
                self.report.categories_created.append(node.full_name)
            parent = node
        return parent

    def _slug(self, name, parent):
        base = slugify(name, allow_unicode=True)[:200] or "category"
        candidates = [base]
        if parent is not None:
            candidates.append(f"{parent.slug}-{base}"[:200])
        for candidate in candidates:
            if candidate not in self.slugs:
                return candidate
        number = 2
        while f"{base}-{number}" in self.slugs:
            number += 1
        return f"{base}-{number}"


_PRODUCT_FIELDS = (
    "sku",
    "wc_id",
    "name",
    "short_description",
    "description",
    "price",
    "sale_price",
    "sale_starts",
    "sale_ends",
    "stock",
    "stock_from_parent",
    "in_stock",
    "is_visible",
    "is_variable",
    "parent",
    "attributes",
    "attribute_choices",
    "image_urls",
    "position",
)


def _desired(row, parent):
    """The field values a row sets (``parent``: a variation's parent product).

    Only fields whose column the file has (``row.present``) are included, so a partial
    file leaves the others alone; see the module docstring for what an empty cell does.
    """
    present, product = row.present, row.product
    variable, variation = row.kind == VARIABLE, row.kind == VARIATION
    values = {}
    if row.set_sku:
        values["sku"] = row.sku
    if row.set_wc_id:
        values["wc_id"] = row.wc_id
    if row.kind_given or product is None:
        values["is_variable"] = variable
        values["parent"] = parent if variation else None
    if variation:
        # WooCommerce names a variation "Hoodie - Red, No" after the parent's name when it
        # was created; we keep the parent's current name and the attribute values apart.
        values["name"] = parent.name
    elif row.name:
        values["name"] = row.name
    for name in ("short_description", "description"):
        if name in present:
            values[name] = getattr(row, name)
    for name in ("price", "sale_price", "sale_starts", "sale_ends"):
        if variable:
            values[name] = None  # a variable product has no price of its own
        elif name in present:
            values[name] = getattr(row, name)
    if "stock" in present:
        values["stock"] = row.stock
        values["stock_from_parent"] = row.stock_from_parent
    if row.in_stock is not None:
        values["in_stock"] = row.in_stock
    if row.is_visible is not None:
        values["is_visible"] = row.is_visible
    if variation and (row.attributes_given or product is None):
        values["attributes"] = row.attributes
        values["attribute_choices"] = _choices(row, parent)
    elif variable and (row.attributes_given or product is None):
        values["attributes"] = {}
        values["attribute_choices"] = row.attribute_values
    elif not (variable or variation) and (row.kind_given or product is None):
        values["attributes"] = {}
        values["attribute_choices"] = {}
    if "images" in present:
        values["image_urls"] = row.image_urls
    if "position" in present:
        values["position"] = row.position
    return values


def _choices(row, parent):
    """``{attribute: [values]}`` a variation leaves to the customer ("any value")."""
    listed = row.parent_row.attribute_values if row.parent_row else parent.attribute_choices
    choices = {}
    for name in row.open_attributes:
        options = (listed or {}).get(name) or []
        if options:
            choices[name] = list(options)
        else:
            row.warnings.append(
                _("%(name)s is 'any value' but the parent lists no values for it: ignored")
                % {"name": name}
            )
    return choices


def _chunks(items, size=_BATCH):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _NewProducts:
    """Builds unsaved products from field values exactly as ``Product(**values)`` would.

    ``Product(**values)`` goes through django-modeltranslation's constructor, which looks
    up the translated column of every keyword, and Django computes each translated
    column's default under a language override: together about 0.1 ms of CPU a product,
    a third of a 50,000-row first import. Django's positional constructor (the one it
    uses for rows read from the database) takes the values in column order and does
    neither; the defaults are computed once here (a callable default such as ``dict`` is
    called for each product, so no two share one). A translated field's value goes to
    the field and to its column in the active language, as the keyword constructor puts
    it; a ``parent`` given as a ``Product`` is set through its descriptor, so the parent
    object is cached as well (the importer gives a :class:`_Parent`: its id only).
    Build within the language of the run (``translation.override``).
    """

    def __init__(self):
        fields = Product._meta.concrete_fields
        slot = {f.attname: index for index, f in enumerate(fields)}
        self.template, self.factories = [], []
        for index, f in enumerate(fields):
            if f.has_default() and callable(f.default):
                self.factories.append((index, f.default))
                self.template.append(None)
            else:
                self.template.append(f.get_default())
        self.slots = {}
        for name in (*_PRODUCT_FIELDS, "slug"):
            if name == "parent":
                continue
            (column,) = localized_fields(Product, [name])
            self.slots[name] = (slot[name],) if column == name else (slot[name], slot[column])
        self.parent_slot = slot["parent_id"]

    def build(self, values):
        """A new :class:`Product` with ``values`` (``{field: value}``), other fields default."""
        args = self.template.copy()
        for index, factory in self.factories:
            args[index] = factory()
        parent = values.get("parent")
        for name, value in values.items():
            if name != "parent":
                for index in self.slots[name]:
                    args[index] = value
        if parent is not None:
            args[self.parent_slot] = parent.pk
        product = Product(*args)
        if "parent" in values and (parent is None or isinstance(parent, Product)):
            product.parent = parent
        return product


class _Writer:
    """Creates and updates products in a few bulk queries per batch of rows.

    A batch's stored products are loaded when it is written and let go after it, as are
    the products it creates: a 50,000-row file never has 50,000 ``Product`` instances in
    memory at once (about 150 MB). All batches run in the import's one transaction.
    """

    def __init__(self, report):
        self.report = report
        self.slugs = set(Product.objects.order_by().values_list("slug", flat=True))
        self.categories = _Categories(report)
        self.through = Product.categories.through
        self.blanks = _NewProducts()

    def write(self, rows, parents):
        """Write ``rows`` (same kind group); ``parents`` maps a variation row's line to its
        parent (a :class:`_Parent`).

        Sets ``row.saved`` on variable rows. Returns the ids of the stored variable
        products whose name changed.
        """
        now = timezone.now()
        renamed = []
        for batch in _chunks(rows, _WRITE_BATCH):
            renamed += self._write_batch(batch, parents, now)
        return renamed

    def _write_batch(self, rows, parents, now):
        stored = {}
        for batch in _chunks({row.product.pk for row in rows if row.product is not None}):
            for product in Product.objects.filter(pk__in=batch).order_by():
                stored[product.pk] = product
        to_create, to_update, changed, renamed = [], [], set(), []
        written, wanted = {}, {}
        for row in rows:
            parent = parents.get(row.line)
            values = _desired(row, parent)
            if row.product is None:
                values["sku"] = row.sku
                values["slug"] = self._slug(values.get("name") or row.sku, row.sku)
                product = self.blanks.build(values)
                to_create.append(product)
            else:
                # Two rows of a file may update one product (one by SKU, one by ID): they
                # share the instance, so the later one sees the earlier one's changes.
                product = stored[row.product.pk]
                diff = [name for name in values if _differs(product, name, values[name])]
                if "name" in diff and product.is_variable:
                    renamed.append(product.pk)
                for name in diff:
                    if name == "parent":
                        product.parent_id = values[name].pk if values[name] else None
                    else:
                        setattr(product, name, values[name])
                if diff:
                    product.updated_at = now
                    to_update.append((product, tuple(diff)))
                    changed.add(row.line)
            written[row.line] = product
            if "categories" in row.present:
                wanted[row.line] = (
                    product,
                    {self.categories.resolve(path).pk for path in row.categories},
                )
        _insert_rows(to_create, now)
        groups = {}
        for product, fields in to_update:
            groups.setdefault(fields, []).append(product)
        for fields, products in groups.items():
            # Only the fields that changed: a price file rewrites prices, nothing else.
            _update_rows(products, localized_fields(Product, [*fields, "updated_at"]))
        created = {id(p) for p in to_create}
        changed |= self._sync_categories(wanted, created)
        for row in rows:
            product = written[row.line]
            if row.kind == VARIABLE:
                row.saved = _Parent.of(product)
            if id(product) in created:
                self.report.created.append(row.sku)
            elif row.line in changed:
                self.report.updated.append(row.sku)
            else:
                self.report.unchanged.append(row.sku)
        return renamed

    def _sync_categories(self, wanted, created):
        """Make each product's categories exactly the wanted set; return lines that changed."""
        # New products have no categories yet: only stored ones need reading.
        ids = [product.pk for product, _c in wanted.values() if id(product) not in created]
        current = {}
        for batch in _chunks(ids):
            pairs = self.through.objects.filter(product_id__in=batch).values_list(
                "product_id", "category_id"
            )
            for product_id, category_id in pairs:
                current.setdefault(product_id, set()).add(category_id)
        add, remove, changed, touched = [], [], set(), []
        for line, (product, categories) in wanted.items():
            have = current.get(product.pk, set())
            if have == categories:
                continue
            add += [self.through(product_id=product.pk, category_id=c) for c in categories - have]
            remove += [(product.pk, c) for c in have - categories]
            if id(product) not in created:
                changed.add(line)
                touched.append(product.pk)
        if add:
            self.through.objects.bulk_create(add, batch_size=_BATCH)
        for batch in _chunks(remove):
            condition = Q()
            for product_id, category_id in batch:
                condition |= Q(product_id=product_id, category_id=category_id)
            self.through.objects.filter(condition).delete()
        for batch in _chunks(touched):
            Product.objects.filter(pk__in=batch).update(updated_at=timezone.now())
        return changed

    def _slug(self, name, sku):
        base = slugify(name, allow_unicode=True)[: _SLUG_MAX - 10].strip("-")
        base = base or slugify(sku, allow_unicode=True)[: _SLUG_MAX - 10] or "product"
        slug, number = base, 2
        while slug in self.slugs:
            slug = f"{base}-{number}"
            number += 1
        self.slugs.add(slug)
        return slug


# Field types whose Python value (str, int, bool or None, as the importer builds them) is
# what the database adapter takes: no per-value conversion needed.
_PLAIN_TYPES = {
    "CharField",
    "SlugField",
    "TextField",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "BooleanField",
    "ForeignKey",
}


def _converter(field, db):
    if field.get_internal_type() in _PLAIN_TYPES:
        return None
    return lambda value: field.get_db_prep_save(value, db)


def _db():
    """The default connection itself: ``django.db.connection`` is a proxy whose every
    attribute access looks the connection up again (measurable over 100,000 values)."""
    return connections[DEFAULT_DB_ALIAS]


def _insert_rows(products, now):
    """Insert new ``products`` with multi-row ``INSERT`` statements; set their ``pk``.

    What ``bulk_create`` does, without its per-value SQL compilation, which for 50,000
    products costs seconds of CPU (most of a large first import): values of plain fields
    go to the database adapter as they are, the others through the field's own
    ``get_db_prep_save`` (``None`` stays ``None``, and the ``auto_now`` time stamps are
    converted once). Each product's values are read from the instance itself: a new
    product (``_NewProducts``) has its texts in the run's language only, which is what
    the translated fields' descriptors would return. Ids come back with the statement
    (``RETURNING``, in the order of the rows, as ``bulk_create`` relies on) where the
    database supports it, else they are read back by SKU.
    """
    if not products:
        return
    db = _db()
    fields = [f for f in Product._meta.concrete_fields if not f.primary_key]
    stamps = {f.attname for f in fields if getattr(f, "auto_now", False)}
    stamps |= {f.attname for f in fields if getattr(f, "auto_now_add", False)}
    converters = []
    for f in fields:
        convert = _converter(f, db)
        if f.attname in stamps:
            stamp = now if convert is None else convert(now)
            convert = lambda _value, stamp=stamp: stamp  # noqa: E731
        converters.append((f.attname, convert))
    limit = db.features.max_query_params or 65_535
    per_statement = max(1, min(_BATCH, limit // len(fields)))
    quote = db.ops.quote_name
    returning = db.features.can_return_rows_from_bulk_insert
    pk_column = quote(Product._meta.pk.column)
    head = (
        f"INSERT INTO {quote(Product._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) "
    )
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # PostgreSQL: one array per column, ``SELECT * FROM UNNEST(...)``, as Django's own
    # bulk_create does there. A VALUES list of 15,000 placeholders costs psycopg a
    # regular-expression pass per statement (seconds over 50,000 products); 30 arrays
    # cost nothing to parse, and the rows come back in order.
    unnest = db.vendor == "postgresql"
    if unnest:
        per_statement = _BATCH * 4
        arrays = ", ".join(f"(%s)::{f.db_type(db).split('(')[0]}[]" for f in fields)
    for product in products:
        for attname in stamps:
            setattr(product, attname, now)
    with db.cursor() as cursor:
        for batch in _chunks(products, per_statement):
            params = []
            for product in batch:
                values = product.__dict__
                for attname, convert in converters:
                    value = values[attname]
                    params.append(value if convert is None or value is None else convert(value))
            if unnest:
                width = len(fields)
                params = [params[column::width] for column in range(width)]
                sql = f"{head}SELECT * FROM UNNEST({arrays})"
            else:
                sql = head + "VALUES " + ", ".join([row] * len(batch))
            if returning:
                cursor.execute(f"{sql} RETURNING {pk_column}", params)
                for product, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                    product.pk = pk
            else:
                cursor.execute(sql, params)
    if not returning:
        for batch in _chunks(products):
            skus = [p.sku for p in batch]
            ids = dict(Product.objects.filter(sku__in=skus).values_list("sku", "pk"))
            for product in batch:
                product.pk = ids[product.sku]
    for product in products:
        product._state.adding = False
        product._state.db = db.alias


def _update_rows(products, names):
    """Write fields ``names`` of stored ``products``: one ``UPDATE … WHERE id`` each, sent
    with ``executemany``.

    Django's ``bulk_update`` builds one ``CASE WHEN id = … THEN …`` per field and batch,
    which costs about 0.5 ms of CPU per product (10 s for a 20,000-row price file); a
    prepared statement repeated costs a twentieth of that. Values are converted by each
    field's own ``get_db_prep_save``, as ``save()`` converts them.
    """
    db = _db()
    fields = [Product._meta.get_field(name) for name in names]
    converters = [_converter(f, db) for f in fields]
    quote = db.ops.quote_name
    sql = (
        f"UPDATE {quote(Product._meta.db_table)} SET "
        + ", ".join(f"{quote(f.column)} = %s" for f in fields)
        + f" WHERE {quote(Product._meta.pk.column)} = %s"
    )
    with db.cursor() as cursor:
        for batch in _chunks(products):
            rows = []
            for product in batch:
                values = [getattr(product, f.attname) for f in fields]
                rows.append(
                    [v if c is None else c(v) for v, c in zip(values, converters, strict=True)]
                    + [product.pk]
                )
            cursor.executemany(sql, rows)


def _differs(product, name, value):
    if name == "parent":
        return product.parent_id != (value.pk if value else None)
    return getattr(product, name) != value


# --------------------------------------------------------------------------- entry point


def import_products(path, *, dry_run=False, language=None):
    """Import a WooCommerce product export (CSV or XLSX) into the catalogue.

    ``path`` is a file path (str or Path). Returns an :class:`ImportReport`. Rows with bad
    data are listed in ``report.rejected`` (with their first line number) and not
    imported; the other rows are, all in one transaction, which ``dry_run=True`` rolls
    back. Raises :class:`ImportFileError` when the file as a whole cannot be used (then
    nothing is written): missing, a folder, unreadable, empty, header only, not UTF-8,
    no SKU or ID column, more rows than ``MALL_IMPORT_MAX_ROWS``. Safe to repeat:
    products are matched by SKU (any letter case), then by WooCommerce ID.

    ``language`` (a code of ``LANGUAGES``, default the active one) is the language of the
    file's names and descriptions: they fill that language's texts only, so importing the
    same catalogue in each language (matched by SKU) gives it both
    (``mall.import_languages`` pairs the categories).
    """
    messages = translation.get_language()
    language = language or messages
    report = ImportReport(dry_run=dry_run)
    rows = _read(Path(path), report)
    token = _MESSAGES_LANGUAGE.set(messages)
    try:
        # The catalogue language chooses the columns written (mall.translation); the
        # messages stay in the caller's language (``_``).
        with translation.override(language), transaction.atomic():
            name_categories(rows, language)
            _import(rows, report)
            if dry_run:
                transaction.set_rollback(True)
    finally:
        _MESSAGES_LANGUAGE.reset(token)
    report.skipped.sort(key=lambda note: note.line)
    report.rejected.sort(key=lambda note: note.line)
    report.warnings.sort(key=lambda note: note.line)
    return report


class _Stored:
    """The stored products a file may touch, by SKU (lower case) and by WooCommerce ID.

    Each is a :class:`_StoredProduct` (id, SKU, ID, whether variable, parent id): enough
    to match rows and resolve parents; the writer loads the model instances.
    """

    _FIELDS = ("pk", "sku", "wc_id", "is_variable", "parent_id")

    def __init__(self, skus, wc_ids):
        self.by_key, self.by_id, self.by_pk = {}, {}, {}

        def keep(query, replace=False):
            for values in query.order_by().values_list(*self._FIELDS):
                if replace or values[0] not in self.by_pk:
                    self.by_pk[values[0]] = _StoredProduct(*values)

        for batch in _chunks(skus):
            # Lower() for other spellings (the unique index on Lower(sku) serves it); the
            # exact SKUs too where they are not ASCII, because SQLite's lower() changes
            # ASCII letters only ("À" stays "À").
            condition = Q(sku_key__in={sku.lower() for sku in batch})
            exotic = [sku for sku in batch if not sku.isascii()]
            if exotic:
                condition |= Q(sku__in=exotic)
            keep(Product.objects.alias(sku_key=Lower("sku")).filter(condition))
        # Products of rows that name them by ID only (or by an ID whose SKU changed).
        known = {product.wc_id for product in self.by_pk.values()}
        for batch in _chunks(wc_id for wc_id in wc_ids if wc_id not in known):
            keep(Product.objects.filter(wc_id__in=batch))
        missing = {p.parent_id for p in self.by_pk.values() if p.parent_id} - set(self.by_pk)
        for batch in _chunks(missing):
            keep(Product.objects.filter(pk__in=batch), replace=True)
        for product in self.by_pk.values():
            self.by_key[product.sku.lower()] = product
            if product.wc_id is not None:
                self.by_id[product.wc_id] = product

    def parent_of(self, product):
        """The stored parent of a stored variation (loaded with the file's products)."""
        return self.by_pk[product.parent_id]


def _generated_sku(row):
    return f"WC-{row.wc_id}"


def _import(rows, report):
    """Match rows to stored products, resolve parents (pass two), write: parents first."""
    live = [row for row in rows if row.kind in (SIMPLE, VARIABLE, VARIATION)]
    keys = {row.sku for row in live if row.sku}
    keys |= {_generated_sku(row) for row in live if not row.sku}
    keys |= {row.parent_ref[1] for row in live if row.parent_ref and row.parent_ref[0] == "sku"}
    wc_ids = {row.wc_id for row in live if row.wc_id is not None}
    wc_ids |= {row.parent_ref[1] for row in live if row.parent_ref and row.parent_ref[0] == "id"}
    stored = _Stored(keys, wc_ids)

    def reject(row, reason):
        report.rejected.append(RowNote(row.line, row.sku, reason))
        row.kind = _REJECTED

    for row in live:
        reason = _match(row, stored)
        if reason:
            reject(row, reason)
    by_key, by_id = {}, {}
    for row in rows:
        # A row accepted under a SKU or ID wins over a rejected row naming the same one.
        for index, key in ((by_key, row.sku.lower()), (by_id, row.wc_id)):
            if key and (key not in index or index[key].kind == _REJECTED):
                index[key] = row

    products, variations = [], []
    for row in live:
        if row.kind == _REJECTED:
            continue
        if row.kind == VARIATION:
            reason = _resolve_parent(row, by_key, by_id, stored)
            if reason:
                reject(row, reason)
                continue
            variations.append(row)
        elif row.stock_from_parent:
            reject(row, _("Stock 'parent' on a product that is not a variation"))
        elif row.product is None and not row.name:
            reject(row, _("no name"))
        else:
            products.append(row)

    writer = _Writer(report)
    renamed = writer.write(products, {})
    parents = _parents(variations)
    for row in variations:
        if row.line not in parents:
            how, ref = row.parent_ref
            reject(
                row,
                _("its parent %(parent)s (line %(line)d) was rejected")
                % {"parent": f"id:{ref}" if how == "id" else ref, "line": row.parent_row.line},
            )
    writer.write([row for row in variations if row.line in parents], parents)
    for row in live:
        report.warnings += [RowNote(row.line, row.sku, warning) for warning in row.warnings]
    _rename_variations(renamed, report)


def _parents(variations):
    """``{line: _Parent}`` for variation rows, read after their parents were written.

    A parent row of the file gives its own (``row.saved``); a stored parent is read from
    the database, so it has the name a row of this file may just have given it. A
    variation whose parent row was rejected after the variation was resolved is left out.
    """
    stored = {}
    for row in variations:
        target = row.parent_row
        if target is not None and target.saved is None and target.product is not None:
            stored[row.line] = target.product.pk  # a stored parent whose row was rejected
        elif target is None:
            stored[row.line] = row.parent_product.pk
    infos = {}
    for batch in _chunks(set(stored.values())):
        for product in Product.objects.filter(pk__in=batch).order_by():
            infos[product.pk] = _Parent.of(product)
    parents = {}
    for row in variations:
        if row.line in stored:
            parents[row.line] = infos[stored[row.line]]
        elif row.parent_row.saved is not None:
            parents[row.line] = row.parent_row.saved
    return parents


def _match(row, stored):
    """Find the stored product ``row`` updates (SKU first, then ID); settle its SKU.

    Returns the reason to reject the row, or ``None``.
    """
    by_sku = stored.by_key.get(row.sku.lower()) if row.sku else None
    by_id = stored.by_id.get(row.wc_id) if row.wc_id is not None else None
    product = by_sku or by_id
    if product is None and not row.sku:
        row.sku = _generated_sku(row)
        if row.sku.lower() in stored.by_key:
            return _("no SKU, and %(sku)s is another product's SKU") % {"sku": row.sku}
    row.product = product
    if product is None:
        row.set_wc_id = row.wc_id is not None
    elif not row.sku:
        row.sku = product.sku  # a row without SKU keeps the stored one
    elif by_sku is None:
        row.set_sku = product.sku != row.sku  # the shop gave product ID N a new SKU
    if product is not None and row.wc_id is not None and product.wc_id != row.wc_id:
        if by_id is not None and by_id is not product:
            row.warnings.append(
                _("ID %(id)d belongs to the product with SKU %(sku)s: kept there")
                % {"id": row.wc_id, "sku": by_id.sku}
            )
        else:
            row.set_wc_id = True
    if product is not None and not row.kind_given:
        row.kind = VARIABLE if product.is_variable else VARIATION if product.parent_id else SIMPLE
    return None


def _resolve_parent(row, by_key, by_id, stored):
    """Find a variation's parent (a variable row of this file, or one already stored).

    Returns the reason to reject the row, or ``None`` when the parent was found.
    """
    if row.parent_ref is None:
        if row.product is not None and row.product.parent_id:
            row.parent_product = stored.parent_of(row.product)
            return None
        return _("a variation without a Parent")
    how, ref = row.parent_ref
    label = f"id:{ref}" if how == "id" else ref
    target = by_id.get(ref) if how == "id" else by_key.get(ref.lower())
    if target is not None:
        if target.kind == _REJECTED:
            return _("its parent %(parent)s (line %(line)d) was rejected") % {
                "parent": label,
                "line": target.line,
            }
        if target.kind != VARIABLE:
            return _("its parent %(parent)s (line %(line)d) is not a variable product") % {
                "parent": label,
                "line": target.line,
            }
        row.parent_row = target
        return None
    found = stored.by_id.get(ref) if how == "id" else stored.by_key.get(ref.lower())
    if found is None:
        return _("unknown parent %(parent)s") % {"parent": label}
    if not found.is_variable:
        return _("its parent %(parent)s is not a variable product") % {"parent": label}
    row.parent_product = found
    return None


def _rename_variations(parents, report):
    """Give the stored variations of renamed variable ``parents`` their parent's new name."""
    if not parents:
        return
    # The name in the language of this run (mall.translation): one column, no fallback.
    (name,) = localized_fields(Product, ["name"])
    stale = (
        Product.objects.rewrite(False)
        .filter(parent__in=parents)
        .exclude(**{name: F(f"parent__{name}")})
    )
    listed = set(report.created) | set(report.updated)
    report.updated += [sku for sku in stale.values_list("sku", flat=True) if sku not in listed]
    Product.objects.rewrite(False).filter(pk__in=list(stale.values_list("pk", flat=True))).update(
        **{
            name: Subquery(
                Product.objects.rewrite(False).filter(pk=OuterRef("parent_id")).values(name)[:1]
            )
        },
        updated_at=timezone.now(),
    )
