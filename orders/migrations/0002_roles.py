"""Create the staff roles (DESIGN: "Roles") as groups holding model permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Order admins": [
        "view_order",
        "confirm_order",
        "invalidate_order",
        "cancel_order",
        "allocate_order",
        "ship_order",
        "log_call",
    ],
    "Finance": ["view_order", "view_payment", "record_payment", "record_refund", "void_payment"],
    "Logistics": ["ship_assigned_order"],
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations; the groups need them now.
    for app_label in ("orders",):
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
        assert perms.count() == len(codenames), (name, list(perms.values_list("codename", flat=True)))
        group.permissions.add(*perms)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
