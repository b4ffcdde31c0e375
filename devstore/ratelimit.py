"""Shopify's leaky bucket of query cost, one per app and shop."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class Bucket:
    available: float
    updated: float


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    def as_json(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": self.currently_available,
            "restoreRate": self.restore_rate,
        }


class CostBuckets:
    """Leaky buckets keyed by (api key, shop): a query runs only if its requested cost fits."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._lock = threading.Lock()

    def _refill(self, key: tuple[str, str], size: float, rate: float, now: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(available=size, updated=now)
        bucket.available = min(size, bucket.available + (now - bucket.updated) * rate)
        bucket.updated = now
        return bucket

    def take(
        self, key: tuple[str, str], cost: float, *, size: float, rate: float
    ) -> tuple[bool, ThrottleStatus]:
        """Charge the requested cost up front, or refuse without charging."""
        with self._lock:
            bucket = self._refill(key, size, rate, time.monotonic())
            ok = cost <= bucket.available
            if ok:
                bucket.available -= cost
            return ok, ThrottleStatus(size, float(int(bucket.available)), rate)

    def refund(self, key: tuple[str, str], amount: float, *, size: float, rate: float) -> ThrottleStatus:
        """Give back requested minus actual cost once the query has run."""
        with self._lock:
            bucket = self._refill(key, size, rate, time.monotonic())
            bucket.available = min(size, bucket.available + max(0.0, amount))
            return ThrottleStatus(size, float(int(bucket.available)), rate)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
