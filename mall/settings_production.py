"""Hardened settings for production (gunicorn behind a TLS-terminating proxy).

Use with ``DJANGO_SETTINGS_MODULE=mall.settings_production``. DEBUG is forced off, so
``DJANGO_SECRET_KEY`` must be set; ``manage.py check --deploy`` passes with no warnings.
"""

import os

os.environ["DJANGO_DEBUG"] = "0"

from mall.settings import *  # noqa: E402,F403
from mall.settings import STORAGES, env_bool  # noqa: E402

DEBUG = False

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Cookies only over https; set DJANGO_SECURE_COOKIES=0 only to try the image on plain http.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("AXES_PROXY_COUNT", "1"))
