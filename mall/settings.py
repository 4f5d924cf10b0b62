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


def env_number(name, default, kind=int):
    """Read a number from the environment (``kind`` ``int`` or ``float``); a value that is
    not one stops the start with a message naming the variable, not a traceback."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return kind(default)
    try:
        return kind(value.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a {'whole ' if kind is int else ''}number "
            f"(the default is {default})."
        ) from None


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
    # Chooses primary or replica per page; a lost database becomes "please try again".
    "mall.db_router.DatabaseChoiceMiddleware",
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
        conn_max_age=env_number("DJANGO_CONN_MAX_AGE", 0),
        # A kept connection is checked before a request reuses it: after a database
        # restart the first request reconnects instead of failing (issue 15).
        conn_health_checks=True,
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

# Read replicas (issue 15; DESIGN "Past one machine"): DATABASE_REPLICA_URLS, comma
# separated, become the aliases replica1, replica2... mall.db_router sends the heavy read
# pages (lists, exports, reports, dashboard counts) to them in turn; everything else, and
# every page a user opens within MALL_READ_YOUR_WRITES_S of their own write, reads the
# primary. A replica that is down or lags more than MALL_REPLICA_MAX_LAG_S is skipped.
DATABASE_REPLICA_ALIASES = []
for _number, _url in enumerate(env_list("DATABASE_REPLICA_URLS"), start=1):
    _alias = f"replica{_number}"
    DATABASES[_alias] = dj_database_url.parse(
        _url,
        conn_max_age=env_number("DJANGO_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
    DATABASES[_alias].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}
    DATABASE_REPLICA_ALIASES.append(_alias)
DATABASE_ROUTERS = ["mall.db_router.ReplicaRouter"]
MALL_REPLICA_MAX_LAG_S = env_number("MALL_REPLICA_MAX_LAG_S", 5, float)
# How long a replica's health (up, lag) is trusted before it is asked again.
MALL_REPLICA_CHECK_S = env_number("MALL_REPLICA_CHECK_S", 2, float)
MALL_READ_YOUR_WRITES_S = float(
    os.environ.get("MALL_READ_YOUR_WRITES_S", str(MALL_REPLICA_MAX_LAG_S + 1))
)
# Name the database that served a page in an X-Mall-Database header (the scale-out test).
MALL_DATABASE_HEADER = env_bool("MALL_DATABASE_HEADER", False)

# Cache and sessions (issue 15). With REDIS_URL: Django's own Redis cache, and sessions
# in the database behind that cache (cached_db), so any web process serves any request.
# Without it: a file cache in MALL_CACHE_DIR, shared by every process of this machine
# (the password-reset limits, "someone is calling this member" notices and the chart
# cache rely on sharing), and sessions in the database.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "mall",
        }
    }
    # Django's cached_db, answering a lost database with "please try again" (mall.sessions).
    SESSION_ENGINE = "mall.sessions.cached_db"
else:
    SESSION_ENGINE = "mall.sessions.db"
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ.get("MALL_CACHE_DIR", str(BASE_DIR / ".cache")),
        }
    }

# Background work (issue 15): Celery with Redis as broker. Without CELERY_BROKER_URL the
# same tasks run in this process right after the commit (orders.tasks.enqueue).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ACKS_LATE = True  # a task is acknowledged when it is done, not when taken
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # a killed worker's task goes back to the queue
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message taken by a worker that died comes back after this many seconds.
    "visibility_timeout": env_number("MALL_CELERY_VISIBILITY_TIMEOUT_S", 3600),
    # How often a worker looks for such messages (every interval × throttle seconds).
    "unacked_restore_interval": env_number("MALL_CELERY_RESTORE_INTERVAL_S", 10),
    "unacked_restore_throttle": env_number("MALL_CELERY_RESTORE_THROTTLE", 10),
    # A broker that hangs without closing the connection: a publish gives up after this
    # many seconds and the e-mail is sent in-process (kombu waits forever without it).
    "socket_timeout": env_number("MALL_CELERY_SOCKET_TIMEOUT_S", 5, float),
}
# Committed e-mails are handed to the broker by a relay thread of the web process, the
# ones of this many seconds in one message (orders.tasks.enqueue_email); 0: each in
# its request.
MALL_EMAIL_RELAY_S = max(0.0, env_number("MALL_EMAIL_RELAY_S", 0.2, float))
# The hand-over never waits long for a broker that is down: it sends the e-mail itself.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Celery beat (one `celery -A mall beat` process): reports kept computed for the reports
# page (a page shows figures at most MALL_REPORT_MAX_AGE_S old, else computes them), and
# e-mails whose hand-over to the broker was lost queued again.
MALL_REPORT_REFRESH_S = env_number("MALL_REPORT_REFRESH_S", 300)
MALL_REPORT_MAX_AGE_S = env_number("MALL_REPORT_MAX_AGE_S", 600)
CELERY_BEAT_SCHEDULE = {
    "refresh-reports": {"task": "staff.refresh_reports", "schedule": MALL_REPORT_REFRESH_S},
    "send-pending-emails": {"task": "orders.send_pending_emails", "schedule": 60.0},
}
# Retries of a failed SMTP send: this many, waiting 2^n seconds (with jitter, at most 10 min).
MALL_EMAIL_MAX_RETRIES = env_number("MALL_EMAIL_MAX_RETRIES", 5)

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

# Files the application writes (large exports made by a worker): a volume every web
# process and worker shares in production (docker-compose.yml: "media").
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
# A filtered list longer than this is exported by a worker, with a progress page.
MALL_EXPORT_INLINE_ROWS = env_number("MALL_EXPORT_INLINE_ROWS", 5000)
# A settlement file with more rows than this is read, matched and applied by a worker.
MALL_IMPORT_INLINE_ROWS = env_number("MALL_IMPORT_INLINE_ROWS", 2000)

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
EMAIL_FILE_PATH = os.environ.get("DJANGO_EMAIL_FILE_PATH", str(BASE_DIR / "sent-mail"))
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_number("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_number("DJANGO_EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "orders@mall.example")

# Login throttling (django-axes): lock a username+IP pair out after repeated failures.
AXES_FAILURE_LIMIT = env_number("AXES_FAILURE_LIMIT", 5)
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
MALL_MAX_LINE_QUANTITY = env_number("MALL_MAX_LINE_QUANTITY", 99)
# Rows one product file may hold (manage.py import_products refuses a larger file whole).
MALL_IMPORT_MAX_ROWS = env_number("MALL_IMPORT_MAX_ROWS", 200000)
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
MALL_PASSWORD_RESET_LIMIT = env_number("MALL_PASSWORD_RESET_LIMIT", 5)
# The confirmation desk (issue 11): an order still awaiting its call after this many
# hours is highlighted; after this many unanswered calls the order page suggests marking
# it invalid (never automatically).
MALL_CONFIRM_TARGET_HOURS = env_number("MALL_CONFIRM_TARGET_HOURS", 24)
MALL_MAX_CALL_ATTEMPTS = env_number("MALL_MAX_CALL_ATTEMPTS", 3)
