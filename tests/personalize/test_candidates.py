"""Precomputing candidates from a shop's orders: every shopper, the shop and its countries, every
product, with evidence turned into the shop's own ids; and the merchant's rules and preview."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from commerce.models import Order, OrderLine
from personalize.candidates import candidates_precompute
from personalize.models import CandidateList, RecommendationSettings, ServedPicks
from personalize.picks import block_picks
from personalize.refresh import profiles_recompute_all, profiles_refresh
from personalize.served import served_forget
from shop_app.models import Shop
from tests.personalize.histories import AS_OF, Line, customer_row, order_row, product_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_with_history(shop: Shop) -> Shop:
    for product_id, product_type in enumerate(
        ["Shirts", "Coats", "Hats", "Bags", "Shirts", "Coats"], start=1
    ):
        product_row(shop, product_id, product_type, sizes=("S", "M"))
    for customer in range(1, 13):
        customer_row(shop, customer, country="JP" if customer % 2 else "AU")
        # Everyone buys 1 and 2 together; odd shoppers also buy 3 again and again
        order_row(shop, customer, 90, [Line(1, size="M"), Line(2, size="M")])
        if customer % 2:
            order_row(shop, customer, 60, [Line(3)])
            order_row(shop, customer, 20, [Line(3), Line(4)])
    profiles_recompute_all(shop, as_of=AS_OF)
    return shop


def test_every_audience_gets_its_candidates_with_true_evidence(shop_with_history: Shop) -> None:
    shop = shop_with_history

    written = candidates_precompute(shop, as_of=AS_OF)

    audiences = set(CandidateList.objects.for_shop(shop).values_list("audience", flat=True))
    assert written == len(audiences)
    assert {f"shopper:{customer}" for customer in range(1, 13)} <= audiences
    assert {"trending", "trending:JP", "trending:AU"} <= audiences
    assert {f"related:{product}" for product in (1, 2, 3, 4)} <= audiences
    for candidate_list in CandidateList.objects.for_shop(shop).filter(audience__startswith="shopper:"):
        shopper = int(candidate_list.audience.split(":")[1])
        bought = set(
            OrderLine.objects.filter(shop=shop, order__customer_shopify_id=shopper).values_list(
                "product_id", flat=True
            )
        )
        for candidate in candidate_list.candidates:
            evidence = candidate["evidence"]
            if candidate["kind"] == "repeat":
                assert candidate["product"] in bought
                for order_id in evidence["orders"]:
                    order = Order.objects.get(shop=shop, shopify_id=order_id)
                    assert order.customer_shopify_id == shopper
            elif candidate["kind"] in ("bought_together", "similar_shoppers"):
                assert set(evidence["products"]) <= bought
    related = CandidateList.objects.get(shop=shop, audience="related:1").candidates
    assert related[0]["product"] == 2
    assert related[0]["evidence"] == {"products": [1]}


def test_a_second_run_replaces_the_first(shop_with_history: Shop) -> None:
    candidates_precompute(shop_with_history, as_of=AS_OF)
    CandidateList.objects.create(
        shop=shop_with_history, audience="shopper:999", candidates=[], computed_at=timezone.now()
    )

    candidates_precompute(shop_with_history, as_of=AS_OF)

    assert not CandidateList.objects.filter(shop=shop_with_history, audience="shopper:999").exists()


def test_a_shop_with_no_orders_has_nothing_to_precompute(shop: Shop) -> None:
    assert candidates_precompute(shop, as_of=AS_OF) == 0


# --- The merchant's rules ----------------------------------------------------------------------------


def test_the_merchant_sets_rules_by_product_handle(
    shop_with_history: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    client = api_client_for(shop_with_history)

    response = client.put(
        "/api/recommendations/rules",
        {
            "discovery_share": 0.2,
            "pinned": ["shirts-1"],
            "excluded": ["coats-2", ""],
            "block_limits": {"for-you": 6},
        },
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["pinned"] == ["shirts-1"]
    settings = RecommendationSettings.objects.get(shop=shop_with_history)
    assert (settings.discovery_share, settings.pinned_product_ids, settings.excluded_product_ids) == (
        0.2,
        [1],
        [2],
    )
    assert settings.block_limits == {"for-you": 6}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"discovery_share": 0.9}, "discovery_share"),
        ({"pinned": ["no-such-product"]}, "pinned"),
        ({"pinned": ["shirts-1"], "excluded": ["shirts-1"]}, "excluded"),
        ({"block_limits": {"everything": 3}}, "block_limits"),
        ({"block_limits": {"for-you": 99}}, "block_limits"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    shop_with_history: Shop, api_client_for: Callable[[Shop], Client], body: dict[str, object], field: str
) -> None:
    full = {"discovery_share": 0.1, "pinned": [], "excluded": [], "block_limits": {}, **body}

    response = api_client_for(shop_with_history).put(
        "/api/recommendations/rules", full, content_type="application/json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert not RecommendationSettings.objects.filter(shop=shop_with_history).exists()


def test_the_preview_shows_what_a_shopper_would_see(
    shop_with_history: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    candidates_precompute(shop_with_history, as_of=AS_OF)

    items = (
        api_client_for(shop_with_history)
        .get("/api/recommendations/preview", {"customer_id": 2})
        .json()["items"]
    )

    assert items
    assert all(item["reason"]["text"] for item in items)


def test_another_shop_sees_none_of_these_rules(
    shop_with_history: Shop, other_shop: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    RecommendationSettings.objects.create(shop=shop_with_history, pinned_product_ids=[1])

    assert api_client_for(other_shop).get("/api/recommendations/rules").json()["pinned"] == []


def test_the_precompute_keeps_every_buyers_block_as_serving_would_rank_it(shop_with_history: Shop) -> None:
    shop = shop_with_history
    candidates_precompute(shop, as_of=AS_OF)

    kept = {customer: block_picks(shop, "for-you", customer_id=customer)[0] for customer in range(1, 13)}
    assert ServedPicks.objects.for_shop(shop).count() == 12
    served_forget(shop)
    for customer, picks in kept.items():
        ranked = block_picks(shop, "for-you", customer_id=customer)[0]
        assert [(p.product.shopify_id, p.variant.shopify_id, p.reason) for p in picks] == [
            (p.product.shopify_id, p.variant.shopify_id, p.reason) for p in ranked
        ]


def test_new_candidates_rank_again_the_blocks_of_shoppers_whose_history_changed(
    shop_with_history: Shop,
) -> None:
    shop = shop_with_history
    candidates_precompute(shop, as_of=AS_OF)
    earlier = [{"product": 0, "variant": 0, "kind": "repeat", "evidence": {}}]  # what older lists said
    ServedPicks.objects.for_shop(shop).update(picks=earlier)

    # Shopper 3 orders again, and their profile is computed anew
    order_row(shop, 3, 5, [Line(5)])
    profiles_refresh(shop, [3], as_of=AS_OF)
    candidates_precompute(shop, as_of=AS_OF)

    kept = {row.customer_shopify_id: row.picks for row in ServedPicks.objects.for_shop(shop)}
    assert set(kept) == set(range(1, 13))
    assert kept[3] != earlier
    # The others keep the block ranked today: the new lists differ for them by what others bought
    assert all(picks == earlier for customer, picks in kept.items() if customer != 3)
