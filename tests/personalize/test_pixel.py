"""The web pixel's ingest door, `POST /pixel/events`: only the shop's storefront may post (CORS),
with the shop's key, within the rate; a bad batch is refused naming the field and stores nothing;
a browser's anonymous events become the customer's when it is seen signed in; viewed products
change "picked for you"; and the privacy provider exports and erases what the pixel saw."""

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from commerce.models import Product, Variant
from personalize import pixel
from personalize.models import BrowsingEvent, CandidateList, PixelSettings
from personalize.picks import picks_for
from personalize.pixel import pixel_settings_for, views_weighted
from personalize.privacy import personalize_erase_shopper, personalize_export_shopper
from privacy.registry import ShopperRef
from shop_app.models import Shop

pytestmark = pytest.mark.django_db

STOREFRONT = "https://{domain}"
CUSTOMER = 7001


@pytest.fixture(autouse=True)
def empty_rate_counters() -> None:
    cache.clear()


@pytest.fixture
def key(shop: Shop) -> str:
    return pixel_settings_for(shop).key


def event(index: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"event-{index}",
        "name": "product_viewed",
        "client_id": "browser-1",
        "at": timezone.now().isoformat(),
        "product_id": "11",
        "variant_id": "110",
        **fields,
    }


def post(client: Client, shop: Shop, body: Any, *, origin: str | None = None) -> Any:
    return client.post(
        "/pixel/events",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Origin": origin if origin is not None else STOREFRONT.format(domain=shop.domain)},
    )


def test_a_batch_from_the_storefront_is_stored_with_cors_for_that_origin(
    client: Client, shop: Shop, key: str
) -> None:
    origin = STOREFRONT.format(domain=shop.domain)
    response = post(client, shop, {"key": key, "customer": None, "events": [event(1), event(2)]})

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == origin
    stored = BrowsingEvent.objects.for_shop(shop).order_by("event_id")
    assert [(e.kind, e.client_id, e.product_shopify_id, e.customer_shopify_id) for e in stored] == [
        ("product_viewed", "browser-1", 11, None),
        ("product_viewed", "browser-1", 11, None),
    ]


def test_the_same_batch_sent_twice_is_stored_once(client: Client, shop: Shop, key: str) -> None:
    body = {"key": key, "events": [event(1)]}
    assert post(client, shop, body).status_code == 204
    assert post(client, shop, body).status_code == 204
    assert BrowsingEvent.objects.for_shop(shop).count() == 1


