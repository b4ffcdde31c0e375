"""A block's picks kept for a signed-in shopper's next page (ServedPicks).

Ranking a shopper's "for you" block reads their profile, facts, "not for me"s, browsing and
candidate lists and weighs a few hundred products: several milliseconds, on every page they open.
What it answers changes only when one of those does, so serving keeps the answer and reads it back
with one indexed query, as long as it is still true:

- it was ranked today (the season and the fading of views are the day's) under the merchant's
  rules as they are (`rules`: a fingerprint of the RecommendationSettings);
- each pick's product is still active and its variant still in stock (personalize.picks checks
  against the catalog in memory); otherwise the block is ranked again;
- every writer of what ranking reads about the shopper forgets the shoppers it changed
  (`served_forget`): facts (personalize.facts), profiles (personalize.refresh), "not for me"
  (personalize.picks) and browsing (personalize.pixel).

New candidate lists (personalize.candidates) rank again the blocks of the shoppers whose profiles
were computed since the lists before (every buyer after the nightly recompute), so a shopper's
first page after it is a read too; the others keep the block ranked today, their lists having moved
only by what other shoppers did. A new product, or one back in stock, enters a kept block when the
shopper changes or the next day.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from personalize.models import ServedPicks
from shop_app.models import Shop
from shop_app.statements import statement_executemany, statement_fetchone

_TABLE = ServedPicks._meta.db_table
_READ = (
    f'SELECT picks, orders FROM "{_TABLE}" WHERE shop_id = %s AND customer_shopify_id = %s '  # noqa: S608 - the table name is a code constant; values are bound parameters
    'AND block = %s AND "limit" = %s AND ranked_on = %s AND rules = %s'
)


_UPSERT = (
    f'INSERT INTO "{_TABLE}" (shop_id, customer_shopify_id, block, "limit", ranked_on, rules, picks, orders) '  # noqa: S608 - the table name is a code constant; values are bound parameters
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
    'ON CONFLICT (shop_id, customer_shopify_id, block, "limit") DO UPDATE SET '
    "ranked_on = EXCLUDED.ranked_on, rules = EXCLUDED.rules, picks = EXCLUDED.picks, orders = EXCLUDED.orders"
)


@dataclass(frozen=True)
class Slot:
    """What a kept block answers: a block at a limit, ranked on a day under the merchant's rules
    (their fingerprint)."""

    block: str
    limit: int
    ranked_on: date
    rules: str


@dataclass(frozen=True)
class Kept:
    """One shopper's kept block: its picks as stored and the names of the orders they cite."""

    customer_id: int
    picks: Sequence[Mapping[str, Any]]
    orders: Mapping[int, str]


def served_read(shop: Shop, customer_id: int, slot: Slot) -> Kept | None:
    """The shopper's kept block for this slot, if any. One statement, written out and prepared
    (shop_app.statements): this is the storefront's hottest read, and the ORM's query building
    would cost more than the query."""
    row = statement_fetchone(
        _READ, [shop.pk, customer_id, slot.block, slot.limit, slot.ranked_on, slot.rules]
    )
    if row is None:
        return None
    picks, orders = (json.loads(value) if isinstance(value, str) else value for value in row)
    return Kept(customer_id, picks, {int(order): name for order, name in orders.items()})


def served_store(shop: Shop, slot: Slot, kept: Iterable[Kept]) -> None:
    """Keep these shoppers' blocks for this slot, replacing what was kept for its block and limit:
    one statement for all of them (shop_app.statements; the ORM's bulk upsert escaped every JSON
    text into the statement, most of the cost of keeping a chunk)."""
    rows = [
        (
            shop.pk,
            each.customer_id,
            slot.block,
            slot.limit,
            slot.ranked_on,
            slot.rules,
            json.dumps(list(each.picks)),
            json.dumps({str(order): name for order, name in each.orders.items()}),
        )
        for each in kept
    ]
    statement_executemany(_UPSERT, rows)


def served_forget(shop: Shop | int, customer_ids: Iterable[int] | None = None) -> int:
    """Forget what was kept for these shoppers (every shopper of the shop: None), because what
    their blocks are ranked from changed. Returns how many blocks."""
    kept = ServedPicks.objects.filter(shop_id=shop.pk if isinstance(shop, Shop) else shop)
    if customer_ids is not None:
        kept = kept.filter(customer_shopify_id__in=list(customer_ids))
    forgotten, _ = kept.delete()
    return forgotten
