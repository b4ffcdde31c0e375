"""The per-shop send rate, shared by every worker: a token bucket in Redis (one Lua script, so that
reading, refilling and taking are one step for all of them, on Redis's own clock). Without Redis
(development on embedded defaults) each process keeps its own bucket.

Taking reserves: the bucket may go below zero, and the caller sleeps as long as it says. So
workers never spin, and together they send at the rate, in order of asking.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings

RESERVE_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local held = redis.call('HMGET', KEYS[1], 'at', 'tokens')
local at = tonumber(held[1]) or now
local tokens = tonumber(held[2]) or burst
tokens = math.min(burst, tokens + (now - at) * rate) - want
redis.call('HSET', KEYS[1], 'at', tostring(now), 'tokens', tostring(tokens))
redis.call('EXPIRE', KEYS[1], 3600)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


@lru_cache(maxsize=1)
def _redis(url: str) -> Any:
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return client.register_script(RESERVE_SCRIPT)


class _LocalBucket:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buckets: dict[str, tuple[float, float]] = {}

    def reserve(self, key: str, rate: float, burst: float, want: float) -> float:
        with self.lock:
            now = time.monotonic()
            at, tokens = self.buckets.get(key, (now, burst))
            tokens = min(burst, tokens + (now - at) * rate) - want
            self.buckets[key] = (now, tokens)
        return 0.0 if tokens >= 0 else -tokens / rate


_local = _LocalBucket()


def send_rate_reserve(shop_id: int, count: int = 1) -> float:
    """Reserve `count` sends of the shop's rate (NEWSLETTER_SEND_RATE_PER_SECOND); the seconds to
    wait before sending them."""
    rate = float(settings.NEWSLETTER_SEND_RATE_PER_SECOND)
    if rate <= 0:
        return 0.0
    burst = max(rate, 1.0)
    key = f"newsletters:send-rate:{shop_id}"
    if settings.REDIS_URL:
        return float(_redis(settings.REDIS_URL)(keys=[key], args=[rate, burst, count]))
    return _local.reserve(key, rate, burst, count)


def send_rate_wait(shop_id: int, count: int = 1) -> None:
    wait = send_rate_reserve(shop_id, count)
    if wait > 0:
        time.sleep(wait)
