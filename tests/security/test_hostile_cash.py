"""Hostile input on finance's cash pages, through real posts (issue 10, items 5 and 6).

Property-based, as ``test_hostile_forms``: the remittance form gets random text, huge and
odd numbers, odd Unicode and hand-made collection ids in one to three fields; the COD
settlement upload gets generated files (random bytes, or CSVs whose cells are hostile
values around real waybill numbers) with a hostile carrier name, and a readable file is
then applied, with or without the "good rows only" tick. Whatever comes: never a server
error, the page says what happened, a refusal changes nothing, and the money and stock
ledgers of every order still balance (``assert_invariants``).
"""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import example, given
from hypothesis import strategies as st

from orders.models import CodCollection, OrderEvent, Remittance
from tests.factories import logistics_person
from tests.orders.cash_helpers import collected, money_state, shipped_by
from tests.security.hostile import (
    apply,
    assert_invariants,
    assert_local_redirect,
    assert_refusal_shown,
    assert_success_shown,
    fresh_messages,
    mutations,
    rolled_back,
    stock_ledger,
    value,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cash(world):
    """``world`` plus a courier holding two collections (110.00, 100.00), another courier
    holding one, and two COD parcels out with SF Express (SF1001, SF1002)."""
    admin = world.users["order_admin"]
    world.courier = logistics_person(username="hostile-courier")
    world.held = [collected(world.courier, admin), collected(world.courier, admin, amount="100")]
    world.other = collected(logistics_person(username="other-courier"), admin)
    world.parcels = [shipped_by("SF Express", admin, waybill=w) for w in ("SF1001", "SF1002")]
    return world


def collection_ids(cash):
    ids = [str(o.cod_collection.pk) for o in cash.held]
    return st.one_of(
        st.sampled_from([ids, ids[:1], [str(cash.other.cod_collection.pk)], ids + ids]),
        st.lists(st.one_of(st.sampled_from(ids), value()), max_size=4),
        st.sampled_from(["210.00", "100.00", "110.00", "-10.00", "0"]),
    )


@given(data=st.data())
@example(data=None)
def test_remittance_form(cash, data):
    ids = [str(o.cod_collection.pk) for o in cash.held]
    valid = {"collections": ids, "counted": "210.00", "note": "", "confirm_difference": ""}
    changes = (
        {"counted": "1e400"}
        if data is None
        else data.draw(mutations(list(valid), extra=collection_ids(cash)))
    )
    path = f"/staff/cash/remit/{cash.courier.pk}/"
    with rolled_back():
        client = cash.client("finance")
        body = apply(valid, changes)
        ledger = stock_ledger()
        before = money_state()
        events = OrderEvent.objects.count()
        fresh_messages(client)

        response = client.post(path, body)

        assert response.status_code in (200, 302)
        assert_local_redirect(response)
        assert_invariants(ledger)
        if response.status_code == 200:
            assert money_state() == before
            assert_refusal_shown(response)
            return
        assert response["Location"] == "/staff/cash/"
        assert_success_shown(response)
        remittance = Remittance.objects.get()
        handed = list(CodCollection.objects.filter(remittance=remittance))
        assert handed and all(c.courier_id == cash.courier.pk for c in handed)
        assert remittance.expected == sum(c.amount for c in handed)
        assert remittance.difference == remittance.counted - remittance.expected
        assert not remittance.difference or remittance.note.strip()
        # One payment event per order handed over, nothing else.
        assert OrderEvent.objects.count() == events + len(handed)


WAYBILLS = ["SF1001", "SF1002", "sf1001", "NOPE", ""]
HEADERS = [
    ["运单号", "代收金额", "状态", "日期"],
    ["waybill number", "amount", "outcome", "date"],
    ["Waybill", "COD", "Status"],
    ["foo", "bar"],
]


@st.composite
def settlement_files(draw):
    """``(filename, bytes)``: random bytes now and then, else a CSV of hostile cells."""
    if not draw(st.integers(0, 5)):
        return draw(st.sampled_from(["x.csv", "x.xlsx", "x.xls", "x"])), draw(
            st.binary(max_size=300)
        )
    header = draw(st.sampled_from(HEADERS))
    plausible = {
        0: st.sampled_from(WAYBILLS),
        1: st.sampled_from(["110.00", "100", "", "￥110.00", "-1", "1e400", "NaN"]),
        2: st.sampled_from(["delivered", "已签收", "拒收", "returned", "lost", ""]),
        3: st.sampled_from(["2026-11-28", "", "2026-02-30", "9999-12-31"]),
    }
    rows = draw(
        st.lists(
            st.lists(
                st.one_of(*(plausible.get(i, value()) for i in range(len(header))), value()),
                min_size=0,
                max_size=len(header) + 1,
            ),
            max_size=5,
        )
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk"]))
    return draw(st.sampled_from(["s.csv", "s.CSV", "s.txt"])), out.getvalue().encode(
        encoding, errors="replace"
    )


@given(
    file=settlement_files(),
    carrier=st.one_of(st.sampled_from(["SF Express", "sf express", "own"]), value()),
    good_rows=st.booleans(),
)
@example(
    file=("s.csv", "运单号,代收金额,状态\nSF1001,110.00,已签收\n".encode()),
    carrier="SF Express",
    good_rows=False,
)
def test_settlement_upload_and_apply(cash, file, carrier, good_rows):
    name, data = file
    with rolled_back():
        client = cash.client("finance")
        ledger = stock_ledger()
        before = money_state()
        fresh_messages(client)

        response = client.post(
            "/staff/cod-settlements/",
            {"carrier": carrier, "file": SimpleUploadedFile(name, data)},
        )

        assert response.status_code in (200, 302)
        assert money_state() == before  # reading and previewing never write
        if response.status_code == 200:
            assert_refusal_shown(response)
            return
        preview = client.get(response["Location"])
        assert preview.status_code == 200
        assert money_state() == before
        body = {"apply_good_rows": "on"} if good_rows else {}
        fresh_messages(client)
        applied = client.post(response["Location"], body)
        assert applied.status_code == 302
        assert_local_redirect(applied)
        assert_invariants(ledger)
        if money_state() == before:
            assert_refusal_shown(applied)
        else:
            assert_success_shown(applied)
            assert applied["Location"] == "/staff/cod-settlements/"
