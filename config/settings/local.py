"""Development: embedded defaults (SQLite, the filesystem broker), debug on."""

from config.settings.base import *
from config.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# Serve static files from the apps directly; collectstatic is for production.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
