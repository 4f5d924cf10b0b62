"""``manage.py setup_demo``: stock the demo mall and create its demo accounts (``make run``)."""

from pathlib import Path

from axes.utils import reset as reset_lockouts
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from mall.importer import import_products
from mall.models import Product
from orders.models import FINANCE, LOGISTICS, ORDER_ADMINS

DEMO_CATALOGUE = Path(__file__).resolve().parents[2] / "demo" / "demo_catalogue.csv"

# (username, password, role shown to the user, groups, superuser)
DEMO_ACCOUNTS = [
    ("root", "root-demo-pass", "superuser (Django admin, every role)", [], True),
    ("admin1", "admin1-demo-pass", "order admin", [ORDER_ADMINS], False),
    ("finance1", "finance1-demo-pass", "finance clerk", [FINANCE], False),
    ("courier1", "courier1-demo-pass", "logistics (delivery)", [LOGISTICS], False),
    ("member1", "member1-demo-pass", "member (customer)", [], False),
]


class Command(BaseCommand):
    help = (
        "Import the demo catalogue if the catalogue is empty and create the demo accounts "
        "with known passwords. Safe to run again. Refuses to run with DEBUG off."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="run even with DEBUG off (the demo accounts have published passwords)",
        )

    def handle(self, *args, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "setup_demo creates accounts with published passwords; refusing with DEBUG "
                "off. Pass --allow-production if this really is a demo server."
            )
        self._catalogue()
        self._accounts()

    def _catalogue(self):
        if Product.objects.exists():
            self.stdout.write("Catalogue already has products: demo catalogue not imported.")
            return
        report = import_products(DEMO_CATALOGUE)
        for note in report.rejected:
            self.stderr.write(self.style.ERROR(f"rejected {note}"))
        self.stdout.write(f"Demo catalogue imported: {report.summary()}")

    @transaction.atomic
    def _accounts(self):
        User = get_user_model()
        groups = {
            group.name: group
            for group in Group.objects.filter(name__in=[ORDER_ADMINS, FINANCE, LOGISTICS])
        }
        missing = {ORDER_ADMINS, FINANCE, LOGISTICS} - set(groups)
        if missing:
            raise CommandError(f"Missing groups {sorted(missing)}: run `manage.py migrate` first.")
        for username, password, _role, group_names, superuser in DEMO_ACCOUNTS:
            user, _created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@mall.example"}
            )
            # Reset every time, so the passwords printed below always work.
            user.set_password(password)
            user.is_superuser = user.is_staff = superuser
            user.is_active = True
            user.save()
            user.groups.set([groups[name] for name in group_names])
            reset_lockouts(username=username)  # so the password printed below works at once

        width = max(len(account[0]) for account in DEMO_ACCOUNTS)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo accounts (sign in at /accounts/login/):"))
        for username, password, role, _groups, _superuser in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:<{width}}  password: {password:<20}  {role}")
        self.stdout.write("")
