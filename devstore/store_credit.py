"""Store credit: each customer's account in the shop's currency, credited through the Admin API."""

from __future__ import annotations

from decimal import Decimal

from devstore.db import Database, Row
from devstore.formats import money, now_iso


def store_credit_add(
    db: Database, shop_id: int, customer_id: int, amount: Decimal, *, currency: str, expires_at: str | None
) -> Row:
    transaction_id = db.insert(
        "store_credit_transactions",
        {
            "shop_id": shop_id,
            "customer_id": customer_id,
            "amount": str(money(amount)),
            "currency": currency,
            "expires_at": expires_at,
            "created_at": now_iso(),
        },
    )
    row = db.one("SELECT * FROM store_credit_transactions WHERE id = ?", (transaction_id,))
    assert row is not None
    return row


def store_credit_balance(db: Database, shop_id: int, customer_id: int) -> Decimal:
    """What the customer can spend now: credits not past their expiry."""
    rows = db.all(
        "SELECT amount, expires_at FROM store_credit_transactions WHERE shop_id = ? AND customer_id = ?",
        (shop_id, customer_id),
    )
    now = now_iso()
    return sum(
        (Decimal(row["amount"]) for row in rows if not row["expires_at"] or row["expires_at"] > now),
        Decimal("0"),
    )
