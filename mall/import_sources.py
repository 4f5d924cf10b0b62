"""Opening a product file for ``mall.importer``: CSV in UTF-8 (or UTF-16), or XLSX.

:func:`open_table` checks the file as a whole and returns an iterator of
``(line, cells)``, header first, where ``line`` is the first line (CSV) or the row
number (XLSX) of the record and ``cells`` a list of strings. Anything that makes the
whole file unusable raises :class:`ImportFileError` with one sentence a shop keeper can
act on: a missing file, a folder, an unreadable file, an empty file, an old ``.xls``
workbook, text in an encoding other than UTF-8 (naming the encoding it looks like).
"""

from __future__ import annotations

import csv
import datetime
import re
import zipfile
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_SNIFF = 64 * 1024  # bytes read to recognise the file and guess an encoding
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc: an old Office binary file
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

# Encodings charset-normalizer may name, as a shop keeper knows them (translated: the
# name sits in a translated sentence).
_ENCODING_NAMES = {
    "gb18030": gettext_lazy("GB18030 / GBK (Simplified Chinese)"),
    "gbk": gettext_lazy("GB18030 / GBK (Simplified Chinese)"),
    "gb2312": gettext_lazy("GB18030 / GBK (Simplified Chinese)"),
    "hz": gettext_lazy("GB18030 / GBK (Simplified Chinese)"),
    "big5": gettext_lazy("Big5 (Traditional Chinese)"),
    "big5hkscs": gettext_lazy("Big5 (Traditional Chinese)"),
    "cp950": gettext_lazy("Big5 (Traditional Chinese)"),
    "shift_jis": gettext_lazy("Shift-JIS (Japanese)"),
    "cp932": gettext_lazy("Shift-JIS (Japanese)"),
    "euc_jp": gettext_lazy("EUC-JP (Japanese)"),
    "euc_kr": gettext_lazy("EUC-KR (Korean)"),
    "cp949": gettext_lazy("EUC-KR (Korean)"),
    "cp1251": gettext_lazy("Windows-1251 (Cyrillic)"),
    "koi8_r": gettext_lazy("KOI8-R (Cyrillic)"),
    "cp1252": gettext_lazy("Windows-1252 / ISO-8859-1 (Western European)"),
    "latin_1": gettext_lazy("Windows-1252 / ISO-8859-1 (Western European)"),
    "iso8859_15": gettext_lazy("ISO-8859-15 (Western European)"),
    "cp1250": gettext_lazy("Windows-1250 (Central European)"),
    "mac_roman": gettext_lazy("Mac Roman"),
}


# Single-byte encodings of Latin script among which charset-normalizer often cannot tell
# (the same bytes read as plausible text in each), and the Western ones preferred then.
_LATIN_SINGLE_BYTE = frozenset(
    {
        "cp1250",
        "cp1252",
        "cp1254",
        "cp1257",
        "latin_1",
        "iso8859_2",
        "iso8859_3",
        "iso8859_4",
        "iso8859_9",
        "iso8859_10",
        "iso8859_13",
        "iso8859_14",
        "iso8859_15",
        "iso8859_16",
        "mac_roman",
        "mac_latin2",
        "mac_iceland",
        "mac_turkish",
        "cp437",
        "cp775",
        "cp850",
        "cp852",
        "cp857",
        "cp858",
        "hp_roman8",
    }
)
_WESTERN = ("cp1252", "latin_1", "iso8859_15")
_CHAOS_TIE = 0.01  # charset-normalizer's "mess" ratios this close read equally well


class ImportFileError(Exception):
    """The file as a whole cannot be used; ``str(error)`` says why, in one sentence."""


def open_table(path):
    """Check ``path`` (a ``Path``) and return an iterator of ``(line, cells)``, header first.

    Raises :class:`ImportFileError` when the file cannot be used at all. Decoding errors
    further into a CSV file surface while iterating, as :class:`ImportFileError` too.
    """
    if path.is_dir():
        raise ImportFileError(_("%(path)s is a folder, not a file") % {"path": path})
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF)
    except FileNotFoundError:
        raise ImportFileError(_("no such file: %(path)s") % {"path": path}) from None
    except PermissionError:
        raise ImportFileError(
            _("the file cannot be read (permission denied): %(path)s") % {"path": path}
        ) from None
    except OSError as error:
        raise ImportFileError(
            _("the file cannot be read: %(reason)s") % {"reason": error.strerror or error}
        ) from None
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise ImportFileError(_("the file is empty"))
    if head.startswith(_XLSX_MAGIC):
        return _xlsx_rows(path)
    if head.startswith(_OLE_MAGIC):
        raise ImportFileError(
            _(
                "this is an old Excel .xls workbook; save it as .xlsx or as "
                "'CSV UTF-8' and import that"
            )
        )
    if head.startswith(_UTF16_BOMS):
        return _csv_rows(path, "utf-16")
    if b"\x00" in head:
        raise not_utf8(path)
    return _csv_rows(path, "utf-8-sig")


