"""What the app learns about a customer, written back to Shopify as app-owned customer metafields
(declared in shopify.app.toml), so the merchant's own segments, Flow and emails can use it.

One writer: `customer_metafields_write(shop, values)`. It sends `metafieldsSet` with at most 25
metafields a call, in the app-reserved namespace `$app`, and stops while half the shop's cost bucket
is still there for the rest of the app's work, handing back what it did not send and when to try
again, so that a shop job can `return result.retry_after`.
"""

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from shop_app.admin_api import AdminApiError, AdminClient, admin_client_for_shop
from shop_app.models import Shop
from shop_app.work import PermanentError

logger = logging.getLogger(__name__)

# Key -> type of each customer metafield the app owns: the `[customer.metafields.app.<key>]`
# tables of shopify.app.toml, which Shopify holds the values to (tests/commerce/test_metafields.py
# checks the two agree).
CUSTOMER_METAFIELD_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "segment": "single_line_text_field",
        "predicted_value_365d": "number_decimal",
        "predicted_orders_365d": "number_decimal",
        "churn_risk": "number_decimal",
        "points_balance": "number_integer",
        "tier": "single_line_text_field",
    }
)

APP_NAMESPACE = "$app"
# Shopify refuses a metafieldsSet of more than 25 metafields.
METAFIELDS_PER_CALL = 25
# Below this share of its cost bucket the writer stops and asks to be run again once the bucket is
# full: webhooks' follow-up reads, reconciliation and the merchant's admin pages share the bucket.
BUCKET_RESERVE = 0.5
# A wait is never shorter than this, so a job that reschedules does not spin.
MIN_RETRY_SECONDS = 1.0

METAFIELDS_SET = """
mutation CustomerMetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    userErrors { field message code elementIndex }
  }
}"""


class MetafieldsInputError(PermanentError, ValueError):
    """The values handed to the writer are malformed; its message names the field, never a value."""


@dataclass(frozen=True)
class CustomerMetafields:
    """One customer's metafields to write: key -> value, formatted as Shopify expects for the key's
    type (a decimal string for number_decimal, one of the segment names for the segment)."""

    customer_shopify_id: int
    fields: Mapping[str, str]


@dataclass(frozen=True)
class MetafieldError:
    """A metafield Shopify refused (its userError), or every metafield of a call it refused whole
    (then `key` is still the metafield's own)."""

    customer_shopify_id: int
    key: str
    code: str
    message: str


@dataclass(frozen=True)
class MetafieldsWriteResult:
    written: int  # metafields Shopify stored
    calls: int  # metafieldsSet requests sent
    errors: tuple[MetafieldError, ...]
    # What was not sent because the bucket ran low, and the seconds to wait before sending it.
    remaining: tuple[CustomerMetafields, ...] = ()
    retry_after: float | None = None

    @property
    def done(self) -> bool:
        return not self.remaining


@dataclass(frozen=True)
class _Item:
    customer_shopify_id: int
    key: str
    value: str

    def as_input(self) -> dict[str, str]:
        return {
            "ownerId": f"gid://shopify/Customer/{self.customer_shopify_id}",
            "namespace": APP_NAMESPACE,
            "key": self.key,
            "type": CUSTOMER_METAFIELD_TYPES[self.key],
            "value": self.value,
        }


def customer_metafields_write(
    shop: Shop, values: Sequence[CustomerMetafields], *, client: AdminClient | None = None
) -> MetafieldsWriteResult:
    """Write each customer's metafields to Shopify. A value Shopify refuses is recorded in
    `errors` and the rest of its call is sent again without it (metafieldsSet writes all of a call
    or nothing). When the shop's cost bucket runs low, returns early with `remaining` and
    `retry_after`. Raises MetafieldsInputError before sending anything if `values` is malformed;
    any other Admin API failure raises too (sending again is harmless: metafieldsSet overwrites)."""
    batches = _batches(_items(values))
    if not batches:
        return MetafieldsWriteResult(written=0, calls=0, errors=())
    client = client or admin_client_for_shop(shop)
    progress = _Progress()
    while batches:
        batch = batches[0]
        wait = _bucket_wait(client)
        if wait is not None:
            return progress.stopped(shop, batches, wait)
        try:
            data = client.graphql(METAFIELDS_SET, {"metafields": [item.as_input() for item in batch]})
        except AdminApiError as error:
            if error.code != "THROTTLED":
                raise
            return progress.stopped(shop, batches, _bucket_wait(client) or MIN_RETRY_SECONDS)
        progress.calls += 1
        user_errors = data["metafieldsSet"]["userErrors"]
        if not user_errors:
            progress.written += len(batch)
            batches.pop(0)
            continue
        refused = _refused(shop, batch, user_errors)
        progress.errors.extend(refused.values())
        # Nothing of the call was stored: send again what Shopify did not refuse.
        kept = [item for index, item in enumerate(batch) if index not in refused]
        if kept:
            batches[0] = kept
        else:
            batches.pop(0)
    return progress.result()


