"""Fixtures for every test: a shop, and a second shop that must never see the first one's data."""

import os
import time
import uuid
from collections.abc import Callable, Iterable

import jwt
import pytest
from django.conf import settings
from django.test import Client

from shop_app import work
from shop_app.models import Shop
from tests.factories import ShopFactory

pytest_plugins = ["tests.live"]


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI the tests run against the machine's real PostgreSQL and Redis. If CI forgot to point
    them there, fail loudly rather than pass quietly on SQLite and the filesystem broker."""
    if os.environ.get("CI") != "true":
        return
    database_url = os.environ.get("DATABASE_URL", "")
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    problems = []
    if not database_url.startswith(("postgres://", "postgresql://")):
        problems.append(f"DATABASE_URL must name PostgreSQL in CI, got {database_url!r}")
    if not broker_url.startswith(("redis://", "amqp://")):
        problems.append(f"CELERY_BROKER_URL must name Redis or RabbitMQ in CI, got {broker_url!r}")
    if problems:
        raise pytest.UsageError("; ".join(problems))


@pytest.fixture
def shop(db: None) -> Shop:
    return ShopFactory(domain="first-shop.myshopify.com")


@pytest.fixture
def other_shop(db: None) -> Shop:
    return ShopFactory(domain="second-shop.myshopify.com")


def make_session_token(
    shop_domain: str,
    *,
    secret: str | None = None,
    lifetime: int = 60,
    without: Iterable[str] = (),
    **overrides: object,
) -> str:
    """A session token as Shopify's App Bridge issues it (HS256 JWT signed with the app secret),
    with `overrides` replacing its claims and the claims named in `without` left out."""
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": f"https://{shop_domain}/admin",
        "dest": f"https://{shop_domain}",
        "aud": settings.SHOPIFY_API_KEY,
        "sub": "42",
        "exp": now + lifetime,
        "nbf": now - 1,
        "iat": now - 1,
        "jti": uuid.uuid4().hex,
        "sid": uuid.uuid4().hex,
    }
    claims.update(overrides)
    for name in without:
        del claims[name]
    return jwt.encode(claims, secret or settings.SHOPIFY_API_SECRET, algorithm="HS256")


def client_bearing(token: str) -> Client:
    """A test client whose requests carry this session token, as App Bridge's fetch sends it."""
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def session_token_for() -> Callable[..., str]:
    """session_token_for(shop, **claims): a valid session token for that shop."""

    def issue(shop: Shop, **overrides: object) -> str:
        return make_session_token(shop.domain, **overrides)

    return issue


@pytest.fixture
def api_client_for(session_token_for: Callable[..., str]) -> Callable[[Shop], Client]:
    """api_client_for(shop): a test client whose requests carry that shop's session token."""

    def build(shop: Shop) -> Client:
        return client_bearing(session_token_for(shop))

    return build


@pytest.fixture(autouse=True)
def broker_not_marked_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that makes the broker fail marks it down for the process (shop_app.work): the next
    test starts with it up."""
    monkeypatch.setattr(work, "_broker_down_until", 0.0)