def test_the_preflight_is_answered_for_the_shops_storefront_only(
    client: Client, shop: Shop, key: str
) -> None:
    origin = STOREFRONT.format(domain=shop.domain)
    allowed = client.options(
        "/pixel/events",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    refused = client.options("/pixel/events", headers={"Origin": "https://evil.example"})

    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == origin
    assert "Content-Type" in allowed["Access-Control-Allow-Headers"]
    assert refused.status_code == 403
    assert not refused.has_header("Access-Control-Allow-Origin")


def test_another_origin_is_refused_and_nothing_is_stored(
    client: Client, shop: Shop, other_shop: Shop, key: str
) -> None:
    for origin in ("https://evil.example", STOREFRONT.format(domain=other_shop.domain), ""):
        response = post(client, shop, {"key": key, "events": [event()]}, origin=origin)
        assert response.status_code == 403
        assert not response.has_header("Access-Control-Allow-Origin")
    assert not BrowsingEvent.objects.exists()


def test_the_primary_domain_shopify_reported_may_post(client: Client, shop: Shop, key: str) -> None:
    PixelSettings.objects.for_shop(shop).update(primary_origin="https://shop.example")
    assert (
        post(client, shop, {"key": key, "events": [event()]}, origin="https://shop.example").status_code
        == 204
    )


def test_an_unknown_key_or_an_uninstalled_shop_is_refused(client: Client, shop: Shop, key: str) -> None:
    assert post(client, shop, {"key": "not-a-key-of-anyone", "events": [event()]}).status_code == 404
    shop.uninstalled_at = timezone.now()
    shop.save()
    assert post(client, shop, {"key": key, "events": [event()]}).status_code == 404
    assert not BrowsingEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": []}, "events"),
        ({"events": "x"}, "events"),
        ({"events": [event()], "extra": 1}, "extra"),
        ({"events": [event(), event(2, name="page_viewed")]}, "events[1].name"),
        ({"events": [event(product_id="gid://shopify/Order/x")]}, "events[0].product_id"),
        ({"events": [event(product_id=None)]}, "events[0].product_id"),
        ({"events": [event(client_id="a b")]}, "events[0].client_id"),
        ({"events": [event(at="yesterday")]}, "events[0].at"),
        ({"events": [event(at=(timezone.now() - timedelta(days=3)).isoformat())]}, "events[0].at"),
        ({"events": [event(name="search_submitted", product_id=None)]}, "events[0].query"),
        ({"events": [event(name="search_submitted", query="x" * 300)]}, "events[0].query"),
        ({"events": [event(quantity=0)]}, "events[0].quantity"),
        ({"events": [event(secret="x")]}, "events[0].secret"),
        ({"customer": "me", "events": [event()]}, "customer"),
        ({"events": [event(n) for n in range(pixel.EVENTS_MAX + 1)]}, "events"),
    ],
)
def test_bad_input_is_answered_400_naming_the_field_and_nothing_is_stored(
    client: Client, shop: Shop, key: str, body: dict[str, Any], field: str
) -> None:
    response = post(client, shop, {"key": key, **body})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not BrowsingEvent.objects.exists()


def test_a_body_over_the_limit_is_refused_unread(client: Client, shop: Shop, key: str) -> None:
    big = {"key": key, "events": [event(query="x" * pixel.BODY_MAX_BYTES)]}
    response = post(client, shop, big)
    assert response.status_code == 413
    assert not BrowsingEvent.objects.exists()


def test_a_browser_over_its_rate_is_told_to_wait_and_others_are_not(
    client: Client, shop: Shop, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pixel, "RATE_PER_CLIENT", 2)
    answers = [post(client, shop, {"key": key, "events": [event(n)]}).status_code for n in range(3)]
    another = post(client, shop, {"key": key, "events": [event(9, client_id="browser-2")]})

    assert answers == [204, 204, 429]
    assert another.status_code == 204
    assert BrowsingEvent.objects.for_shop(shop).count() == 3


def test_a_browsers_events_become_the_customers_when_it_is_seen_signed_in(
    client: Client, shop: Shop, key: str
) -> None:
    # Given a guest who looked at two products
    post(client, shop, {"key": key, "customer": None, "events": [event(1), event(2, product_id="12")]})
    # When the same browser is seen signed in
    post(client, shop, {"key": key, "customer": str(CUSTOMER), "events": [event(3, product_id="13")]})

    # Then all three are the customer's, and views count for them
    assert set(BrowsingEvent.objects.for_shop(shop).values_list("customer_shopify_id", flat=True)) == {
        CUSTOMER
    }
    assert set(views_weighted(shop, CUSTOMER)) == {11, 12, 13}


def test_views_fade_with_a_two_week_half_life(shop: Shop) -> None:
    now = timezone.now()
    for index, (product_id, days) in enumerate(((1, 0), (2, 14), (3, 28), (4, 100))):
        BrowsingEvent.objects.create(
            shop=shop,
            event_id=f"e{index}",
            client_id="browser",
            customer_shopify_id=CUSTOMER,
            kind="product_viewed",
            product_shopify_id=product_id,
            at=now - timedelta(days=days),
            received_at=now,
        )
    weights = views_weighted(shop, CUSTOMER)
    assert weights[1] == pytest.approx(1.0, abs=0.01)
    assert weights[2] == pytest.approx(0.5, abs=0.01)
    assert weights[3] == pytest.approx(0.25, abs=0.01)
    assert 4 not in weights  # beyond the horizon


