"""Shoppers whose personal data we erased, remembered only as keyed hashes.

After a customers/redact, Shopify may still deliver a retried webhook for that shopper, and
reconciliation may read their old orders back. Ingest asks `shopper_is_suppressed` first and keeps
only the anonymous part of such data.
"""

import hashlib
import hmac

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from privacy.models import SuppressedShopper
from shop_app.models import Shop


def privacy_hash(shop: Shop, kind: str, value: str | int) -> str:
    """A keyed hash of one identifier of a shopper in one shop. Keyed with the project's secret so
    the table cannot be reversed by hashing a list of addresses; per shop so shops cannot be joined.
    (Rotating DJANGO_SECRET_KEY forgets suppressions; privacy requests stay recorded regardless.)"""
    key = hashlib.sha256(f"omakase-privacy:{settings.SECRET_KEY}".encode()).digest()
    message = f"{shop.domain}:{kind}:{str(value).strip().lower()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def shopper_suppress(shop: Shop, *, customer_id: int | None, email: str) -> SuppressedShopper:
    """Remember the shopper as erased; once, however many erasures of them run at the same time."""
    identity = {
        "customer_id_hash": privacy_hash(shop, "customer", customer_id) if customer_id else "",
        "email_hash": privacy_hash(shop, "email", email) if email else "",
    }
    entry = SuppressedShopper.objects.for_shop(shop).filter(**identity).first()
    if entry is not None:
        return entry
    try:
        # A savepoint: the erasure's own transaction goes on if another worker's insert won.
        with transaction.atomic():
            return SuppressedShopper.objects.create(shop=shop, redacted_at=timezone.now(), **identity)
    except IntegrityError:
        # Another erasure of the same shopper inserted between our read and our insert
        # (suppressed_shopper_unique): theirs is the entry.
        return SuppressedShopper.objects.for_shop(shop).get(**identity)


def shopper_is_suppressed(shop: Shop, *, customer_id: int | None = None, email: str = "") -> bool:
    suppressed = SuppressedShopper.objects.for_shop(shop)
    if (
        customer_id
        and suppressed.filter(customer_id_hash=privacy_hash(shop, "customer", customer_id)).exists()
    ):
        return True
    return bool(email) and suppressed.filter(email_hash=privacy_hash(shop, "email", email)).exists()
