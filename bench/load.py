"""The load generator of `make bench`: N concurrent HTTP/1.1 connections on loopback, each sending
its next request as soon as the previous answer is in (a closed loop, as Shopify's delivery
workers and a storefront's shoppers are), for a fixed time.

It runs in a process of its own (`python -m bench.load`) so that it never shares an interpreter
with the server or the bench, and stays cheap: raw asyncio sockets, requests built before the
clock starts, nothing parsed but the status line. gunicorn's sync workers close the connection
after each answer, so each request opens its own connection, as it would against production.

Prints one JSON object: requests answered, of them with the expected status, seconds, latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import sys
import time
import uuid
from urllib.parse import urlencode

# What the bench's webhooks carry: an orders/create payload, each with an order id of its own.
ORDER_ID_BASE = 50_000_000


def baseline_request(host: str, path: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n"
    ).encode()


def webhook_request(host: str, shop: str, secret: str, template: dict[str, object], serial: int) -> bytes:
    """A new orders/create delivery, signed as Shopify signs it, behind a TLS proxy as production
    is (X-Forwarded-Proto)."""
    order_id = ORDER_ID_BASE + serial
    body = json.dumps({**template, "id": order_id, "name": f"#B{serial}"}).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    event_id = str(uuid.uuid4())
    headers = (
        "POST /webhooks/ HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "X-Forwarded-Proto: https\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "X-Shopify-Topic: orders/create\r\n"
        f"X-Shopify-Hmac-Sha256: {signature}\r\n"
        f"X-Shopify-Shop-Domain: {shop}\r\n"
        "X-Shopify-API-Version: 2026-10\r\n"
        f"X-Shopify-Webhook-Id: {event_id}\r\n"
        f"X-Shopify-Event-Id: {event_id}\r\n"
        "X-Shopify-Triggered-At: 2026-11-25T10:00:00.000Z\r\n"
        "Connection: close\r\n\r\n"
    )
    return headers.encode() + body


def proxy_request(host: str, shop: str, secret: str, customer_id: int, timestamp: int) -> bytes:
    """A shopper's GET /apps/omakase/recommendations?block=for-you as Shopify's app proxy forwards
    it to /proxy/recommendations: the shopper's query plus shop, logged_in_customer_id, path_prefix
    and timestamp, signed (sorted `key=value` pairs, hex HMAC-SHA256 under the app secret)."""
    pairs = [
        ("block", "for-you"),
        ("shop", shop),
        ("logged_in_customer_id", str(customer_id)),
        ("path_prefix", "/apps/omakase"),
        ("timestamp", str(timestamp)),
    ]
    message = "".join(sorted(f"{key}={value}" for key, value in pairs))
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    query = urlencode([*pairs, ("signature", signature)])
    return (
        f"GET /proxy/recommendations?{query} HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-Proto: https\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


async def one_request(port: int, request: bytes) -> tuple[int, float]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    answer = await reader.read()  # the server closes the connection after its answer
    writer.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, time.perf_counter() - started


async def closed_loop(
    port: int, requests: list[bytes], connections: int, seconds: float
) -> dict[str, object]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = 0.0
    next_request = 0

    async def connection() -> None:
        nonlocal next_request
        while time.perf_counter() < deadline and next_request < len(requests):
            request = requests[next_request]
            next_request += 1
            status, latency = await one_request(port, request)
            latencies.append(latency)
            statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "latencies_ms": [round(latency * 1000, 3) for latency in latencies],
        "ran_out_of_requests": next_request >= len(requests),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["baseline", "webhook", "proxy"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--most", type=int, default=100_000, help="requests prepared at most")
    parser.add_argument("--first-serial", type=int, default=0, help="of the webhooks' order ids")
    parser.add_argument("--shop", default="")
    parser.add_argument("--secret", default="")
    parser.add_argument("--payload", default="", help="an orders/create payload (JSON file)")
    parser.add_argument("--shoppers", type=int, default=1, help="proxy: signed-in shoppers 1..N, in turn")
    arguments = parser.parse_args()
    host = "127.0.0.1"
    if arguments.kind == "baseline":
        requests = [baseline_request(host, "/bench/baseline")] * arguments.most
    elif arguments.kind == "proxy":
        # Signed now: the app refuses a timestamp older than 90 seconds.
        now = int(time.time())
        first, count = arguments.first_serial, arguments.shoppers
        shoppers = [1 + (first + serial) % count for serial in range(arguments.most)]
        requests = [proxy_request(host, arguments.shop, arguments.secret, each, now) for each in shoppers]
    else:
        with open(arguments.payload) as file:
            template = json.load(file)
        requests = [
            webhook_request(host, arguments.shop, arguments.secret, template, arguments.first_serial + serial)
            for serial in range(arguments.most)
        ]
    result = asyncio.run(closed_loop(arguments.port, requests, arguments.connections, arguments.seconds))
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
