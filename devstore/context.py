"""The running devstore: its storage, configuration, knobs and background workers."""

from __future__ import annotations

from dataclasses import dataclass, field

from devstore.config import DevstoreConfig
from devstore.db import Database
from devstore.ratelimit import CostBuckets
from devstore.runtime import RuntimeSettings
from devstore.webhooks import WebhookQueue


@dataclass
class Devstore:
    config: DevstoreConfig
    db: Database
    settings: RuntimeSettings
    webhooks: WebhookQueue
    buckets: CostBuckets = field(default_factory=CostBuckets)

    @classmethod
    def open(cls, config: DevstoreConfig) -> Devstore:
        db = Database(config.db_path)
        settings = RuntimeSettings()
        return cls(config=config, db=db, settings=settings, webhooks=WebhookQueue(db, config, settings))
