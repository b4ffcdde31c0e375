"""Issue 16, load: 10,000 webhooks, a fifth of them duplicates, in shuffled order, into a running
stack (gunicorn over HTTP, a Celery worker process, the broker, PostgreSQL) leave every order,
shopper, consent, profile and points balance exactly as one delivery of each, in order, leaves them.

The reference is a second shop with the same catalog, loyalty program and profile parameters. It
receives the same 8,000 events once each, in the order Shopify emitted them, and each is processed
with the points it earns or takes back before the next is sent: points depend on the order things
happen in, so that order is the one to judge by. Its profiles are computed once at the end, by the
function the refresh jobs run: a profile is a pure function of the shopper's orders and the shop's
parameters (personalize.models.ShopProfileModel), so computing it after every event would end in
the same place. The two shops are then compared by Shopify ids, field by field.
"""

from __future__ import annotations

import itertools
import random
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from django.db import connection
from django.db.models import F, Model, QuerySet, Sum
from django.test import Client
from django.utils import timezone

from commerce.models import ConsentLogEntry, Customer, Order, OrderLine, Refund, RefundLine
from config.celery import app as celery_app
from loyalty import mirror
from loyalty.earning import points_sync_for_orders
from loyalty.ledger import ledger_differences
from loyalty.models import Entry, Lot, Member, Program
from loyalty.program import program_for
from personalize import shopify_sync
from personalize.candidates import CANDIDATES_PRECOMPUTE
from personalize.models import Profile, ProfileSettings, ShopProfileModel
from personalize.refresh import profiles_refresh
from shop_app.jobs import LIVE_STATUSES
from shop_app.models import Job, Shop
from tests.live import AppServerStart, wait_for
from tests.personalize.histories import parameters
from tests.proof.store_history import Event, catalog_create, store_history
from webhooks import reactions
from webhooks.models import EventStatus, WebhookEvent

pytestmark = pytest.mark.integration

SEED = 16
DISTINCT_EVENTS = 8_000
DUPLICATES = 2_000
# Connections sending at once, spread over the app servers: Shopify delivers concurrently too.
CONNECTIONS = 8
APP_SERVERS = 2
# Jobs left out of "every job done": those that write to Shopify (this stack has none: they fail,
# on record, and change nothing compared here) and the recommendations' precompute, which waits a
# few minutes on purpose to take many changes at once, and is not compared either.
NOT_AWAITED = frozenset({mirror.METAFIELDS_SYNC, shopify_sync.METAFIELDS_SYNC, CANDIDATES_PRECOMPUTE})
# As production runs them (config/settings/production.py): a connection per process, kept.
PERSISTENT_CONNECTIONS = {"DATABASE_CONN_MAX_AGE": "60"}


@pytest.fixture
def worker_environment() -> dict[str, str]:
    return PERSISTENT_CONNECTIONS


@pytest.fixture
def history() -> list[Event]:
    """The store's 330 days up to last midnight (UTC): the same history, byte for byte, all day."""
    end = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return store_history(DISTINCT_EVENTS, seed=SEED, start=end - timedelta(days=330), end=end)


def shop_prepared(domain: str, history_start: datetime) -> Shop:
    """A shop with the catalog the history buys from, a loyalty program that started before the
    history (so that its orders earn), and fixed profile parameters (so that both shops' profiles
    are measured against the same thing)."""
    shop = Shop.objects.create(domain=domain, currency="USD", installed_at=timezone.now())
    catalog_create(shop)
    program = program_for(shop)
    Program.objects.filter(pk=program.pk).update(started_at=history_start - timedelta(days=1))
    ProfileSettings.objects.create(shop=shop, metafields_sync=False)
    ShopProfileModel.objects.create(shop=shop, parameters=parameters().to_json(), fitted_at=timezone.now())
    return shop


