"""What shopify.app.toml declares, read once: the scopes, the webhook topics and the app proxy.
The toml is what `shopify app deploy` sends to Shopify, so reading it keeps one list of each."""

import tomllib
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings


@dataclass(frozen=True)
class AppToml:
    scopes: tuple[str, ...]
    webhook_topics: tuple[str, ...]
    compliance_topics: tuple[str, ...]
    webhook_path: str
    proxy_path: str


@lru_cache(maxsize=1)
def app_toml() -> AppToml:
    with (settings.BASE_DIR / "shopify.app.toml").open("rb") as file:
        data = tomllib.load(file)
    topics: list[str] = []
    compliance: list[str] = []
    webhook_path = "/webhooks/"
    for subscription in data.get("webhooks", {}).get("subscriptions", []):
        topics.extend(subscription.get("topics", []))
        compliance.extend(subscription.get("compliance_topics", []))
        webhook_path = subscription.get("uri", webhook_path)
    scopes = tuple(scope.strip() for scope in data["access_scopes"]["scopes"].split(",") if scope.strip())
    return AppToml(
        scopes=scopes,
        webhook_topics=tuple(topics),
        compliance_topics=tuple(compliance),
        webhook_path=webhook_path,
        proxy_path=data.get("app_proxy", {}).get("url", "/proxy/"),
    )


def webhook_callback_url() -> str:
    return settings.APP_URL.rstrip("/") + app_toml().webhook_path
