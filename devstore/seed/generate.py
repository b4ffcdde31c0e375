"""A generated, deterministic store: sized apparel and more, shoppers worldwide, two years
of orders with seasons (per hemisphere), repeat buyers and refunds.

Same seed and same `until` give the same store, row for row.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from devstore.catalog import handleize
from devstore.db import Database
from devstore.formats import iso, money_str
from devstore.seed.common import next_id, shop_data_clear
from devstore.storefront.images import product_image_url

SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SIZE_WEIGHTS = (5, 18, 30, 25, 15, 7)
COLOURS = ("Black", "White", "Navy", "Olive", "Sand", "Rust", "Grey", "Sky Blue", "Burgundy", "Cream")


@dataclass(frozen=True)
class ProductSpec:
    title: str
    product_type: str
    season: str  # summer | winter | all: in the shopper's own hemisphere
    price: str
    sized: bool = True
    tags: tuple[str, ...] = ()
    option: tuple[str, tuple[str, ...]] | None = None  # for non-apparel variants


APPAREL = (
    ProductSpec("Classic Crew T-Shirt", "T-Shirts", "all", "24.00", tags=("cotton", "basics")),
    ProductSpec("Organic Pocket Tee", "T-Shirts", "all", "28.00", tags=("cotton", "organic")),
    ProductSpec("Striped Breton Top", "T-Shirts", "all", "38.00", tags=("cotton",)),
    ProductSpec("Linen Camp Shirt", "Shirts", "summer", "68.00", tags=("linen", "summer")),
    ProductSpec("Linen Popover Shirt", "Shirts", "summer", "72.00", tags=("linen", "summer")),
    ProductSpec("Oxford Button-Down", "Shirts", "all", "64.00", tags=("cotton",)),
    ProductSpec("Flannel Overshirt", "Shirts", "winter", "78.00", tags=("flannel", "winter")),
    ProductSpec("Merino Crew Sweater", "Knitwear", "winter", "110.00", tags=("merino", "wool", "winter")),
    ProductSpec("Chunky Cable Knit", "Knitwear", "winter", "135.00", tags=("wool", "winter")),
    ProductSpec("Cotton Cardigan", "Knitwear", "all", "89.00", tags=("cotton",)),
    ProductSpec("Fleece Hoodie", "Sweatshirts", "winter", "72.00", tags=("fleece", "winter")),
    ProductSpec("Loopback Sweatshirt", "Sweatshirts", "all", "65.00", tags=("cotton",)),
    ProductSpec("Slim Selvedge Jeans", "Jeans", "all", "120.00", tags=("denim",)),
    ProductSpec("Relaxed Jeans", "Jeans", "all", "110.00", tags=("denim",)),
    ProductSpec("Stretch Chinos", "Trousers", "all", "85.00", tags=("cotton",)),
    ProductSpec("Linen Drawstring Trousers", "Trousers", "summer", "79.00", tags=("linen", "summer")),
    ProductSpec("Corduroy Trousers", "Trousers", "winter", "95.00", tags=("corduroy", "winter")),
    ProductSpec("Chino Shorts", "Shorts", "summer", "55.00", tags=("cotton", "summer")),
    ProductSpec("Linen Shorts", "Shorts", "summer", "58.00", tags=("linen", "summer")),
    ProductSpec("Wool Overcoat", "Coats", "winter", "320.00", tags=("wool", "outerwear", "winter")),
    ProductSpec("Recycled Puffer Jacket", "Coats", "winter", "240.00", tags=("outerwear", "winter")),
    ProductSpec("Quilted Liner Jacket", "Coats", "winter", "160.00", tags=("outerwear", "winter")),
    ProductSpec("Packable Rain Jacket", "Jackets", "all", "140.00", tags=("outerwear", "rain")),
    ProductSpec("Denim Trucker Jacket", "Jackets", "all", "130.00", tags=("denim", "outerwear")),
    ProductSpec("Swim Shorts", "Swimwear", "summer", "48.00", tags=("swim", "summer")),
    ProductSpec("One-Piece Swimsuit", "Swimwear", "summer", "75.00", tags=("swim", "summer")),
    ProductSpec("Bikini Set", "Swimwear", "summer", "70.00", tags=("swim", "summer")),
    ProductSpec("Rash Guard", "Swimwear", "summer", "52.00", tags=("swim", "summer")),
    ProductSpec("Linen Midi Dress", "Dresses", "summer", "115.00", tags=("linen", "summer")),
    ProductSpec("Wrap Dress", "Dresses", "all", "98.00", tags=("viscose",)),
    ProductSpec("Knit Jumper Dress", "Dresses", "winter", "125.00", tags=("wool", "winter")),
    ProductSpec("Wool Beanie", "Accessories", "winter", "32.00", sized=False, tags=("wool", "winter")),
    ProductSpec("Cashmere Scarf", "Accessories", "winter", "95.00", sized=False, tags=("cashmere", "winter")),
    ProductSpec("Canvas Bucket Hat", "Accessories", "summer", "34.00", sized=False, tags=("summer",)),
)

OTHER = (
    ProductSpec(
        "Soy Wax Candle",
        "Home",
        "all",
        "29.00",
        sized=False,
        tags=("home",),
        option=("Scent", ("Fig", "Cedar", "Sea Salt")),
    ),
    ProductSpec(
        "Wool Throw Blanket",
        "Home",
        "winter",
        "145.00",
        sized=False,
        tags=("home", "wool", "winter"),
        option=("Color", ("Oat", "Charcoal")),
    ),
    ProductSpec(
        "Linen Napkin Set",
        "Home",
        "summer",
        "42.00",
        sized=False,
        tags=("home", "linen"),
        option=("Color", ("Natural", "Sage", "Terracotta")),
    ),
    ProductSpec(
        "Stoneware Mug",
        "Home",
        "all",
        "22.00",
        sized=False,
        tags=("home",),
        option=("Glaze", ("Speckle", "Moss", "Ink")),
    ),
    ProductSpec("Ceramic Planter", "Home", "all", "38.00", sized=False, tags=("home",)),
    ProductSpec("Gold Hoop Earrings", "Jewelry", "all", "65.00", sized=False, tags=("jewelry", "gold")),
    ProductSpec("Pearl Pendant Necklace", "Jewelry", "all", "89.00", sized=False, tags=("jewelry",)),
    ProductSpec(
        "Signet Ring",
        "Jewelry",
        "all",
        "75.00",
        sized=False,
        tags=("jewelry",),
        option=("Ring size", ("5", "6", "7", "8", "9")),
    ),
    ProductSpec("Beaded Bracelet", "Jewelry", "summer", "35.00", sized=False, tags=("jewelry", "summer")),
    ProductSpec(
        "House Espresso Beans",
        "Coffee",
        "all",
        "18.00",
        sized=False,
        tags=("coffee",),
        option=("Grind", ("Whole bean", "Espresso", "Filter")),
    ),
    ProductSpec(
        "Ethiopia Yirgacheffe",
        "Coffee",
        "all",
        "21.00",
        sized=False,
        tags=("coffee", "single origin"),
        option=("Grind", ("Whole bean", "Filter")),
    ),
    ProductSpec(
        "Colombia Decaf",
        "Coffee",
        "all",
        "19.00",
        sized=False,
        tags=("coffee", "decaf"),
        option=("Grind", ("Whole bean", "Filter")),
    ),
    ProductSpec("Cold Brew Bags", "Coffee", "summer", "16.00", sized=False, tags=("coffee", "summer")),
)


@dataclass(frozen=True)
class Place:
    country: str
    country_code: str
    south: bool
    regions: tuple[tuple[str, str, str], ...]  # (city, province, province_code)
    weight: int


PLACES = (
    Place(
        "United States",
        "US",
        False,
        (
            ("New York", "New York", "NY"),
            ("Los Angeles", "California", "CA"),
            ("Austin", "Texas", "TX"),
            ("Seattle", "Washington", "WA"),
            ("Miami", "Florida", "FL"),
            ("Chicago", "Illinois", "IL"),
        ),
        36,
    ),
    Place(
        "Canada",
        "CA",
        False,
        (("Toronto", "Ontario", "ON"), ("Vancouver", "British Columbia", "BC"), ("Montreal", "Quebec", "QC")),
        9,
    ),
    Place(
        "United Kingdom",
        "GB",
        False,
        (("London", "England", "ENG"), ("Manchester", "England", "ENG"), ("Edinburgh", "Scotland", "SCT")),
        12,
    ),
    Place("Germany", "DE", False, (("Berlin", "Berlin", "BE"), ("Munich", "Bavaria", "BY")), 6),
    Place("France", "FR", False, (("Paris", "Île-de-France", "IDF"), ("Lyon", "Rhône", "ARA")), 5),
    Place("Sweden", "SE", False, (("Stockholm", "Stockholm", "AB"),), 3),
    Place("Japan", "JP", False, (("Tokyo", "Tokyo", "JP-13"), ("Osaka", "Osaka", "JP-27")), 4),
    Place(
        "Australia",
        "AU",
        True,
        (
            ("Sydney", "New South Wales", "NSW"),
            ("Melbourne", "Victoria", "VIC"),
            ("Brisbane", "Queensland", "QLD"),
            ("Perth", "Western Australia", "WA"),
        ),
        12,
    ),
    Place(
        "New Zealand", "NZ", True, (("Auckland", "Auckland", "AUK"), ("Wellington", "Wellington", "WGN")), 5
    ),
    Place(
        "Brazil",
        "BR",
        True,
        (("São Paulo", "São Paulo", "SP"), ("Rio de Janeiro", "Rio de Janeiro", "RJ")),
        4,
    ),
    Place(
        "South Africa",
        "ZA",
        True,
        (("Cape Town", "Western Cape", "WC"), ("Johannesburg", "Gauteng", "GP")),
        4,
    ),
)

FIRST_NAMES = (
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Oliver",
    "Sophia",
    "Elijah",
    "Mia",
    "Lucas",
    "Amelia",
    "Mateo",
    "Harper",
    "Leo",
    "Isla",
    "Hugo",
    "Chloe",
    "Kai",
    "Zoe",
    "Arjun",
    "Yuki",
    "Hana",
    "Lena",
    "Felix",
    "Ines",
    "Thiago",
    "Ana",
    "Sipho",
    "Thandi",
    "Aroha",
    "Nikau",
    "Freya",
    "Oscar",
    "Ella",
    "Jack",
    "Maya",
    "Sam",
    "Priya",
    "Omar",
    "Sara",
    "Camille",
    "Jonas",
    "Elin",
    "Marta",
    "Diego",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Martin",
    "Lee",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Nguyen",
    "Tanaka",
    "Sato",
    "Müller",
    "Schmidt",
    "Dubois",
    "Laurent",
    "Silva",
    "Santos",
    "Dlamini",
    "Naidoo",
    "Ngata",
    "Taylor",
    "Wilson",
    "Andersson",
    "Johansson",
    "Kowalski",
    "Rossi",
    "Patel",
    "Khan",
    "Cohen",
    "Murphy",
    "Kelly",
)

# Orders per calendar month, northern-hemisphere retail shape (Nov/Dec peak, summer bump).
MONTH_WEIGHTS = (7, 6, 7, 8, 8, 9, 9, 8, 8, 9, 13, 16)
SUMMER_MONTHS_NORTH = (5, 6, 7, 8)
WINTER_MONTHS_NORTH = (11, 12, 1, 2)


@dataclass(frozen=True)
class StoreSize:
    customers: int = 2000
    orders: int = 20000


@dataclass
class _Variant:
    id: int
    product_id: int
    title: str
    sku: str
    price: Decimal
    size: str | None
    colour: str | None


@dataclass
class _Product:
    id: int
    spec: ProductSpec
    variants: list[_Variant]


@dataclass
class _Shopper:
    id: int | None  # None: a guest
    email: str
    first: str
    last: str
    place: Place
    region: tuple[str, str, str]
    size: str
    colours: tuple[str, ...]
    weight: float
    since: datetime


def _season_of(month: int, south: bool) -> str:
    if south:
        month = (month + 5) % 12 + 1  # shift six months
    if month in SUMMER_MONTHS_NORTH:
        return "summer"
    if month in WINTER_MONTHS_NORTH:
        return "winter"
    return "shoulder"


def store_generate(
    db: Database, shop_id: int, size: StoreSize = StoreSize(), *, seed: int = 1, until: datetime | None = None
) -> dict[str, int]:
    """Replace the shop's data with a generated history; returns row counts."""
    rng = random.Random(seed)  # noqa: S311 - seeded, reproducible data, not security
    end = (until or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=730)
    shop_data_clear(db, shop_id)
    products = _catalog(db, shop_id, rng, start)
    shoppers = _customers(db, shop_id, rng, size.customers, start, end)
    counts = _orders(db, shop_id, rng, products, shoppers, size.orders, start, end)
    return {
        "products": len(products),
        "variants": sum(len(p.variants) for p in products),
        "customers": sum(1 for s in shoppers if s.id is not None),
        **counts,
    }


