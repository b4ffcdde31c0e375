"""Webhook subscriptions. shopify.app.toml declares them for every installation of the public app:
those are app-scoped, Shopify keeps them, and the `webhookSubscriptions` query does not even list
them. A custom app made in a merchant's admin has no toml, so for it we create the missing
shop-scoped subscriptions through the API (creating them for a public install would make Shopify
deliver every event twice, once per subscription)."""

import logging

from shop_app.admin_api import AdminApiError, AdminClient
from shop_app.app_config import app_toml, webhook_callback_url

logger = logging.getLogger(__name__)

SUBSCRIPTIONS_QUERY = """
query Subscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}
"""

SUBSCRIPTION_CREATE = """
mutation Subscribe($topic: WebhookSubscriptionTopic!, $subscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $subscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""


def topic_enum(topic: str) -> str:
    """orders/create -> ORDERS_CREATE, as the GraphQL WebhookSubscriptionTopic enum spells it."""
    return topic.replace("/", "_").upper()


def shop_webhook_subscriptions_ensure(client: AdminClient) -> list[str]:
    """Create every subscription the toml declares that the shop lacks; returns the topics created.
    The privacy (compliance) topics cannot be subscribed through the API: Shopify sends them to
    the toml's compliance URI."""
    existing: set[tuple[str, str]] = set()
    after: str | None = None
    while True:
        data = client.graphql(SUBSCRIPTIONS_QUERY, {"after": after})
        page = data["webhookSubscriptions"]
        existing.update((node["topic"], node.get("uri") or "") for node in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    callback = webhook_callback_url()
    created: list[str] = []
    for topic in app_toml().webhook_topics:
        if (topic_enum(topic), callback) in existing:
            continue
        result = client.graphql(
            SUBSCRIPTION_CREATE,
            {"topic": topic_enum(topic), "subscription": {"uri": callback, "format": "JSON"}},
        )["webhookSubscriptionCreate"]
        if result["userErrors"]:
            raise AdminApiError(
                f"could not subscribe to {topic}", code="USER_ERRORS", errors=result["userErrors"]
            )
        created.append(topic)
    if created:
        logger.info("subscribed %s to %s", client.shop.domain, ", ".join(created))
    return created
