"""``manage.py import_cod_settlement PATH --carrier NAME --user USERNAME [--dry-run]
[--apply-good-rows]``: preview, apply through the settlement service, exit status 1 when
the file is unusable or problem rows stay unapplied."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from orders.models import Payment, Status
from tests.orders.cash_helpers import money_state, shipped_by
from tests.staff.helpers import reload


def today():
    """The shop's day now, as a settlement file writes it (a row may not predate its order)."""
    return timezone.localdate().isoformat()


pytestmark = pytest.mark.django_db

SF = "SF Express"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def run(*args):
    """Run the command; return ``(exit status, stdout, stderr)``."""
    out, err = StringIO(), StringIO()
    try:
        call_command("import_cod_settlement", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    except CommandError as error:
        return 1, out.getvalue(), str(error)
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def parcel(admin_user):
    return shipped_by(SF, admin_user, waybill="SF1001")


def write(tmp_path, *lines, name="s.csv"):
    path = tmp_path / name
    path.write_text("运单号,代收金额,状态,日期\n" + "\n".join(lines) + "\n", encoding="utf-8-sig")
    return str(path)


def test_applies_a_clean_file(tmp_path, parcel, finance_user):
    path = write(tmp_path, f"SF1001,110.00,已签收,{today()}")

    status, out, err = run(path, "--carrier", SF, "--user", "finance")

    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "line\twaybill\torder\toutcome\tamount\tproblem"
    assert lines[1] == f"2\tSF1001\t{parcel.number}\tdelivered\t110.00\tok"
    assert "1 row(s) can be applied, 0 with a problem." in out
    assert "Applied 1 row(s); left out 0 with a problem." in out
    assert reload(parcel).status == Status.DELIVERED
    assert Payment.objects.get(reference="SF Express:SF1001").recorded_by == finance_user


def test_dry_run_changes_nothing(tmp_path, parcel, finance_user):
    path = write(tmp_path, "SF1001,110.00,delivered,")
    before = money_state()
    status, out, _err = run(path, "--carrier", SF, "--user", "finance", "--dry-run")
    assert status == 0
    assert "Dry run: nothing applied." in out
    assert money_state() == before


def test_problems_block_the_file_and_exit_1(tmp_path, parcel, finance_user):
    path = write(tmp_path, "SF1001,110.00,delivered,", "NOPE,5.00,delivered,")
    before = money_state()

    status, out, err = run(path, "--carrier", SF, "--user", "finance")

    assert status == 1
    assert "3\tNOPE\t-\tdelivered\t5.00\tunknown waybill NOPE for SF Express" in out
    assert "Nothing applied" in err
    assert money_state() == before

    dry = run(path, "--carrier", SF, "--user", "finance", "--dry-run")
    assert dry[0] == 1 and money_state() == before

    status, out, _err = run(path, "--carrier", SF, "--user", "finance", "--apply-good-rows")
    assert status == 1  # a problem row remains unapplied
    assert "Applied 1 row(s); left out 1 with a problem." in out
    assert reload(parcel).status == Status.DELIVERED


def test_the_same_file_twice_changes_nothing(tmp_path, parcel, finance_user):
    path = write(tmp_path, "SF1001,110.00,delivered,")
    assert run(path, "--carrier", SF, "--user", "finance")[0] == 0
    before = money_state()
    status, out, _err = run(path, "--carrier", SF, "--user", "finance", "--apply-good-rows")
    assert status == 1
    assert f"already settled (order {parcel.number})" in out
    assert money_state() == before


def test_the_acting_user_must_hold_the_permission(tmp_path, parcel, admin_user, finance_user):
    path = write(tmp_path, "SF1001,110.00,delivered,")
    before = money_state()
    assert run(path, "--carrier", SF)[2] == (
        "Name the finance clerk applying the file with --user USERNAME."
    )
    status, _out, err = run(path, "--carrier", SF, "--user", "orderadmin")
    assert status == 1 and "may not apply settlement files" in err
    status, _out, err = run(path, "--carrier", SF, "--user", "nobody")
    assert status == 1 and err == "No active user named 'nobody'."
    assert money_state() == before


def test_unusable_paths_and_files(tmp_path, parcel, finance_user):
    before = money_state()
    status, _out, err = run(str(tmp_path), "--carrier", SF, "--user", "finance")
    assert status == 1 and err == f"{tmp_path}: a folder; give the path of a .csv or .xlsx file."
    missing = tmp_path / "missing.csv"
    status, _out, err = run(str(missing), "--carrier", SF, "--user", "finance")
    assert status == 1 and err == f"{missing}: not found; give the path of a .csv or .xlsx file."
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("运单号,状态\nSF1001,已签收\n".encode("gbk"))
    status, _out, err = run(str(gbk), "--carrier", SF, "--user", "finance")
    assert status == 1 and "not UTF-8" in err and "\n" not in err
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    status, _out, err = run(str(empty), "--carrier", SF, "--user", "finance")
    assert status == 1 and err.endswith("The file is empty: it has no header row.")
    status, _out, err = run(
        write(tmp_path, "SF1001,110.00,delivered,"), "--carrier", "own", "--user", "finance"
    )
    assert status == 1 and "own delivery staff" in err
    assert money_state() == before
