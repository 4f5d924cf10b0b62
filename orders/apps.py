from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from orders.reports import register_sqlite_functions
        from orders.roles import ensure_roles

        # The reports' percentile aggregate, for SQLite (PostgreSQL has its own).
        connection_created.connect(
            register_sqlite_functions, dispatch_uid="orders.register_sqlite_functions"
        )

        # After permissions exist (auth's post_migrate handler is connected first).
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="orders.ensure_roles")
