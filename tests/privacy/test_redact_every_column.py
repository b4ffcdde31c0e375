"""After a `customers/redact`, no text, varchar or JSON column of any table (read by introspection,
whatever the database) holds the shopper's email, phone, names or address, once they had told and
done something in every module: orders with addresses, a profile with facts, a newsletter
subscription, a loyalty membership with a birthday, browsing events and a quiz answer."""

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from loyalty.models import Member
from loyalty.program import program_for
from newsletters.models import Subscriber, Topic
from personalize.models import BrowsingEvent, Fact, QuizAnswer, StorefrontEvent
from personalize.pixel import pixel_settings_for
from personalize.quiz import quiz_save
from shop_app.models import Shop
from tests.storefront import proxy_url, signed_proxy_query

# Deliver, shared with tests/webhooks.
from tests.webhooks.conftest import Deliver, payload
from tests.webhooks.test_privacy import (
    JOHN_CASE_INSENSITIVE,
    JOHN_EXACT,
    JOHN_ID,
    deliver_everything_about_john,
    john_privacy,
)

TEXT_COLUMNS = {"CharField", "TextField", "JSONField", "EmailField", "SlugField", "URLField", "UUIDField"}
CONSENT = {"text": "For a treat on your birthday and the right size.", "version": "1", "language": "en"}
QUESTIONS = [
    {
        "text": "Which fits you?",
        "kind": "single",
        "options": [{"label": "Relaxed", "product_types": ["Shirts"]}, {"label": "Slim"}],
    }
]


def every_text_value() -> list[tuple[str, str, str]]:
    """(table, column, value) for every text, varchar or JSON value of every table."""
    found = []
    introspection = connection.introspection
    with connection.cursor() as cursor:
        for table in introspection.table_names(cursor):
            columns = [
                column.name
                for column in introspection.get_table_description(cursor, table)
                if introspection.get_field_type(column.type_code, column) in TEXT_COLUMNS
            ]
            if not columns:
                continue
            names = ", ".join(connection.ops.quote_name(column) for column in columns)
            cursor.execute(f"SELECT {names} FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        text = value if isinstance(value, str) else json.dumps(value, default=str)
                        found.append((table, column, text))
    return found


def johns_data(values: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    return {
        (table, column, needle)
        for table, column, value in values
        for needle in [*JOHN_CASE_INSENSITIVE, *JOHN_EXACT]
        if (needle.lower() in value.lower() if needle in JOHN_CASE_INSENSITIVE else needle in value)
    }


def storefront_post(client: Client, shop: Shop, path: str, body: Any) -> Any:
    query = signed_proxy_query(shop.domain, customer_id=JOHN_ID)
    return client.post(
        proxy_url(path, query),
        data=json.dumps(body),
        content_type="application/json",
        headers={"User-Agent": "Mozilla/5.0 test", "X-Forwarded-For": "203.0.113.9"},
    )


def john_everywhere(shop: Shop, client: Client, deliver: Deliver, after_commit: Any) -> None:
    """John's customer record, order (with its addresses), refund and consent from Shopify; then
    what he does on the storefront in every module."""
    cache.clear()
    deliver_everything_about_john(shop, deliver)
    joined = storefront_post(
        client, shop, "loyalty/join", {"notice_version": program_for(shop).incentive_notice_version}
    )
    assert joined.status_code == 200, joined.content
    # What the shopper tells reaches loyalty (the birthday) after the request commits.
    with after_commit(execute=True):
        told = storefront_post(
            client,
            shop,
            "profile",
            {"facts": {"birthday": {"month": 4, "day": 2}}, "consent": CONSENT},
        )
    assert told.status_code == 200, told.content
    topic = Topic.objects.create(shop=shop, handle="news", names={"en": "News"}, cadences=["monthly"])
    signed_up = storefront_post(
        client,
        shop,
        "newsletters/subscriptions",
        {"topics": [{"id": topic.pk, "cadence": "monthly"}], "consent": CONSENT},
    )
    assert signed_up.status_code == 202, signed_up.content
    quiz_save(shop, "Your fit", QUESTIONS, published=True)
    answered = storefront_post(client, shop, "quiz/answers", {"answers": {"q1": "q1o1"}, "consent": CONSENT})
    assert answered.status_code == 200, answered.content
    clicked = storefront_post(
        client,
        shop,
        "events",
        {
            "visitor": "johns-visit",
            "events": [{"type": "click", "block": "for-you", "product_id": 632910392}],
        },
    )
    assert clicked.status_code == 202, clicked.content
    viewed = client.post(
        "/pixel/events",
        data=json.dumps(
            {
                "key": pixel_settings_for(shop).key,
                "customer": str(JOHN_ID),
                "events": [
                    {
                        "id": "view-1",
                        "name": "product_viewed",
                        "client_id": "johns-browser",
                        "at": timezone.now().isoformat(),
                        "product_id": "632910392",
                    }
                ],
            }
        ),
        content_type="application/json",
        headers={"Origin": f"https://{shop.domain}"},
    )
    assert viewed.status_code == 204, viewed.content


@pytest.mark.django_db
def test_after_customers_redact_no_text_column_holds_the_shoppers_personal_data(
    shop: Shop, other_shop: Shop, client: Client, deliver: Deliver, django_capture_on_commit_callbacks: Any
) -> None:
    # Given John in every module, and Bob, another shopper, in a second shop
    john_everywhere(shop, client, deliver, django_capture_on_commit_callbacks)
    deliver(other_shop, "customers/create", payload("customers_create"))
    before = johns_data(every_text_value())
    held_by = {table for table, _, _ in before}
    assert {"commerce_customer", "commerce_order", "newsletters_subscriber"} <= held_by, held_by
    assert Fact.objects.filter(shop=shop, customer_shopify_id=JOHN_ID).exists()
    assert Member.objects.filter(shop=shop, customer_shopify_id=JOHN_ID, birthday_month=4).exists()
    assert QuizAnswer.objects.filter(shop=shop).exists()
    assert BrowsingEvent.objects.filter(shop=shop, customer_shopify_id=JOHN_ID).exists()
    assert StorefrontEvent.objects.filter(shop=shop, customer_shopify_id=JOHN_ID).exists()

    # When Shopify asks us to erase him
    response = deliver(shop, "customers/redact", john_privacy("customers_redact"))

    # Then no text column of any table holds his email, phone, names or address
    assert response.status_code == 200
    assert johns_data(every_text_value()) == set()
    # ... and what he told, joined and did is gone with him
    assert not Fact.objects.filter(shop=shop, customer_shopify_id=JOHN_ID).exists()
    assert not Member.objects.filter(shop=shop, customer_shopify_id=JOHN_ID).exists()
    assert not Subscriber.objects.filter(shop=shop, customer_shopify_id=JOHN_ID).exists()
    assert not BrowsingEvent.objects.filter(shop=shop, customer_shopify_id=JOHN_ID).exists()
    assert not QuizAnswer.objects.filter(shop=shop, customer_shopify_id=JOHN_ID).exists()
    # ... while his click on a block still counts for the shop, naming no one
    [click] = StorefrontEvent.objects.filter(shop=shop, kind="click")
    assert (click.customer_shopify_id, click.visitor) == (None, "")
