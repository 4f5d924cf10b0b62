"""Import products from a WooCommerce product CSV export.

WooCommerce's exporter (``WC_Product_CSV_Exporter``) writes one row per product or
variation with English column headers in any order. This module reads that format
generally, not one particular file:

* UTF-8 with or without a byte-order mark; quoted fields may span several lines;
  a ``;``-delimited file (a spreadsheet re-save) is recognised from its header.
* ``Type`` is a comma-separated set: ``simple``, ``variable``, ``variation``,
  ``grouped``, ``external``, plus the flags ``virtual`` and ``downloadable``.
* List cells (``Categories``, ``Images``, attribute values) are comma-separated with
  literal commas escaped as ``\\,``; ``Categories`` nest with ``>``.
* Cells that start with ``=``, ``+``, ``-`` or ``@`` are exported with a leading ``'``
  (spreadsheet-injection guard), which is removed here; descriptions carry line breaks
  as a literal ``\\n``.
* ``Parent`` names a variation's parent by SKU or as ``id:NNN`` (the parent row's ``ID``).

Mapping to the catalogue (DESIGN: "Domain model"): simple, virtual and downloadable rows
become purchasable products; a variable row becomes a non-purchasable parent
(``is_variable=True``, no price) and its variations purchasable products with their
``attributes``; grouped and external rows are skipped. Hidden rows (``Visibility in
catalog = hidden``) and rows not published (``Published`` 0 or -1) are imported with
``is_visible=False``. Sale dates are days (or times) in the shop's ``TIME_ZONE``; an end
date includes the whole day, as in WooCommerce.

Products are matched by SKU, so a re-run updates them and never duplicates them. A row
with bad data is rejected with its line number and the rest is imported. All writes of
one file happen in one transaction; ``dry_run`` rolls it back.
"""

from __future__ import annotations

import csv
import datetime
import html
import re
import zoneinfo
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from mall.import_languages import name_categories
from mall.models import Category, Product
from mall.translation import localized_fields

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

# Normalised header -> our field name. Headers are matched case-insensitively.
_COLUMNS = {
    "id": "id",
    "type": "type",
    "sku": "sku",
    "name": "name",
    "published": "published",
    "visibility in catalog": "visibility",
    "short description": "short_description",
    "description": "description",
    "date sale price starts": "sale_starts",
    "date sale price ends": "sale_ends",
    "in stock?": "in_stock",
    "stock": "stock",
    "sale price": "sale_price",
    "regular price": "price",
    "categories": "categories",
    "images": "images",
    "parent": "parent",
    "position": "position",
}
_ATTRIBUTE_COLUMN = re.compile(r"^attribute (\d+) (name|value\(s\)|values?)$")
_REQUIRED = ("sku", "name")

_SKU_MAX = Product._meta.get_field("sku").max_length
_NAME_MAX = Product._meta.get_field("name").max_length
_SLUG_MAX = Product._meta.get_field("slug").max_length
_CATEGORY_NAME_MAX = Category._meta.get_field("name").max_length
_MAX_PRICE = Decimal("9999999999.99")  # max_digits=12, decimal_places=2
_CENT = Decimal("0.01")
_MAX_INT = 2_147_483_647  # the largest integer every database's integer column holds
_INJECTION_TRIGGERS = ("'=", "'+", "'-", "'@", "'\t", "'\r")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_IMAGE_URL = re.compile(r"^(https?://[^\s]+|/[^/\s][^\s]*)$", re.IGNORECASE)
_BATCH = 500

_TRUE = {"1", "yes", "true", "y"}
_FALSE = {"0", "no", "false", "n"}


class ImportFileError(Exception):
    """The file as a whole cannot be read (not UTF-8, not CSV, required columns missing)."""


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
        return (
            f"created {len(self.created)}, updated {len(self.updated)}, "
            f"skipped {len(self.skipped)}, rejected {len(self.rejected)}, "
            f"unchanged {len(self.unchanged)}"
        )


@dataclass
class _Row:
    """One parsed CSV row (values already converted and validated)."""

    line: int
    kind: str
    sku: str
    wc_id: str = ""
    name: str = ""
    short_description: str = ""
    description: str = ""
    price: Decimal | None = None
    sale_price: Decimal | None = None
    sale_starts: datetime.datetime | None = None
    sale_ends: datetime.datetime | None = None
    stock: int | None = None
    in_stock: bool = True
    is_visible: bool = True
    categories: list[tuple[str, ...]] = field(default_factory=list)
    image_urls: list[str] = field(default_factory=list)
    parent_ref: tuple[str, str] | None = None  # ("sku", "cc-hoodie") or ("id", "742")
    position: int = 0
    attributes: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Filled in while resolving:
    parent_row: _Row | None = None
    parent_product: Product | None = None


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


