import json
from collections.abc import Callable
from typing import Any

from django.test import Client

from commerce.models import Order
from privacy.models import PrivacyRequest
from shop_app.models import Shop
from tests.webhooks.conftest import Deliver, payload, stored_event
from tests.webhooks.test_privacy import john_privacy
from webhooks.models import EventStatus, WebhookEvent

ClientFor = Callable[[Shop], Client]


def _failed_event(shop: Shop) -> WebhookEvent:
    return stored_event(
        shop,
        body=payload("orders_create"),
        status=EventStatus.FAILED,
        attempts=6,
        last_error="OperationalError: connection lost",
    )


def test_the_admin_lists_failed_events_of_its_own_shop_only(
    shop: Shop, other_shop: Shop, deliver: Deliver, api_client_for: ClientFor
) -> None:
    deliver(shop, "orders/create", payload("orders_create"))
    failed = _failed_event(shop)
    _failed_event(other_shop)

    response = api_client_for(shop).get("/api/webhook-events?status=failed")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(row["id"], row["status"], row["attempts"]) for row in results] == [(failed.pk, "failed", 6)]
    assert results[0]["last_error"] == "OperationalError: connection lost"


def test_all_events_are_listed_without_a_status(
    shop: Shop, deliver: Deliver, api_client_for: ClientFor
) -> None:
    deliver(shop, "orders/create", payload("orders_create"))
    _failed_event(shop)

    response = api_client_for(shop).get("/api/webhook-events")

    assert {row["status"] for row in response.json()["results"]} == {"done", "failed"}


def test_an_unknown_status_filter_is_a_400(shop: Shop, api_client_for: ClientFor) -> None:
    assert api_client_for(shop).get("/api/webhook-events?status=bogus").status_code == 400


def test_replay_from_the_admin_runs_the_event_again(
    shop: Shop, api_client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> None:
    event = _failed_event(shop)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(shop).post(f"/api/webhook-events/{event.pk}/replay")

    assert response.status_code == 202
    event.refresh_from_db()
    assert event.status == EventStatus.DONE
    assert Order.objects.for_shop(shop).count() == 1


def test_another_shop_cannot_replay_or_see_an_event(
    shop: Shop, other_shop: Shop, api_client_for: ClientFor
) -> None:
    event = _failed_event(shop)

    response = api_client_for(other_shop).post(f"/api/webhook-events/{event.pk}/replay")

    assert response.status_code == 404
    event.refresh_from_db()
    assert event.status == EventStatus.FAILED
    assert api_client_for(other_shop).get("/api/webhook-events").json()["results"] == []


def test_replaying_a_done_event_is_a_conflict(
    shop: Shop, deliver: Deliver, api_client_for: ClientFor
) -> None:
    deliver(shop, "orders/create", payload("orders_create"))
    event = WebhookEvent.objects.get()

    response = api_client_for(shop).post(f"/api/webhook-events/{event.pk}/replay")

    assert response.status_code == 409


def test_the_admin_apis_need_a_session_token(shop: Shop, client: Client) -> None:
    event = _failed_event(shop)

    assert client.get("/api/webhook-events").status_code == 401
    assert client.post(f"/api/webhook-events/{event.pk}/replay").status_code == 401
    assert client.get("/api/privacy-requests").status_code == 401
    event.refresh_from_db()
    assert event.status == EventStatus.FAILED


def test_privacy_requests_are_listed_and_the_export_downloads_as_json(
    shop: Shop, other_shop: Shop, deliver: Deliver, api_client_for: ClientFor
) -> None:
    deliver(shop, "orders/create", payload("orders_create"))
    deliver(shop, "customers/data_request", john_privacy("customers_data_request"))
    request = PrivacyRequest.objects.get()

    listed = api_client_for(shop).get("/api/privacy-requests").json()["results"]
    download = api_client_for(shop).get(f"/api/privacy-requests/{request.pk}/export")

    assert [(row["id"], row["kind"], row["has_export"]) for row in listed] == [
        (request.pk, "customers/data_request", True)
    ]
    # What was asked and about whom, in words the merchant reads
    assert (listed[0]["kind_label"], listed[0]["subject"]) == (
        "A shopper asked for their data",
        "john@example.com",
    )
    assert listed[0]["completed_at"] is not None
    assert download.status_code == 200
    assert download["Content-Type"] == "application/json"
    assert download["Content-Disposition"] == f'attachment; filename="data-request-{request.pk}.json"'
    exported = json.loads(download.content)
    assert exported["sections"]["commerce"]["orders"][0]["id"] == 820982911946154508

    # A second shop sees nothing of it
    assert api_client_for(other_shop).get("/api/privacy-requests").json()["results"] == []
    assert api_client_for(other_shop).get(f"/api/privacy-requests/{request.pk}/export").status_code == 404
