from typing import Any

import pytest
from django.db import IntegrityError
from django.utils import timezone

from privacy.models import SuppressedShopper
from privacy.suppression import privacy_hash, shopper_is_suppressed, shopper_suppress
from shop_app.models import Shop


def test_a_shopper_erased_twice_is_suppressed_once(shop: Shop) -> None:
    first = shopper_suppress(shop, customer_id=7001, email="hana@example.jp")

    second = shopper_suppress(shop, customer_id=7001, email="hana@example.jp")

    assert second.pk == first.pk
    assert SuppressedShopper.objects.for_shop(shop).count() == 1


def test_the_database_refuses_a_second_entry_for_the_same_shopper(shop: Shop) -> None:
    identity = {
        "customer_id_hash": privacy_hash(shop, "customer", 7001),
        "email_hash": privacy_hash(shop, "email", "hana@example.jp"),
    }
    SuppressedShopper.objects.create(shop=shop, redacted_at=timezone.now(), **identity)

    with pytest.raises(IntegrityError):
        SuppressedShopper.objects.create(shop=shop, redacted_at=timezone.now(), **identity)


def test_an_entry_another_worker_inserted_meanwhile_is_the_one_returned(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given another erasure of the same shopper inserts its entry just after our read found none
    theirs = shopper_suppress(shop, customer_id=7001, email="hana@example.jp")
    real_for_shop = SuppressedShopper.objects.for_shop
    reads: list[Any] = []

    def read_before_their_insert(owner: Shop) -> Any:
        reads.append(owner)
        rows = real_for_shop(owner)
        return rows.none() if len(reads) == 1 else rows

    monkeypatch.setattr(SuppressedShopper.objects, "for_shop", read_before_their_insert)

    # When ours inserts too
    ours = shopper_suppress(shop, customer_id=7001, email="hana@example.jp")

    # Then the insert lost to the constraint, and theirs is the entry, read again; the
    # transaction goes on
    assert ours.pk == theirs.pk
    assert len(reads) == 2
    monkeypatch.undo()
    assert SuppressedShopper.objects.for_shop(shop).count() == 1
    assert shopper_is_suppressed(shop, customer_id=7001)


def test_the_same_shopper_in_another_shop_is_another_entry(shop: Shop, other_shop: Shop) -> None:
    shopper_suppress(shop, customer_id=7001, email="hana@example.jp")

    shopper_suppress(other_shop, customer_id=7001, email="hana@example.jp")

    assert SuppressedShopper.objects.for_shop(other_shop).count() == 1
    assert SuppressedShopper.objects.for_shop(shop).count() == 1
