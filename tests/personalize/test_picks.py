"""Serving recommendations on a constructed catalog: what a shopper cannot or will not buy never
appears, the season where they are counts, the merchant's discovery share holds, and every item's
reason carries evidence that is true for that shopper."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from commerce.models import Order, OrderLine, Product, Variant
from personalize.facts import ConsentGiven, facts_record
from personalize.models import (
    CandidateList,
    Dismissal,
    FactSource,
    Profile,
    RecommendationSettings,
    ServedPicks,
)
from personalize.picks import (
    block_picks,
    dismissal_record,
    picks_for,
    picks_within,
    picks_within_many,
    product_season,
    shopper_for,
)
from personalize.privacy import personalize_erase_shopper
from personalize.refresh import profiles_recompute_all
from personalize.rules import RulesInput, recommendation_settings_update
from privacy.registry import ShopperRef
from shop_app.models import Shop
from tests.personalize.histories import Line, order_row
from tests.storefront import proxy_url, signed_proxy_query

pytestmark = pytest.mark.django_db

SHOPPER = 501
JANUARY = date(2027, 1, 15)
CONSENT = ConsentGiven(text="So we suggest what you like.", version="1")


def product(
    shop: Shop, shopify_id: int, product_type: str, tags: str = "", sizes: dict[str, int] | None = None
) -> Product:
    row = Product.objects.create(
        shop=shop,
        shopify_id=shopify_id,
        title=f"{product_type} {shopify_id}",
        handle=f"p-{shopify_id}",
        product_type=product_type,
        vendor=f"Vendor {shopify_id % 3}",
        tags=tags,
    )
    for position, (size, available) in enumerate((sizes or {"": 5}).items()):
        Variant.objects.create(
            shop=shop,
            product=row,
            shopify_id=shopify_id * 10 + position,
            position=position,
            options={"Size": size} if size else {},
            price=Decimal("30.00"),
            currency="USD",
            available=available,
            available_updated_at=timezone.now(),
        )
    return row


@pytest.fixture
def catalog(shop: Shop) -> dict[str, Any]:
    """A shopper in Sydney who wears M coats and S shirts, and a catalog full of traps."""
    shop.country = "AU"
    shop.save()
    product(shop, 1, "Coats", "winter", {"M": 0, "L": 5})  # a winter coat, and none left in M
    product(shop, 2, "Coats", "", {"M": 3, "L": 1})  # all-year coat in M: fine
    product(shop, 3, "Shirts", "summer", {"S": 4, "M": 2})  # summer shirt in S: fine, seasonal
    product(shop, 4, "Knitwear", "winter", {"S": 5})  # a winter knit: wrong season in Sydney in January
    product(shop, 5, "Shirts", "", {"S": 5})  # dismissed by the shopper
    product(shop, 6, "Shirts", "", {"S": 5})  # excluded by the merchant
    product(shop, 7, "Dresses", "", {"S": 5})  # a category the shopper said is not for them
    for shopify_id in range(8, 20):
        product(shop, shopify_id, ["Hats", "Bags", "Shirts", "Coats"][shopify_id % 4], "", {"S": 3, "M": 3})
    bought_coat = order_row(shop, SHOPPER, 60, [Line(2, size="M")], country="AU")
    bought_shirt = order_row(shop, SHOPPER, 30, [Line(3, size="S")], country="AU")
    Profile.objects.create(
        shop=shop,
        customer_shopify_id=SHOPPER,
        as_of=JANUARY,
        computed_at=timezone.now(),
        order_count=2,
        segment="active",
        country_code="AU",
        region_code="AU-NSW",
        climate_band="temperate",
        hemisphere="south",
        sizes={"Coats": {"size": "M", "source": "orders"}, "Shirts": {"size": "S", "source": "orders"}},
        affinities={"product_type": {"Coats": 0.6, "Shirts": 0.4}},
    )
    Dismissal.objects.create(
        shop=shop, customer_shopify_id=SHOPPER, product_shopify_id=5, dismissed_at=timezone.now()
    )
    RecommendationSettings.objects.create(shop=shop, excluded_product_ids=[6], discovery_share=0.25)
    facts_record(
        shop, SHOPPER, {"excluded_categories": ["Dresses"]}, source=FactSource.STOREFRONT, consent=CONSENT
    )
    every_product = list(range(1, 20))
    CandidateList.objects.create(
        shop=shop,
        audience=f"shopper:{SHOPPER}",
        computed_at=timezone.now(),
        candidates=[
            {"product": 2, "score": 9.0, "kind": "repeat", "evidence": {"orders": [bought_coat.shopify_id]}},
            {"product": 1, "score": 8.5, "kind": "bought_together", "evidence": {"products": [2]}},
            *[
                {
                    "product": p,
                    "score": 8.0 - p / 10,
                    "kind": "similar_shoppers",
                    "evidence": {"products": [3]},
                }
                for p in every_product
                if p not in (1, 2)
            ],
        ],
    )
    CandidateList.objects.create(
        shop=shop,
        audience="trending",
        computed_at=timezone.now(),
        candidates=[
            {"product": p, "score": 20 - p, "kind": "trending", "evidence": {}} for p in every_product
        ],
    )
    return {"coat_order": bought_coat, "shirt_order": bought_shirt}


def assert_reasons_true(shop: Shop, picks: list[Any]) -> None:
    """Every reason's evidence exists for this shopper."""
    bought = set(
        OrderLine.objects.filter(shop=shop, order__customer_shopify_id=SHOPPER).values_list(
            "product_id", flat=True
        )
    )
    for pick in picks:
        evidence = pick.reason.evidence
        kind = pick.reason.kind
        if kind == "repeat":
            for order_id in evidence["orders"]:
                order = Order.objects.get(shop=shop, shopify_id=order_id)
                assert order.customer_shopify_id == SHOPPER
                assert OrderLine.objects.filter(order=order, product_id=pick.product.shopify_id).exists()
        elif kind in ("bought_together", "similar_shoppers"):
            assert evidence["products"]
            assert set(evidence["products"]) <= bought
        elif kind == "seasonal":
            assert product_season(pick.product) == evidence["season"]
        elif kind == "discovery":
            assert pick.product.product_type not in evidence["outside"]
        elif kind == "back_in_size":
            variant = Variant.objects.get(shop=shop, shopify_id=evidence["variant"])
            assert variant.options["Size"] == evidence["size"]
            assert variant.available > 0
        else:
            assert kind == "trending"


