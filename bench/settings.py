"""The bench's server: production settings (DEBUG off, persistent connections, JSON logs, the TLS
proxy's header trusted) with one addition, a bare view to measure a baseline against. Only
`python -m bench` starts a server with these settings; production's URLs never mount the view."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# A queue of the bench's own: a broker database shared with anything else (another checkout's
# worker, a test run) never hands the bench's wake-ups to a worker of a different database.
CELERY_TASK_DEFAULT_QUEUE = "omakase-bench"