def _decimal(value, label):
    if not value:
        return None
    text = value.replace(" ", "").replace("\u00a0", "")
    if "," in text and "." not in text and text.count(",") == 1:
        text = text.replace(",", ".")  # a shop whose decimal separator is a comma
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RowError(
            _("unparseable %(label)s %(value)r") % {"label": label, "value": value}
        ) from None
    if not number.is_finite():
        raise RowError(_("unparseable %(label)s %(value)r") % {"label": label, "value": value})
    if number < 0:
        raise RowError(_("negative %(label)s %(value)s") % {"label": label, "value": value})
    if number > _MAX_PRICE:
        raise RowError(_("%(label)s %(value)s is too large") % {"label": label, "value": value})
    return number.quantize(_CENT, rounding=ROUND_HALF_UP)


def _stock(value):
    if not value:
        return None
    try:
        number = Decimal(value.replace(" ", ""))
    except InvalidOperation:
        raise RowError(_("unparseable stock %(value)r") % {"value": value}) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise RowError(_("unparseable stock %(value)r") % {"value": value})
    if number < 0:
        raise RowError(_("negative stock %(value)s") % {"value": value})
    if number > _MAX_INT:
        raise RowError(_("stock %(value)s is too large") % {"value": value})
    return int(number)


def _shop_tz():
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _date(value, label, *, end_of_day):
    """Parse a sale date: a day (start or whole day for an end) or a time, shop time zone."""
    if not value:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = datetime.date.fromisoformat(text)
            moment = datetime.datetime.combine(
                day, datetime.time.max if end_of_day else datetime.time.min
            )
        else:
            moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise RowError(
            _("unparseable %(label)s %(value)r (expected YYYY-MM-DD)")
            % {"label": label, "value": value}
        ) from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=_shop_tz())
    return moment


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


