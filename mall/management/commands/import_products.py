"""``manage.py import_products PATH [--dry-run] [--language CODE]``: load a WooCommerce
product export (CSV/XLSX)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mall.importer import ImportFileError, import_products


class Command(BaseCommand):
    help = (
        "Import products from a WooCommerce product export (CSV or XLSX, headers in English "
        "or as WooCommerce's translations write them). Products are matched by SKU (any "
        "letter case), then by WooCommerce ID, so running it again updates them; columns "
        "absent from the file are left alone. Rows with bad data are reported with their "
        "line number and skipped; the exit status is 1 if any row was rejected or the file "
        "cannot be used at all (then nothing is written)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV or XLSX file exported by WooCommerce")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and report what would change, without writing anything",
        )

        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help="the language of the file's names and descriptions (default: the shop's, "
            "%(default)s); import the same products in each language to fill both",
        )

    def handle(self, *args, path, dry_run=False, language=None, **options):
        try:
            report = import_products(path, dry_run=dry_run, language=language)
        except ImportFileError as error:
            raise CommandError(f"{path}: {error}") from None

        for note in report.skipped:
            self.stdout.write(f"skipped {note}")
        for note in report.warnings:
            self.stdout.write(self.style.WARNING(f"warning {note}"))
        for note in report.rejected:
            self.stderr.write(self.style.ERROR(f"rejected {note}"))
        for name in report.categories_created:
            self.stdout.write(f"new category {name}")
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was written."))
        self.stdout.write(report.summary())
        if report.rejected:
            raise CommandError(
                f"{len(report.rejected)} row(s) rejected; the other rows were "
                + ("checked." if dry_run else "imported.")
            )
