"""Admin APIs of webhooks (session-token authenticated): the event log with replay. Every query is
scoped to the request's shop."""

from typing import Any

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from shop_app.admin import AdminApi, shop_from
from webhooks.models import EventStatus, WebhookEvent
from webhooks.processing import ReplayRefused, webhook_event_replay, webhook_events_for_shop


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
        events = webhook_events_for_shop(shop_from(request), status=query.validated_data.get("status"))
        return Response({"results": WebhookEventOutput(events, many=True).data})


class WebhookEventReplayApi(AdminApi):
    """POST /api/webhook-events/{id}/replay"""

    def post(self, request: Request, event_id: int) -> Response:
        try:
            event = webhook_event_replay(shop_from(request), event_id)
        except WebhookEvent.DoesNotExist:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        except ReplayRefused as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        return Response(WebhookEventOutput(event).data, status=status.HTTP_202_ACCEPTED)
