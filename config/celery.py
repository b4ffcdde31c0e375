"""The Celery application. Tasks are autodiscovered from every installed app's tasks.py."""

import os
import uuid
from time import monotonic
from typing import Any

from celery import Celery, Task, signals
from django.db import close_old_connections
from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.json import dumps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


class FilesystemChannel(filesystem.Channel):
    # The signature of kombu's filesystem channel, which its stubs also mark as an override.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        """kombu creates a message's file in the queue folder and only then writes it, so a worker
        listing the folder in between takes an empty message, fails to decode it and stops
        (celery/kombu#1551). Write the file under a name no queue reads, then rename it into
        place: a rename within one folder is atomic, so readers see a whole message or none."""
        # kombu's own name: queues read files in name order, and by the part after the first dot.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "wb") as file:
                file.write(dumps(payload).encode())
            os.replace(partial, final)
        except OSError as error:
            raise ChannelError(f"Cannot add file {final!r} to directory") from error


class FilesystemTransport(filesystem.Transport):
    Channel = FilesystemChannel


# filesystem:// (the development and test broker, config/settings/base.py) means the transport above.
TRANSPORT_ALIASES["filesystem"] = "config.celery:FilesystemTransport"

app = Celery("omakase")
# Every CELERY_* Django setting configures Celery (CELERY_BROKER_URL -> broker_url, ...).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def database_connections_tidy(sender: Task | None = None, **kwargs: Any) -> None:
    """Around each task, what Django does around each request: close the connections that are
    older than CONN_MAX_AGE or broken, keep the others (CELERY_DB_REUSE_MAX stops Celery closing
    them all). Not for eager tasks: they run inside their caller's transaction."""
    if sender is not None and not getattr(sender.request, "is_eager", False):
        close_old_connections()