def _catalog(db: Database, shop_id: int, rng: random.Random, start: datetime) -> list[_Product]:
    product_id = next_id(db, "products")
    variant_id = next_id(db, "variants")
    stamp = iso(start - timedelta(days=30))
    product_rows, variant_rows, products = [], [], []
    for spec in APPAREL + OTHER:
        options: list[str]
        combos: list[list[tuple[str, str]]]
        if spec.product_type in ("Accessories",) or (not spec.sized and spec.option is None):
            colours = rng.sample(COLOURS, 2) if spec.product_type == "Accessories" else []
            options = ["Color"] if colours else ["Title"]
            combos = [[("Color", c)] for c in colours] or [[("Title", "Default Title")]]
        elif spec.sized:
            colours = rng.sample(COLOURS, rng.choice((2, 3)))
            options = ["Size", "Color"]
            combos = [[("Size", s), ("Color", c)] for c in colours for s in SIZES]
        else:
            assert spec.option is not None
            options = [spec.option[0]]
            combos = [[(spec.option[0], v)] for v in spec.option[1]]
        tags = ", ".join((*spec.tags, spec.product_type.lower(), f"season:{spec.season}"))
        product_rows.append(
            (
                product_id,
                shop_id,
                spec.title,
                handleize(spec.title),
                f"{spec.title}: a {spec.product_type.lower()} staple.",
                spec.product_type,
                "Omakase Supply",
                tags,
                "ACTIVE",
                json.dumps(options),
                stamp,
                stamp,
                product_image_url(handleize(spec.title)),
            )
        )
        variants = []
        for position, combo in enumerate(combos, start=1):
            values = dict(combo)
            stock = 0 if rng.random() < 0.12 else rng.randint(1, 40)
            if values.get("Size") in ("XS", "XXL") and rng.random() < 0.3:
                stock = 0  # the edge sizes sell out first
            title = " / ".join(v for _, v in combo)
            sku = f"{handleize(spec.title)[:12].upper()}-{position:02d}"
            variant_rows.append(
                (
                    variant_id,
                    shop_id,
                    product_id,
                    title,
                    sku,
                    spec.price,
                    json.dumps([{"name": n, "value": v} for n, v in combo]),
                    stock,
                    position,
                    stamp,
                    stamp,
                )
            )
            variants.append(
                _Variant(
                    variant_id,
                    product_id,
                    title,
                    sku,
                    Decimal(spec.price),
                    values.get("Size"),
                    values.get("Color"),
                )
            )
            variant_id += 1
        products.append(_Product(product_id, spec, variants))
        product_id += 1
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO products (id, shop_id, title, handle, description,"
            " product_type, vendor, tags, status, options, created_at, updated_at, image_url)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            product_rows,
        )
        conn.executemany(
            "INSERT INTO variants (id, shop_id, product_id, title, sku, price,"
            " selected_options, inventory_quantity, position, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            variant_rows,
        )
        _collections(conn, db, shop_id, products, stamp)
    return products


