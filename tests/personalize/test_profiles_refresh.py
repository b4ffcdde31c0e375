"""Profiles kept true by the database path: the full recompute in chunks, one shopper's refresh
after a change, and the proof that the two give the same profiles."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Model
from django.forms.models import model_to_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commerce.models import Backfill, Order
from personalize import history, refresh
from personalize.facts import ConsentGiven, facts_record
from personalize.models import FactSource, Profile, ProfileRun, ShopProfileModel
from personalize.profiles import ShopParameters
from personalize.refresh import (
    profile_refresh,
    profiles_recompute_all,
    profiles_recompute_handler,
    shop_parameters,
)
from shop_app.models import Job, Shop
from tests.personalize.histories import AS_OF, Line, customer_row, order_row, parameters, product_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(shop: Shop) -> None:
    product_row(shop, 1, "Shirts", sizes=("S", "M", "L"))
    product_row(shop, 2, "Coats", sizes=("M", "L"))


def profile_values(profile: Model) -> dict[str, object]:
    return model_to_dict(profile, exclude=["id", "computed_at"])


def test_the_full_recompute_fits_the_shop_and_profiles_every_shopper(shop: Shop, catalog: None) -> None:
    # Given shoppers with orders (one cancelled, one refunded) and one with none
    customer_row(shop, 11, first_name="Aiko", country="JP", province="JP-13")
    customer_row(shop, 12, first_name="Ben")
    customer_row(shop, 13, first_name="Chloe")
    order_row(shop, 11, 80, [Line(1, size="M", unit_cents=3_000)])
    order_row(shop, 11, 20, [Line(2, size="L", unit_cents=12_000, refunded=1)], refund_cents=12_000)
    order_row(shop, 12, 10, [Line(1, size="S")], cancelled=True)
    order_row(shop, 12, 5, [Line(1, size="S")])

    # When the shop's profiles are recomputed
    profiles_recompute_all(shop, as_of=AS_OF)

    # Then the parameters were fitted and every shopper has a profile
    assert ShopProfileModel.objects.get(shop=shop).customers == 3
    profiles = {p.customer_shopify_id: p for p in Profile.objects.for_shop(shop)}
    assert set(profiles) == {11, 12, 13}
    aiko = profiles[11]
    assert aiko.order_count == 2
    assert aiko.total_spent == Decimal("30.00")  # 30 + 120 - 120 refunded
    assert aiko.sizes == {"Shirts": {"size": "M", "quantity": 1, "source": "orders"}}
    assert aiko.affinities["product_type"] == {"Shirts": 1.0}
    assert (aiko.country_code, aiko.region_code, aiko.hemisphere) == ("JP", "JP-13", "north")
    # The cancelled order does not count
    assert profiles[12].order_count == 1
    assert profiles[13].segment == ""
    assert profiles[13].order_count == 0
    run = ProfileRun.objects.get(shop=shop)
    assert (run.status, run.customers_done, run.customers_total) == ("done", 3, 3)


def test_the_recompute_goes_in_steps_and_resumes_where_it_stopped(
    shop: Shop, catalog: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given five buyers, two orders of the last: a step reads three orders, stores two shoppers at once
    monkeypatch.setattr(refresh, "STEP_ORDERS", 3)
    monkeypatch.setattr(refresh, "CHUNK_SHOPPERS", 2)
    for customer in range(21, 26):
        order_row(shop, customer, customer, [Line(1)])
    order_row(shop, 25, 3, [Line(1)])

    # The first step fits; the next covers the three shoppers of three orders, in chunks of two
    assert refresh.profiles_recompute_step(shop, as_of=AS_OF) is False
    assert refresh.profiles_recompute_step(shop, as_of=AS_OF) is False
    run = ProfileRun.objects.get(shop=shop)
    assert (run.customers_done, run.next_customer_shopify_id) == (3, 24)
    assert Profile.objects.for_shop(shop).count() == 3

    # The worker dies after storing the first chunk of the next step ...
    stored = refresh.profiles_upsert

    def dies_at_the_second_chunk(shop: Shop, profiles: refresh.ComputedProfiles) -> None:
        if profiles.columns.customers[0] == 25:
            raise RuntimeError("the worker died")
        stored(shop, profiles)

    monkeypatch.setattr(refresh, "CHUNK_SHOPPERS", 1)
    monkeypatch.setattr(refresh, "profiles_upsert", dies_at_the_second_chunk)
    with pytest.raises(RuntimeError):
        refresh.profiles_recompute_step(shop, as_of=AS_OF)
    assert ProfileRun.objects.get(shop=shop).next_customer_shopify_id == 25

    # ... and the next step carries on from the chunk it did not store, to the end
    monkeypatch.setattr(refresh, "profiles_upsert", stored)
    assert refresh.profiles_recompute_step(shop, as_of=AS_OF) is True
    assert sorted(Profile.objects.for_shop(shop).values_list("customer_shopify_id", flat=True)) == [
        21,
        22,
        23,
        24,
        25,
    ]
    run = ProfileRun.objects.get(shop=shop)
    assert (run.status, run.customers_done, run.customers_total) == ("done", 5, 5)


def test_a_recompute_waits_for_the_import(shop: Shop) -> None:
    Backfill.objects.create(shop=shop, status=Backfill.Status.RUNNING, phase=Backfill.Phase.ORDERS)
    job = Job.objects.create(shop=shop, kind=refresh.PROFILES_RECOMPUTE, available_at=shop.installed_at)

    assert profiles_recompute_handler(job) == refresh.IMPORT_WAIT_SECONDS
    assert not ShopProfileModel.objects.filter(shop=shop).exists()


def test_one_shopper_refreshed_before_the_first_fit_queues_the_full_recompute(
    shop: Shop, catalog: None
) -> None:
    order_row(shop, 31, 5, [Line(1)])

    assert profile_refresh(shop, 31) is None
    assert Job.objects.filter(shop=shop, kind=refresh.PROFILES_RECOMPUTE).exists()


def test_a_fact_told_refreshes_the_profile_and_outranks_the_orders(shop: Shop, catalog: None) -> None:
    order_row(shop, 41, 15, [Line(1, size="M")])
    profiles_recompute_all(shop, as_of=AS_OF)

    facts_record(shop, 41, {"sizes": {"Shirts": "L"}}, source=FactSource.STOREFRONT, consent=_consent())
    profile = profile_refresh(shop, 41, as_of=AS_OF)

    assert profile is not None
    assert profile.sizes == {"Shirts": {"size": "L", "source": "told"}}


def test_another_shops_orders_never_enter_a_profile(shop: Shop, other_shop: Shop, catalog: None) -> None:
    order_row(shop, 51, 15, [Line(1)])
    order_row(other_shop, 51, 10, [Line(1)])
    order_row(other_shop, 51, 5, [Line(1)])

    profiles_recompute_all(shop, as_of=AS_OF)

    assert Profile.objects.get(shop=shop, customer_shopify_id=51).order_count == 1
    assert not Profile.objects.filter(shop=other_shop).exists()


def _consent() -> ConsentGiven:
    return ConsentGiven(text="Tell us your size so we only suggest what fits.", version="2026-11")


# --- The two paths agree ---------------------------------------------------------------------------

purchase = st.tuples(
    st.integers(min_value=1, max_value=6),  # shopper
    st.integers(min_value=0, max_value=800),  # days ago
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=2),  # product
            st.integers(min_value=1, max_value=3),  # quantity
            st.sampled_from(["S", "M", "L"]),
            st.integers(min_value=0, max_value=3),  # refunded units (capped at quantity)
            st.integers(min_value=500, max_value=20_000),  # unit price in cents
        ),
        min_size=1,
        max_size=3,
    ),
    st.booleans(),  # cancelled
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    purchases=st.lists(purchase, min_size=1, max_size=14),
    chunk=st.integers(min_value=1, max_value=4),
    step=st.integers(min_value=1, max_value=20),
)
def test_incremental_and_full_recompute_give_the_same_profiles(
    shop: Shop,
    catalog: None,
    monkeypatch: pytest.MonkeyPatch,
    purchases: list[tuple[int, int, list[tuple[int, int, str, int, int]], bool]],
    chunk: int,
    step: int,
) -> None:
    Order.objects.for_shop(shop).delete()
    Profile.objects.for_shop(shop).delete()
    ProfileRun.objects.for_shop(shop).delete()
    ShopProfileModel.objects.for_shop(shop).delete()
    for shopper, days_ago, lines, cancelled in purchases:
        order_row(
            shop,
            shopper,
            days_ago,
            [Line(p, q, unit, size, min(refunded, q)) for p, q, size, refunded, unit in lines],
            cancelled=cancelled,
        )
    monkeypatch.setattr(refresh, "CHUNK_SHOPPERS", chunk)
    # A step of `step` orders: the shop in one step (its lines read whole) or in several (each
    # step's lines read by joining its orders)
    monkeypatch.setattr(refresh, "STEP_ORDERS", step)
    # On PostgreSQL, chunks of two shoppers or more are stored by COPY, one shopper by INSERT
    monkeypatch.setattr(refresh, "COPY_FROM_PROFILES", 2)
    fixed = parameters()
    monkeypatch.setattr(refresh, "shop_parameters_fit", lambda shop, as_of: fixed)

    # The full path, in steps and chunks, its lines read as a large shop's are
    with monkeypatch.context() as large:
        large.setattr(history, "AMONG_VALUES_MAX", 0)
        profiles_recompute_all(shop, as_of=AS_OF)
    full = {p.customer_shopify_id: profile_values(p) for p in Profile.objects.for_shop(shop)}

    # The incremental path, one shopper at a time, against the same parameters
    Profile.objects.for_shop(shop).delete()
    assert shop_parameters(shop) == fixed
    for shopper in full:
        profile_refresh(shop, shopper, as_of=AS_OF)
    one_by_one = {p.customer_shopify_id: profile_values(p) for p in Profile.objects.for_shop(shop)}

    assert one_by_one == full


def test_parameters_round_trip_through_json() -> None:
    fixed = parameters()
    assert ShopParameters.from_json(fixed.to_json()) == fixed


def test_fitted_parameters_describe_the_shop(shop: Shop, catalog: None) -> None:
    for customer, orders in ((61, 1), (62, 2), (63, 4)):
        for n in range(orders):
            order_row(shop, customer, 10 + 30 * n, [Line(1, unit_cents=2_000)])

    fitted = refresh.shop_parameters_fit(shop, date(2026, 11, 30))

    assert fitted.frequency_breaks[-1] >= 2
    assert fitted.typical_gap_days == 30.0
    assert fitted.currency == "USD"
    assert fitted.clv["kind"]
