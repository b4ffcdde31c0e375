from django.utils import timezone

from personalize.reconcile import shops_to_reconcile
from shop_app.install import shop_uninstall
from shop_app.models import Backfill, Shop
from shop_app.tasks import backfill_step, shop_after_install
from shop_app.tokens import IssuedToken, shop_tokens_store


def test_uninstall_drops_tokens_and_stops_every_kind_of_scheduled_work(shop: Shop, other_shop: Shop) -> None:
    # Given an installed shop with a token and a backfill under way
    shop_tokens_store(shop, IssuedToken(access_token="shpat_x", scopes="read_orders"))
    backfill = Backfill.objects.create(
        shop=shop, status=Backfill.Status.RUNNING, bulk_operation_id="gid://x/1"
    )
    other_backfill = Backfill.objects.create(shop=other_shop, status=Backfill.Status.RUNNING)

    # When Shopify tells us the app was uninstalled
    shop_uninstall(shop)

    # Then the tokens are gone and the shop reads as uninstalled
    shop.refresh_from_db()
    assert not shop.is_installed
    assert shop.access_token_encrypted == ""
    # And its backfill is cancelled, and a step already queued does nothing (no Shopify call:
    # with no token, any call would raise)
    backfill.refresh_from_db()
    assert backfill.status == Backfill.Status.CANCELLED
    backfill_step(backfill.pk)
    shop_after_install(shop.pk)
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
