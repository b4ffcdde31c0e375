"""Seeding: deterministic generated stores, and the Online Retail import."""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, datetime
from pathlib import Path

from devstore.db import Database
from devstore.seed.generate import StoreSize, store_generate
from devstore.seed.online_retail import online_retail_import
from devstore.shops import shop_ensure

UNTIL = datetime(2026, 6, 1, tzinfo=UTC)


def _generate(path: Path, seed: int) -> Database:
    db = Database(str(path))
    shop = shop_ensure(db, "seeded.myshopify.com")
    store_generate(db, shop["id"], StoreSize(customers=60, orders=400), seed=seed, until=UNTIL)
    return db


def _dump(db: Database) -> list[list[dict]]:
    return [
        db.all(f"SELECT * FROM {table} ORDER BY id")
        for table in ("products", "variants", "customers", "orders", "line_items", "refunds", "metafields")
    ]


def test_the_same_seed_builds_the_same_store(tmp_path: Path) -> None:
    first = _generate(tmp_path / "a.sqlite3", seed=7)
    second = _generate(tmp_path / "b.sqlite3", seed=7)
    other = _generate(tmp_path / "c.sqlite3", seed=8)

    assert _dump(first) == _dump(second)
    assert _dump(first)[3] != _dump(other)[3]


def test_a_generated_store_looks_like_a_real_one(tmp_path: Path) -> None:
    db = _generate(tmp_path / "s.sqlite3", seed=1)

    assert db.scalar("SELECT COUNT(*) FROM customers") == 60
    assert db.scalar("SELECT COUNT(*) FROM orders") == 400
    sizes = {
        row["value"]
        for row in db.all(
            "SELECT DISTINCT json_extract(j.value, '$.value') AS value FROM variants,"
            " json_each(variants.selected_options) j WHERE json_extract(j.value, '$.name') = 'Size'"
        )
    }
    assert sizes == {"XS", "S", "M", "L", "XL", "XXL"}
    assert db.scalar("SELECT COUNT(*) FROM variants WHERE inventory_quantity = 0") > 0
    countries = {
        r["c"] for r in db.all("SELECT DISTINCT json_extract(address, '$.country_code') AS c FROM customers")
    }
    assert countries & {"AU", "NZ", "ZA", "BR"}
    assert db.scalar("SELECT COUNT(*) FROM metafields WHERE key = 'birthday'") > 0
    assert db.scalar("SELECT COUNT(*) FROM orders WHERE customer_id IS NULL") > 0
    assert db.scalar("SELECT COUNT(*) FROM refunds") > 0
    assert db.scalar("SELECT MAX(orders_count) FROM customers") > 3  # repeat buyers
    assert db.scalar("SELECT MIN(created_at) FROM orders") >= "2024-06-01"
    for title in (
        "Wool Overcoat",
        "Linen Camp Shirt",
        "Swim Shorts",
        "Soy Wax Candle",
        "Gold Hoop Earrings",
        "House Espresso Beans",
    ):
        assert db.scalar("SELECT 1 FROM products WHERE title = ?", (title,))


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with gzip.open(path, "wt", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "InvoiceNo",
                "StockCode",
                "Description",
                "Quantity",
                "InvoiceDate",
                "UnitPrice",
                "CustomerID",
                "Country",
            ]
        )
        writer.writerows(rows)


def test_online_retail_import_reads_orders_refunds_guests_and_skips_fees(tmp_path: Path) -> None:
    csv_path = tmp_path / "retail.csv.gz"
    _write_csv(
        csv_path,
        [
            [
                "536365",
                "85123A",
                "WHITE HANGING HEART T-LIGHT HOLDER",
                "6",
                "2010-12-01 08:26:00",
                "2.55",
                "17850",
                "United Kingdom",
            ],
            [
                "536365",
                "71053",
                "WHITE METAL LANTERN",
                "2",
                "2010-12-01 08:26:00",
                "3.39",
                "17850",
                "United Kingdom",
            ],
            ["536365", "POST", "POSTAGE", "1", "2010-12-01 08:26:00", "18.00", "17850", "United Kingdom"],
            [
                "536366",
                "71053",
                "WHITE METAL LANTERN",
                "1",
                "2010-12-01 09:00:00",
                "3.39",
                "",
                "United Kingdom",
            ],
            [
                "C536379",
                "85123A",
                "WHITE HANGING HEART T-LIGHT HOLDER",
                "-2",
                "2010-12-02 10:00:00",
                "2.55",
                "17850",
                "United Kingdom",
            ],
        ],
    )
    db = Database(str(tmp_path / "r.sqlite3"))
    shop = shop_ensure(db, "retail.myshopify.com", currency="GBP")

    counts = online_retail_import(db, shop["id"], str(csv_path))

    assert counts["products"] == 2
    assert counts["customers"] == 1
    assert counts["orders"] == 2
    assert counts["guest_orders"] == 1
    assert counts["refunds"] == 1
    first = db.one("SELECT * FROM orders WHERE name = '#1001'")
    assert first is not None
    assert first["currency"] == "GBP"
    assert first["total_price"] == "22.08"
    assert first["financial_status"] == "PARTIALLY_REFUNDED"
    assert db.scalar("SELECT amount FROM refunds") == "5.10"
    assert db.scalar("SELECT amount_spent FROM customers") == "16.98"
