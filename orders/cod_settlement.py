"""Reading a carrier's cash-on-delivery settlement file (CSV or XLSX).

A carrier that collects cash at the door (SF Express, EMS, ...) sends a file with one row
per parcel: waybill number, amount collected, outcome (delivered / returned / refused)
and date. Header names may be in English or Chinese (运单号, 代收金额, 状态, 日期). This
module only reads: ``orders.services.settlement`` matches the rows to orders and applies
them. DESIGN "Cash on delivery: from the courier's hand to the books".
"""

import csv
import dataclasses
import datetime
import io
import unicodedata
from decimal import Decimal, InvalidOperation

from django.utils.text import get_text_list
from django.utils.translation import gettext as _

MAX_ROWS = 20000
MAX_BYTES = 10 * 1024 * 1024

DELIVERED, RETURNED, REFUSED = "delivered", "returned", "refused"

HEADERS = {
    "waybill": {
        "waybill",
        "waybill number",
        "waybill no",
        "waybill no.",
        "tracking number",
        "tracking no",
        "运单号",
        "运单号码",
        "运单编号",
        "快递单号",
    },
    "amount": {
        "amount",
        "cod amount",
        "cod",
        "collected",
        "代收金额",
        "代收货款",
        "金额",
        "实收金额",
    },
    "outcome": {"outcome", "status", "result", "状态", "结果", "签收状态"},
    "date": {"date", "settled on", "delivered on", "日期", "签收日期", "结算日期"},
}
REQUIRED = ("waybill", "outcome")

OUTCOMES = {
    "delivered": DELIVERED,
    "signed": DELIVERED,
    "签收": DELIVERED,
    "已签收": DELIVERED,
    "妥投": DELIVERED,
    "已妥投": DELIVERED,
    "returned": RETURNED,
    "return": RETURNED,
    "退回": RETURNED,
    "已退回": RETURNED,
    "退件": RETURNED,
    "refused": REFUSED,
    "rejected": REFUSED,
    "拒收": REFUSED,
    "已拒收": REFUSED,
}


class SettlementFileError(Exception):
    """The file as a whole cannot be read (wrong type, no header, too large ...)."""


@dataclasses.dataclass
class SettlementRow:
    """One row of a settlement file; ``problem`` is set when the row cannot be used.

    ``line``: the row's line number in the file (the header is line 1); ``amount``:
    ``Decimal`` or ``None`` when empty; ``outcome``: ``delivered``, ``returned`` or
    ``refused``; ``date``: ``datetime.date`` or ``None``.
    """

    line: int
    waybill: str = ""
    amount: Decimal | None = None
    outcome: str = ""
    date: datetime.date | None = None
    problem: str = ""

    def as_dict(self):
        """A JSON-safe dict (kept in the session between preview and apply)."""
        return {
            "line": self.line,
            "waybill": self.waybill,
            "amount": None if self.amount is None else str(self.amount),
            "outcome": self.outcome,
            "date": self.date.isoformat() if self.date else None,
            "problem": self.problem,
        }

    @classmethod
    def from_dict(cls, data):
        return cls(
            line=int(data["line"]),
            waybill=data["waybill"],
            amount=None if data["amount"] is None else Decimal(data["amount"]),
            outcome=data["outcome"],
            date=datetime.date.fromisoformat(data["date"]) if data["date"] else None,
            problem=data.get("problem", ""),
        )


