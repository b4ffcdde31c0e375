"""Settings shared by every environment. Every value comes from the environment (django-environ);
the defaults here are the development ones, and production.py refuses to start without its secrets."""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# --- Django core -------------------------------------------------------------------------------
SECRET_KEY = env("DJANGO_SECRET_KEY", default="omakase-development-only-secret-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Lowest layer first (docs/architecture.md); webhooks wires the others together, and overview,
    # the top, reads them all for the merchant's home page.
    "shop_app",
    "privacy",
    "commerce",
    "personalize",
    "newsletters",
    "loyalty",
    "webhooks",
    "overview",
]

MIDDLEWARE = [
    "config.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Last, next to the views: a view that lost its database answers 503 (config.unavailable).
    "config.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# SQLite under var/ by default; PostgreSQL (psycopg 3) when DATABASE_URL says so.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'omakase.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for a lock rather than fail at once, and let
    # readers proceed beside the writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django turns psycopg's prepared statements off for the sake of connection poolers in
    # transaction mode, which lose them between transactions. Omakase connects to PostgreSQL
    # directly and keeps its connections, so they are on (psycopg's default threshold): webhook
    # intake's insert (webhooks.intake) is parsed and planned once per connection rather than for
    # every webhook, half of what the database spends on each. Only server-side binding cursors
    # prepare; the ORM's binds on the client and never does. Behind a pooler in transaction mode,
    # set DATABASE_PREPARED_STATEMENTS=false.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "prepare_threshold", 5 if env.bool("DATABASE_PREPARED_STATEMENTS", default=True) else None
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
# The embedded admin speaks English and Japanese (shop_app.admin.admin_language); `make messages`
# updates the catalogs in locale/.
LANGUAGES = [("en", "English"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Shopify's admin frames the app: framing is governed by the frame-ancestors CSP that each
# embedded page sets for its shop, so Django's X-Frame-Options middleware is not installed.

# --- Shopify ------------------------------------------------------------------------------------
SHOPIFY_API_KEY = env("SHOPIFY_API_KEY", default="omakase-dev-key")
# The development secret is as long as a real one (32+ bytes): PyJWT warns about shorter HMAC keys,
# and devstore (devstore/config.py) signs with the same default.
SHOPIFY_API_SECRET = env("SHOPIFY_API_SECRET", default="omakase-development-only-shopify-api-secret")
# During a secret rotation Shopify may still sign with the previous secret for a while.
SHOPIFY_API_SECRET_PREVIOUS = env("SHOPIFY_API_SECRET_PREVIOUS", default="")
SHOPIFY_API_VERSION = env("SHOPIFY_API_VERSION", default="2026-10")
# Where https://{shop}.myshopify.com is really reached. Empty in production (Shopify itself);
# devstore's address in development and tests.
SHOPIFY_BASE_URL_OVERRIDE = env("SHOPIFY_BASE_URL_OVERRIDE", default="")
# App Bridge and Polaris web components load from here (devstore serves stand-ins offline).
SHOPIFY_CDN_BASE = env("SHOPIFY_CDN_BASE", default="https://cdn.shopify.com")
SHOPIFY_HTTP_TIMEOUT = (
    env.float("SHOPIFY_CONNECT_TIMEOUT", default=5.0),
    env.float("SHOPIFY_READ_TIMEOUT", default=20.0),
)
APP_URL = env("APP_URL", default="http://127.0.0.1:8000")
# Fernet keys (urlsafe base64, 32 bytes) for tokens at rest, newest first; older keys still decrypt.
TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS", default=[])

# --- Webhooks -----------------------------------------------------------------------------------
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=2 * 1024 * 1024)
# Processing attempts of one event before it stays failed (replayable), and the backoff between
# them: base * 4^(attempt-1) seconds, capped.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=3600)
# A shop's other background work (shop_app.jobs: after-install, import steps, reconciliation):
# attempts after a transient failure, and the backoff between them (base * 4^(attempt-1), capped).
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=8)
JOB_RETRY_BASE_SECONDS = env.int("JOB_RETRY_BASE_SECONDS", default=5)
JOB_RETRY_MAX_SECONDS = env.int("JOB_RETRY_MAX_SECONDS", default=300)
# The sweeper re-sends a pending event this long after it was due (the broker lost it or was down).
WORK_SWEEP_GRACE_SECONDS = env.int("WORK_SWEEP_GRACE_SECONDS", default=120)
# Reconciliation's first pass for a shop reads this far back; later passes start at their cursor.
RECONCILE_FIRST_WINDOW_HOURS = env.int("RECONCILE_FIRST_WINDOW_HOURS", default=24)

# --- Redis and Celery ---------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
# By default a broker that needs no server: kombu's filesystem transport keeps each message as a
# file under var/broker, which web, worker and beat processes on one machine all share. The
# transport ignores the host, but kombu warns on every connection when the URL has none.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://localhost/")


def filesystem_broker_options(folder: Path) -> dict[str, str]:
    """kombu's filesystem transport: one folder of message files that every process shares."""
    (folder / "queue").mkdir(parents=True, exist_ok=True)
    queue = str(folder / "queue")
    return {"data_folder_in": queue, "data_folder_out": queue, "control_folder": str(folder / "control")}


if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR / "broker")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Tasks record their outcome in our own tables; no result backend is needed.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
# acks_late is set per task, only on the idempotent ones.
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# Celery's Django fixup closes every database connection before and after each task unless this
# is set: a new PostgreSQL connection per task (a few milliseconds, more than a webhook event's
# work). With it set, connections live as CONN_MAX_AGE says, and config.celery closes the ones that
# are old or broken around each task, as Django does around each request; the fixup still
# recycles them every 2 x this many tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "heartbeat": {"task": "shop_app.tasks.heartbeat", "schedule": crontab(minute="*")},
    "sweep-webhook-events": {"task": "webhooks.tasks.sweep_webhook_events", "schedule": crontab(minute="*")},
    "sweep-jobs": {"task": "shop_app.tasks.sweep_jobs", "schedule": crontab(minute="*")},
    "reconcile-orders-and-customers": {
        "task": "commerce.tasks.reconcile_all_shops",
        "schedule": crontab(minute="*/30"),
    },
    "create-due-newsletter-issues": {
        "task": "newsletters.tasks.create_due_issues",
        "schedule": crontab(minute="*/15"),
    },
    "sweep-newsletter-deliveries": {
        "task": "newsletters.tasks.sweep_deliveries",
        "schedule": crontab(minute="*"),
    },
    # Recency and fading tastes move with the calendar, and the shop's parameters with its buyers.
    "recompute-profiles": {
        "task": "personalize.tasks.recompute_all_profiles",
        "schedule": crontab(hour=3, minute=15),
    },
    # Loyalty: expiry, reminders, birthdays (hourly, so each shop's day starts on time), redemptions
    # left behind, the theme mirror; nightly, tiers and the proof that balances equal the ledger.
    "loyalty-hourly": {"task": "loyalty.tasks.hourly", "schedule": crontab(minute=5)},
    "loyalty-nightly": {"task": "loyalty.tasks.nightly", "schedule": crontab(hour=2, minute=45)},
    # The Overview's daily rollups: changed days every 5 minutes; nightly, the last 35 days and
    # the day's snapshots, after profiles are recomputed.
    "overview-rollups": {"task": "overview.tasks.refresh_rollups", "schedule": crontab(minute="*/5")},
    "overview-rollups-nightly": {
        "task": "overview.tasks.nightly_rollups",
        "schedule": crontab(hour=3, minute=45),
    },
}

