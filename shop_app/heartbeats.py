"""Background processes prove they are alive by stamping a heartbeat row."""

import socket
from datetime import datetime

from django.utils import timezone

from shop_app.models import WorkerHeartbeat


def heartbeat_record(name: str) -> WorkerHeartbeat:
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"seen_at": timezone.now(), "hostname": socket.gethostname()}
    )
    return heartbeat


def heartbeat_last_seen(name: str) -> datetime | None:
    return WorkerHeartbeat.objects.filter(name=name).values_list("seen_at", flat=True).first()