@dataclass
class _Progress:
    written: int = 0
    calls: int = 0
    errors: list[MetafieldError] = field(default_factory=list)

    def result(self) -> MetafieldsWriteResult:
        return MetafieldsWriteResult(written=self.written, calls=self.calls, errors=tuple(self.errors))

    def stopped(self, shop: Shop, batches: list[list[_Item]], wait: float) -> MetafieldsWriteResult:
        """The result so far, with what is left to send after `wait` seconds."""
        remaining: dict[int, dict[str, str]] = {}
        for batch in batches:
            for item in batch:
                remaining.setdefault(item.customer_shopify_id, {})[item.key] = item.value
        logger.info(
            "metafields of %s customers of %s wait %.1f s for the API bucket",
            len(remaining),
            shop.domain,
            wait,
        )
        return MetafieldsWriteResult(
            written=self.written,
            calls=self.calls,
            errors=tuple(self.errors),
            remaining=tuple(CustomerMetafields(customer, fields) for customer, fields in remaining.items()),
            retry_after=wait,
        )


def _items(values: Sequence[CustomerMetafields]) -> list[list[_Item]]:
    """Each customer's metafields as items to send, every input checked first."""
    seen: set[int] = set()
    customers: list[list[_Item]] = []
    for position, entry in enumerate(values):
        if not isinstance(entry, CustomerMetafields):
            raise MetafieldsInputError(f"values[{position}] is not a CustomerMetafields")
        customer_id = entry.customer_shopify_id
        if isinstance(customer_id, bool) or not isinstance(customer_id, int) or customer_id <= 0:
            raise MetafieldsInputError(f"values[{position}].customer_shopify_id is not a Shopify id")
        if customer_id in seen:
            raise MetafieldsInputError(f"customer {customer_id} is given more than once")
        seen.add(customer_id)
        items = []
        for key, value in entry.fields.items():
            if key not in CUSTOMER_METAFIELD_TYPES:
                raise MetafieldsInputError(f"customer {customer_id}: {key!r} is not a customer metafield")
            if not isinstance(value, str) or not value:
                raise MetafieldsInputError(f"customer {customer_id}: {key} is not a non-empty string")
            items.append(_Item(customer_id, key, value))
        if items:
            customers.append(items)
    return customers


def _batches(customers: list[list[_Item]]) -> list[list[_Item]]:
    """Calls of at most 25 metafields; a customer's metafields share a call unless they are more
    than one call holds."""
    batches: list[list[_Item]] = []
    current: list[_Item] = []
    for items in customers:
        if len(current) + len(items) > METAFIELDS_PER_CALL:
            if current:
                batches.append(current)
            current = []
        for start in range(0, len(items), METAFIELDS_PER_CALL):
            chunk = items[start : start + METAFIELDS_PER_CALL]
            if len(chunk) == METAFIELDS_PER_CALL:
                batches.append(chunk)
            else:
                current.extend(chunk)
    if current:
        batches.append(current)
    return batches


def _refused(shop: Shop, batch: list[_Item], user_errors: list[dict[str, Any]]) -> dict[int, MetafieldError]:
    """The items of a call Shopify refused, by their index in the call. An error that names no
    element refuses the whole call."""
    refused: dict[int, MetafieldError] = {}
    for user_error in user_errors:
        index = _element_index(user_error)
        indexes = [index] if index is not None and 0 <= index < len(batch) else range(len(batch))
        for position in indexes:
            item = batch[position]
            refused.setdefault(
                position,
                MetafieldError(
                    item.customer_shopify_id,
                    item.key,
                    str(user_error.get("code") or ""),
                    user_error["message"],
                ),
            )
    for error in refused.values():
        # The key and the code, never the value.
        logger.warning(
            "Shopify refused metafield %s of customer %s on %s: %s",
            error.key,
            error.customer_shopify_id,
            shop.domain,
            error.code,
        )
    return refused


def _element_index(user_error: dict[str, Any]) -> int | None:
    """Which input a metafieldsSet userError is about: `elementIndex`, else `field`
    (["metafields", "3", "value"])."""
    if isinstance(user_error.get("elementIndex"), int):
        return int(user_error["elementIndex"])
    field = user_error.get("field") or []
    if len(field) >= 2 and field[0] == "metafields" and str(field[1]).isdigit():
        return int(field[1])
    return None


def _bucket_wait(client: AdminClient) -> float | None:
    """None while the shop's bucket (as Shopify last reported it) holds more than the reserve;
    else the seconds until it is full again."""
    # The client keeps what Shopify last reported in `extensions.cost.throttleStatus` (shared
    # between workers); it has no public reader of it yet.
    bucket = client.bucket()
    if bucket is None:
        return None
    now = time.time()
    if bucket.available_at(now) >= bucket.maximum * BUCKET_RESERVE:
        return None
    return max(MIN_RETRY_SECONDS, bucket.wait_for(bucket.maximum, now))