class _Reader:
    """Reads rows of a WooCommerce CSV as ``(line, {field: cleaned value}, attributes)``."""

    def __init__(self, handle):
        self.handle = handle
        first = handle.readline()
        delimiter = ";" if first.count(";") > first.count(",") else ","
        self.reader = csv.reader(_chain(first, handle), delimiter=delimiter)
        try:
            header = next(self.reader)
        except StopIteration:
            raise ImportFileError(_("the file is empty")) from None
        self.columns = {}  # index -> field name
        self.attribute_columns = {}  # index -> (number, "name" | "value")
        for index, title in enumerate(header):
            key = " ".join(title.strip().lower().split())
            if key in _COLUMNS and _COLUMNS[key] not in self.columns.values():
                self.columns[index] = _COLUMNS[key]
                continue
            match = _ATTRIBUTE_COLUMN.match(key)
            if match:
                part = "name" if match.group(2) == "name" else "value"
                self.attribute_columns[index] = (int(match.group(1)), part)
        missing = [name for name in _REQUIRED if name not in self.columns.values()]
        if missing:
            raise ImportFileError(
                _("not a WooCommerce product CSV: missing column(s) %(columns)s")
                % {
                    "columns": ", ".join(
                        name.upper() if name == "sku" else name.title() for name in missing
                    )
                }
            )
        self.width = len(header)

    def __iter__(self):
        previous = self.reader.line_num
        while True:
            try:
                cells = next(self.reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ImportFileError(
                    _("CSV error near line %(line)d: %(error)s")
                    % {"line": self.reader.line_num, "error": error}
                ) from None
            line = previous + 1
            previous = self.reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            values = dict.fromkeys(_COLUMNS.values(), "")
            for index, name in self.columns.items():
                if index < len(cells):
                    values[name] = _clean(cells[index])
            attributes = {}
            for index, (number, part) in self.attribute_columns.items():
                if index < len(cells):
                    attributes.setdefault(number, {})[part] = _clean(cells[index])
            extra = [cell for cell in cells[self.width :] if cell.strip()]
            yield line, values, attributes, extra


def _chain(first, rest):
    yield first
    yield from rest


def _parse(line, values, attributes, extra):
    """Convert one row's cells to a :class:`_Row`; raise :class:`RowError` on bad data."""
    cells = [*values.values(), *(v for parts in attributes.values() for v in parts.values())]
    if any("\x00" in cell for cell in cells):
        # No database text column can hold NUL (PostgreSQL refuses it outright).
        raise RowError(_("the row contains a NUL character"))
    kind = _kind(values["type"]) if values["type"] else SIMPLE
    row = _Row(line=line, kind=kind, sku=values["sku"], wc_id=values["id"])
    if kind in (GROUPED, EXTERNAL):
        return row  # skipped by the caller; its other cells do not matter
    if extra:
        raise RowError(_("the row has more cells than the header (a quoting problem?)"))
    if not row.sku:
        raise RowError(_("no SKU"))
    if len(row.sku) > _SKU_MAX:
        raise RowError(_("SKU longer than %(max)d characters") % {"max": _SKU_MAX})
    row.name = _unescape_entities(values["name"])
    if not row.name and kind != VARIATION:
        raise RowError(_("no name"))
    if len(row.name) > _NAME_MAX:
        raise RowError(_("name longer than %(max)d characters") % {"max": _NAME_MAX})
    row.short_description = _description(values["short_description"])
    row.description = _description(values["description"])
    row.price = _decimal(values["price"], _("regular price"))
    row.sale_price = _decimal(values["sale_price"], _("sale price"))
    row.sale_starts = _date(values["sale_starts"], _("sale start date"), end_of_day=False)
    row.sale_ends = _date(values["sale_ends"], _("sale end date"), end_of_day=True)
    if row.sale_starts and row.sale_ends and row.sale_ends < row.sale_starts:
        raise RowError(_("the sale ends before it starts"))
    if row.sale_price is not None and kind != VARIABLE:
        # As in WooCommerce, a sale price applies only below a regular price.
        if row.price is None:
            row.warnings.append(_("sale price without a regular price: ignored"))
            row.sale_price = None
        elif row.sale_price >= row.price:
            row.warnings.append(_("sale price not below the regular price: ignored"))
            row.sale_price = None
    row.stock = _stock(values["stock"])
    row.in_stock = _flag(
        values["in_stock"],
        _("In stock?"),
        default=True,
        extra_true={"instock", "backorder", "onbackorder"},
        extra_false={"outofstock"},
    )
    published = _flag(
        values["published"],
        _("Published"),
        default=True,
        extra_true={"publish"},
        extra_false={"-1", "draft", "private", "pending"},
    )
    visibility = values["visibility"].lower() or "visible"
    if visibility not in {"visible", "catalog", "search", "hidden"}:
        raise RowError(
            _("unknown catalogue visibility %(value)r") % {"value": values["visibility"]}
        )
    row.is_visible = published and visibility != "hidden"
    row.categories = _categories(values["categories"])
    row.image_urls = []
    for url in dict.fromkeys(_split_list(values["images"])):
        if _IMAGE_URL.match(url):
            row.image_urls.append(url)
        else:
            row.warnings.append(_("image %(url)r is not an http(s) URL: ignored") % {"url": url})
    try:
        row.position = int(values["position"] or 0)
    except ValueError:
        raise RowError(
            _("unparseable position %(value)r") % {"value": values["position"]}
        ) from None
    if abs(row.position) > _MAX_INT:
        raise RowError(_("position %(value)s is too large") % {"value": values["position"]})
    if kind == VARIATION:
        parent = values["parent"]
        if not parent:
            raise RowError(_("a variation without a Parent"))
        if parent.lower().startswith("id:"):
            row.parent_ref = ("id", parent[3:].strip())
        else:
            row.parent_ref = ("sku", parent)
        for number in sorted(attributes):
            name = _unescape_entities(attributes[number].get("name", ""))
            value = attributes[number].get("value", "").replace("\\,", ",")
            # A blank value means "any" in WooCommerce: the variation does not fix it.
            if name and value:
                row.attributes[name] = _unescape_entities(value)
    return row


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
    "name",
    "short_description",
    "description",
    "price",
    "sale_price",
    "sale_starts",
    "sale_ends",
    "stock",
    "in_stock",
    "is_visible",
    "is_variable",
    "parent",
    "attributes",
    "image_urls",
    "position",
)