def _product(shop: Shop, shopify_id: int, product_type: str) -> None:
    row = Product.objects.create(
        shop=shop,
        shopify_id=shopify_id,
        title=f"{product_type} {shopify_id}",
        handle=f"p-{shopify_id}",
        product_type=product_type,
    )
    Variant.objects.create(
        shop=shop,
        product=row,
        shopify_id=shopify_id * 10,
        price=Decimal("20.00"),
        currency="USD",
        available=5,
    )


def test_viewing_a_product_changes_picked_for_you_to_what_goes_with_it(
    client: Client, shop: Shop, key: str
) -> None:
    # Given a shop whose trending lists hats, and where lamp 30 is bought together with 31 and 32
    for shopify_id in (20, 21, 22, 23):
        _product(shop, shopify_id, "Hats")
    for shopify_id in (30, 31, 32):
        _product(shop, shopify_id, "Lamps")
    now = timezone.now()
    CandidateList.objects.create(
        shop=shop,
        audience="trending",
        computed_at=now,
        candidates=[
            {"product": p, "score": 5 - n, "kind": "trending", "evidence": {}}
            for n, p in enumerate((20, 21, 22, 23))
        ],
    )
    CandidateList.objects.create(
        shop=shop,
        audience="related:30",
        computed_at=now,
        candidates=[
            {"product": 31, "score": 3, "kind": "bought_together", "evidence": {"products": [30]}},
            {"product": 32, "score": 2, "kind": "bought_together", "evidence": {"products": [30]}},
        ],
    )
    before = picks_for(shop, "for-you", customer_id=CUSTOMER, limit=4)

    # When the signed-in shopper views lamp 30 (with consent: the pixel only runs with it)
    response = post(client, shop, {"key": key, "customer": str(CUSTOMER), "events": [event(product_id="30")]})
    assert response.status_code == 204
    after = picks_for(shop, "for-you", customer_id=CUSTOMER, limit=4)

    # Then "picked for you" leads with what goes with the lamp, saying which product it goes with
    assert {pick.product.shopify_id for pick in before} <= {20, 21, 22, 23}
    viewed = [pick for pick in after if pick.reason.kind == "bought_together"]
    assert {pick.product.shopify_id for pick in viewed} == {31, 32}
    assert all(pick.reason.evidence == {"products": [30]} for pick in viewed)
    # And a guest's block is unchanged
    assert [p.product.shopify_id for p in picks_for(shop, "for-you", customer_id=None, limit=4)] == [
        p.product.shopify_id for p in before
    ]


def test_the_privacy_provider_exports_and_erases_the_customers_browsing(
    client: Client, shop: Shop, other_shop: Shop, key: str
) -> None:
    # Given a browser's events before and after its shopper signed in, and another shop's
    post(client, shop, {"key": key, "customer": None, "events": [event(1)]})
    post(
        client,
        shop,
        {
            "key": key,
            "customer": str(CUSTOMER),
            "events": [event(2, name="search_submitted", product_id=None, query="lamp")],
        },
    )
    BrowsingEvent.objects.create(
        shop=other_shop,
        event_id="elsewhere",
        client_id="browser-1",
        customer_shopify_id=CUSTOMER,
        kind="product_viewed",
        product_shopify_id=11,
        at=timezone.now(),
        received_at=timezone.now(),
    )
    ref = ShopperRef(customer_id=CUSTOMER, email="")

    exported = personalize_export_shopper(shop, ref)["browsing"]
    assert [(item["kind"], item["product_id"], item["query"]) for item in exported] == [
        ("product_viewed", 11, ""),
        ("search_submitted", None, "lamp"),
    ]
    assert personalize_erase_shopper(shop, ref)["browsing"] == 2
    assert not BrowsingEvent.objects.for_shop(shop).exists()
    assert BrowsingEvent.objects.for_shop(other_shop).count() == 1
