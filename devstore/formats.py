"""How Shopify writes ids, times and money."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal


def gid(kind: str, object_id: int | str) -> str:
    return f"gid://shopify/{kind}/{object_id}"


def gid_parse(value: str | int, kind: str | None = None) -> int:
    """Accept a gid or a bare integer id; raise ValueError on anything else."""
    if isinstance(value, int):
        return value
    text = str(value)
    if text.isdigit():
        return int(text)
    prefix = "gid://shopify/"
    if not text.startswith(prefix):
        raise ValueError(f"invalid id: {text}")
    found_kind, _, raw = text[len(prefix) :].partition("/")
    if kind is not None and found_kind != kind:
        raise ValueError(f"expected a {kind} id, got {text}")
    raw = raw.split("?", 1)[0]
    if not raw.isdigit():
        raise ValueError(f"invalid id: {text}")
    return int(raw)


def now_iso() -> str:
    """Aware UTC, second precision, Z suffix: how the Admin GraphQL API writes DateTime."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_parse(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


CENT = Decimal("0.01")


def money(value: Decimal | str | float | int) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def money_str(value: Decimal | str | float | int) -> str:
    return str(money(value))


def money_bag(amount: Decimal | str, currency: str) -> dict[str, dict[str, str]]:
    """A MoneyBag: shop and presentment money (the same here; one currency per shop)."""
    pair = {"amount": money_str(amount), "currencyCode": currency}
    return {"shopMoney": dict(pair), "presentmentMoney": dict(pair)}


def rest_money_set(amount: Decimal | str, currency: str) -> dict[str, dict[str, str]]:
    """The REST/webhook spelling of a MoneyBag."""
    pair = {"amount": money_str(amount), "currency_code": currency}
    return {"shop_money": dict(pair), "presentment_money": dict(pair)}
