"""The two doors to a profile: the shopper's through the app proxy (see it, tell more, withdraw),
the merchant's in the admin (find a shopper, segment sizes); and privacy's export and erasure."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from personalize.models import ConsentRecord, Fact, Profile
from personalize.refresh import profiles_recompute_all
from privacy.registry import ShopperRef
from privacy.requests import privacy_shopper_redact
from shop_app.models import Shop
from tests.conftest import make_session_token
from tests.personalize.histories import AS_OF, Line, customer_row, order_row, product_row
from tests.storefront import proxy_url, signed_proxy_query

pytestmark = pytest.mark.django_db

SHOPPER = 71
CONSENT = {
    "text": "We use your birthday to send you a treat. No year asked.",
    "version": "2026-11",
    "language": "en",
}


@pytest.fixture
def history(shop: Shop) -> None:
    product_row(shop, 1, "Shirts", sizes=("S", "M"))
    product_row(shop, 2, "Coats", sizes=("M",))
    customer_row(shop, SHOPPER, first_name="Hana", last_name="Sato", email="hana@example.com", country="JP")
    customer_row(shop, 72, first_name="Ken", email="ken@example.com")
    order_row(shop, SHOPPER, 40, [Line(1, size="M")])
    order_row(shop, SHOPPER, 10, [Line(2, size="M")])
    order_row(shop, 72, 200, [Line(1, size="S")])
    profiles_recompute_all(shop, as_of=AS_OF)


def get_profile(client: Client, shop: Shop, customer: int | None = SHOPPER) -> Any:
    return client.get(proxy_url("profile", signed_proxy_query(shop.domain, customer_id=customer)))


def post_profile(client: Client, shop: Shop, body: object, customer: int | None = SHOPPER) -> Any:
    return client.post(
        proxy_url("profile", signed_proxy_query(shop.domain, customer_id=customer)),
        data=json.dumps(body) if not isinstance(body, bytes) else body,
        content_type="application/json",
        headers={"User-Agent": "Mozilla/5.0 test", "X-Forwarded-For": "203.0.113.9"},
    )


# --- The shopper's door ----------------------------------------------------------------------------


def test_a_guest_gets_401(client: Client, shop: Shop, history: None) -> None:
    response = get_profile(client, shop, customer=None)

    assert response.status_code == 401
    assert response["Cache-Control"] == "private, no-store"


def test_the_shopper_sees_what_the_shop_believes_each_part_with_its_source(
    client: Client, shop: Shop, history: None
) -> None:
    body = get_profile(client, shop).json()

    assert body["customer"] == SHOPPER
    assert body["told"] == {}
    inferred = body["inferred"]
    assert inferred["orders"]["count"] == 2
    assert inferred["segment"]["from"] == "2 orders"
    assert inferred["sizes"]["Shirts"] == {"size": "M", "quantity": 1, "source": "orders"}
    assert inferred["region"]["country"] == "JP"
    assert inferred["region"]["from"] == "customer address"


def test_the_shopper_tells_facts_under_a_consent_record(client: Client, shop: Shop, history: None) -> None:
    response = post_profile(
        client,
        shop,
        {"facts": {"birthday": {"month": 2, "day": 29}, "gender": "prefer_not_to_say"}, "consent": CONSENT},
    )

    assert response.status_code == 200
    told = response.json()["told"]
    assert told["birthday"]["value"] == {"month": 2, "day": 29}
    assert told["birthday"]["source"] == "storefront"
    assert told["gender"]["value"] == "prefer_not_to_say"
    consent = ConsentRecord.objects.get(shop=shop, customer_shopify_id=SHOPPER)
    assert (consent.text, consent.version, consent.language) == (CONSENT["text"], "2026-11", "en")
    # The address and browser are kept only as keyed hashes
    assert consent.ip_hash
    assert "203.0.113.9" not in consent.ip_hash
    assert consent.user_agent_hash
    assert "Mozilla" not in consent.user_agent_hash
    assert set(Fact.objects.filter(shop=shop).values_list("consent_id", flat=True)) == {consent.pk}


def test_told_sizes_override_the_inferred_ones_once_refreshed(
    client: Client, shop: Shop, history: None, django_capture_on_commit_callbacks: Any
) -> None:
    # The profile's refresh is queued after the facts commit, and runs (Celery is eager in tests)
    with django_capture_on_commit_callbacks(execute=True):
        post_profile(client, shop, {"facts": {"sizes": {"Shirts": "S"}}, "consent": CONSENT})

    inferred = get_profile(client, shop).json()["inferred"]
    assert inferred["sizes"]["Shirts"] == {"size": "S", "source": "told"}


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"birthday": {"month": 2, "day": 30}}, "facts.birthday.day"),
        ({"birthday": {"month": 13, "day": 1}}, "facts.birthday.month"),
        ({"birthday": {"month": 1, "day": 1, "year": 1990}}, "facts.birthday"),
        ({"gender": "sometimes"}, "facts.gender"),
        ({"region": {"country": "XX"}}, "facts.region.country"),
        ({"region": {"country": "JP", "region": "US-CA"}}, "facts.region.region"),
        ({"favourite_categories": ["Shirts", "Spaceships"]}, "facts.favourite_categories[1]"),
        ({"sizes": {"Spaceships": "M"}}, "facts.sizes"),
        ({"shoe_size": 42}, "facts.shoe_size"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field_and_nothing_is_stored(
    client: Client, shop: Shop, history: None, facts: dict[str, object], field: str
) -> None:
    # A good fact beside the bad one is not stored either: all or nothing
    response = post_profile(client, shop, {"facts": {"gender": "female", **facts}, "consent": CONSENT})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert "Spaceships" not in response.content.decode()
    assert not Fact.objects.filter(shop=shop).exists()
    assert not ConsentRecord.objects.filter(shop=shop).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        ({"facts": {}, "consent": CONSENT}, "facts"),
        ([1, 2], "body"),
        ({"facts": {"gender": "female"}}, "consent"),
        ({"facts": {"gender": "female"}, "consent": {"text": "", "version": "1"}}, "consent.text"),
        (
            {"facts": {"gender": "female"}, "consent": {"text": "ok", "version": "1", "language": "!!"}},
            "consent.language",
        ),
    ],
)
def test_a_bad_body_or_consent_is_refused(
    client: Client, shop: Shop, history: None, body: object, field: str
) -> None:
    response = post_profile(client, shop, body)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not Fact.objects.filter(shop=shop).exists()


def test_withdrawing_a_fact_keeps_the_history(client: Client, shop: Shop, history: None) -> None:
    post_profile(client, shop, {"facts": {"gender": "female"}, "consent": CONSENT})

    # Withdrawing needs no consent
    response = post_profile(client, shop, {"facts": {"gender": None}})

    assert response.status_code == 200
    assert "gender" not in response.json()["told"]
    rows = list(Fact.objects.filter(shop=shop, name="gender").order_by("stated_at", "pk"))
    assert [(row.value, row.withdrawn) for row in rows] == [("female", False), (None, True)]


def test_a_birthday_is_set_once_by_the_shopper(client: Client, shop: Shop, history: None) -> None:
    post_profile(client, shop, {"facts": {"birthday": {"month": 5, "day": 1}}, "consent": CONSENT})

    moved = post_profile(client, shop, {"facts": {"birthday": {"month": 6, "day": 1}}, "consent": CONSENT})

    assert moved.status_code == 400
    assert moved.json()["error"]["field"] == "facts.birthday"
    assert Fact.objects.filter(shop=shop, name="birthday").count() == 1


def test_a_tampered_proxy_request_is_refused(client: Client, shop: Shop, history: None) -> None:
    query = [
        (k, "72" if k == "logged_in_customer_id" else v)
        for k, v in signed_proxy_query(shop.domain, customer_id=SHOPPER)
    ]

    assert client.get(proxy_url("profile", query)).status_code == 401


# --- The merchant's door ---------------------------------------------------------------------------


def test_the_merchant_finds_a_shopper_by_name_or_email(
    shop: Shop, history: None, api_client_for: Callable[[Shop], Client]
) -> None:
    client = api_client_for(shop)

    by_name = client.get("/api/customers", {"q": "sato"}).json()["results"]
    by_email = client.get("/api/customers", {"q": "KEN@"}).json()["results"]

    assert [row["customer_shopify_id"] for row in by_name] == [SHOPPER]
    assert by_name[0]["name"] == "Hana Sato"
    assert by_name[0]["order_count"] == 2
    assert [row["customer_shopify_id"] for row in by_email] == [72]


def test_segments_are_counted_with_their_rules(
    shop: Shop, history: None, api_client_for: Callable[[Shop], Client]
) -> None:
    summary = api_client_for(shop).get("/api/customers/segments").json()

    sizes = {row["segment"]: row["size"] for row in summary["segments"]}
    assert sum(sizes.values()) == 2
    assert sizes[Profile.objects.get(shop=shop, customer_shopify_id=72).segment] >= 1
    assert summary["run"]["status"] == "done"
    assert all(row["rule"] for row in summary["segments"])


def test_another_shop_sees_none_of_these_shoppers(
    shop: Shop, other_shop: Shop, history: None, api_client_for: Callable[[Shop], Client]
) -> None:
    client = api_client_for(other_shop)

    assert client.get("/api/customers").json()["results"] == []
    assert all(row["size"] == 0 for row in client.get("/api/customers/segments").json()["segments"])
    # The same shopper id signed in on the other shop: nothing is known of them there
    assert get_profile(Client(), other_shop).json() == {"customer": SHOPPER, "told": {}, "inferred": None}


# --- Privacy ---------------------------------------------------------------------------------------


def test_an_erased_shopper_leaves_no_fact_consent_or_profile(
    client: Client, shop: Shop, history: None
) -> None:
    post_profile(client, shop, {"facts": {"gender": "female", "sizes": {"Shirts": "S"}}, "consent": CONSENT})

    privacy_shopper_redact(
        shop, ShopperRef(customer_id=SHOPPER, email="hana@example.com"), received_at=timezone.now()
    )

    assert not Fact.objects.filter(shop=shop, customer_shopify_id=SHOPPER).exists()
    assert not ConsentRecord.objects.filter(shop=shop, customer_shopify_id=SHOPPER).exists()
    assert not Profile.objects.filter(shop=shop, customer_shopify_id=SHOPPER).exists()
    # The other shopper keeps theirs
    assert Profile.objects.filter(shop=shop, customer_shopify_id=72).exists()


# --- The Customers pages ---------------------------------------------------------------------------


def open_page(client: Client, shop: Shop, path: str, **query: str) -> Any:
    return client.get(path, {"shop": shop.domain, "id_token": make_session_token(shop.domain), **query})


def test_the_customers_page_opens_in_the_shell_in_english_and_japanese(
    client: Client, shop: Shop, history: None
) -> None:
    english = open_page(client, shop, "/customers")
    japanese = open_page(client, shop, "/customers", locale="ja-JP")

    assert english.status_code == 200
    assert 'ui-title-bar title="Customers"' in english.content.decode()
    assert '<a href="/customers">Customers</a>' in english.content.decode()
    page = japanese.content.decode()
    assert japanese["Content-Language"] == "ja"
    assert '<html lang="ja">' in page
    assert 'ui-title-bar title="顧客"' in page
    assert "顧客を探す" in page
    # The list script's words come translated too (escaped in its JSON)
    assert json.dumps("離反リスク")[1:-1] in page


def test_a_shoppers_page_shows_told_and_inferred_side_by_side(
    client: Client, shop: Shop, history: None
) -> None:
    post_profile(client, shop, {"facts": {"birthday": {"month": 3, "day": 14}}, "consent": CONSENT})

    page = open_page(client, shop, f"/customers/{SHOPPER}").content.decode()

    assert "Hana Sato" in page
    assert "Birthday" in page
    assert "March 14" in page
    assert "2026-11" in page
    assert 'id="churn-risk"' in page
    assert 'id="predicted-value"' in page
    assert "Shirts: M (from orders)" in page


def test_a_shopper_of_another_shop_is_not_found(client: Client, other_shop: Shop, history: None) -> None:
    assert open_page(client, other_shop, f"/customers/{SHOPPER}").status_code == 404


def test_the_customers_page_needs_a_session_token(client: Client, shop: Shop, history: None) -> None:
    forged = client.get("/customers", {"shop": shop.domain, "id_token": "forged"})
    detail = client.get(f"/customers/{SHOPPER}", {"shop": shop.domain})

    # Sent to fetch a real token (Shopify's bounce), never shown the page
    assert forged.status_code in (302, 401)
    assert detail.status_code in (302, 401)
    assert "Hana" not in forged.content.decode() + detail.content.decode()


def test_a_shoppers_page_in_japanese_says_their_values_in_japanese(
    client: Client, shop: Shop, history: None
) -> None:
    post_profile(client, shop, {"facts": {"gender": "prefer_not_to_say"}, "consent": CONSENT})

    page = open_page(client, shop, f"/customers/{SHOPPER}", locale="ja").content.decode()

    assert "お客様から伺ったこと" in page
    assert "回答しない" in page
    assert "prefer_not_to_say" not in page
    assert "北半球" in page
