"""The staff roles (DESIGN: "Roles"): Django groups holding model permissions.

The data migration ``0002_roles`` creates them; ``ensure_roles`` also runs after every
``migrate`` (and after a test database flush, which empties the groups table) so the
groups always exist with exactly these permissions added.
"""

from django.apps import apps as global_apps

from orders.models import FINANCE, LOGISTICS, ORDER_ADMINS

ROLE_PERMISSIONS = {
    ORDER_ADMINS: [
        "view_order",
        "confirm_order",
        "invalidate_order",
        "cancel_order",
        "allocate_order",
        "ship_order",
        "log_call",
        "edit_order_for_member",
        "place_order_for_member",
        "record_delivery",
        "record_return",
        "retry_email",
    ],
    FINANCE: [
        "view_order",
        "view_payment",
        "record_payment",
        "record_refund",
        "void_payment",
        "record_remittance",
        "apply_cod_settlement",
    ],
    LOGISTICS: ["ship_assigned_order", "record_assigned_delivery"],
}


def ensure_roles(apps=global_apps, **kwargs):
    """Create the three staff groups if missing and give them their permissions.

    Safe to repeat. Connected to ``post_migrate`` for the orders app.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        perms = Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
        group.permissions.add(*perms)