def test_nothing_the_shopper_cannot_or_will_not_buy_and_no_winter_in_a_southern_january(
    shop: Shop, catalog: dict[str, Any]
) -> None:
    picks = picks_for(shop, "for-you", customer_id=SHOPPER, limit=12, today=JANUARY)

    shown = {pick.product.shopify_id for pick in picks}
    assert 1 not in shown  # no M left, and a winter coat
    assert 4 not in shown  # winter knit in a warm month where they live
    assert 5 not in shown  # dismissed
    assert 6 not in shown  # excluded by the merchant
    assert 7 not in shown  # a category they told us is not for them
    for pick in picks:
        # The variant offered is in their size for that type, and in stock
        size = {"Coats": "M", "Shirts": "S"}.get(pick.product.product_type)
        if size:
            assert pick.variant.options["Size"] == size
        assert pick.variant.available > 0
    assert_reasons_true(shop, picks)


def test_the_merchants_discovery_share_holds(shop: Shop, catalog: dict[str, Any]) -> None:
    picks = picks_for(shop, "for-you", customer_id=SHOPPER, limit=8, today=JANUARY)

    discovery = [pick for pick in picks if pick.reason.kind == "discovery"]
    assert len(picks) == 8
    assert len(discovery) == 2  # 25% of 8
    assert all(pick.product.product_type not in ("Coats", "Shirts") for pick in discovery)


