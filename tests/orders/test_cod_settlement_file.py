"""Reading a carrier's COD settlement file (``orders.cod_settlement``): CSV with or without
a BOM, Chinese or English headers, XLSX, and every unusable file or row reported with its
line number. The reader only reads; matching and applying are in test_settlement_service.
"""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils import translation

from orders.cod_settlement import (
    DELIVERED,
    MAX_BYTES,
    REFUSED,
    RETURNED,
    SettlementFileError,
    SettlementRow,
    read_settlement_file,
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


ENGLISH = (
    "waybill number,amount,outcome,date\n"
    "SF1001,110.00,delivered,2026-11-28\n"
    "SF1002,,returned,2026-11-29\n"
    "SF1003,0,refused,2026/11/30\n"
)


def test_csv_with_english_headers():
    rows = read_settlement_file(ENGLISH.encode(), "settle.csv")

    assert [(r.line, r.waybill, r.amount, r.outcome, r.date, r.problem) for r in rows] == [
        (2, "SF1001", Decimal("110.00"), DELIVERED, datetime.date(2026, 11, 28), ""),
        (3, "SF1002", None, RETURNED, datetime.date(2026, 11, 29), ""),
        (4, "SF1003", Decimal("0.00"), REFUSED, datetime.date(2026, 11, 30), ""),
    ]


def test_csv_with_a_bom_reads_the_same():
    plain = read_settlement_file(ENGLISH.encode(), "settle.csv")
    with_bom = read_settlement_file(b"\xef\xbb\xbf" + ENGLISH.encode(), "settle.csv")
    assert with_bom == plain
    assert with_bom[0].waybill == "SF1001"  # the BOM did not stick to the first header


def test_chinese_headers_and_outcomes():
    text = "运单号,代收金额,状态,日期\nSF2001,￥349.00,已签收,2026-11-28\nSF2002,,拒收,2026-11-29\n"

    rows = read_settlement_file(("\ufeff" + text).encode(), "结算.csv")

    assert [(r.line, r.waybill, r.amount, r.outcome) for r in rows] == [
        (2, "SF2001", Decimal("349.00"), DELIVERED),
        (3, "SF2002", None, REFUSED),
    ]
    assert all(r.problem == "" for r in rows)


def test_semicolon_separated_and_full_width_digits():
    text = "Waybill;Amount;Status;Date\nＳＦ３００１;１１０.００;Delivered;2026-11-28\n"
    (row,) = read_settlement_file(text.encode(), "x.csv")
    assert (row.waybill, row.amount, row.outcome) == ("SF3001", Decimal("110.00"), DELIVERED)


def xlsx(rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_made_with_openpyxl():
    data = xlsx(
        [
            ["运单号", "代收金额", "状态", "日期"],
            ["SF4001", 110, "签收", datetime.datetime(2026, 11, 28, 15, 30)],
            [4002, 59.9, "退回", datetime.date(2026, 11, 29)],
            [None, None, None, None],  # an empty row is skipped, not a problem
            ["SF4003", "abc", "delivered", "2026-11-30"],
        ]
    )

    rows = read_settlement_file(data, "settlement.xlsx")

    assert [(r.line, r.waybill, r.amount, r.outcome, r.date) for r in rows] == [
        (2, "SF4001", Decimal("110.00"), DELIVERED, datetime.date(2026, 11, 28)),
        (3, "4002", Decimal("59.90"), RETURNED, datetime.date(2026, 11, 29)),
        (5, "SF4003", None, DELIVERED, datetime.date(2026, 11, 30)),
    ]
    assert rows[0].problem == rows[1].problem == ""
    assert rows[2].problem == "abc is not an amount"


def test_xlsx_recognised_by_its_bytes_whatever_the_name():
    data = xlsx([["waybill", "outcome"], ["SF5001", "returned"]])
    (row,) = read_settlement_file(data, "upload")
    assert (row.waybill, row.outcome, row.amount) == ("SF5001", RETURNED, None)


def test_rows_with_problems_keep_their_line_numbers():
    text = (
        "waybill,amount,outcome,date\n"
        "SF1,110.00,delivered,2026-11-28\n"
        "\n"  # blank line: skipped, but counted
        "SF2,1.234,delivered,2026-11-28\n"
        "SF3,110.00,lost,2026-11-28\n"
        "SF4,110.00,delivered,2026-02-30\n"
        ",110.00,delivered,2026-11-28\n"
        'SF6,"1,250.00",delivered,\n'
        "SF7,-5,delivered,\n"
        "SF8,99999999,delivered,\n"
    )

    rows = read_settlement_file(text.encode(), "x.csv")

    problems = {r.line: r.problem for r in rows}
    assert problems == {
        2: "",
        4: "1.234 is not an amount",
        5: "outcome lost is not delivered, returned or refused",
        6: "2026-02-30 is not a date (use 2026-11-30)",
        7: "no waybill number",
        8: "write the amount without thousands separators, e.g. 1250.00",
        9: "-5 is not an amount",
        10: "99999999 is larger than any parcel's cash",
    }


def test_as_dict_round_trip_is_json_safe():
    import json

    rows = read_settlement_file(ENGLISH.encode(), "x.csv")
    stored = json.loads(json.dumps([r.as_dict() for r in rows]))
    assert [SettlementRow.from_dict(d) for d in stored] == rows


@pytest.mark.parametrize(
    "data,name,message",
    [
        (b"", "x.csv", "The file is empty: it has no header row."),
        (b"\n\n  \n", "x.csv", "The file is empty: it has no header row."),
        (b"waybill,amount,outcome,date\n", "x.csv", "The file has a header but no rows."),
        (b"waybill,amount,outcome,date\n\n,,,\n", "x.csv", "The file has a header but no rows."),
        (b"foo,bar\n1,2\n", "x.csv", "The file has no waybill number and outcome column."),
        (b"PK\x03\x04 not really a zip", "x.xlsx", "The file could not be read as an XLSX"),
        (b"\xd0\xcf\x11\xe0", "old.xls", "Old .xls workbooks are not read"),
        (b"waybill,outcome\nA\x00B,delivered\n", "x.csv", "The file is not a CSV text file."),
    ],
)
def test_unusable_files(data, name, message):
    with pytest.raises(SettlementFileError) as caught:
        read_settlement_file(data, name)
    assert str(caught.value).startswith(message)


def test_gbk_bytes_get_a_hint():
    data = "运单号,代收金额,状态,日期\nSF1,110.00,已签收,2026-11-28\n".encode("gbk")

    with pytest.raises(SettlementFileError) as caught:
        read_settlement_file(data, "gbk.csv")

    assert "not UTF-8" in str(caught.value)
    assert "GBK" in str(caught.value)
    assert "CSV UTF-8" in str(caught.value)


def test_too_large():
    with pytest.raises(SettlementFileError) as caught:
        read_settlement_file(b"x" * (MAX_BYTES + 1), "big.csv")
    assert "larger than 10 MB" in str(caught.value)