def _desired(row, parent):
    """Field values a row asks for (``parent`` is the variation's parent product)."""
    variable = row.kind == VARIABLE
    name = row.name
    if row.kind == VARIATION and (not name or name.startswith(parent.name)):
        # WooCommerce names a variation "Hoodie - Red, No"; we keep the parent's name and
        # the attribute values separately (Product.display_name joins them).
        name = parent.name
    return {
        "name": name,
        "short_description": row.short_description,
        "description": row.description,
        # A variable product has no price of its own; its variations do.
        "price": None if variable else row.price,
        "sale_price": None if variable else row.sale_price,
        "sale_starts": None if variable else row.sale_starts,
        "sale_ends": None if variable else row.sale_ends,
        "stock": row.stock,
        "in_stock": row.in_stock,
        "is_visible": row.is_visible,
        "is_variable": variable,
        "parent": parent,
        "attributes": row.attributes if row.kind == VARIATION else {},
        "image_urls": row.image_urls,
        "position": row.position,
    }


def _chunks(items, size=_BATCH):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Writer:
    """Creates and updates products by SKU in a few bulk queries per batch."""

    def __init__(self, report, existing):
        self.report = report
        self.existing = existing  # sku -> Product (loaded once)
        self.slugs = set(Product.objects.order_by().values_list("slug", flat=True))
        self.categories = _Categories(report)
        self.through = Product.categories.through

    def write(self, rows, parents):
        """Write ``rows`` (same kind group); ``parents`` maps a variation row to its parent."""
        now = timezone.now()
        to_create, to_update, changed = [], [], set()
        wanted = {}
        for row in rows:
            parent = parents.get(row.line)
            values = _desired(row, parent)
            product = self.existing.get(row.sku)
            if product is None:
                product = Product(sku=row.sku, **values)
                product.slug = self._slug(row.name or row.sku, row.sku)
                to_create.append(product)
            else:
                diff = [name for name in _PRODUCT_FIELDS if _differs(product, name, values[name])]
                for name in diff:
                    setattr(product, name, values[name])
                if diff:
                    product.updated_at = now
                    to_update.append(product)
                    changed.add(row.sku)
            wanted[row.sku] = (
                product,
                {self.categories.resolve(path).pk for path in row.categories},
            )
        for batch in _chunks(to_create):
            Product.objects.bulk_create(batch)
        if to_create and any(product.pk is None for product in to_create):
            # Databases that cannot return ids from a bulk insert: read them back.
            ids = dict(
                Product.objects.filter(sku__in=[p.sku for p in to_create]).values_list("sku", "pk")
            )
            for product in to_create:
                product.pk = product.id = ids[product.sku]
        for product in to_create:
            self.existing[product.sku] = product
        if to_update:
            Product.objects.bulk_update(
                to_update,
                localized_fields(Product, [*_PRODUCT_FIELDS, "updated_at"]),
                batch_size=200,
            )
        changed |= self._sync_categories(wanted, {p.sku for p in to_create})
        created = {p.sku for p in to_create}
        for row in rows:
            if row.sku in created:
                self.report.created.append(row.sku)
            elif row.sku in changed:
                self.report.updated.append(row.sku)
            else:
                self.report.unchanged.append(row.sku)

    def _sync_categories(self, wanted, created):
        """Make each product's categories exactly the wanted set; return SKUs that changed."""
        # New products have no categories yet: only stored ones need reading.
        ids = [product.pk for sku, (product, _c) in wanted.items() if sku not in created]
        current = {}
        for batch in _chunks(ids):
            pairs = self.through.objects.filter(product_id__in=batch).values_list(
                "product_id", "category_id"
            )
            for product_id, category_id in pairs:
                current.setdefault(product_id, set()).add(category_id)
        add, remove, changed = [], [], set()
        for sku, (product, categories) in wanted.items():
            have = current.get(product.pk, set())
            if have == categories:
                continue
            add += [self.through(product_id=product.pk, category_id=c) for c in categories - have]
            remove += [(product.pk, c) for c in have - categories]
            if sku not in created:
                changed.add(sku)
        if add:
            self.through.objects.bulk_create(add, batch_size=_BATCH)
        for batch in _chunks(remove):
            condition = Q()
            for product_id, category_id in batch:
                condition |= Q(product_id=product_id, category_id=category_id)
            self.through.objects.filter(condition).delete()
        if changed:
            Product.objects.filter(sku__in=changed).update(updated_at=timezone.now())
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


def _differs(product, name, value):
    if name == "parent":
        return product.parent_id != (value.pk if value else None)
    return getattr(product, name) != value


# --------------------------------------------------------------------------- entry point