def test_the_winter_coat_is_fine_for_a_northern_shopper_in_january(
    shop: Shop, catalog: dict[str, Any]
) -> None:
    Profile.objects.filter(shop=shop).update(country_code="JP", region_code="JP-01", hemisphere="north")
    Variant.objects.filter(shop=shop, shopify_id=10).update(available=2)  # coat 1 in M again

    picks = picks_for(shop, "for-you", customer_id=SHOPPER, limit=20, today=JANUARY)

    assert 1 in {pick.product.shopify_id for pick in picks}
    assert 3 not in {pick.product.shopify_id for pick in picks}  # the summer shirt waits for summer


def test_seasonal_block_is_only_what_fits_the_season_there(shop: Shop, catalog: dict[str, Any]) -> None:
    picks = picks_for(shop, "seasonal", customer_id=SHOPPER, today=JANUARY)

    assert [pick.product.shopify_id for pick in picks] == [3]
    assert picks[0].reason.kind == "seasonal"
    assert picks[0].reason.evidence["hemisphere"] == "south"
    assert_reasons_true(shop, picks)


def test_pinned_products_come_first_when_they_can_be_bought(shop: Shop, catalog: dict[str, Any]) -> None:
    RecommendationSettings.objects.filter(shop=shop).update(pinned_product_ids=[8, 1])

    picks = picks_for(shop, "for-you", customer_id=SHOPPER, limit=5, today=JANUARY)

    assert picks[0].product.shopify_id == 8  # 1 cannot be bought in M: not pinned past that
    assert 1 not in {pick.product.shopify_id for pick in picks}


def test_a_guest_gets_nothing_personal(shop: Shop, catalog: dict[str, Any]) -> None:
    picks = picks_for(shop, "for-you", customer_id=None, limit=10, today=JANUARY)

    assert picks
    assert {pick.reason.kind for pick in picks} <= {"trending", "discovery"}
    assert 5 in {pick.product.shopify_id for pick in picks}  # another shopper's dismissal is theirs


# --- Through the storefront door -------------------------------------------------------------------


def get_block(client: Client, shop: Shop, customer: int | None = SHOPPER, **params: str) -> Any:
    query = signed_proxy_query(shop.domain, customer_id=customer, params=list(params.items()))
    return client.get(proxy_url("recommendations", query))


def test_the_block_answers_items_with_reasons_in_the_shoppers_language(
    client: Client, shop: Shop, catalog: dict[str, Any]
) -> None:
    english = get_block(client, shop, block="for-you", limit="4").json()
    japanese = get_block(client, shop, block="for-you", limit="4", locale="ja").json()

    assert english["block"] == "for-you"
    item = english["items"][0]
    assert set(item) == {"product_id", "variant_id", "title", "url", "image", "price", "reason"}
    assert item["product_id"] == 2
    assert item["reason"]["kind"] == "repeat"
    assert item["reason"]["text"] == f"You bought this before (order {catalog['coat_order'].name})"
    assert item["reason"]["evidence"] == {"orders": [catalog["coat_order"].shopify_id]}
    assert japanese["items"][0]["reason"]["text"] != item["reason"]["text"]


