"""Privacy requests carried out over the registered providers, and what the merchant is told."""

from django.utils import timezone

from privacy.models import PrivacyRequest
from privacy.registry import ShopperRef
from privacy.requests import privacy_data_request_fulfil, privacy_request_subject, privacy_shopper_redact
from shop_app.models import Shop

JANE = ShopperRef(customer_id=42, email="jane@example.com")


def test_a_data_request_is_listed_by_the_shoppers_email_and_an_erasure_names_no_one(shop: Shop) -> None:
    # Given a data request, then the erasure of the same shopper
    data_request = privacy_data_request_fulfil(shop, JANE, received_at=timezone.now())
    assert privacy_request_subject(data_request) == "jane@example.com"

    erasure = privacy_shopper_redact(shop, JANE, received_at=timezone.now())

    # Then neither the erasure nor the earlier data request names the shopper any more
    data_request.refresh_from_db()
    assert privacy_request_subject(erasure) == "A shopper whose data was erased"
    assert privacy_request_subject(data_request) == "A shopper whose data was erased"
    assert data_request.export is None


def test_a_data_request_after_an_erasure_builds_no_export(shop: Shop) -> None:
    # Given a shopper erased earlier
    privacy_shopper_redact(shop, JANE, received_at=timezone.now())

    # When Shopify asks for their data
    request = privacy_data_request_fulfil(shop, JANE, received_at=timezone.now())

    # Then nothing is gathered again: no export, no id kept, and the record says why
    assert request.export is None
    assert request.customer_shopify_id is None
    assert request.summary == {"shopper_erased_earlier": 1}
    assert PrivacyRequest.objects.filter(shop=shop).count() == 2
