"""Apply a carrier's cash-on-delivery settlement file from the shell.

``manage.py import_cod_settlement PATH --carrier NAME --user USERNAME [--dry-run]
[--apply-good-rows]``: reads the CSV or XLSX file (``orders.cod_settlement``), prints one
line per row (line, waybill, order, outcome, amount, problem), then applies it through
``services.apply_settlement`` as ``USERNAME``, who must hold
``orders.apply_cod_settlement`` (finance). With problems nothing is applied unless
``--apply-good-rows``. Exit status 0 when everything in the file was applied (or, with
``--dry-run``, could be), 1 when the file is unusable or problem rows remain unapplied.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from orders import services
from orders.cod_settlement import SettlementFileError, read_settlement_file
from orders.exceptions import OrderError


class Command(BaseCommand):
    help = "Preview and apply a carrier's cash-on-delivery settlement file (CSV or XLSX)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The settlement file (.csv or .xlsx).")
        parser.add_argument("--carrier", required=True, help="The carrier, as on the orders.")
        parser.add_argument(
            "--user",
            help="Username of the finance clerk applying it (needs apply_cod_settlement).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Preview only.")
        parser.add_argument(
            "--apply-good-rows",
            action="store_true",
            help="Apply the rows without a problem even when other rows have one.",
        )

    def handle(self, *args, path, carrier, user, dry_run, apply_good_rows, **options):
        if not user:
            raise CommandError("Name the finance clerk applying the file with --user USERNAME.")
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"No active user named {user!r}.")
        try:
            services.check_apply_settlement(actor)
        except OrderError:
            raise CommandError(
                f"{user} may not apply settlement files (needs orders.apply_cod_settlement)."
            ) from None
        file = Path(path)
        if not file.is_file():
            what = "a folder" if file.is_dir() else "not found"
            raise CommandError(f"{path}: {what}; give the path of a .csv or .xlsx file.")
        try:
            rows = read_settlement_file(file.read_bytes(), file.name)
        except SettlementFileError as exc:
            raise CommandError(f"{path}: {exc}") from None
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from None
        try:
            matches = services.preview_settlement(carrier=carrier, rows=rows)
        except OrderError as exc:
            raise CommandError(str(exc.message)) from None

        self.print_preview(matches)
        problems = [m for m in matches if not m.ok]
        good = len(matches) - len(problems)
        self.stdout.write(f"{good} row(s) can be applied, {len(problems)} with a problem.")
        if dry_run:
            self.stdout.write("Dry run: nothing applied.")
            if problems:
                raise SystemExit(1)
            return
        if problems and not apply_good_rows:
            self.stderr.write(
                "Nothing applied: fix the rows with a problem, or pass --apply-good-rows."
            )
            raise SystemExit(1)
        try:
            result = services.apply_settlement(
                actor, carrier=carrier, rows=rows, apply_good_rows=apply_good_rows
            )
        except OrderError as exc:
            self.stderr.write(f"Nothing applied: {exc.message}")
            for line, problem in exc.details.get("problems", []):
                self.stderr.write(f"  line {line}: {problem}")
            raise SystemExit(1) from None
        self.stdout.write(
            f"Applied {len(result.applied)} row(s); left out {len(result.skipped)} with a problem."
        )
        if result.skipped:
            raise SystemExit(1)

    def print_preview(self, matches):
        header = ("line", "waybill", "order", "outcome", "amount", "problem")
        self.stdout.write("\t".join(header))
        for match in matches:
            row = match.row
            self.stdout.write(
                "\t".join(
                    [
                        str(row.line),
                        row.waybill or "-",
                        match.order.number if match.order is not None else "-",
                        row.outcome or "-",
                        "-" if row.amount is None else str(row.amount),
                        str(match.problem) or "ok",
                    ]
                )
            )
