"""``/healthz`` (issue 15): is this web process able to serve? For load balancers and
Compose health checks."""

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """200 ``{"database": "ok", "cache": "ok"}`` when the primary database answers a query
    and the cache (Redis with ``REDIS_URL``) a round trip; 503 naming what failed."""
    checks = {}
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except DatabaseError as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        cache.set("healthz", "1", 10)
        checks["cache"] = "ok" if cache.get("healthz") == "1" else "error: no round trip"
    except Exception as exc:  # redis-py raises its own ConnectionError family
        checks["cache"] = f"error: {type(exc).__name__}"
    checks["cache_backend"] = "redis" if settings.REDIS_URL else "file"
    healthy = checks["database"] == "ok" and checks["cache"] == "ok"
    return JsonResponse(checks, status=200 if healthy else 503)
