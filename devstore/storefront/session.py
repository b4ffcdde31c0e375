"""The shopper's browser state: signed-in customer and cart, in plain dev cookies."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from devstore import customers
from devstore.db import Database, Row

CUSTOMER_COOKIE = "devstore_customer"
CART_COOKIE = "devstore_cart"


def signed_in_customer(db: Database, shop: Row, request: Request) -> Row | None:
    raw = request.cookies.get(CUSTOMER_COOKIE, "")
    shop_id, _, customer_id = raw.partition(":")
    if not customer_id.isdigit() or shop_id != str(shop["id"]):
        return None
    return customers.customer_get(db, shop["id"], int(customer_id))


def sign_in(response: Response, shop: Row, customer: Row) -> None:
    response.set_cookie(CUSTOMER_COOKIE, f"{shop['id']}:{customer['id']}", httponly=True, samesite="lax")


def sign_out(response: Response) -> None:
    response.delete_cookie(CUSTOMER_COOKIE)


def cart_lines(request: Request) -> list[dict[str, int]]:
    raw = request.cookies.get(CART_COOKIE, "")
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode() + b"==")) if raw else []
        return [{"variant_id": int(x["variant_id"]), "quantity": int(x["quantity"])} for x in data]
    except (ValueError, KeyError, TypeError):
        return []


def cart_save(response: Response, lines: list[dict[str, int]]) -> None:
    if not lines:
        response.delete_cookie(CART_COOKIE)
        return
    raw = base64.urlsafe_b64encode(json.dumps(lines).encode()).decode().rstrip("=")
    response.set_cookie(CART_COOKIE, raw, samesite="lax")


async def form_data(request: Request) -> dict[str, str]:
    """application/x-www-form-urlencoded, without a multipart dependency."""
    return dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
