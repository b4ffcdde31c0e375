"""Production: every secret must come from the environment, or the process refuses to start."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *
from config.settings.base import DATABASES, LOGGING, env

DEBUG = False

_REQUIRED = (
    "DJANGO_SECRET_KEY",
    "SHOPIFY_API_KEY",
    "SHOPIFY_API_SECRET",
    "APP_URL",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    # A cache every process shares: the OAuth replay guard and the Admin API cost bucket live there.
    "REDIS_URL",
    "TOKEN_ENCRYPTION_KEYS",
)
_missing = [name for name in _REQUIRED if not env.str(name, default="")]
if _missing:
    raise ImproperlyConfigured(f"Production needs these environment variables: {', '.join(_missing)}")

# Persistent database connections: opening a PostgreSQL connection costs a few milliseconds, more
# than storing a webhook does. A connection that broke is closed at the end of the request that met
# the error (Django), so at most that request fails, with a 503 Shopify retries.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 30
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
LOGGING["handlers"]["console"]["formatter"] = "json"  # type: ignore[index]
