"""After install, import the shop's existing customers, orders and catalog with bulk operations.

One bulk operation per phase (customers, orders, products with their variants, collections with
their products' ids): start it, poll until Shopify has written the JSONL file, then stream the
file into our tables in chunks. Every step is idempotent (the upserts are, and `lines_processed`
lets a retried step skip what is already in), so a worker dying half-way loses nothing and counts
nothing twice.
"""

import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import transaction
from django.utils import timezone

from commerce import ingest
from commerce.graphql_fields import (
    COLLECTION_FIELDS,
    CUSTOMER_FIELDS,
    LINE_ITEM_FIELDS,
    ORDER_FIELDS,
    PRODUCT_FIELDS,
    VARIANT_FIELDS,
)
from commerce.models import Backfill
from shop_app.admin_api import AdminClient, admin_client_for_shop
from shop_app.jobs import job_enqueue, job_is_last_attempt
from shop_app.models import Job, Shop
from shop_app.shopify_http import shopify_http_client
from shop_app.tokens import ShopNotAuthorized
from shop_app.work import PERMANENT_ERRORS, error_text

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500
# One task imports at most this many objects, then hands on to a fresh task that resumes from
# lines_processed: a task stays well inside its time limit and a worker can shut down promptly.
OBJECTS_PER_STEP = 5000
POLL_SECONDS = 3

BULK_QUERIES = {
    Backfill.Phase.CUSTOMERS: f"{{ customers {{ edges {{ node {{ {CUSTOMER_FIELDS} }} }} }} }}",
    Backfill.Phase.ORDERS: (
        f"{{ orders {{ edges {{ node {{ {ORDER_FIELDS}"
        f" lineItems {{ edges {{ node {{ {LINE_ITEM_FIELDS} }} }} }} }} }} }} }}"
    ),
    Backfill.Phase.PRODUCTS: (
        f"{{ products {{ edges {{ node {{ {PRODUCT_FIELDS}"
        f" variants {{ edges {{ node {{ {VARIANT_FIELDS} }} }} }} }} }} }} }}"
    ),
    Backfill.Phase.COLLECTIONS: (
        f"{{ collections {{ edges {{ node {{ {COLLECTION_FIELDS}"
        " products { edges { node { id } } } } } } }"
    ),
}

# The count each phase adds to, on the Backfill row.
IMPORTED_COUNTER = {
    Backfill.Phase.CUSTOMERS: "customers_imported",
    Backfill.Phase.ORDERS: "orders_imported",
    Backfill.Phase.PRODUCTS: "products_imported",
    Backfill.Phase.COLLECTIONS: "collections_imported",
}

# The field of its parent a nested node's lines are gathered under, by the node's kind (from its
# gid); a kind not listed takes its plural, lower camel case (`Product` -> `products`).
CHILD_FIELDS = {"LineItem": "lineItems", "ProductVariant": "variants"}

RUN_BULK_QUERY = """
mutation RunBulk($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message }
  }
}
"""

CURRENT_BULK_OPERATION = """
query { currentBulkOperation { id status errorCode objectCount rootObjectCount url } }
"""

NEXT_PHASE = {
    Backfill.Phase.CUSTOMERS: Backfill.Phase.ORDERS,
    Backfill.Phase.ORDERS: Backfill.Phase.PRODUCTS,
    Backfill.Phase.PRODUCTS: Backfill.Phase.COLLECTIONS,
    Backfill.Phase.COLLECTIONS: None,
}


class BackfillFailed(Exception):
    pass


class BackfillCancelled(Exception):
    """The backfill was cancelled (the shop uninstalled) while a step was running."""


def backfill_start(shop: Shop) -> Backfill:
    """Start a backfill unless one is already running for the shop."""
    with transaction.atomic():
        active = Backfill.objects.for_shop(shop).filter(status__in=["pending", "running"]).first()
        if active is not None:
            return active
        backfill = Backfill.objects.create(shop=shop)
        job_enqueue(shop, BACKFILL_STEP_JOB, key=str(backfill.pk), arguments={"backfill_id": backfill.pk})
    return backfill


BACKFILL_STEP_JOB = "commerce.backfill_step"


