"""Walk the URLconf and turn each pattern into a real path for the security tests."""

import re

from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver

from mall.models import Product

ADMIN = "admin:*"
_CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")


def walk(patterns=None, prefix="", namespace=""):
    """Yield ``(namespace, name, route)`` for every pattern, nested includes included.

    ``route`` is the full route as written (``staff/orders/<str:number>/ship/``); regex
    patterns keep their regex text (``^`` and ``$`` removed).
    """
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        text = str(pattern.pattern).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from walk(pattern.url_patterns, prefix + text, inner)
        elif isinstance(pattern, URLPattern):
            yield namespace, pattern.name, prefix + text


def rule_key(namespace, route):
    """The key of the access table: the route, or one key for the whole Django admin."""
    return ADMIN if namespace.split(":")[0] == "admin" else route


def admin_object(route, world):
    """The primary key of a real object for an admin route ``admin/<app>/<model>/…``."""
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if not match:
        return None
    app_label, model_name = match.groups()
    model = ContentType.objects.get(app_label=app_label, model=model_name).model_class()
    if model_name == "order":
        return world.allocated.pk
    obj = model._default_manager.order_by("pk").first()
    return obj.pk if obj is not None else 1


def _first_email_pk():
    from orders.models import OutboxEmail

    return OutboxEmail.objects.order_by("pk").values_list("pk", flat=True).first() or 1


def fill(namespace, name, route, world):
    """Return the path of ``route`` with every parameter filled with a real object."""
    values = {
        "slug": world.category.slug if name == "category" else world.product.slug,
        # Member pages use the member's open order; back-office pages the allocated one.
        "number": world.allocated.number if namespace == "staff" else world.submitted.number,
        "object_id": admin_object(route, world) if "object_id" in route else None,
        "id": world.users["member"].pk,
        "content_type_id": ContentType.objects.get_for_model(Product).pk,
        "app_label": "orders",
        "url": "no-such-page/",
        "address_id": world.address.pk,
        "uidb64": "MQ",
        # Finance's cash pages: the logistics user (a courier, holding no cash), and a
        # settlement preview token that was never issued.
        "courier_id": world.users["logistics"].pk,
        "token": "no-such-token",
        # The outbox retry (issue 15): a real e-mail, sent already, so it is refused.
        "pk": _first_email_pk(),
        "job_id": 1,  # no export or settlement job was started: 404 for everyone
    }
    if "content_type_id" in route:
        values["object_id"] = world.product.pk

    def value(match):
        return str(values[match.group("name")])

    path = _GROUP.sub(value, route)  # regex groups first: they contain <name> too
    path = _CONVERTER.sub(value, path)
    return "/" + path