def test_the_block_as_an_html_fragment(client: Client, shop: Shop, catalog: dict[str, Any]) -> None:
    query = signed_proxy_query(shop.domain, customer_id=SHOPPER, params=[("block", "for-you")])
    response = client.get(proxy_url("recommendations", query), headers={"Accept": "text/html"})

    page = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert 'class="omakase-pick"' in page
    assert "You bought this before" in page
    assert "data-dismiss=" in page


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"block": "everything"}, "block"),
        ({"block": "for-you", "limit": "0"}, "limit"),
        ({}, "block"),
        ({"block": "for-you", "limit": "x"}, "limit"),
        ({"block": "trending", "product_id": "-3"}, "product_id"),
    ],
)
def test_an_unknown_block_or_bad_limit_gets_400(
    client: Client, shop: Shop, catalog: dict[str, Any], params: dict[str, str], field: str
) -> None:
    response = get_block(client, shop, **params)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_not_for_me_is_remembered(client: Client, shop: Shop, catalog: dict[str, Any]) -> None:
    query = signed_proxy_query(shop.domain, customer_id=SHOPPER)
    response = client.post(
        proxy_url("recommendations/dismiss", query),
        data=json.dumps({"product_id": 2}),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert 2 not in {item["product_id"] for item in get_block(client, shop, block="for-you").json()["items"]}


def test_not_for_me_needs_a_signed_in_shopper_and_a_real_product(
    client: Client, shop: Shop, catalog: dict[str, Any]
) -> None:
    guest = signed_proxy_query(shop.domain)
    shopper = signed_proxy_query(shop.domain, customer_id=SHOPPER)
    body = json.dumps({"product_id": 2})

    assert (
        client.post(
            proxy_url("recommendations/dismiss", guest), data=body, content_type="application/json"
        ).status_code
        == 401
    )
    unknown = client.post(
        proxy_url("recommendations/dismiss", shopper),
        data=json.dumps({"product_id": 999}),
        content_type="application/json",
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"]["field"] == "product_id"
    assert Dismissal.objects.filter(shop=shop, customer_shopify_id=SHOPPER).count() == 1


def test_a_shopper_without_orders_who_told_us_their_tastes_gets_them(
    shop: Shop, catalog: dict[str, Any]
) -> None:
    newcomer = 777
    facts_record(
        shop, newcomer, {"favourite_categories": ["Hats"]}, source=FactSource.STOREFRONT, consent=CONSENT
    )

    picks = picks_for(shop, "for-you", customer_id=newcomer, limit=4, today=JANUARY)

    assert picks[0].product.product_type == "Hats"
    assert picks[0].reason.kind == "you_told_us"
    assert picks[0].reason.evidence == {"fact": "favourite_categories", "value": "Hats"}


def test_back_in_your_size(shop: Shop, catalog: dict[str, Any]) -> None:
    Variant.objects.filter(shop=shop).update(available_updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    Variant.objects.filter(shop=shop, shopify_id=10).update(available=4, available_updated_at=timezone.now())

    picks = picks_for(shop, "back-in-size", customer_id=SHOPPER, today=JANUARY)

    # Coat 1 is back in M, but it is a winter coat in a Sydney January: nothing to show
    assert picks == []
    Profile.objects.filter(shop=shop).update(country_code="JP", region_code="JP-01", hemisphere="north")
    picks = picks_for(shop, "back-in-size", customer_id=SHOPPER, today=JANUARY)
    assert [pick.product.shopify_id for pick in picks] == [1]
    assert picks[0].reason.kind == "back_in_size"
    assert_reasons_true(shop, picks)


def test_picks_for_many_shoppers_at_once_are_each_ones_own_picks(shop: Shop, catalog: dict[str, Any]) -> None:
    # A shopper with history, one who told us their tastes, one we know nothing of, and a reader
    # who is no customer, among some of the products
    newcomer, stranger = 777, 778
    facts_record(
        shop, newcomer, {"favourite_categories": ["Hats"]}, source=FactSource.STOREFRONT, consent=CONSENT
    )
    Dismissal.objects.create(
        shop=shop, customer_shopify_id=newcomer, product_shopify_id=8, dismissed_at=timezone.now()
    )
    within = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    readers = [SHOPPER, newcomer, stranger, None]

    together = picks_within_many(shop, readers, within, limit=4, today=JANUARY)

    for customer_id in readers:
        alone = picks_within(shop, shopper_for(shop, customer_id), within, limit=4, today=JANUARY)
        assert together[customer_id] == alone
    assert together[SHOPPER] != together[newcomer]
    assert 8 not in [pick.product.shopify_id for pick in together[newcomer]]


# --- Kept blocks (personalize.served) ----------------------------------------------------------------


def shown(picks: list[Any]) -> list[int]:
    return [pick.product.shopify_id for pick in picks]


def _kept_block_reads() -> int:
    """How many times this connection ran the prepared statement that reads a kept block."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            [f'SELECT picks, orders FROM "{ServedPicks._meta.db_table}"%'],
        )
        (reads,) = cursor.fetchone()
    return int(reads)


def test_a_signed_in_shoppers_block_is_kept_and_read_back_in_one_query(
    shop: Shop, catalog: dict[str, Any], django_assert_num_queries: Any
) -> None:
    first = picks_for(shop, "for-you", customer_id=SHOPPER, limit=6, today=JANUARY)
    assert ServedPicks.objects.filter(shop=shop, customer_shopify_id=SHOPPER, limit=6).count() == 1
    reads = _kept_block_reads()

    # The kept block is the one statement (prepared, outside Django's cursors); the catalog and the
    # merchant's rules are in memory
    with django_assert_num_queries(0):
        again, names = block_picks(shop, "for-you", customer_id=SHOPPER, limit=6, today=JANUARY)

    assert _kept_block_reads() == reads + 1
    assert shown(again) == shown(first)
    assert [pick.reason for pick in again] == [pick.reason for pick in first]
    assert [pick.variant.shopify_id for pick in again] == [pick.variant.shopify_id for pick in first]
    assert names is not None
    assert names.orders[catalog["coat_order"].shopify_id] == catalog["coat_order"].name
    assert picks_for(shop, "for-you", customer_id=None, limit=6, today=JANUARY)  # a guest's is not kept
    assert not ServedPicks.objects.filter(shop=shop).exclude(customer_shopify_id=SHOPPER).exists()


def _dismiss_the_first(shop: Shop, first: int) -> None:
    dismissal_record(shop, SHOPPER, first)


def _tell_the_firsts_type_is_not_for_them(shop: Shop, first: int) -> None:
    product_type = Product.objects.get(shop=shop, shopify_id=first).product_type
    facts_record(
        shop,
        SHOPPER,
        {"excluded_categories": ["Dresses", product_type]},
        source=FactSource.STOREFRONT,
        consent=CONSENT,
    )


def _sell_out_the_firsts_variants(shop: Shop, first: int) -> None:
    for variant in Variant.objects.filter(shop=shop, product__shopify_id=first):
        variant.available = 0
        variant.save()


def _merchant_excludes_the_first(shop: Shop, first: int) -> None:
    recommendation_settings_update(
        shop,
        RulesInput(discovery_share=0.25, pinned_handles=[], excluded_handles=[f"p-{first}"], block_limits={}),
    )


@pytest.mark.parametrize(
    "change",
    [
        _dismiss_the_first,
        _tell_the_firsts_type_is_not_for_them,
        _sell_out_the_firsts_variants,
        _merchant_excludes_the_first,
    ],
)
def test_a_kept_block_is_ranked_again_when_what_it_was_ranked_from_changes(
    shop: Shop, catalog: dict[str, Any], change: Any
) -> None:
    first = shown(picks_for(shop, "for-you", customer_id=SHOPPER, limit=6, today=JANUARY))[0]

    change(shop, first)

    assert first not in shown(picks_for(shop, "for-you", customer_id=SHOPPER, limit=6, today=JANUARY))


def test_a_kept_block_is_for_its_day_and_a_profile_recompute_forgets_it(
    shop: Shop, catalog: dict[str, Any]
) -> None:
    picks_for(shop, "for-you", customer_id=SHOPPER, limit=6, today=JANUARY)

    picks_for(shop, "for-you", customer_id=SHOPPER, limit=6, today=date(2027, 1, 16))

    assert ServedPicks.objects.get(shop=shop, customer_shopify_id=SHOPPER).ranked_on == date(2027, 1, 16)
    profiles_recompute_all(shop, as_of=JANUARY)
    assert not ServedPicks.objects.filter(shop=shop).exists()


def test_erasing_a_shopper_forgets_their_kept_blocks(shop: Shop, catalog: dict[str, Any]) -> None:
    picks_for(shop, "for-you", customer_id=SHOPPER, limit=6, today=JANUARY)

    erased = personalize_erase_shopper(shop, ShopperRef(customer_id=SHOPPER, email=""))

    assert erased["kept_blocks"] == 1
    assert not ServedPicks.objects.filter(shop=shop).exists()
