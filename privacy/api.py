"""Admin APIs of privacy (session-token authenticated): privacy requests and their exports. Every
query is scoped to the request's shop."""

import json

from django.http import HttpResponse
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from privacy.models import PrivacyRequest
from privacy.requests import privacy_request_get_for_shop, privacy_request_subject, privacy_requests_for_shop
from shop_app.admin import AdminApi, shop_from


class PrivacyRequestOutput(serializers.ModelSerializer[PrivacyRequest]):
    has_export = serializers.SerializerMethodField()
    # What was asked and about whom, in words (the raw topic and id stay for tools).
    kind_label = serializers.CharField(source="get_kind_display")
    subject = serializers.SerializerMethodField()

    class Meta:
        model = PrivacyRequest
        fields = [
            "id",
            "kind",
            "kind_label",
            "subject",
            "customer_shopify_id",
            "shopify_request_id",
            "received_at",
            "completed_at",
            "summary",
            "has_export",
        ]

    def get_has_export(self, obj: PrivacyRequest) -> bool:
        return obj.export is not None

    def get_subject(self, obj: PrivacyRequest) -> str:
        return privacy_request_subject(obj)


class PrivacyRequestListApi(AdminApi):
    """GET /api/privacy-requests"""

    def get(self, request: Request) -> Response:
        return Response(
            {"results": PrivacyRequestOutput(privacy_requests_for_shop(shop_from(request)), many=True).data}
        )


class PrivacyRequestExportApi(AdminApi):
    """GET /api/privacy-requests/{id}/export: the shopper's data as a JSON file to download."""

    def get(self, request: Request, request_id: int) -> HttpResponse | Response:
        try:
            privacy_request = privacy_request_get_for_shop(shop_from(request), request_id)
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
