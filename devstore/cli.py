"""python -m devstore serve | seed."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import UTC, datetime

import uvicorn

from devstore.config import DevstoreConfig
from devstore.db import Database
from devstore.seed.generate import StoreSize, store_generate
from devstore.seed.online_retail import online_retail_import
from devstore.server import create_app
from devstore.shops import shop_ensure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstore", description="devstore: a local stand-in for Shopify"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--port", type=int, default=8100)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--db", help="SQLite path (default $DEVSTORE_DB)")
    serve.add_argument("--log-level", default="info")

    seed = commands.add_parser("seed", help="fill the store with history (fires no webhooks)")
    source = seed.add_mutually_exclusive_group(required=True)
    source.add_argument("--generate", action="store_true", help="a generated apparel store")
    source.add_argument(
        "--online-retail", metavar="PATH", help="import the UCI Online Retail CSV (.csv or .csv.gz)"
    )
    seed.add_argument("--db", help="SQLite path (default $DEVSTORE_DB)")
    seed.add_argument("--shop", help="shop domain (default $DEVSTORE_SHOP)")
    seed.add_argument("--customers", type=int, default=2000)
    seed.add_argument("--orders", type=int, default=20000)
    seed.add_argument("--seed", type=int, default=1)
    seed.add_argument("--until", help="last order date, YYYY-MM-DD (default today)")

    args = parser.parse_args(argv)
    if args.db:
        os.environ["DEVSTORE_DB"] = args.db
    if args.command == "serve":
        return _serve(args)
    return _seed(args)


def _serve(args: argparse.Namespace) -> int:
    config = DevstoreConfig.from_env()
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s %(message)s")
    app = create_app(config)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _seed(args: argparse.Namespace) -> int:
    config = DevstoreConfig.from_env()
    db = Database(config.db_path)
    domain = args.shop or config.default_shop
    started = time.monotonic()
    if args.generate:
        until = datetime.strptime(args.until, "%Y-%m-%d").replace(tzinfo=UTC) if args.until else None
        shop = shop_ensure(db, domain)
        counts = store_generate(
            db,
            shop["id"],
            StoreSize(customers=args.customers, orders=args.orders),
            seed=args.seed,
            until=until,
        )
    else:
        shop = shop_ensure(db, domain, currency="GBP", timezone="Europe/London", country_code="GB")
        counts = online_retail_import(db, shop["id"], args.online_retail)
    took = time.monotonic() - started
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    print(f"seeded {domain} in {config.db_path}: {summary} ({took:.1f}s)", file=sys.stderr)
    return 0