def import_products(path, *, dry_run=False, language=None):
    """Import a WooCommerce product CSV export into the catalogue.

    ``path`` is a file path (str or Path). Returns an :class:`ImportReport`. Rows with bad
    data are listed in ``report.rejected`` (with their first line number) and not
    imported; the other rows are, all in one transaction, which ``dry_run=True`` rolls
    back. Raises :class:`ImportFileError` when the file as a whole cannot be read (then
    nothing is written). Safe to repeat: products are matched by SKU.

    ``language`` (a code of ``LANGUAGES``, default the active one) is the language of the
    file's names and descriptions: they fill that language's texts only, so importing the
    same catalogue in each language (matched by SKU) gives it both
    (``mall.import_languages`` pairs the categories).
    """
    language = language or translation.get_language()
    report = ImportReport(dry_run=dry_run)
    rows = _read(Path(path), report)
    with translation.override(language), transaction.atomic():
        name_categories(rows, language)
        _import(rows, report)
        if dry_run:
            transaction.set_rollback(True)
    report.skipped.sort(key=lambda note: note.line)
    report.rejected.sort(key=lambda note: note.line)
    report.warnings.sort(key=lambda note: note.line)
    return report


def _read(path, report):
    """Parse every row of the file (pass one); bad rows go to ``report.rejected``."""
    rows = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            seen = {}
            for line, values, attributes, extra in _Reader(handle):
                sku = values["sku"]
                try:
                    row = _parse(line, values, attributes, extra)
                except RowError as error:
                    report.rejected.append(RowNote(line, sku, str(error)))
                    rows.append(_Row(line=line, kind="rejected", sku=sku, wc_id=values["id"]))
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
                if sku in seen:
                    report.rejected.append(
                        RowNote(
                            line,
                            sku,
                            _("duplicate SKU (also on line %(line)d)") % {"line": seen[sku]},
                        )
                    )
                    continue
                seen[sku] = line
                rows.append(row)
                report.warnings += [RowNote(line, sku, warning) for warning in row.warnings]
    except FileNotFoundError:
        raise ImportFileError(_("no such file: %(path)s") % {"path": path}) from None
    except UnicodeDecodeError:
        raise ImportFileError(
            _("the file is not UTF-8 text; export it again as a UTF-8 CSV")
        ) from None
    return rows


def _import(rows, report):
    """Resolve parents (pass two) and write the products: parents before variations."""
    by_sku, by_id = {}, {}
    for row in rows:
        # A row accepted under a SKU or ID wins over a rejected row naming the same one.
        for index, key in ((by_sku, row.sku), (by_id, row.wc_id)):
            if key and (key not in index or index[key].kind == "rejected"):
                index[key] = row
    wanted_skus = {row.sku for row in rows if row.kind in (SIMPLE, VARIABLE, VARIATION)}
    wanted_skus |= {
        row.parent_ref[1] for row in rows if row.parent_ref and row.parent_ref[0] == "sku"
    }
    existing = {}
    for batch in _chunks(wanted_skus):
        for product in Product.objects.filter(sku__in=batch):
            existing[product.sku] = product

    products = [row for row in rows if row.kind in (SIMPLE, VARIABLE)]
    variations = []
    for row in rows:
        if row.kind != VARIATION:
            continue
        reason = _resolve_parent(row, by_sku, by_id, existing)
        if reason:
            report.rejected.append(RowNote(row.line, row.sku, reason))
        else:
            variations.append(row)

    writer = _Writer(report, existing)
    writer.write(products, {})
    parents = {}
    for row in variations:
        parent_sku = row.parent_row.sku if row.parent_row else row.parent_product.sku
        parents[row.line] = writer.existing[parent_sku]
    writer.write(variations, parents)


def _resolve_parent(row, by_sku, by_id, existing):
    """Find a variation's parent (a variable row of this file, or one already stored).

    Returns the reason to reject the row, or ``None`` when the parent was found.
    """
    how, ref = row.parent_ref
    label = f"id:{ref}" if how == "id" else ref
    target = by_id.get(ref) if how == "id" else by_sku.get(ref)
    if target is not None:
        if target.kind == "rejected":
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
    stored = existing.get(ref) if how == "sku" else None
    if stored is None:
        return _("unknown parent %(parent)s") % {"parent": label}
    if not stored.is_variable:
        return _("its parent %(parent)s is not a variable product") % {"parent": label}
    row.parent_product = stored
    return None