def deliver_in_order(shop: Shop, history: list[Event], monkeypatch: pytest.MonkeyPatch) -> None:
    """Each event once, in the order Shopify emitted it, processed in this process with the points
    it earns or takes back (the orders sync job's work, run at once) before the next is sent; then
    every shopper's profile (the refresh jobs' work, once)."""
    monkeypatch.setattr(reactions, "points_sync_later", points_sync_for_orders)
    monkeypatch.setattr(reactions, "profiles_refresh_later", lambda shop, shoppers: None)
    monkeypatch.setattr(mirror, "job_enqueue", lambda *args, **kwargs: None)  # no Shopify here
    # This connection's commits do not wait for the disk: the reference is the answer being
    # worked out, not the stack under test, and a flush per commit would be most of its time.
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    client = Client()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # each event processed before its request answers
    try:
        for event in history:
            response = client.post(
                "/webhooks/",
                data=event.body,
                content_type="application/json",
                headers=event.headers(shop.domain, str(uuid.uuid4())),
            )
            assert response.status_code == 200, response.content
    finally:
        celery_app.conf.task_always_eager = eager
    buyers = Order.objects.for_shop(shop).values_list("customer_shopify_id", flat=True)
    shoppers = {*Customer.objects.for_shop(shop).values_list("shopify_id", flat=True)}
    shoppers.update(buyer for buyer in buyers if buyer is not None)
    profiles_refresh(shop, sorted(shoppers))


def deliveries_shuffled(history: list[Event], rng: random.Random) -> list[Event]:
    """Every event once, DUPLICATES of them once more, all in a random order."""
    deliveries = [*history, *rng.choices(history, k=DUPLICATES)]
    rng.shuffle(deliveries)
    return deliveries


def post_over_http(urls: list[str], shop: Shop) -> Callable[[Event], str]:
    """post(event): the event POSTed as Shopify does, on a connection of this thread's to one of
    the servers (each thread keeps one); the answer's status and outcome."""
    local = threading.local()
    turns = itertools.count()

    def post(event: Event) -> str:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=urls[next(turns) % len(urls)], timeout=30)
        response = local.client.post(
            "/webhooks/", content=event.body, headers=event.headers(shop.domain, str(uuid.uuid4()))
        )
        return f"{response.status_code} {response.json().get('outcome')}"

    return post


def settled(shop: Shop) -> bool:
    """Every event of the shop processed, and every job they caused done."""
    events_waiting = WebhookEvent.objects.for_shop(shop).filter(
        status__in=[EventStatus.PENDING, EventStatus.PROCESSING]
    )
    jobs_waiting = Job.objects.for_shop(shop).filter(status__in=LIVE_STATUSES).exclude(kind__in=NOT_AWAITED)
    return not events_waiting.exists() and not jobs_waiting.exists()


def rows(queryset: QuerySet[Any], key: str, skip: tuple[str, ...] = (), **related: str) -> dict[Any, Any]:
    """Every column of the rows but their identity in our tables (pk, shop) and `skip`, by the
    columns named in `key`; each foreign key in `related` as the Shopify id it leads to (a lookup),
    named `<key>_row_shopify_id`."""
    model: type[Model] = queryset.model
    names = [
        field.attname
        for field in model._meta.concrete_fields
        if field.name not in ("id", "shop", *skip, *related)
    ]
    lookups = {f"{name}_row_shopify_id": F(lookup) for name, lookup in related.items()}
    return {tuple(row[part] for part in key.split(",")): row for row in queryset.values(*names, **lookups)}


def points(shop: Shop) -> dict[int, dict[str, int | None]]:
    """Each shopper's points: the member's cached figures beside what the ledger and the lots say.
    Shoppers whose figures are all nothing are left out: an order cancelled before its payment was
    seen earns nothing and makes no member, where one seen paid first earns and gives it back."""
    by_member = "member__customer_shopify_id"
    ledger = {
        row[by_member]: row
        for row in Entry.objects.for_shop(shop)
        .values(by_member)
        .annotate(points=Sum("points"), debt=Sum("debt"))
    }
    lots = {
        row[by_member]: row["remaining"]
        for row in Lot.objects.for_shop(shop).values(by_member).annotate(remaining=Sum("remaining"))
    }
    figures = {
        member.customer_shopify_id: {
            "balance": member.balance,
            "lifetime": member.lifetime,
            "debt": member.debt,
            "ledger points": ledger.get(member.customer_shopify_id, {}).get("points") or 0,
            "ledger debt": ledger.get(member.customer_shopify_id, {}).get("debt") or 0,
            "lots remaining": lots.get(member.customer_shopify_id) or 0,
        }
        for member in Member.objects.for_shop(shop)
    }
    return {shopper: each for shopper, each in figures.items() if any(each.values())}


