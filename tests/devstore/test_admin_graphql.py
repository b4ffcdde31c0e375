"""Admin GraphQL: auth, shapes, pagination, search, cost and throttling, mutations."""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from devstore import customers
from devstore.context import Devstore
from devstore.db import Row
from tests.devstore.conftest import OTHER_SHOP, SHOP, VERSION, GraphQL

INVALID = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def _post(client: TestClient, query: str, token: str, host: str = SHOP) -> tuple[int, dict]:
    response = client.post(
        f"/admin/api/{VERSION}/graphql.json",
        json={"query": query},
        headers={"Host": host, "X-Shopify-Access-Token": token},
    )
    return response.status_code, response.json()


def test_a_wrong_token_gets_401_with_shopifys_body(client: TestClient, shop: Row) -> None:
    assert _post(client, "{ shop { id } }", "shpat_wrong") == (401, INVALID)


def test_a_token_is_only_good_for_its_own_shop(client: TestClient, token: str, other_shop: Row) -> None:
    assert _post(client, "{ shop { id } }", token, host=OTHER_SHOP) == (401, INVALID)


def test_an_expired_token_gets_401(client: TestClient, ds: Devstore, shop: Row) -> None:
    ds.settings.access_token_ttl = 1
    issued = client.post("/_devstore/access-token", json={"expiring": True}).json()
    assert _post(client, "{ shop { id } }", issued["access_token"])[0] == 200

    time.sleep(1.1)

    assert _post(client, "{ shop { id } }", issued["access_token"]) == (401, INVALID)


def test_shop_answers_with_shopifys_fields(gql: GraphQL, shop: Row) -> None:
    body = gql(
        "{ shop { id name email myshopifyDomain currencyCode ianaTimezone"
        " primaryDomain { host } plan { displayName } billingAddress { countryCodeV2 } } }"
    )

    data = body["data"]["shop"]
    assert data["id"] == f"gid://shopify/Shop/{shop['id']}"
    assert data["myshopifyDomain"] == SHOP
    assert data["currencyCode"] == "USD"
    assert data["primaryDomain"]["host"] == SHOP
    assert data["billingAddress"]["countryCodeV2"] == "US"


def test_products_with_variants_options_and_stock(gql: GraphQL, product: Row) -> None:
    body = gql("""{ products(first: 5) { nodes { id title handle productType tags status
        variants(first: 10) { nodes { id sku price inventoryQuantity availableForSale
                                      selectedOptions { name value } } } } } }""")

    node = body["data"]["products"]["nodes"][0]
    assert node["id"] == f"gid://shopify/Product/{product['id']}"
    assert node["handle"] == "linen-camp-shirt"
    assert node["tags"] == ["linen"]
    variants = node["variants"]["nodes"]
    assert [v["sku"] for v in variants] == ["LCS-S", "LCS-M", "LCS-L"]
    assert variants[1] == {**variants[1], "inventoryQuantity": 0, "availableForSale": False, "price": "60.00"}
    assert variants[0]["selectedOptions"] == [
        {"name": "Size", "value": "S"},
        {"name": "Color", "value": "Sand"},
    ]


CATALOG_SYNC = """query($since: String!) {
  products(first: 10, query: $since) { nodes {
    id handle title productType vendor tags status createdAt updatedAt
    featuredImage { url }
    featuredMedia { ... on MediaImage { image { url } } preview { image { url } } }
    variants(first: 10) { nodes {
      id sku price compareAtPrice inventoryQuantity
      selectedOptions { name value }
      inventoryItem { id } } } } }
  collections(first: 10, query: $since) { nodes {
    id handle title sortOrder updatedAt products(first: 10) { nodes { id } } } }
}"""