# --- Email and newsletters ---------------------------------------------------------------------
# Django's email backends from one URL (django-environ): smtp://user:password@host:port (smtp+tls,
# smtp+ssl), consolemail://, filemail:///path. `make demo` points it at devstore's mail catcher.
# SMTP goes through Django's SMTP backend with plain envelope addresses taken as they are
# (shop_app.mail).
email_config = env.email_url("EMAIL_URL", default="consolemail://")
if email_config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend":
    email_config["EMAIL_BACKEND"] = "shop_app.mail.SmtpBackend"
vars().update(email_config)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="newsletters@omakase.example")
# Emails per second per shop, shared by every worker (Redis); 0 for no limit.
NEWSLETTER_SEND_RATE_PER_SECOND = env.float("NEWSLETTER_SEND_RATE_PER_SECOND", default=100.0)
NEWSLETTER_SEND_MAX_ATTEMPTS = env.int("NEWSLETTER_SEND_MAX_ATTEMPTS", default=6)
NEWSLETTER_SEND_RETRY_BASE_SECONDS = env.int("NEWSLETTER_SEND_RETRY_BASE_SECONDS", default=30)
NEWSLETTER_SEND_RETRY_MAX_SECONDS = env.int("NEWSLETTER_SEND_RETRY_MAX_SECONDS", default=3600)

# --- Logging ------------------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_JSON = env.bool("LOG_JSON", default=False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.request_id.RequestIdFilter"},
        "redact": {"()": "config.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "plain",
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- REST framework ------------------------------------------------------------------------------
# Every API is for the embedded admin unless it says otherwise: session token, scoped to its shop.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["shop_app.session_auth.SessionTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "shop_app.api_errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The OpenAPI schema of the admin APIs, served at /api/schema/ (session-token authenticated).
SPECTACULAR_SETTINGS = {
    "TITLE": "Omakase admin API",
    "DESCRIPTION": "The APIs behind Omakase's embedded admin. Every call carries a Shopify session token.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Cache ------------------------------------------------------------------------------------
# Redis when REDIS_URL is set (production, CI); an in-process cache otherwise.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