def _collections(
    conn: sqlite3.Connection, db: Database, shop_id: int, products: list[_Product], stamp: str
) -> None:
    groups = {
        "Tops": ("T-Shirts", "Shirts", "Knitwear", "Sweatshirts"),
        "Bottoms": ("Jeans", "Trousers", "Shorts"),
        "Outerwear": ("Coats", "Jackets"),
        "Swimwear": ("Swimwear",),
        "Dresses": ("Dresses",),
        "Accessories": ("Accessories",),
        "Home": ("Home",),
        "Jewelry": ("Jewelry",),
        "Coffee": ("Coffee",),
    }
    collection_id = next_id(db, "collections")
    rows: list[tuple[int, int, str, str, str, str]] = []
    links: list[tuple[int, int, int]] = []
    for title, types in groups.items():
        members = [p.id for p in products if p.spec.product_type in types]
        rows.append((collection_id, shop_id, title, handleize(title), stamp, stamp))
        links.extend((collection_id, pid, i) for i, pid in enumerate(members))
        collection_id += 1
    for title, season in (("Summer Edit", "summer"), ("Winter Warmers", "winter")):
        members = [p.id for p in products if p.spec.season == season]
        rows.append((collection_id, shop_id, title, handleize(title), stamp, stamp))
        links.extend((collection_id, pid, i) for i, pid in enumerate(members))
        collection_id += 1
    execute = conn.executemany
    execute(
        "INSERT INTO collections (id, shop_id, title, handle, published_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    execute("INSERT INTO collection_products (collection_id, product_id, position) VALUES (?, ?, ?)", links)


def _customers(  # noqa: PLR0917
    db: Database,
    shop_id: int,
    rng: random.Random,
    count: int,
    start: datetime,
    end: datetime,
) -> list[_Shopper]:
    customer_id = next_id(db, "customers")
    metafield_id = next_id(db, "metafields")
    place_weights = [p.weight for p in PLACES]
    rows, metafields, shoppers = [], [], []
    span = (end - start).total_seconds()
    for n in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        place = rng.choices(PLACES, place_weights)[0]
        region = rng.choice(place.regions)
        since = start - timedelta(days=rng.randint(0, 400)) + timedelta(seconds=rng.random() * span * 0.85)
        email = f"{handleize(first)}.{handleize(last)}{n + 1}@example.com"
        state = rng.choices(("SUBSCRIBED", "NOT_SUBSCRIBED", "UNSUBSCRIBED"), (55, 35, 10))[0]
        tags = "vip" if rng.random() < 0.05 else ""
        address = {
            "address1": f"{rng.randint(1, 240)} Market Street",
            "city": region[0],
            "province": region[1],
            "province_code": region[2],
            "country": place.country,
            "country_code": place.country_code,
            "zip": f"{rng.randint(1000, 99999)}",
        }
        stamp = iso(since)
        rows.append(
            (
                customer_id,
                shop_id,
                email,
                first,
                last,
                None,
                tags,
                json.dumps(address),
                state,
                "SINGLE_OPT_IN",
                stamp if state != "NOT_SUBSCRIBED" else None,
                stamp,
                stamp,
            )
        )
        if rng.random() < 0.4:  # shoppers who told us their birthday
            birthday = f"{rng.randint(1955, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            metafields.append(
                (
                    metafield_id,
                    shop_id,
                    "Customer",
                    customer_id,
                    "custom",
                    "birthday",
                    "date",
                    birthday,
                    stamp,
                    stamp,
                )
            )
            metafield_id += 1
        # Repeat buying is heavy-tailed: a few shoppers place many orders.
        weight = rng.paretovariate(1.3)
        shoppers.append(
            _Shopper(
                customer_id,
                email,
                first,
                last,
                place,
                region,
                rng.choices(SIZES, SIZE_WEIGHTS)[0],
                tuple(rng.sample(COLOURS, 3)),
                weight,
                since,
            )
        )
        customer_id += 1
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO customers (id, shop_id, email, first_name, last_name,"
            " phone, tags, address, marketing_state, marketing_opt_in_level,"
            " consent_updated_at, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO metafields (id, shop_id, owner_type, owner_id, namespace,"
            " key, type, value, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            metafields,
        )
    return shoppers


