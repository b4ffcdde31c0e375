"""Hypothesis-generated bodies never cause a server error: a signed webhook of any subscribed
topic with random JSON (or a recorded payload with one field replaced by random JSON) is answered
200 or 4xx, and processing what was stored ends done, failed or waiting to retry, with its
failure recorded, never an exception out of the worker; random JSON to each storefront POST is
answered 2xx or 4xx."""

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop_app.models import Shop
from tests.security.conftest import CANARY_CUSTOMER, SeededShop
from tests.storefront import proxy_url, signed_proxy_query
from tests.webhooks.conftest import PAYLOADS, Deliver, payload
from webhooks.handlers import TOPIC_HANDLERS
from webhooks.models import EventStatus, WebhookEvent

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
# Keys the app reads somewhere, so that random bodies reach past "unknown field" often enough.
KEYS = [
    "id",
    "email",
    "phone",
    "customer",
    "customer_id",
    "line_items",
    "refund_line_items",
    "transactions",
    "addresses",
    "default_address",
    "updated_at",
    "created_at",
    "total_price",
    "currency",
    "variants",
    "product_id",
    "inventory_item_id",
    "available",
    "orders_to_redact",
    "email_marketing_consent",
    "facts",
    "consent",
    "answers",
    "events",
    "topics",
    "reason",
    "reward_id",
    "idempotency_key",
    "notice_version",
    "block",
    "cadence",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(["2026-11-02T10:00:00Z", "12.50", "USD", "gid://shopify/Order/1", "", "a@example.com"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=25,
)
OBJECTS = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=12), JSON, max_size=8)
TOPICS = sorted(TOPIC_HANDLERS)
ENDED_OR_WAITING = (EventStatus.DONE, EventStatus.FAILED, EventStatus.IGNORED, EventStatus.PENDING)


def recorded(topic: str) -> dict[str, Any] | None:
    name = topic.replace("/", "_")
    return payload(name) if (PAYLOADS / f"{name}.json").exists() else None


@st.composite
def webhook_bodies(draw: st.DrawFn, topic: str) -> bytes:
    """Random JSON, or the topic's recorded payload with one field replaced by random JSON."""
    base = recorded(topic)
    if base is None or draw(st.booleans()):
        return json.dumps(draw(OBJECTS | JSON)).encode()
    field = draw(st.sampled_from(sorted(base)))
    base[field] = draw(JSON)
    return json.dumps(base).encode()


@pytest.mark.parametrize("topic", TOPICS)
def test_a_signed_webhook_with_any_body_is_answered_and_processed_without_a_crash(
    topic: str, shop: Shop, deliver: Deliver
) -> None:
    @FUZZ
    @given(body=webhook_bodies(topic))
    def delivered(body: bytes) -> None:
        # Intake runs the processing it schedules (eagerly, as the worker would); an exception
        # escaping the worker would escape here.
        response = deliver(shop, topic, body)

        assert response.status_code == 200 or 400 <= response.status_code < 500, response.content
        for event in WebhookEvent.objects.filter(topic=topic):
            assert event.status in (
                EventStatus.DONE,
                EventStatus.FAILED,
                EventStatus.IGNORED,
                EventStatus.PENDING,
            )
            if event.status == EventStatus.FAILED or (event.status == EventStatus.PENDING and event.attempts):
                assert event.last_error, f"{topic} failed with nothing recorded"

    delivered()


POST_ROUTES = [
    "profile",
    "recommendations/dismiss",
    "quiz/answers",
    "quiz/retry",
    "events",
    "newsletters/subscriptions",
    "loyalty/redeem",
    "loyalty/join",
]


@pytest.mark.parametrize("route", POST_ROUTES)
def test_any_json_to_a_storefront_post_is_answered_without_a_server_error(
    route: str, seeded_shop: SeededShop, client: Client
) -> None:
    shop = seeded_shop.shop

    @FUZZ
    @given(body=OBJECTS | JSON, signed_in=st.booleans())
    def posted(body: Any, signed_in: bool) -> None:
        cache.clear()  # the rate limits are not what is tested
        query = signed_proxy_query(shop.domain, customer_id=CANARY_CUSTOMER if signed_in else None)
        response = client.post(
            proxy_url(route, query), data=json.dumps(body), content_type="application/json"
        )

        assert response.status_code < 500, f"/proxy/{route} {body!r} answered {response.status_code}"

    posted()
