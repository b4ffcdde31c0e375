"""The Admin GraphQL fields our records are read from (commerce/records.py), in one place: the
install backfill, reconciliation and any later reader select exactly these, so whichever source
wrote a record last, it holds the same data."""

MONEY = "shopMoney { amount currencyCode }"

CUSTOMER_FIELDS = """
  id email firstName lastName phone tags createdAt updatedAt
  defaultAddress { city province provinceCode countryCodeV2 zip }
  emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
"""

# An order's own fields; its line items are a connection each reader pages in its own way.
ORDER_FIELDS = f"""
  id name email createdAt updatedAt processedAt cancelledAt
  displayFinancialStatus displayFulfillmentStatus currencyCode
  totalPriceSet {{ {MONEY} }} subtotalPriceSet {{ {MONEY} }}
  totalDiscountsSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }}
  customer {{ id }}
  shippingAddress {{ city province provinceCode countryCodeV2 zip }}
"""

LINE_ITEM_FIELDS = (
    f"id quantity sku title variant {{ id }} product {{ id }} originalUnitPriceSet {{ {MONEY} }}"
)

# A product's own fields; its variants are a connection each reader pages in its own way.
PRODUCT_FIELDS = """
  id title handle productType vendor tags status createdAt updatedAt
  featuredMedia { preview { image { url } } }
"""

VARIANT_FIELDS = (
    "id title position sku price compareAtPrice inventoryQuantity updatedAt"
    " selectedOptions { name value } inventoryItem { id }"
)

# A collection's own fields; its members (products { id }) are a connection paged by each reader.
COLLECTION_FIELDS = "id handle title updatedAt"
