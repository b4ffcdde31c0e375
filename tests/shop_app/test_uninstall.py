import json
from collections.abc import Iterator

import pytest
from django.utils import timezone

from commerce.backfill import (
    BackfillCancelled,
    backfill_fail,
    backfill_import_lines,
    backfill_start_for_installation,
)
from commerce.models import Backfill, Customer
from commerce.reconcile import shops_to_reconcile
from shop_app.install import shop_uninstall
from shop_app.jobs import job_process
from shop_app.models import Job, Shop
from shop_app.tokens import IssuedToken, shop_tokens_store


def test_uninstall_drops_tokens_and_stops_every_kind_of_scheduled_work(
    shop: Shop, other_shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an installed shop with a token, a backfill under way, and its next import step and an
    # after-install queued
    shop_tokens_store(shop, IssuedToken(access_token="shpat_x", scopes="read_orders"))
    backfill = Backfill.objects.create(
        shop=shop, status=Backfill.Status.RUNNING, bulk_operation_id="gid://x/1"
    )
    queued = [
        Job.objects.create(
            shop=shop,
            kind="commerce.backfill_step",
            key=str(backfill.pk),
            arguments={"backfill_id": backfill.pk},
            available_at=timezone.now(),
        ),
        Job.objects.create(shop=shop, kind="shop_app.after_install", available_at=timezone.now()),
    ]
    other_backfill = Backfill.objects.create(shop=other_shop, status=Backfill.Status.RUNNING)

    # When Shopify tells us the app was uninstalled
    shop_uninstall(shop)

    # Then the tokens are gone and the shop reads as uninstalled
    shop.refresh_from_db()
    assert not shop.is_installed
    assert shop.access_token_encrypted == ""
    # And its backfill is cancelled, and a step or an after-install already queued does nothing:
    # no Shopify client is even asked for
    backfill.refresh_from_db()
    assert backfill.status == Backfill.Status.CANCELLED
    clients_asked_for: list[Shop] = []
    monkeypatch.setattr("commerce.backfill.admin_client_for_shop", clients_asked_for.append)
    monkeypatch.setattr("shop_app.install.admin_client_for_shop", clients_asked_for.append)
    for job in queued:
        job_process(job.pk)
        job.refresh_from_db()
        assert (job.status, job.note) == ("ignored", "shop not installed when processed")
    assert clients_asked_for == []
    backfill.refresh_from_db()
    assert backfill.status == Backfill.Status.CANCELLED
    assert Backfill.objects.for_shop(shop).count() == 1
    # And the periodic reconciliation no longer visits it; the other shop is untouched
    assert shop.pk not in shops_to_reconcile()
    assert other_shop.pk in shops_to_reconcile()
    other_backfill.refresh_from_db()
    assert other_backfill.status == Backfill.Status.RUNNING


def test_a_shop_waiting_for_reauthorization_is_not_reconciled(shop: Shop) -> None:
    Shop.objects.filter(pk=shop.pk).update(reauthorization_required_at=timezone.now())

    assert shop.pk not in shops_to_reconcile()


def test_uninstalling_twice_keeps_the_first_time(shop: Shop) -> None:
    shop_uninstall(shop)
    first = Shop.objects.get(pk=shop.pk).uninstalled_at

    shop_uninstall(shop)

    assert Shop.objects.get(pk=shop.pk).uninstalled_at == first


def test_an_import_step_running_at_uninstall_stops_at_its_next_chunk(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a running import, two objects a chunk, whose shop uninstalls during the second chunk
    monkeypatch.setattr("commerce.backfill.CHUNK_SIZE", 2)
    file = [
        json.dumps(
            {
                "id": f"gid://shopify/Customer/{n}",
                "email": f"c{n}@example.com",
                "updatedAt": "2026-01-01T00:00:00Z",
            }
        )
        for n in range(1, 6)
    ]
    backfill = Backfill.objects.create(shop=shop, status=Backfill.Status.RUNNING)

    def lines_then_uninstall() -> Iterator[str]:
        for number, line in enumerate(file):
            # An object is complete only once the next line is read (children follow their
            # parent), so by the fourth line the first chunk, two customers, is stored.
            if number == 3:
                assert Customer.objects.for_shop(shop).count() == 2
                shop_uninstall(shop)
            yield line

    # When the step goes on importing
    with pytest.raises(BackfillCancelled):
        backfill_import_lines(backfill, lines_then_uninstall(), limit=100)

    # Then the first chunk was imported, nothing after it, and the backfill stays cancelled
    assert Customer.objects.for_shop(shop).count() == 2
    backfill.refresh_from_db()
    assert backfill.status == Backfill.Status.CANCELLED


def test_finishing_never_overwrites_a_cancellation(shop: Shop) -> None:
    backfill = Backfill.objects.create(shop=shop, status=Backfill.Status.RUNNING)
    shop_uninstall(shop)

    backfill_fail(backfill, RuntimeError("late failure"))

    backfill.refresh_from_db()
    assert backfill.status == Backfill.Status.CANCELLED


def test_the_after_install_task_starts_one_backfill_per_installation(shop: Shop) -> None:
    started = [backfill_start_for_installation(shop), backfill_start_for_installation(shop)]

    assert started[0] is not None
    assert started[1] is None
    assert Backfill.objects.for_shop(shop).count() == 1