def not_utf8(path):
    """The :class:`ImportFileError` for a file that is not UTF-8, naming its likely encoding."""
    guess = _guess_encoding(path)
    advice = _(
        "save it again as UTF-8 (Excel: Save As > 'CSV UTF-8 (Comma delimited)'; "
        "LibreOffice: tick 'Edit filter settings' and choose 'Unicode (UTF-8)'); "
        "WooCommerce's own export is always UTF-8"
    )
    if guess:
        return ImportFileError(
            _("the file is not UTF-8 text: it looks like %(encoding)s; %(advice)s")
            % {"encoding": guess, "advice": advice}
        )
    return ImportFileError(
        _("the file is not UTF-8 text (nor a spreadsheet); %(advice)s") % {"advice": advice}
    )


def _guess_encoding(path):
    """The name of the encoding the start of ``path`` looks like, or ``""``."""
    try:
        from charset_normalizer import from_bytes

        with path.open("rb") as handle:
            results = from_bytes(handle.read(_SNIFF))
        best = results.best()
    except (OSError, ImportError):
        return ""
    if best is None or best.encoding in ("utf_8", "ascii"):
        return ""
    encoding = best.encoding
    if encoding in _LATIN_SINGLE_BYTE:
        # Accented Western text (é, è, û, ç) reads without a flaw in most single-byte
        # Latin encodings, and charset-normalizer then often ranks Windows-1250 or -1257
        # first. A file that reads as plausibly in Windows-1252 / ISO-8859-1 is far more
        # likely a Western European one (Excel's "CSV" on a French or German Windows).
        western = [
            match.encoding
            for match in results
            if match.encoding in _WESTERN and match.chaos <= best.chaos + _CHAOS_TIE
        ]
        if western:
            encoding = western[0]
    return str(_ENCODING_NAMES.get(encoding, encoding.replace("_", "-").upper()))


def _csv_rows(path, encoding):
    """Yield ``(first line number, cells)`` of a delimited text file."""
    try:
        with path.open(encoding=encoding, newline="") as handle:
            first = handle.readline()
            counts = {mark: first.count(mark) for mark in (",", ";", "\t")}
            delimiter = max(counts, key=lambda mark: (counts[mark], mark == ","))
            reader = csv.reader(_chain(first, handle), delimiter=delimiter)
            previous = 0
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    raise ImportFileError(
                        _("CSV error near line %(line)d: %(error)s")
                        % {"line": reader.line_num, "error": error}
                    ) from None
                line = previous + 1
                previous = reader.line_num
                yield line, cells
    except UnicodeError:
        raise not_utf8(path) from None


def _chain(first, rest):
    yield first
    yield from rest


def _xlsx_rows(path):
    """Yield ``(row number, cells)`` of the first worksheet of an XLSX workbook."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        # The formulas themselves only when the workbook has any (one more pass over
        # the sheet): a formula cell without a stored result reads as empty otherwise.
        formulas = load_workbook(path, read_only=True) if _has_formulas(path) else None
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise ImportFileError(
            _("the file is not a workbook that can be read (a damaged .xlsx, or another ZIP file)")
        ) from None
    return _sheet_rows(workbook, formulas)


_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")


def _has_formulas(path):
    """Whether a worksheet of the XLSX package ``path`` holds a formula (an ``<f>`` element)."""
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            with package.open(name) as member:
                tail = b""
                while chunk := member.read(1 << 20):
                    if _FORMULA_TAG.search(tail + chunk):
                        return True
                    tail = chunk[-16:]
    return False


class FormulaRow(list):
    """The cells of an XLSX row, with ``unvalued``: the indexes of its formula cells that
    have no stored result (openpyxl writes none; Excel and LibreOffice do on saving).

    A formula with a stored result reads as that result, as Excel shows it.
    """

    unvalued = ()


def _sheet_rows(workbook, formulas=None):
    try:
        sheet = workbook.worksheets[0]
        rows = enumerate(sheet.iter_rows(values_only=True), start=1)
        written = formulas.worksheets[0].iter_rows(values_only=True) if formulas else None
        while True:
            try:
                number, values = next(rows)
                texts = next(written, ()) if written is not None else ()
            except StopIteration:
                return
            except (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError):
                # A damaged sheet inside a readable package (XML errors are SyntaxErrors).
                raise ImportFileError(
                    _("the workbook's first sheet cannot be read (a damaged .xlsx file)")
                ) from None
            cells = [cell_text(value) for value in values]
            unvalued = [
                index
                for index, (value, text) in enumerate(zip(values, texts, strict=False))
                if value is None and isinstance(text, str) and text.startswith("=")
            ]
            if unvalued:
                cells = FormulaRow(cells)
                cells.unvalued = unvalued
            yield number, cells
    finally:
        workbook.close()
        if formulas is not None:
            formulas.close()


def cell_text(value):
    """A spreadsheet cell as the text a CSV export would hold.

    Whole numbers lose the ``.0`` a float carries (a SKU typed as 1001 is ``"1001"``),
    other numbers keep their shortest exact form, dates are ISO (``2024-01-15 00:00:00``).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)