def backfill_step_run(job: Job) -> float | None:
    """The import's job: one step, then run again after the delay the step asks for. The backfill
    row records the outcome the merchant sees: a refusal, bad data, or a transient failure on its
    last attempt fails it too."""
    backfill = Backfill.objects.for_shop(job.shop).filter(pk=job.arguments.get("backfill_id")).first()
    if backfill is None or not backfill.is_active:
        return None
    try:
        return backfill_advance(backfill, admin_client_for_shop(job.shop))
    except BackfillCancelled:
        return None
    except (BackfillFailed, ShopNotAuthorized) as error:
        backfill_fail(backfill, error)
        return None
    except Exception as error:
        if isinstance(error, PERMANENT_ERRORS) or job_is_last_attempt(job):
            backfill_fail(backfill, error)
        raise


def backfill_start_for_installation(shop: Shop) -> Backfill | None:
    """Start the backfill of this installation, unless one was already started since the shop
    (re)installed: the after-install task may run more than once."""
    if Backfill.objects.for_shop(shop).filter(started_at__gte=shop.installed_at).exists():
        return None
    return backfill_start(shop)


def backfills_cancel_for_shop(shop: Shop) -> int:
    return (
        Backfill.objects.for_shop(shop)
        .filter(status__in=["pending", "running"])
        .update(status=Backfill.Status.CANCELLED, finished_at=timezone.now())
    )


def backfill_latest_for_shop(shop: Shop) -> Backfill | None:
    return Backfill.objects.for_shop(shop).order_by("-started_at", "-pk").first()


