"""Fixtures for every test: a shop, and a second shop that must never see the first one's data."""

import os

import pytest

from shop_app.models import Shop
from tests.factories import ShopFactory


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