def _pick_product(rng: random.Random, products: list[_Product], season: str) -> _Product:
    weights = []
    for product in products:
        weight = 1.0
        if product.spec.season == "summer":
            weight = 4.0 if season == "summer" else (0.15 if season == "winter" else 0.8)
        elif product.spec.season == "winter":
            weight = 4.0 if season == "winter" else (0.15 if season == "summer" else 0.8)
        weights.append(weight)
    return rng.choices(products, weights)[0]


def _pick_variant(rng: random.Random, product: _Product, shopper: _Shopper) -> _Variant:
    fits = [v for v in product.variants if v.size in (None, shopper.size)]
    if product.variants[0].size is not None and rng.random() < 0.1:
        fits = product.variants  # a gift, or a different fit
    liked = [v for v in fits if v.colour in shopper.colours]
    return rng.choice(liked if liked and rng.random() < 0.7 else fits)


def _orders(  # noqa: PLR0915, PLR0917
    db: Database,
    shop_id: int,
    rng: random.Random,
    products: list[_Product],
    shoppers: list[_Shopper],
    count: int,
    start: datetime,
    end: datetime,
) -> dict[str, int]:
    # Order dates: pick months by seasonal weight, then a moment within the month.
    days = [(start + timedelta(days=d)) for d in range((end - start).days)]
    day_weights = [MONTH_WEIGHTS[d.month - 1] * (1.0 + 0.35 * (d - start).days / 730) for d in days]
    when = sorted(rng.choices(days, day_weights, k=count))
    when = [d + timedelta(seconds=rng.randint(0, 86399)) for d in when]
    buyer_weights = [s.weight for s in shoppers]
    order_id, item_id = next_id(db, "orders"), next_id(db, "line_items")
    refund_id, refund_item_id = next_id(db, "refunds"), next_id(db, "refund_line_items")
    order_rows, item_rows, refund_rows, refund_item_rows = [], [], [], []
    guests = 0
    for n, placed in enumerate(when):
        if rng.random() < 0.1:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            place = rng.choices(PLACES, [p.weight for p in PLACES])[0]
            shopper = _Shopper(
                None,
                f"guest{n + 1}@example.net",
                first,
                last,
                place,
                rng.choice(place.regions),
                rng.choices(SIZES, SIZE_WEIGHTS)[0],
                tuple(rng.sample(COLOURS, 3)),
                1.0,
                placed,
            )
            guests += 1
        else:
            shopper = rng.choices(shoppers, buyer_weights)[0]
            while shopper.since > placed:
                shopper = rng.choices(shoppers, buyer_weights)[0]
        season = _season_of(placed.month, shopper.place.south)
        lines: dict[int, tuple[_Variant, str, int]] = {}
        for _ in range(rng.choices((1, 2, 3, 4), (50, 30, 14, 6))[0]):
            product = _pick_product(rng, products, season)
            variant = _pick_variant(rng, product, shopper)
            quantity = 2 if rng.random() < 0.08 else 1
            lines[variant.id] = (variant, product.spec.title, quantity)
        items_total = sum((v.price * q for v, _, q in lines.values()), Decimal("0"))
        discount = Decimal("0")
        codes = []
        if rng.random() < 0.08:
            discount = (items_total * Decimal("0.10")).quantize(Decimal("0.01"))
            codes = [{"code": "WELCOME10", "amount": money_str(discount), "type": "percentage"}]
        shipping = Decimal("0") if items_total >= 100 else Decimal("5.00")
        subtotal = items_total - discount
        total = subtotal + shipping
        stamp = iso(placed)
        age_days = (end - placed).days
        fulfillment = "FULFILLED" if age_days > 2 else "UNFULFILLED"
        status, cancelled_at, cancel_reason = "PAID", None, None
        if rng.random() < 0.01:
            status, cancelled_at, cancel_reason = "REFUNDED", stamp, "CUSTOMER"
            fulfillment = "UNFULFILLED"
        address = {
            "first_name": shopper.first,
            "last_name": shopper.last,
            "city": shopper.region[0],
            "province": shopper.region[1],
            "province_code": shopper.region[2],
            "country": shopper.place.country,
            "country_code": shopper.place.country_code,
        }
        first_item = item_id
        for variant, title, quantity in lines.values():
            share = (
                (discount * variant.price * quantity / items_total).quantize(Decimal("0.01"))
                if discount
                else Decimal("0")
            )
            item_rows.append(
                (
                    item_id,
                    shop_id,
                    order_id,
                    variant.id,
                    variant.product_id,
                    title,
                    "" if variant.title == "Default Title" else variant.title,
                    variant.sku,
                    quantity,
                    money_str(variant.price),
                    money_str(share),
                    quantity if fulfillment == "FULFILLED" else 0,
                )
            )
            item_id += 1
        refunded = Decimal("0")
        if cancelled_at is None and fulfillment == "FULFILLED" and rng.random() < 0.07:
            # A return: usually one line (often a size that did not fit).
            picked = rng.sample(
                range(first_item, item_id), k=1 if rng.random() < 0.8 else item_id - first_item
            )
            refunded_at = iso(placed + timedelta(days=rng.randint(5, 30)))
            amount = Decimal("0")
            this_order = {r[0]: r for r in item_rows[-(item_id - first_item) :]}
            for row_index in picked:
                row = this_order[row_index]
                line_amount = Decimal(row[9]) * row[8] - Decimal(row[10])
                refund_item_rows.append(
                    (refund_item_id, refund_id, row_index, row[8], money_str(line_amount), 1)
                )
                refund_item_id += 1
                amount += line_amount
            refund_rows.append((refund_id, shop_id, order_id, "Return", money_str(amount), refunded_at))
            refund_id += 1
            refunded = amount
            status = "REFUNDED" if amount >= subtotal else "PARTIALLY_REFUNDED"
        updated = stamp if not refunded else refund_rows[-1][5]
        order_rows.append(
            (
                order_id,
                shop_id,
                1001 + n,
                f"#{1001 + n}",
                shopper.email,
                shopper.id,
                "USD",
                money_str(subtotal),
                money_str(discount),
                money_str(shipping),
                money_str(total),
                status,
                fulfillment,
                json.dumps(codes),
                json.dumps(address),
                cancel_reason,
                cancelled_at,
                cancelled_at,
                stamp,
                stamp,
                updated,
            )
        )
        order_id += 1
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO orders (id, shop_id, number, name, email, customer_id,"
            " currency, subtotal_price, total_discounts, total_shipping,"
            " total_price, financial_status, fulfillment_status, discount_codes,"
            " shipping_address, cancel_reason, cancelled_at, closed_at,"
            " processed_at, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            order_rows,
        )
        conn.executemany(
            "INSERT INTO line_items (id, shop_id, order_id, variant_id, product_id,"
            " title, variant_title, sku, quantity, price, total_discount,"
            " fulfilled_quantity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            item_rows,
        )
        conn.executemany(
            "INSERT INTO refunds (id, shop_id, order_id, note, amount, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            refund_rows,
        )
        conn.executemany(
            "INSERT INTO refund_line_items (id, refund_id, line_item_id, quantity,"
            " subtotal, restock) VALUES (?, ?, ?, ?, ?, ?)",
            refund_item_rows,
        )
        conn.execute("UPDATE shops SET next_order_number = ? WHERE id = ?", (1001 + count, shop_id))
    customer_stats_refresh_all(db, shop_id)
    return {
        "orders": len(order_rows),
        "line_items": len(item_rows),
        "refunds": len(refund_rows),
        "guest_orders": guests,
    }


def customer_stats_refresh_all(db: Database, shop_id: int) -> None:
    """numberOfOrders and amountSpent for every customer of the shop, in two statements."""
    with db.transaction() as conn:
        conn.execute(
            """
            UPDATE customers SET
              orders_count = (SELECT COUNT(*) FROM orders o WHERE o.customer_id = customers.id
                              AND o.cancelled_at IS NULL),
              amount_spent = printf('%.2f',
                (SELECT COALESCE(SUM(CAST(total_price AS REAL)), 0) FROM orders o
                 WHERE o.customer_id = customers.id AND o.cancelled_at IS NULL)
                - (SELECT COALESCE(SUM(CAST(r.amount AS REAL)), 0) FROM refunds r
                   JOIN orders o ON o.id = r.order_id
                   WHERE o.customer_id = customers.id AND o.cancelled_at IS NULL))
            WHERE shop_id = ?""",
            (shop_id,),
        )
        conn.execute(
            """
            UPDATE customers SET updated_at = MAX(updated_at, COALESCE(
              (SELECT MAX(o.updated_at) FROM orders o WHERE o.customer_id = customers.id),
              updated_at)) WHERE shop_id = ?""",
            (shop_id,),
        )