def jsonl_objects(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Reassemble Shopify's bulk JSONL: each top-level object on its line, followed by the lines
    of its nested connection nodes, which carry `__parentId`. Yields (line number after the
    object, the object with its children as `lineItems.edges`-style lists keyed by child kind)."""
    current: dict[str, Any] | None = None
    number = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        node = json.loads(raw)
        parent = node.pop("__parentId", None)
        if parent is None:
            if current is not None:
                yield number - 1, current
            current = node
        elif current is not None and current.get("id") == parent:
            kind = str(node.get("id", "")).split("/")[-2] if "/" in str(node.get("id", "")) else "Child"
            field = CHILD_FIELDS.get(kind, kind[:1].lower() + kind[1:] + "s")
            current.setdefault(field, {"edges": []})["edges"].append({"node": node})
        else:
            raise BackfillFailed(f"line {number}: a child of {parent} does not follow its parent")
    if current is not None:
        yield number, current


def _import_chunk(shop: Shop, phase: str, nodes: list[dict[str, Any]]) -> None:
    """A chunk of one phase's objects into our tables: customers and orders set-based (a few
    queries per chunk, not per object: a shop's history is where the thousands are); the catalog
    one product or collection at a time."""
    if phase == Backfill.Phase.CUSTOMERS:
        ingest.customers_upsert(shop, [ingest.customer_record_from_graphql(node) for node in nodes])
    elif phase == Backfill.Phase.ORDERS:
        # No X-Shopify-Triggered-At: a bulk read is not a webhook.
        ingest.orders_upsert(shop, [(ingest.order_record_from_graphql(node), None) for node in nodes])
    elif phase == Backfill.Phase.PRODUCTS:
        for node in nodes:
            ingest.product_upsert(shop, ingest.product_record_from_graphql(node, shop.currency))
    else:
        for node in nodes:
            ingest.collection_upsert(shop, ingest.collection_record_from_graphql(node))


def backfill_import_lines(backfill: Backfill, lines: Iterable[str], limit: int = OBJECTS_PER_STEP) -> bool:
    """Stream a phase's JSONL into our tables, CHUNK_SIZE objects per transaction, skipping the
    lines an earlier step already imported. Returns True when the file is done, False when it
    stopped at `limit` objects with more to come."""
    counter = IMPORTED_COUNTER[Backfill.Phase(backfill.phase)]
    chunk: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        if not chunk:
            return
        with transaction.atomic():
            # Checked under a lock with each chunk: an uninstall cancels the backfill, and the
            # step running at that moment stops at its next chunk instead of importing on.
            still_running = (
                Backfill.objects.select_for_update()
                .filter(pk=backfill.pk, status=Backfill.Status.RUNNING)
                .exists()
            )
            if not still_running:
                raise BackfillCancelled(f"backfill {backfill.pk} is no longer running")
            _import_chunk(backfill.shop, backfill.phase, [node for _, node in chunk])
            backfill.lines_processed = chunk[-1][0]
            setattr(backfill, counter, getattr(backfill, counter) + len(chunk))
            backfill.save(update_fields=["lines_processed", counter, "updated_at"])
        chunk.clear()

    imported = 0
    for last_line, node in jsonl_objects(lines):
        if last_line <= backfill.lines_processed:
            continue
        if imported >= limit:
            flush()
            return False
        chunk.append((last_line, node))
        imported += 1
        if len(chunk) >= CHUNK_SIZE:
            flush()
    flush()
    return True


def _stream_lines(url: str) -> Iterator[str]:
    with shopify_http_client() as http, http.stream("GET", url) as response:
        response.raise_for_status()
        yield from response.iter_lines()


def _finish(backfill: Backfill, status: str, error: str = "") -> None:
    """Finish an active backfill; one that was cancelled meanwhile stays cancelled."""
    now = timezone.now()
    finished = Backfill.objects.filter(pk=backfill.pk, status__in=["pending", "running"]).update(
        status=status, error=error, finished_at=now, updated_at=now
    )
    if finished:
        backfill.status, backfill.error, backfill.finished_at = status, error, now


def backfill_advance(backfill: Backfill, client: AdminClient) -> int | None:
    """Take the next step; returns seconds until the step after, or None when finished."""
    if not backfill.bulk_operation_id:
        result = client.graphql(RUN_BULK_QUERY, {"query": BULK_QUERIES[Backfill.Phase(backfill.phase)]})
        run = result["bulkOperationRunQuery"]
        if run["userErrors"]:
            raise BackfillFailed(f"bulk query refused: {run['userErrors']}")
        backfill.bulk_operation_id = run["bulkOperation"]["id"]
        backfill.status = Backfill.Status.RUNNING
        backfill.save(update_fields=["bulk_operation_id", "status", "updated_at"])
        return POLL_SECONDS

    operation = client.graphql(CURRENT_BULK_OPERATION)["currentBulkOperation"]
    if operation is None or operation["id"] != backfill.bulk_operation_id:
        raise BackfillFailed("the shop's current bulk operation is not ours any more")
    if operation["status"] in ("CREATED", "RUNNING"):
        return POLL_SECONDS
    if operation["status"] != "COMPLETED":
        raise BackfillFailed(f"bulk operation ended {operation['status']} ({operation.get('errorCode')})")

    if backfill.phase_total is None:
        # How many of this phase's objects Shopify wrote: what the admin's progress counts up to.
        backfill.phase_total = int(operation.get("rootObjectCount") or 0)
        backfill.save(update_fields=["phase_total", "updated_at"])
    # No url when the query matched nothing.
    if operation.get("url") and not backfill_import_lines(backfill, _stream_lines(operation["url"])):
        return 0  # more of this file to import, in the next step
    next_phase = NEXT_PHASE[Backfill.Phase(backfill.phase)]
    if next_phase is None:
        _finish(backfill, Backfill.Status.DONE)
        logger.info(
            "backfill of %s done: %s customers, %s orders, %s products, %s collections",
            backfill.shop.domain,
            backfill.customers_imported,
            backfill.orders_imported,
            backfill.products_imported,
            backfill.collections_imported,
        )
        return None
    backfill.phase = next_phase
    backfill.bulk_operation_id = ""
    backfill.lines_processed = 0
    backfill.phase_total = None
    backfill.save(
        update_fields=["phase", "bulk_operation_id", "lines_processed", "phase_total", "updated_at"]
    )
    return 0


def backfill_fail(backfill: Backfill, error: Exception) -> None:
    _finish(backfill, Backfill.Status.FAILED, error_text(error))
    logger.warning("backfill of %s failed: %s", backfill.shop.domain, error_text(error))