def test_only_the_catalog_changed_since_a_time_is_answered(
    client: TestClient, gql: GraphQL, ds: Devstore, product: Row, variant_ids: list[int]
) -> None:
    # Given a catalog last synced at the start of 2025: one product and one collection untouched since
    created = client.post(
        "/_devstore/products",
        json={"title": "Wool Beanie", "variants": [{"price": "20", "sku": "WB", "inventory_quantity": 4}]},
    ).json()["product"]
    quiet = client.post("/_devstore/collections", json={"title": "Hats", "product_ids": [created["id"]]})
    busy = client.post("/_devstore/collections", json={"title": "Shirts"})
    ds.db.execute("UPDATE products SET updated_at = '2024-06-01T00:00:00Z'")
    ds.db.execute("UPDATE collections SET updated_at = '2024-06-01T00:00:00Z'")

    # When the shirt is repriced and drafted, and added to a collection
    client.post(
        f"/_devstore/products/{product['id']}",
        json={
            "status": "draft",
            "image_url": "https://cdn.example.com/s.jpg",
            "variants": [{"id": variant_ids[0], "price": "55", "compare_at_price": "60"}],
        },
    )
    client.post(
        f"/_devstore/collections/{busy.json()['collection']['id']}/add", json={"product_ids": [product["id"]]}
    )
    body = gql(CATALOG_SYNC, {"since": "updated_at:>'2025-01-01T00:00:00Z'"})

    # Then only the changed product and collection are answered, with Shopify's fields
    assert "errors" not in body, body
    [shirt] = body["data"]["products"]["nodes"]
    assert shirt["id"] == f"gid://shopify/Product/{product['id']}"
    assert (shirt["status"], shirt["productType"], shirt["tags"]) == ("DRAFT", "Shirts", ["linen"])
    assert shirt["updatedAt"] > "2025-01-01T00:00:00Z"
    assert shirt["featuredImage"] == {"url": "https://cdn.example.com/s.jpg"}
    assert (
        shirt["featuredMedia"]["image"]
        == shirt["featuredMedia"]["preview"]["image"]
        == shirt["featuredImage"]
    )
    small = shirt["variants"]["nodes"][0]
    assert small == {
        "id": f"gid://shopify/ProductVariant/{variant_ids[0]}",
        "sku": "LCS-S",
        "price": "55.00",
        "compareAtPrice": "60.00",
        "inventoryQuantity": 5,
        "selectedOptions": [{"name": "Size", "value": "S"}, {"name": "Color", "value": "Sand"}],
        "inventoryItem": {"id": f"gid://shopify/InventoryItem/{variant_ids[0]}"},
    }
    [shirts] = body["data"]["collections"]["nodes"]
    assert (shirts["title"], shirts["sortOrder"]) == ("Shirts", "MANUAL")
    # The admin sees a collection's draft members too
    assert shirts["products"]["nodes"] == [{"id": f"gid://shopify/Product/{product['id']}"}]
    assert quiet.json()["collection"]["id"] not in [c["id"] for c in body["data"]["collections"]["nodes"]]


def test_products_are_filtered_by_a_list_of_statuses(client: TestClient, gql: GraphQL, product: Row) -> None:
    for title, status in (("Draft Hat", "draft"), ("Old Scarf", "archived")):
        client.post("/_devstore/products", json={"title": title, "status": status})

    def titles(query: str) -> list[str]:
        found = gql("query($q: String) { products(first: 10, query: $q) { nodes { title } } }", {"q": query})
        return [n["title"] for n in found["data"]["products"]["nodes"]]

    assert titles("status:active,draft") == ["Linen Camp Shirt", "Draft Hat"]
    assert titles("status:archived") == ["Old Scarf"]
    assert titles("-status:active") == ["Draft Hat", "Old Scarf"]


def test_a_product_knows_its_collections_and_a_collection_its_products(
    client: TestClient, gql: GraphQL, product: Row
) -> None:
    collection = client.post(
        "/_devstore/collections", json={"title": "Linen", "product_ids": [product["id"]]}
    )
    collection_gid = f"gid://shopify/Collection/{collection.json()['collection']['id']}"
    product_gid = f"gid://shopify/Product/{product['id']}"

    body = gql(
        """query($p: ID!, $c: ID!) {
          product(id: $p) { legacyResourceId inCollection(id: $c) hasOnlyDefaultVariant
                            collections(first: 5) { nodes { id handle } } }
          collection(id: $c) { hasProduct(id: $p) productsCount { count } descriptionHtml } }""",
        {"p": product_gid, "c": collection_gid},
    )

    assert "errors" not in body, body
    found = body["data"]["product"]
    assert found == {
        "legacyResourceId": str(product["id"]),
        "inCollection": True,
        "hasOnlyDefaultVariant": False,
        "collections": {"nodes": [{"id": collection_gid, "handle": "linen"}]},
    }
    assert body["data"]["collection"] == {
        "hasProduct": True,
        "productsCount": {"count": 1},
        "descriptionHtml": "",
    }


