"""An order, a refund or a customer change reaches the shopper's profile at once (webhooks.reactions
-> personalize.refresh), once the shop's profiles have their parameters."""

from typing import Any

from commerce.models import Order, Refund
from personalize.models import Profile
from personalize.refresh import profiles_recompute_all
from shop_app.models import Job, Shop
from tests.personalize.histories import AS_OF
from tests.webhooks.conftest import Deliver, payload
from webhooks.reactions import ShopperChange, shopper_change_announce

SHOPPER = 115310627314723954


def placed_order(order_id: int) -> dict[str, object]:
    order = payload("orders_create")
    order.update(id=order_id, cancelled_at=None, financial_status="paid")
    order["admin_graphql_api_id"] = f"gid://shopify/Order/{order_id}"
    return order


def test_a_new_order_updates_the_shoppers_profile(shop: Shop, deliver: Deliver) -> None:
    # Given a shop whose profiles were computed (its parameters fitted) with one order of the shopper
    deliver(shop, "orders/create", placed_order(5001))
    profiles_recompute_all(shop, as_of=AS_OF)
    assert Profile.objects.get(shop=shop, customer_shopify_id=SHOPPER).order_count == 1

    # When Shopify sends a second order
    deliver(shop, "orders/create", placed_order(5002))

    # Then the shopper's profile counts it, through one refresh job naming the shopper
    profile = Profile.objects.get(shop=shop, customer_shopify_id=SHOPPER)
    assert profile.order_count == 2
    assert profile.total_spent == sum(Order.objects.filter(shop=shop).values_list("total_price", flat=True))
    refresh = Job.objects.filter(shop=shop, kind="personalize.profiles_refresh").latest("pk")
    assert (refresh.status, refresh.arguments) == ("done", {"customer_shopify_ids": [SHOPPER]})


def test_a_refund_takes_its_amount_off_the_profile(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "orders/create", placed_order(5003))
    profiles_recompute_all(shop, as_of=AS_OF)
    refund = payload("refunds_create")
    refund["order_id"] = 5003

    deliver(shop, "refunds/create", refund)

    profile = Profile.objects.get(shop=shop, customer_shopify_id=SHOPPER)
    order = Order.objects.get(shop=shop, shopify_id=5003)
    refunded = Refund.objects.get(shop=shop, order=order).amount
    assert refunded > 0
    assert profile.total_spent == order.total_price - refunded


def test_before_the_first_fit_an_order_queues_the_full_recompute(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "orders/create", placed_order(5004))

    assert Job.objects.filter(shop=shop, kind="personalize.profiles_recompute").exists()
    assert Profile.objects.filter(shop=shop).count() >= 1


def test_a_batch_of_orders_refreshes_every_buyer_through_one_job(
    shop: Shop, deliver: Deliver, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a shop whose profiles were computed, with three shoppers who bought once each
    buyers = [SHOPPER + offset for offset in range(3)]
    for number, buyer in enumerate(buyers):
        order = placed_order(5100 + number)
        order["customer"] = {**order["customer"], "id": buyer}  # type: ignore[dict-item]
        deliver(shop, "orders/create", order)
    profiles_recompute_all(shop, as_of=AS_OF)
    Job.objects.filter(shop=shop).delete()
    Profile.objects.filter(shop=shop).delete()  # the parameters stay: what refreshes measure against

    # When one change names all three (a worker's batch of order events)
    orders = list(Order.objects.filter(shop=shop).values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        shopper_change_announce(ShopperChange(shop_id=shop.pk, order_ids=tuple(orders)))

    # Then one job computed all three profiles again, and no job per shopper was queued
    refresh = Job.objects.get(shop=shop, kind="personalize.profiles_refresh")
    assert refresh.status == "done"
    assert refresh.arguments == {"customer_shopify_ids": buyers}
    assert not Job.objects.filter(shop=shop, kind="personalize.profile_refresh").exists()
    assert Profile.objects.filter(shop=shop, customer_shopify_id__in=buyers).count() == 3