def shop_state(shop: Shop) -> dict[str, dict[Any, Any]]:
    """What the shop holds, by Shopify ids: nothing of it names the shop or our row ids."""
    return {
        "customers": rows(Customer.objects.for_shop(shop), "shopify_id"),
        # Which delivery told a consent (the source), and when we recorded it, depend on the order.
        "consents": rows(
            ConsentLogEntry.objects.for_shop(shop),
            "customer_shopify_id,consent_updated_at,state",
            skip=("source", "recorded_at"),
        ),
        "orders": rows(
            Order.objects.for_shop(shop), "shopify_id", skip=("synced_at",), customer="customer__shopify_id"
        ),
        "order lines": rows(
            OrderLine.objects.for_shop(shop), "order_row_shopify_id,shopify_id", order="order__shopify_id"
        ),
        "refunds": rows(Refund.objects.for_shop(shop), "shopify_id", order="order__shopify_id"),
        "refund lines": rows(
            RefundLine.objects.for_shop(shop), "refund_row_shopify_id,shopify_id", refund="refund__shopify_id"
        ),
        "profiles": rows(
            Profile.objects.for_shop(shop), "customer_shopify_id", skip=("computed_at", "metafields_written")
        ),
        "points": points(shop),
    }


def differences(reference: dict[str, dict[Any, Any]], loaded: dict[str, dict[Any, Any]]) -> list[str]:
    """Each row that differs, is missing or is extra in `loaded`, with both versions."""
    found = []
    for table, expected in reference.items():
        actual = loaded[table]
        for key in sorted(expected.keys() | actual.keys(), key=str):
            if expected.get(key) != actual.get(key):
                found.append(
                    f"{table} {key}:\n  in order: {expected.get(key)}\n  shuffled: {actual.get(key)}"
                )
    return found


def arrived_out_of_order(history: list[Event], deliveries: list[Event]) -> int:
    """How many events arrived after a later event about the same order or shopper."""
    emitted = {event.event_id: position for position, event in enumerate(history)}
    latest: dict[int, int] = {}
    late = 0
    for event in deliveries:
        position = emitted[event.event_id]
        late += position < latest.get(event.subject, -1)
        latest[event.subject] = max(position, latest.get(event.subject, -1))
    return late


@pytest.mark.timeout(900)
def test_ten_thousand_shuffled_webhooks_with_duplicates_leave_what_one_delivery_in_order_leaves(
    app_server_process: AppServerStart,
    celery_worker_process: subprocess.Popen[str],
    history: list[Event],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given two shops alike, a store's year as 8,000 events, and deliveries of them: each once
    # and 2,000 of them twice, shuffled, so that many arrive after a newer state of their order
    history_start = history[0].triggered_at
    reference = shop_prepared("in-order.myshopify.com", history_start)
    loaded = shop_prepared("shuffled.myshopify.com", history_start)
    deliveries = deliveries_shuffled(history, random.Random(SEED))
    assert arrived_out_of_order(history, deliveries) > DISTINCT_EVENTS // 4
    servers = [app_server_process(PERSISTENT_CONNECTIONS).url for _ in range(APP_SERVERS)]

    with ThreadPoolExecutor(max_workers=CONNECTIONS) as connections:
        # When the deliveries go to one shop over HTTP, a worker processing them as they are stored
        answers = connections.map(post_over_http(servers, loaded), deliveries)
        # (meanwhile, here, the reference: the events once each, in order, to the other shop)
        deliver_in_order(reference, history, monkeypatch)
        outcomes = Counter(answers)

    def worker_done() -> bool:
        """the worker processed every event and every job they caused (seen twice, a second apart,
        so that a job queued as the first look was taken is not missed)"""
        if not settled(loaded):
            return False
        time.sleep(1)
        return settled(loaded)

    wait_for(worker_done, timeout=600, interval=0.5)
    assert celery_worker_process.poll() is None, "the worker died"

    # Then each event was stored once, and every delivery answered 200, the duplicates as such
    assert outcomes == {"200 stored": DISTINCT_EVENTS, "200 duplicate": DUPLICATES}
    events = WebhookEvent.objects.for_shop(loaded)
    assert Counter(events.values_list("status", flat=True)) == {EventStatus.DONE: DISTINCT_EVENTS}

    # And everything they made is what one delivery of each, in order, made, field by field
    found = differences(shop_state(reference), shop_state(loaded))
    assert not found, f"{len(found)} differences, the first ten:\n" + "\n".join(found[:10])
    assert ledger_differences(loaded) == []
