"""Small HTTP helpers shared by the storefront, member pages and back office."""

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, value):
    """Return ``value`` if it is a path on this site (``/...``), else ``None``.

    Guards every ``next`` parameter against open redirects (Django's
    ``url_has_allowed_host_and_scheme``). Only absolute paths pass: ``redirect()`` would
    read a bare word as a URL pattern name and fail.
    """
    if (
        value
        and value.startswith("/")
        and url_has_allowed_host_and_scheme(
            value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return value
    return None
