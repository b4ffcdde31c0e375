"""Tests: the same settings as development, faster hashing, and tasks run on commit in-process
unless a test asks for the real broker and worker (tests/integration)."""

from config.settings.base import *
from config.settings.base import (
    CELERY_BROKER_URL,
    DATABASES,
    LOGGING,
    VAR_DIR,
    env,
    filesystem_broker_options,
)

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that a worker process started by an integration test sees the
    # same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

# A real worker started by a test (tests/live.py) turns this off: the tasks it sends go through the
# broker to itself, as in production, rather than running inside the task that sent them.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
LOG_LEVEL = "WARNING"
LOGGING["root"]["level"] = LOG_LEVEL  # type: ignore[index]

if CELERY_BROKER_URL.startswith("filesystem://"):
    # A queue of its own, so that a demo running beside the tests never takes their messages.
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR / "test-broker")

# Serve static files from the apps directly; collectstatic is for production.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
