"""Knobs the control API turns at run time (in memory: they reset with the process)."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

# Shopify's documented defaults (shopify.dev, "About offline access tokens" and the
# December 2025 changelog): expiring offline tokens live 60 minutes, refresh tokens 90 days,
# session (id) tokens one minute.
ACCESS_TOKEN_TTL = 3600
REFRESH_TOKEN_TTL = 90 * 24 * 3600
SESSION_TOKEN_TTL = 60
# GraphQL Admin API, Standard plan (shopify.dev "GraphQL Admin API rate limits"):
# restore 100 points/second; responses report a 2,000 point bucket.
BUCKET_SIZE = 2000.0
RESTORE_RATE = 100.0
MAX_QUERY_COST = 1000
# Shopify retries a failed webhook 8 times over about 4 hours.
WEBHOOK_BACKOFF = (60.0, 120.0, 300.0, 600.0, 1200.0, 2400.0, 3600.0, 6000.0)
WEBHOOK_TIMEOUT = 5.0


@dataclass
class FailureInjection:
    """The next `remaining` Admin API requests answer `status` instead of running, after
    `delay_seconds`. With `status` 200 they run as usual and only their answer is late: Shopify
    slow past the client's timeout, which gets no answer although the work was done."""

    remaining: int = 0
    status: int = 429
    retry_after: float = 1.0
    delay_seconds: float = 0.0


@dataclass
class WebhookBehaviour:
    duplicate: bool = False  # deliver every webhook twice (same webhook id)
    out_of_order: int = 0  # hold the next N deliveries and send them newest first
    delay_seconds: float = 0.0  # deliver late
    backoff_scale: float = 1.0  # multiply WEBHOOK_BACKOFF (tests use ~0.001)
    timeout: float = WEBHOOK_TIMEOUT
    max_retries: int = len(WEBHOOK_BACKOFF)


@dataclass
class RuntimeSettings:
    access_token_ttl: int = ACCESS_TOKEN_TTL
    refresh_token_ttl: int = REFRESH_TOKEN_TTL
    session_token_ttl: int = SESSION_TOKEN_TTL
    bucket_size: float = BUCKET_SIZE
    restore_rate: float = RESTORE_RATE
    max_query_cost: int = MAX_QUERY_COST
    failure: FailureInjection = field(default_factory=FailureInjection)
    webhooks: WebhookBehaviour = field(default_factory=WebhookBehaviour)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        # asdict() deep-copies every field, and a lock cannot be copied: leave it out first.
        return {
            name: (asdict(value) if hasattr(value, "__dataclass_fields__") else value)
            for name, value in vars(self).items()
            if name != "lock"
        }

    def apply(self, changes: dict[str, Any]) -> None:
        """Merge a (possibly nested) JSON object of changes; unknown keys raise KeyError."""
        with self.lock:
            for key, value in changes.items():
                if key == "failure":
                    _merge(self.failure, value)
                elif key == "webhooks":
                    _merge(self.webhooks, value)
                elif key in ("access_token_ttl", "refresh_token_ttl", "session_token_ttl", "max_query_cost"):
                    setattr(self, key, int(value))
                elif key in ("bucket_size", "restore_rate"):
                    setattr(self, key, float(value))
                else:
                    raise KeyError(key)

    def take_failure(self) -> FailureInjection | None:
        """Consume one injected failure, if any is armed."""
        with self.lock:
            if self.failure.remaining <= 0:
                return None
            self.failure.remaining -= 1
            return FailureInjection(
                1, self.failure.status, self.failure.retry_after, self.failure.delay_seconds
            )


def _merge(target: Any, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if not hasattr(target, key):
            raise KeyError(key)
        current = getattr(target, key)
        setattr(target, key, type(current)(value))