def _make_customers(ds: Devstore, shop: Row, count: int) -> list[int]:
    return [
        customers.customer_create(
            ds.db, shop["id"], email=f"c{n}@example.com", created_at=f"2024-01-{n + 1:02d}T00:00:00Z"
        )["id"]
        for n in range(count)
    ]


WALK = """query($after: String) { customers(first: 3, after: $after) {
    edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""


def test_walking_every_page_sees_every_customer_once(gql: GraphQL, ds: Devstore, shop: Row) -> None:
    ids = _make_customers(ds, shop, 8)
    seen, after, pages = [], None, 0
    while True:
        page = gql(WALK, {"after": after})["data"]["customers"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        pages += 1
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == [f"gid://shopify/Customer/{i}" for i in ids]
    assert pages == 3


def test_a_cursor_stays_valid_while_rows_are_added(gql: GraphQL, ds: Devstore, shop: Row) -> None:
    _make_customers(ds, shop, 4)
    first = gql(WALK)["data"]["customers"]
    cursor = first["pageInfo"]["endCursor"]

    _make_customers(ds, shop, 2)
    again = gql(WALK, {"after": cursor})["data"]["customers"]

    assert [e["node"]["id"] for e in again["edges"]] == [f"gid://shopify/Customer/{n}" for n in (4, 5, 6)]


def test_last_and_before_page_backwards(gql: GraphQL, ds: Devstore, shop: Row) -> None:
    ids = _make_customers(ds, shop, 5)
    last = gql("{ customers(last: 2) { nodes { id } pageInfo { hasPreviousPage startCursor } } }")
    page = last["data"]["customers"]
    assert [n["id"] for n in page["nodes"]] == [f"gid://shopify/Customer/{i}" for i in ids[3:]]
    assert page["pageInfo"]["hasPreviousPage"] is True

    before = gql(
        "query($c: String) { customers(last: 2, before: $c) { nodes { id } } }",
        {"c": page["pageInfo"]["startCursor"]},
    )

    assert [n["id"] for n in before["data"]["customers"]["nodes"]] == [
        f"gid://shopify/Customer/{i}" for i in ids[1:3]
    ]


def test_updated_at_filter_and_sort_key(gql: GraphQL, ds: Devstore, shop: Row) -> None:
    ids = _make_customers(ds, shop, 5)
    for n, customer_id in enumerate(ids):
        ds.db.update("customers", customer_id, {"updated_at": f"2025-03-0{n + 1}T12:00:00Z"})

    body = gql("""{ customers(first: 10, query: "updated_at:>'2025-03-03T00:00:00Z'",
                              sortKey: UPDATED_AT, reverse: true) { nodes { id updatedAt } } }""")

    assert [n["id"] for n in body["data"]["customers"]["nodes"]] == [
        f"gid://shopify/Customer/{i}" for i in reversed(ids[2:])
    ]


def test_orders_carry_money_bags_customer_and_line_items(
    client: TestClient, gql: GraphQL, customer: Row, variant_ids: list[int]
) -> None:
    client.post(
        "/_devstore/orders",
        json={"customer_id": customer["id"], "lines": [{"variant_id": variant_ids[0], "quantity": 2}]},
    )

    body = gql("""{ orders(first: 5, query: "updated_at:>'2020-01-01'") { nodes {
        name displayFinancialStatus displayFulfillmentStatus currencyCode
        totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount } }
        subtotalPriceSet { shopMoney { amount } } totalDiscountsSet { shopMoney { amount } }
        customer { id numberOfOrders amountSpent { amount currencyCode } }
        shippingAddress { city countryCodeV2 }
        lineItems(first: 5) { nodes { quantity sku title variant { id } product { id }
                                      originalUnitPriceSet { shopMoney { amount } } } } } } }""")

    order = body["data"]["orders"]["nodes"][0]
    assert order["name"] == "#1001"
    assert order["displayFinancialStatus"] == "PAID"
    assert order["totalPriceSet"]["shopMoney"] == {"amount": "120.00", "currencyCode": "USD"}
    assert order["customer"]["numberOfOrders"] == "1"
    assert order["customer"]["amountSpent"]["amount"] == "120.00"
    assert order["shippingAddress"] == {"city": "Perth", "countryCodeV2": "AU"}
    assert order["lineItems"]["nodes"][0]["variant"]["id"] == f"gid://shopify/ProductVariant/{variant_ids[0]}"


def test_refunds_show_on_the_order(
    client: TestClient, gql: GraphQL, customer: Row, variant_ids: list[int]
) -> None:
    order = client.post(
        "/_devstore/orders",
        json={
            "customer_id": customer["id"],
            "lines": [
                {"variant_id": variant_ids[0], "quantity": 1},
                {"variant_id": variant_ids[2], "quantity": 1},
            ],
        },
    ).json()["order"]
    item = order["line_items"][1]
    client.post(
        f"/_devstore/orders/{order['id']}/refund",
        json={"lines": [{"line_item_id": item["id"], "quantity": 1}]},
    )

    body = gql(
        """query($id: ID!) { order(id: $id) { displayFinancialStatus
        refunds { totalRefundedSet { shopMoney { amount } }
                  refundLineItems(first: 5) { nodes { quantity lineItem { id } } } } } }""",
        {"id": order["admin_graphql_api_id"]},
    )

    data = body["data"]["order"]
    assert data["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    refund = data["refunds"][0]
    assert refund["totalRefundedSet"]["shopMoney"]["amount"] == "60.00"
    assert refund["refundLineItems"]["nodes"][0]["lineItem"]["id"] == f"gid://shopify/LineItem/{item['id']}"


def test_a_second_shop_sees_nothing_of_the_first(
    client: TestClient, gql: GraphQL, customer: Row, product: Row, other_shop: Row
) -> None:
    other_token = client.post("/_devstore/access-token", json={"shop": OTHER_SHOP}).json()["access_token"]

    body = gql(
        "{ customers(first: 5) { nodes { id } } products(first: 5) { nodes { id } }"
        " shop { myshopifyDomain } }",
        host=OTHER_SHOP,
        access_token=other_token,
    )

    assert body["data"]["customers"]["nodes"] == []
    assert body["data"]["products"]["nodes"] == []
    assert body["data"]["shop"]["myshopifyDomain"] == OTHER_SHOP


def test_cost_is_reported_like_shopify(gql: GraphQL, product: Row) -> None:
    body = gql("{ products(first: 10) { edges { node { id title } } } }")

    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 12  # 2 + 10 x 1
    assert cost["actualQueryCost"] == 3  # 2 + 1 product returned
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
    assert cost["throttleStatus"]["restoreRate"] == 100.0


def test_a_query_over_1000_points_is_refused_before_running(gql: GraphQL) -> None:
    body = gql("{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { id } } } } }")

    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert "data" not in body


def test_the_bucket_throttles_then_recovers(gql: GraphQL, ds: Devstore, shop: Row) -> None:
    # Given a 30-point bucket restoring 20 points a second, and queries that cost 12
    _make_customers(ds, shop, 10)
    ds.settings.bucket_size, ds.settings.restore_rate = 30, 20
    ds.buckets.reset()
    query = "{ customers(first: 10) { nodes { id } } }"

    answers = [gql(query) for _ in range(3)]

    assert "errors" not in answers[0]
    assert "errors" not in answers[1]
    throttled = answers[2]
    assert throttled["errors"] == [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ]
    assert throttled["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 30
    time.sleep(0.5)
    assert "errors" not in gql(query)


def test_injected_429_and_503_then_normal_service(client: TestClient, token: str, ds: Devstore) -> None:
    client.post("/_devstore/settings", json={"failure": {"remaining": 1, "status": 429, "retry_after": 2}})
    response = client.post(
        f"/admin/api/{VERSION}/graphql.json",
        json={"query": "{shop{id}}"},
        headers={"X-Shopify-Access-Token": token},
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"

    client.post("/_devstore/settings", json={"failure": {"remaining": 1, "status": 503}})
    assert _post(client, "{ shop { id } }", token)[0] == 503
    assert _post(client, "{ shop { id } }", token)[0] == 200


def test_an_injected_delay_holds_a_failure_or_a_done_request_s_answer(
    client: TestClient, token: str, customer: Row
) -> None:
    # Given Shopify armed to answer a 504 late, then to run a request and answer it late
    client.post(
        "/_devstore/settings", json={"failure": {"remaining": 1, "status": 504, "delay_seconds": 0.3}}
    )
    started = time.monotonic()
    assert _post(client, "{ shop { id } }", token)[0] == 504
    assert time.monotonic() - started >= 0.3
    client.post(
        "/_devstore/settings", json={"failure": {"remaining": 1, "status": 200, "delay_seconds": 0.3}}
    )
    code = {
        "title": "Late",
        "code": "LATE-1",
        "startsAt": "2025-01-01T00:00:00Z",
        "context": {"customers": {"add": [f"gid://shopify/Customer/{customer['id']}"]}},
        "customerGets": {"value": {"percentage": 0.1}, "items": {"all": True}},
    }

    # When a code is created while it is armed
    started = time.monotonic()
    late = client.post(
        f"/admin/api/{VERSION}/graphql.json",
        json={"query": DISCOUNT, "variables": {"input": code}},
        headers={"Host": SHOP, "X-Shopify-Access-Token": token},
    )

    # Then the code was made, and its answer came after the delay
    assert time.monotonic() - started >= 0.3
    assert late.status_code == 200
    assert late.json()["data"]["discountCodeBasicCreate"]["userErrors"] == []
    assert [row["code"] for row in client.get("/_devstore/discounts").json()["discounts"]] == ["LATE-1"]
    assert client.get("/_devstore/settings").json()["failure"]["remaining"] == 0


DISCOUNT = """mutation($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) {
    codeDiscountNode { id codeDiscount { ... on DiscountCodeBasic { title status usageLimit
      appliesOncePerCustomer codes(first: 1) { nodes { code } }
      customerGets { value { ... on DiscountAmount { amount { amount } } } }
      context { ... on DiscountCustomers { customers { id } } } } } }
    userErrors { field message code } } }"""


def test_a_customer_specific_code_is_stored_and_a_duplicate_refused(
    gql: GraphQL, ds: Devstore, shop: Row, customer: Row
) -> None:
    data = {
        "title": "Loyalty reward",
        "code": "OMK-REWARD-1",
        "usageLimit": 1,
        "appliesOncePerCustomer": True,
        "startsAt": "2025-01-01T00:00:00Z",
        "context": {"customers": {"add": [f"gid://shopify/Customer/{customer['id']}"]}},
        "customerGets": {
            "value": {"discountAmount": {"amount": "10.00", "appliesOnEachItem": False}},
            "items": {"all": True},
        },
    }

    created = gql(DISCOUNT, {"input": data})["data"]["discountCodeBasicCreate"]
    again = gql(DISCOUNT, {"input": data})["data"]["discountCodeBasicCreate"]

    assert created["userErrors"] == []
    code = created["codeDiscountNode"]["codeDiscount"]
    assert code["codes"]["nodes"] == [{"code": "OMK-REWARD-1"}]
    assert code["context"]["customers"] == [{"id": f"gid://shopify/Customer/{customer['id']}"}]
    assert code["customerGets"]["value"]["amount"]["amount"] == "10.00"
    assert again["codeDiscountNode"] is None
    assert again["userErrors"] == [
        {
            "field": ["basicCodeDiscount", "code"],
            "message": "Code must be unique. Please try a different code.",
            "code": "TAKEN",
        }
    ]


def test_the_older_customer_selection_and_free_shipping_codes(
    gql: GraphQL, ds: Devstore, shop: Row, customer: Row
) -> None:
    body = gql(
        """mutation { discountCodeFreeShippingCreate(freeShippingCodeDiscount: {
        title: "Free shipping", code: "SHIPFREE", appliesOncePerCustomer: true,
        customerSelection: { customers: { add: ["gid://shopify/Customer/%d"] } },
        destination: { all: true } }) {
        codeDiscountNode { codeDiscount { __typename } } userErrors { message } } }""".replace(
            "%d", str(customer["id"])
        )
    )

    assert body["data"]["discountCodeFreeShippingCreate"]["userErrors"] == []
    stored = ds.db.one("SELECT * FROM discounts WHERE code = 'SHIPFREE'")
    assert stored is not None
    assert stored["customer_ids"] == f"[{customer['id']}]"


def test_a_code_is_redeemable_once_by_its_customer_only(
    client: TestClient, gql: GraphQL, customer: Row, variant_ids: list[int]
) -> None:
    gql(
        DISCOUNT,
        {
            "input": {
                "title": "Reward",
                "code": "ONCE10",
                "usageLimit": 1,
                "customerSelection": {"customers": {"add": [f"gid://shopify/Customer/{customer['id']}"]}},
                "customerGets": {"value": {"percentage": 0.1}, "items": {"all": True}},
            }
        },
    )
    line = [{"variant_id": variant_ids[0], "quantity": 1}]

    stranger = client.post(
        "/_devstore/orders", json={"email": "x@example.com", "lines": line, "discount_code": "ONCE10"}
    )
    used = client.post(
        "/_devstore/orders", json={"customer_id": customer["id"], "lines": line, "discount_code": "ONCE10"}
    )
    again = client.post(
        "/_devstore/orders", json={"customer_id": customer["id"], "lines": line, "discount_code": "ONCE10"}
    )

    assert stranger.status_code == 422
    assert used.status_code == 201
    assert used.json()["order"]["total_discounts"] == "6.00"
    assert used.json()["order"]["discount_codes"][0]["code"] == "ONCE10"
    assert again.status_code == 422


def test_metafields_set_and_read_back(gql: GraphQL, customer: Row) -> None:
    owner = f"gid://shopify/Customer/{customer['id']}"
    body = gql(
        """mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
        metafields { namespace key value type } userErrors { field message } } }""",
        {
            "m": [
                {
                    "ownerId": owner,
                    "namespace": "custom",
                    "key": "birthday",
                    "type": "date",
                    "value": "1990-05-17",
                }
            ]
        },
    )
    assert body["data"]["metafieldsSet"]["userErrors"] == []

    read = gql(
        """query($id: ID!) { customer(id: $id) {
        metafield(namespace: "custom", key: "birthday") { value type }
        metafields(first: 5) { nodes { key } } } }""",
        {"id": owner},
    )

    assert read["data"]["customer"]["metafield"] == {"value": "1990-05-17", "type": "date"}
    assert read["data"]["customer"]["metafields"]["nodes"] == [{"key": "birthday"}]


def test_consent_update_changes_the_customer(gql: GraphQL, ds: Devstore, customer: Row) -> None:
    body = gql(
        """mutation($input: CustomerEmailMarketingConsentUpdateInput!) {
        customerEmailMarketingConsentUpdate(input: $input) {
          customer { emailMarketingConsent { marketingState marketingOptInLevel } }
          userErrors { field message } } }""",
        {
            "input": {
                "customerId": f"gid://shopify/Customer/{customer['id']}",
                "emailMarketingConsent": {
                    "marketingState": "SUBSCRIBED",
                    "marketingOptInLevel": "CONFIRMED_OPT_IN",
                },
            }
        },
    )

    result = body["data"]["customerEmailMarketingConsentUpdate"]
    assert result["userErrors"] == []
    assert result["customer"]["emailMarketingConsent"] == {
        "marketingState": "SUBSCRIBED",
        "marketingOptInLevel": "CONFIRMED_OPT_IN",
    }
    topics = [r["topic"] for r in ds.db.all("SELECT topic FROM webhook_deliveries")]
    assert "customers_email_marketing_consent/update" in topics


def test_webhook_subscriptions_created_and_listed(gql: GraphQL) -> None:
    created = gql("""mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE,
        webhookSubscription: { callbackUrl: "https://example.com/hooks" }) {
        webhookSubscription { id topic uri endpoint { ... on WebhookHttpEndpoint { callbackUrl } } }
        userErrors { message } } }""")
    listed = gql(
        "{ webhookSubscriptions(first: 10, topics: [ORDERS_CREATE]) { nodes { topic callbackUrl } } }"
    )

    subscription = created["data"]["webhookSubscriptionCreate"]["webhookSubscription"]
    assert subscription["topic"] == "ORDERS_CREATE"
    assert subscription["endpoint"]["callbackUrl"] == "https://example.com/hooks"
    assert listed["data"]["webhookSubscriptions"]["nodes"] == [
        {"topic": "ORDERS_CREATE", "callbackUrl": "https://example.com/hooks"}
    ]
