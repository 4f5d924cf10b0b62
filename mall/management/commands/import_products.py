"""``manage.py import_products PATH [--dry-run] [--language CODE]``: load a WooCommerce
product export (CSV/XLSX)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
            self.stdout.write(_("skipped %(note)s") % {"note": note})
        for note in report.warnings:
            self.stdout.write(self.style.WARNING(_("warning %(note)s") % {"note": note}))
        for note in report.rejected:
            self.stderr.write(self.style.ERROR(_("rejected %(note)s") % {"note": note}))
        for name in report.categories_created:
            self.stdout.write(_("new category %(name)s") % {"name": name})
        if dry_run:
            self.stdout.write(self.style.WARNING(_("Dry run: nothing was written.")))
        self.stdout.write(report.summary())
        if report.rejected:
            count = len(report.rejected)
            if dry_run:
                message = ngettext(
                    "%(count)d row rejected; the other rows were checked.",
                    "%(count)d rows rejected; the other rows were checked.",
                    count,
                )
            else:
                message = ngettext(
                    "%(count)d row rejected; the other rows were imported.",
                    "%(count)d rows rejected; the other rows were imported.",
                    count,
                )
            raise CommandError(message % {"count": count})
