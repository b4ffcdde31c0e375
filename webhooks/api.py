"""Admin APIs (embedded admin, session-token authenticated): the webhook event log with replay,
and privacy requests with their exports. Every query is scoped to request.shop."""

import json
from typing import Any

from django.http import HttpResponse
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from privacy.models import PrivacyRequest
from privacy.requests import privacy_request_get_for_shop, privacy_requests_for_shop
from shop_app.models import Shop
from shop_app.session_auth import SessionTokenAuthentication
from webhooks.models import EventStatus, WebhookEvent
from webhooks.processing import ReplayRefused, webhook_event_replay, webhook_events_for_shop


def _shop(request: Request) -> Shop:
    shop: Shop = request.shop
    return shop


class AdminApi(APIView):
    authentication_classes = [SessionTokenAuthentication]
    permission_classes = [IsAuthenticated]


class WebhookEventOutput(serializers.ModelSerializer[WebhookEvent]):
    class Meta:
        model = WebhookEvent
        fields = [
            "id",
            "topic",
            "event_id",
            "status",
            "attempts",
            "last_error",
            "note",
            "api_version",
            "triggered_at",
            "received_at",
            "processed_at",
        ]


class WebhookEventListInput(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=EventStatus.choices, required=False)


class WebhookEventListApi(AdminApi):
    """GET /api/webhook-events?status=failed"""

    def get(self, request: Request) -> Response:
        query = WebhookEventListInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        events = webhook_events_for_shop(_shop(request), status=query.validated_data.get("status"))
        return Response({"results": WebhookEventOutput(events, many=True).data})


class WebhookEventReplayApi(AdminApi):
    """POST /api/webhook-events/{id}/replay"""

    def post(self, request: Request, event_id: int) -> Response:
        try:
            event = webhook_event_replay(_shop(request), event_id)
        except WebhookEvent.DoesNotExist:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        except ReplayRefused as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        return Response(WebhookEventOutput(event).data, status=status.HTTP_202_ACCEPTED)


class PrivacyRequestOutput(serializers.ModelSerializer[PrivacyRequest]):
    has_export = serializers.SerializerMethodField()

    class Meta:
        model = PrivacyRequest
        fields = [
            "id",
            "kind",
            "customer_shopify_id",
            "shopify_request_id",
            "received_at",
            "completed_at",
            "summary",
            "has_export",
        ]

    def get_has_export(self, obj: PrivacyRequest) -> bool:
        return obj.export is not None


class PrivacyRequestListApi(AdminApi):
    """GET /api/privacy-requests"""

    def get(self, request: Request) -> Response:
        return Response(
            {"results": PrivacyRequestOutput(privacy_requests_for_shop(_shop(request)), many=True).data}
        )


class PrivacyRequestExportApi(AdminApi):
    """GET /api/privacy-requests/{id}/export: the shopper's data as a JSON file to download."""

    def get(self, request: Request, request_id: int) -> HttpResponse | Response:
        try:
            privacy_request = privacy_request_get_for_shop(_shop(request), request_id)
        except PrivacyRequest.DoesNotExist:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        if privacy_request.export is None:
            return Response({"detail": "No export for this request."}, status=status.HTTP_404_NOT_FOUND)
        response = HttpResponse(
            json.dumps(privacy_request.export, indent=2, ensure_ascii=False), content_type="application/json"
        )
        filename = f"data-request-{privacy_request.pk}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
