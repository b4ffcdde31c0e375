"""Import the UCI Online Retail data set (a UK gift retailer, 2010-2011) as shop history.

Invoices become orders, `C` invoices refunds of the shopper's latest earlier order with
that item, a blank CustomerID a guest checkout; postage, fees and adjustments are skipped.
Prices are GBP. The file is read where it lies; it is never copied into the project.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

from devstore.catalog import handleize
from devstore.db import Database
from devstore.formats import iso, money_str
from devstore.seed.common import next_id, shop_data_clear
from devstore.seed.generate import customer_stats_refresh_all
from devstore.storefront.images import product_image_url

# StockCodes that are not goods: postage, fees, manual adjustments, samples.
NON_PRODUCT_CODES = {
    "POST",
    "DOT",
    "M",
    "BANK CHARGES",
    "AMAZONFEE",
    "C2",
    "CRUK",
    "D",
    "S",
    "PADS",
    "B",
    "ADJUST",
    "ADJUST2",
    "TEST001",
    "TEST002",
}


def _open(path: str) -> TextIO:
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", errors="replace", newline="")
    return Path(path).open(encoding="utf-8", errors="replace", newline="")


def _is_goods(code: str) -> bool:
    upper = code.upper()
    return upper not in NON_PRODUCT_CODES and not upper.startswith("GIFT_")


def _when(text: str) -> datetime:
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"unreadable InvoiceDate {text!r}")


@dataclass
class _Bought:
    """A line a known customer bought, still refundable by a later credit note."""

    when: datetime
    order_id: int
    line_item_id: int
    left: int
    unit: Decimal


def online_retail_import(db: Database, shop_id: int, path: str) -> dict[str, int]:
    invoices: dict[str, list[dict[str, str]]] = defaultdict(list)
    prices: dict[str, Counter[str]] = defaultdict(Counter)
    titles: dict[str, str] = {}
    with _open(path) as handle:
        for line in csv.DictReader(handle):
            code = (line.get("StockCode") or "").strip()
            if not code or not _is_goods(code):
                continue
            try:
                price = Decimal(line["UnitPrice"])
                int(line["Quantity"])
            except (InvalidOperation, ValueError):
                continue
            if price <= 0:
                continue
            invoices[line["InvoiceNo"].strip()].append(line)
            prices[code][money_str(price)] += 1
            if line.get("Description") and code not in titles:
                titles[code] = line["Description"].strip()
    shop_data_clear(db, shop_id)
    variants = _products(db, shop_id, prices, titles)
    customers = _customers(db, shop_id, invoices)
    counts = _orders(db, shop_id, invoices, variants, customers)
    customer_stats_refresh_all(db, shop_id)
    return {"products": len(variants), "customers": len(customers), **counts}


def _products(
    db: Database, shop_id: int, prices: dict[str, Counter[str]], titles: dict[str, str]
) -> dict[str, tuple[int, int, str]]:
    """One product with one variant per StockCode; returns code -> (product, variant, title)."""
    product_id, variant_id = next_id(db, "products"), next_id(db, "variants")
    stamp = "2010-12-01T00:00:00Z"
    products, variant_rows, result = [], [], {}
    handles: set[str] = set()
    for code in sorted(prices):
        title = (titles.get(code) or code).title()
        handle = handleize(f"{title}-{code}")
        if handle in handles:
            continue
        handles.add(handle)
        price = prices[code].most_common(1)[0][0]
        products.append(
            (
                product_id,
                shop_id,
                title,
                handle,
                title,
                "Gifts",
                "Online Retail",
                "",
                "ACTIVE",
                json.dumps(["Title"]),
                stamp,
                stamp,
                product_image_url(handle),
            )
        )
        variant_rows.append(
            (
                variant_id,
                shop_id,
                product_id,
                "Default Title",
                code,
                price,
                json.dumps([{"name": "Title", "value": "Default Title"}]),
                50,
                1,
                stamp,
                stamp,
            )
        )
        result[code] = (product_id, variant_id, title)
        product_id += 1
        variant_id += 1
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO products (id, shop_id, title, handle, description,"
            " product_type, vendor, tags, status, options, created_at, updated_at, image_url)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            products,
        )
        conn.executemany(
            "INSERT INTO variants (id, shop_id, product_id, title, sku, price,"
            " selected_options, inventory_quantity, position, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            variant_rows,
        )
    return result


def _customers(db: Database, shop_id: int, invoices: dict[str, list[dict[str, str]]]) -> dict[str, int]:
    first_seen: dict[str, tuple[datetime, str]] = {}
    for lines in invoices.values():
        raw = (lines[0].get("CustomerID") or "").strip()
        if not raw:
            continue
        key = raw.split(".")[0]
        when = _when(lines[0]["InvoiceDate"])
        if key not in first_seen or when < first_seen[key][0]:
            first_seen[key] = (when, lines[0].get("Country", "").strip())
    customer_id = next_id(db, "customers")
    rows, result = [], {}
    for key in sorted(first_seen):
        when, country = first_seen[key]
        address = {"country": country} if country else {}
        rows.append(
            (
                customer_id,
                shop_id,
                f"customer{key}@example.com",
                "Customer",
                key,
                json.dumps(address),
                iso(when),
                iso(when),
            )
        )
        result[key] = customer_id
        customer_id += 1
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO customers (id, shop_id, email, first_name, last_name,"
            " address, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return result


def _orders(  # noqa: PLR0915
    db: Database,
    shop_id: int,
    invoices: dict[str, list[dict[str, str]]],
    variants: dict[str, tuple[int, int, str]],
    customers: dict[str, int],
) -> dict[str, int]:
    order_id, item_id = next_id(db, "orders"), next_id(db, "line_items")
    refund_id, refund_item_id = next_id(db, "refunds"), next_id(db, "refund_line_items")
    orders, items, refunds, refund_items = [], [], [], []
    # (customer key, stock code) -> [(when, order id, line item id, quantity left, unit)]
    bought: dict[tuple[str, str], list[_Bought]] = defaultdict(list)
    ordered = sorted(invoices.items(), key=lambda kv: (_when(kv[1][0]["InvoiceDate"]), kv[0]))
    number = 1001
    skipped_refunds = 0
    for invoice, lines in ordered:
        when = _when(lines[0]["InvoiceDate"])
        key = (lines[0].get("CustomerID") or "").strip().split(".")[0]
        country = lines[0].get("Country", "").strip()
        if invoice.upper().startswith("C"):
            for line in lines:
                code = line["StockCode"].strip()
                quantity = -int(line["Quantity"])
                history = bought.get((key, code)) if key else None
                target = next(
                    (h for h in reversed(history or []) if h.when <= when and h.left >= quantity > 0),
                    None,
                )
                if target is None:
                    skipped_refunds += 1
                    continue
                target.left -= quantity
                amount = target.unit * quantity
                refunds.append(
                    (
                        refund_id,
                        shop_id,
                        target.order_id,
                        f"Credit note {invoice}",
                        money_str(amount),
                        iso(when),
                    )
                )
                refund_items.append(
                    (refund_item_id, refund_id, target.line_item_id, quantity, money_str(amount), 1)
                )
                refund_id += 1
                refund_item_id += 1
            continue
        merged: dict[str, tuple[int, Decimal]] = {}
        for line in lines:
            code = line["StockCode"].strip()
            quantity = int(line["Quantity"])
            if quantity <= 0 or code not in variants:
                continue
            unit = Decimal(line["UnitPrice"])
            before = merged.get(code, (0, unit))[0]
            merged[code] = (before + quantity, unit)
        if not merged:
            continue
        subtotal = Decimal("0")
        for code, (quantity, unit) in merged.items():
            product_id, variant_id, title = variants[code]
            items.append(
                (
                    item_id,
                    shop_id,
                    order_id,
                    variant_id,
                    product_id,
                    title,
                    "",
                    code,
                    quantity,
                    money_str(unit),
                    "0.00",
                    quantity,
                )
            )
            subtotal += unit * quantity
            if key:
                bought[(key, code)].append(_Bought(when, order_id, item_id, quantity, unit))
            item_id += 1
        stamp = iso(when)
        orders.append(
            (
                order_id,
                shop_id,
                number,
                f"#{number}",
                f"customer{key}@example.com" if key else None,
                customers.get(key) if key else None,
                "GBP",
                money_str(subtotal),
                money_str(subtotal),
                "FULFILLED",
                json.dumps({"country": country}) if country else None,
                stamp,
                stamp,
                stamp,
            )
        )
        order_id += 1
        number += 1
    refunded: dict[object, Decimal] = defaultdict(Decimal)
    for refund in refunds:
        refunded[refund[2]] += Decimal(refund[4])
    final = []
    for row in orders:
        status = "PAID"
        if row[0] in refunded:
            status = "REFUNDED" if refunded[row[0]] >= Decimal(row[7]) else "PARTIALLY_REFUNDED"
        final.append((*row[:9], status, *row[9:]))
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO orders (id, shop_id, number, name, email, customer_id,"
            " currency, subtotal_price, total_price, financial_status,"
            " fulfillment_status, shipping_address, processed_at, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            final,
        )
        conn.executemany(
            "INSERT INTO line_items (id, shop_id, order_id, variant_id, product_id,"
            " title, variant_title, sku, quantity, price, total_discount,"
            " fulfilled_quantity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            items,
        )
        conn.executemany(
            "INSERT INTO refunds (id, shop_id, order_id, note, amount, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            refunds,
        )
        conn.executemany(
            "INSERT INTO refund_line_items (id, refund_id, line_item_id, quantity,"
            " subtotal, restock) VALUES (?, ?, ?, ?, ?, ?)",
            refund_items,
        )
        conn.execute("UPDATE shops SET next_order_number = ? WHERE id = ?", (number, shop_id))
    return {
        "orders": len(orders),
        "line_items": len(items),
        "refunds": len(refunds),
        "unmatched_credit_lines": skipped_refunds,
        "guest_orders": sum(1 for row in orders if row[5] is None),
    }
