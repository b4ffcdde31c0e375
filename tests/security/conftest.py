"""What the security tests share: a first shop holding a little of everything, each piece marked
with the word "Canary" so that an answer leaking it is plain to see, and a fingerprint of its rows
to show a request changed nothing of it."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone

from loyalty.adjustments import points_adjust
from loyalty.models import Reward, Tier
from newsletters.models import Topic
from personalize.quiz import quiz_save
from personalize.refresh import profiles_recompute_all
from privacy.registry import ShopperRef
from privacy.requests import privacy_data_request_fulfil
from shop_app.models import Shop
from tests.personalize.histories import AS_OF, Line, customer_row, order_row, product_row

# deliver: webhooks as Shopify sends them, shared with tests/webhooks.
from tests.webhooks.conftest import deliver, stored_event
from webhooks.models import EventStatus

__all__ = ["deliver"]

CANARY = "canary"
CANARY_CUSTOMER = 9001
CANARY_EMAIL = "canary.bird@first-shop.example"
QUESTIONS = [
    {
        "text": "Canary question?",
        "kind": "single",
        "options": [{"label": "Canary yellow", "product_types": ["Shirts"]}, {"label": "Grey"}],
    }
]


@dataclass(frozen=True)
class SeededShop:
    """The first shop and the ids of its objects, by the name the admin API routes give them."""

    shop: Shop
    ids: dict[str, int]


def seed_first_shop(shop: Shop) -> SeededShop:
    product = product_row(shop, 1, "Shirts", sizes=("M",))
    product.title = "Canary Shirt"
    product.save()
    customer_row(shop, CANARY_CUSTOMER, first_name="Canary", last_name="Bird", email=CANARY_EMAIL)
    order = order_row(shop, CANARY_CUSTOMER, 10, [Line(1, size="M")])
    order.name = "#CANARY-1"
    order.email = CANARY_EMAIL
    order.save()
    profiles_recompute_all(shop, as_of=AS_OF)
    reward = Reward.objects.create(shop=shop, name="Canary reward", kind="fixed_amount", points_cost=100)
    tier = Tier.objects.create(shop=shop, name="Canary tier", threshold=100)
    topic = Topic.objects.create(
        shop=shop, handle="canary-news", names={"en": "Canary news"}, cadences=["monthly"], sections=[]
    )
    points_adjust(shop, CANARY_CUSTOMER, 50, "Canary welcome", actor="1")
    quiz_save(shop, "Canary quiz", QUESTIONS, published=True)
    event = stored_event(
        shop,
        "orders/create",
        {"email": CANARY_EMAIL},
        status=EventStatus.FAILED,
        last_error="Canary failure",
    )
    request = privacy_data_request_fulfil(
        shop, ShopperRef(customer_id=CANARY_CUSTOMER, email=CANARY_EMAIL), received_at=timezone.now()
    )
    return SeededShop(
        shop=shop,
        ids={
            "reward_id": reward.pk,
            "tier_id": tier.pk,
            "topic_id": topic.pk,
            "customer_id": CANARY_CUSTOMER,
            "request_id": request.pk,
            "event_id": event.pk,
        },
    )


@pytest.fixture
def seeded_shop(shop: Shop) -> SeededShop:
    return seed_first_shop(shop)


def rows_of(shop: Shop) -> dict[str, list[str]]:
    """Every row the shop owns, in every table with a foreign key to it, and the shop's own row."""
    found: dict[str, list[str]] = {
        "shop_app.shop": [repr(sorted(Shop.objects.filter(pk=shop.pk).values()[0].items()))]
    }
    for model in apps.get_models():
        owners = [
            field.name
            for field in model._meta.get_fields()
            if isinstance(field, models.ForeignKey) and field.related_model is Shop
        ]
        for owner in owners:
            rows: Any = model._default_manager.filter(**{owner: shop}).values()
            found[f"{model._meta.label_lower}.{owner}"] = sorted(repr(sorted(row.items())) for row in rows)
    return found