def _norm(value):
    """NFKC (full-width digits and letters), trimmed; ``None`` becomes ``""``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _header_map(header):
    columns = {}
    for index, name in enumerate(header):
        key = _norm(name).lower().strip(" :：")
        for field, names in HEADERS.items():
            if key in names and field not in columns:
                columns[field] = index
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        labels = {"waybill": _("waybill number"), "outcome": _("outcome")}
        raise SettlementFileError(
            _(
                "The file has no %(columns)s column. Expected headers such as: waybill number "
                "(运单号), amount (代收金额), outcome (状态), date (日期)."
            )
            % {"columns": get_text_list([str(labels[f]) for f in missing], _("and"))}
        )
    return columns


def _parse_amount(value):
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = repr(value) if isinstance(value, float) else str(value)
    text = _norm(value).replace("¥", "").replace("￥", "").replace("CNY", "").strip()
    if not text:
        return None
    if "," in text:
        raise ValueError(_("write the amount without thousands separators, e.g. 1250.00"))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("%(value)s is not an amount") % {"value": text}) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("%(value)s is not an amount") % {"value": text})
    if amount > Decimal("1000000"):
        raise ValueError(_("%(value)s is larger than any parcel's cash") % {"value": text})
    return amount.quantize(Decimal("0.01"))


def _parse_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _norm(value)
    if not text:
        return None
    text = text.split(" ")[0].replace("/", "-").replace(".", "-")
    try:
        return datetime.date.fromisoformat(
            "-".join(part.zfill(2) if i else part for i, part in enumerate(text.split("-")))
        )
    except ValueError:
        raise ValueError(_("%(value)s is not a date (use 2026-11-30)") % {"value": text}) from None


def _rows_from(records):
    rows = []
    header = None
    for line, record in enumerate(records, start=1):
        if header is None:
            if not any(_norm(v) for v in record):
                continue
            header = _header_map(record)
            continue
        if not any(_norm(v) for v in record):
            continue
        if len(rows) >= MAX_ROWS:
            raise SettlementFileError(
                _("The file has more than %(n)d rows: split it.") % {"n": MAX_ROWS}
            )

        def cell(field, record=record, header=header):
            index = header.get(field)
            return record[index] if index is not None and index < len(record) else None

        row = SettlementRow(line=line)
        problems = []
        row.waybill = _norm(cell("waybill")).replace(" ", "")
        if not row.waybill:
            problems.append(_("no waybill number"))
        elif len(row.waybill) > 100:
            problems.append(_("the waybill number is too long"))
        outcome = _norm(cell("outcome")).lower()
        row.outcome = OUTCOMES.get(outcome, "")
        if not row.outcome:
            problems.append(
                _("outcome %(value)s is not delivered, returned or refused")
                % {"value": outcome or "—"}
            )
        for field, parse in (("amount", _parse_amount), ("date", _parse_date)):
            try:
                setattr(row, field, parse(cell(field)))
            except ValueError as error:
                problems.append(str(error))
        row.problem = "; ".join(problems)
        rows.append(row)
    if header is None:
        raise SettlementFileError(_("The file is empty: it has no header row."))
    if not rows:
        raise SettlementFileError(_("The file has a header but no rows."))
    return rows


def read_settlement_file(data, filename=""):
    """Read the settlement file ``data`` (``bytes``); ``filename`` tells CSV from XLSX.

    Returns a list of ``SettlementRow`` (rows with a ``problem`` included, so each can be
    reported with its line number). Raises ``SettlementFileError`` when the file as a
    whole cannot be used: not CSV or XLSX, not UTF-8, no header, no rows, too large.
    """
    if len(data) > MAX_BYTES:
        raise SettlementFileError(_("The file is larger than 10 MB: split it."))
    if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise SettlementFileError(
                _("The file could not be read as an XLSX workbook.")
            ) from None
        sheet = book.worksheets[0]
        return _rows_from(list(r) for r in sheet.iter_rows(values_only=True))
    if filename.lower().endswith(".xls"):
        raise SettlementFileError(
            _("Old .xls workbooks are not read: save the file as .xlsx or CSV (UTF-8).")
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            data.decode("gb18030")
            hint = _("It looks like GBK/GB18030 (a Chinese Excel default).")
        except UnicodeDecodeError:
            hint = ""
        raise SettlementFileError(
            _("The file is not UTF-8 text. %(hint)s Save it as 'CSV UTF-8' and upload again.")
            % {"hint": hint}
        ) from None
    if "\x00" in text:
        raise SettlementFileError(_("The file is not a CSV text file."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return _rows_from(csv.reader(io.StringIO(text, newline=""), dialect))


def count_rows(data, filename=""):
    """About how many data rows the settlement file ``data`` (``bytes``) has, without
    reading them: its lines less the header (CSV), or the sheet's last row less one
    (XLSX). ``0`` when it cannot tell (``read_settlement_file`` then says why)."""
    if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = book.worksheets[0]
            last = sheet.max_row
            if last is None:
                last = sum(1 for _row in sheet.iter_rows(values_only=True))
            return max(last - 1, 0)
        except Exception:
            return 0
    lines = sum(1 for line in data.splitlines() if line.strip())
    return max(lines - 1, 0)
