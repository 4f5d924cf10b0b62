"""``manage.py setup_demo``: stock the demo mall, create its demo accounts and, once, a
handful of demo orders in every state (``make run``)."""

from decimal import Decimal
from pathlib import Path

from axes.utils import reset as reset_lockouts
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone, translation

from mall.importer import import_products
from mall.models import Product
from orders import services
from orders.models import FINANCE, LOGISTICS, ORDER_ADMINS, Order

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
# The demo catalogue in each language: the same products (matched by SKU), English first.
DEMO_CATALOGUES = [
    ("en", DEMO_DIR / "demo_catalogue.csv"),
    ("zh-hans", DEMO_DIR / "demo_catalogue_zh.csv"),
]
DEMO_CATALOGUE = DEMO_CATALOGUES[0][1]

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
        "Import the demo catalogue (English and Chinese) if the catalogue is empty, create "
        "the demo accounts with known passwords (set when an account is created, never "
        "reset), and place a handful of demo orders in every state if there are no orders "
        "yet. Safe to run again. Refuses to run with DEBUG off."
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
        self._orders()

    def _catalogue(self):
        if Product.objects.exists():
            self.stdout.write("Catalogue already has products: demo catalogue not imported.")
            return
        for language, path in DEMO_CATALOGUES:
            report = import_products(path, language=language)
            for note in report.rejected:
                self.stderr.write(self.style.ERROR(f"rejected {note}"))
            self.stdout.write(f"Demo catalogue ({language}) imported: {report.summary()}")

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
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@mall.example"}
            )
            # Only a new account gets the published password: running again must not sign
            # out whoever is using the demo, nor undo a password someone changed.
            if created:
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
        self.stdout.write("(Passwords are set when an account is created; a changed one stays.)")
        self.stdout.write("")

    def _orders(self):
        if Order.objects.exists():
            self.stdout.write("Orders exist already: no demo orders placed.")
            return
        User = get_user_model()
        users = {
            u.username: u for u in User.objects.filter(username__in=[a[0] for a in DEMO_ACCOUNTS])
        }
        products = [
            p for p in Product.objects.order_by("pk") if p.is_purchasable and p.available(6)
        ]
        if len(products) < 3 or len(users) < len(DEMO_ACCOUNTS):
            self.stdout.write("Not enough products or accounts for demo orders: none placed.")
            return
        # E-mails to the demo member would fill the console: the demo orders send none.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            placed = seed_demo_orders(users, products)
        self.stdout.write(
            f"Demo orders placed: {len(placed)} ({', '.join(sorted({o.status for o in placed}))})."
        )


DEMO_ADDRESS = {
    "recipient": "王小明",
    "phone": "138 0013 8000",
    "region": "上海市",
    "city": "上海",
    "address_line": "浦东新区海港路 88 号 3 栋 1201 室",
    "postcode": "200120",
}


@transaction.atomic
def seed_demo_orders(users, products):
    """Place demo orders for ``member1`` and walk them through the services into every
    state: submitted, confirmed (prepaid, unpaid), invalid, allocated, shipped (cash on
    delivery and paid by transfer), cancelled, partially paid, delivered by the shop's
    courier (cash in their hands) and returned. Returns the orders."""
    member, admin = users["member1"], users["admin1"]
    finance, courier = users["finance1"], users["courier1"]
    today = timezone.localdate()
    count = iter(range(1, 100))

    def place(method, language="zh-hans", *picks):
        lines = [(products[i % len(products)], q) for i, q in picks or [(next(count), 1)]]
        with translation.override(language):  # as the member's browser would be
            return services.place_order(
                member,
                lines=lines,
                address=DEMO_ADDRESS,
                payment_method=method,
                note="",
                language=language,
            )

    def confirm(order):
        return services.confirm_order(
            admin, order, expected_version=order.version, call_note="电话确认了地址。"
        )

    def pay(order, amount=None, reference=None):
        services.record_payment(
            finance,
            order,
            amount=amount or order.total,
            method=order.payment_method if order.payment_method != "cod" else "bank_transfer",
            reference=reference or f"DEMO-{order.number}",
            received_on=today,
        )
        return Order.objects.get(pk=order.pk)

    orders = [place("cod", "zh-hans", (0, 2), (1, 1)), place("bank_transfer", "en")]
    orders.append(confirm(place("bank_transfer", "zh-hans", (2, 1))))
    partly = confirm(place("postal_remittance", "zh-hans", (3, 2)))
    orders.append(pay(partly, amount=(partly.total / 2).quantize(Decimal("0.01"))))
    invalid = services.invalidate_order(
        admin, place("cod", "zh-hans", (4, 1)), reason="地址不存在，电话无人接听。"
    )
    orders.append(invalid)
    allocated = services.allocate_order(
        admin, confirm(place("cod", "en", (5, 1))), assignee=courier
    )
    orders.append(allocated)
    shipped = services.allocate_order(
        admin, confirm(place("cod", "zh-hans", (0, 1))), assignee=courier
    )
    orders.append(
        services.ship_order(admin, shipped, carrier="SF Express", tracking_number="SF1234567890")
    )
    prepaid = pay(confirm(place("bank_transfer", "zh-hans", (1, 2))))
    prepaid = services.allocate_order(admin, prepaid, assignee=courier)
    orders.append(
        services.ship_order(
            courier, prepaid, carrier="China Post EMS", tracking_number="EE987654321CN"
        )
    )
    orders.append(services.cancel_order(member, place("cod", "zh-hans", (2, 1)), reason="买错了"))
    # Delivered by the shop's own courier, who took the cash (now in their hands).
    own = services.allocate_order(admin, confirm(place("cod", "zh-hans", (3, 1))), assignee=courier)
    own = services.ship_order(courier, own, carrier=Order.OWN_DELIVERY_STAFF, tracking_number="")
    orders.append(
        services.record_delivery(courier, own, collected_amount=own.total, received_by="王小明")
    )
    # Refused at the door and back at the shop, every unit restocked.
    back = services.allocate_order(admin, confirm(place("cod", "en", (4, 1))), assignee=courier)
    back = services.ship_order(admin, back, carrier="SF Express", tracking_number="SF5550001111")
    orders.append(services.record_return(admin, back, reason="拒收"))
    return [Order.objects.get(pk=o.pk) for o in orders]
