"""Settings for the mall order desk, read from the environment.

The defaults give the embedded set-up (`make run`): a SQLite file in the project
folder, DEBUG on, e-mail printed to the console. Production imports this module from
``mall.settings_production`` and hardens it; see the README's "Configuration".
"""

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    """Read a boolean environment variable (``1/true/yes/on`` are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    """Read a comma-separated environment variable as a list of non-empty strings."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "modeltranslation",  # before the admin, whose forms it extends (mall/translation.py)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "axes",
    "mall",
    "orders",
    "staff",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mall.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mall.context_processors.shop",
            ],
        },
    },
]

WSGI_APPLICATION = "mall.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Take the write lock when a transaction starts (BEGIN IMMEDIATE) and wait up to 20 s
    # for a competing writer: with SQLite's default deferred transactions two clerks
    # acting at once fail at once with "database is locked" instead of queueing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# The shop's language: Simplified Chinese for this Chinese mall, English available. A
# visitor's language cookie and Accept-Language header choose between them
# (LocaleMiddleware); each order keeps the language it was placed in for its e-mails.
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LANGUAGE_CODE = os.environ.get("DJANGO_LANGUAGE_CODE", "zh-hans").strip().lower()
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"DJANGO_LANGUAGE_CODE={LANGUAGE_CODE!r}: use one of {', '.join(dict(LANGUAGES))}."
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
# Catalogue texts in every language (django-modeltranslation): a missing translation
# shows the other language rather than nothing.
MODELTRANSLATION_FALLBACK_LANGUAGES = {"default": tuple(dict(LANGUAGES))}
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "orders@mall.example")

# Login throttling (django-axes): lock a username+IP pair out after repeated failures.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    "loggers": {"orders": {"level": "INFO"}},
}

# The shop itself.
MALL_NAME = os.environ.get("MALL_NAME", "Harbour Mall")
MALL_CURRENCY = os.environ.get("MALL_CURRENCY", "CNY")
# The locale whose symbol for the currency every reader sees (mall.formatting): ¥, not CN¥.
MALL_CURRENCY_LOCALE = os.environ.get("MALL_CURRENCY_LOCALE", "zh_Hans_CN")
MALL_SHIPPING_FEE = Decimal(os.environ.get("MALL_SHIPPING_FEE", "10.00"))
MALL_FREE_SHIPPING_FROM = Decimal(os.environ.get("MALL_FREE_SHIPPING_FROM", "199.00"))
MALL_MAX_LINE_QUANTITY = int(os.environ.get("MALL_MAX_LINE_QUANTITY", "99"))
# Rows one product file may hold (manage.py import_products refuses a larger file whole).
MALL_IMPORT_MAX_ROWS = int(os.environ.get("MALL_IMPORT_MAX_ROWS", "200000"))
MALL_MAX_PAYMENT_AMOUNT = Decimal(os.environ.get("MALL_MAX_PAYMENT_AMOUNT", "1000000.00"))
# Where prepaid orders are paid. The shop's own values come from the environment as
# written; the demo defaults are translated, so a Chinese page or e-mail shows them in
# Chinese.
MALL_BANK_DETAILS = os.environ.get("MALL_BANK_DETAILS") or _(
    "Harbour Mall Ltd · Bank of Example, Harbour Road branch · account 6222 0000 1234 5678"
)
MALL_REMITTANCE_DETAILS = os.environ.get("MALL_REMITTANCE_DETAILS") or _(
    "Harbour Mall Ltd · 88 Harbour Road, Shanghai 200000 (China Post remittance)"
)
MALL_PHONE = os.environ.get("MALL_PHONE", "400-000-0000")
# Password reset links asked for per hour, per client address and per e-mail address.
MALL_PASSWORD_RESET_LIMIT = int(os.environ.get("MALL_PASSWORD_RESET_LIMIT", "5"))
# The confirmation desk (issue 11): an order still awaiting its call after this many
# hours is highlighted; after this many unanswered calls the order page suggests marking
# it invalid (never automatically).
MALL_CONFIRM_TARGET_HOURS = int(os.environ.get("MALL_CONFIRM_TARGET_HOURS", "24"))
MALL_MAX_CALL_ATTEMPTS = int(os.environ.get("MALL_MAX_CALL_ATTEMPTS", "3"))
