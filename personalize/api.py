"""Embedded-admin APIs of profiles (session-token authenticated, scoped to shop_from(request))."""

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from personalize.customers import CUSTOMERS_SEARCH_MAX, customers_search, segments_summary
from personalize.models import Profile
from shop_app.admin import AdminApi, shop_from


class CustomersInput(serializers.Serializer[Any]):
    q = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    segment = serializers.ChoiceField(choices=Profile.Segment.choices, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=CUSTOMERS_SEARCH_MAX, default=25)


class CustomerRowOutput(serializers.Serializer[Any]):
    customer_shopify_id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    segment = serializers.CharField(source="profile.segment")
    order_count = serializers.IntegerField(source="profile.order_count")
    total_spent = serializers.DecimalField(source="profile.total_spent", max_digits=14, decimal_places=2)
    currency = serializers.CharField(source="profile.currency")
    predicted_value_365d = serializers.DecimalField(
        source="profile.predicted_value_365d", max_digits=14, decimal_places=2
    )
    churn_risk = serializers.FloatField(source="profile.churn_risk", allow_null=True)
    last_order_at = serializers.DateTimeField(source="profile.last_order_at", allow_null=True)


class CustomersApi(AdminApi):
    """GET /api/customers?q=&segment=&limit=25: shoppers by name or email, with their profile's
    headline figures, those who ordered last first."""

    def get(self, request: Request) -> Response:
        query = CustomersInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = customers_search(
            shop_from(request),
            query.validated_data["q"],
            query.validated_data.get("segment"),
            query.validated_data["limit"],
        )
        return Response({"results": CustomerRowOutput(rows, many=True).data})


class SegmentOutput(serializers.Serializer[Any]):
    segment = serializers.CharField()
    name = serializers.CharField()
    rule = serializers.CharField()
    size = serializers.IntegerField()


class RunOutput(serializers.Serializer[Any]):
    status = serializers.CharField()
    customers_done = serializers.IntegerField()
    customers_total = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class SegmentsOutput(serializers.Serializer[Any]):
    segments = SegmentOutput(many=True)
    without_orders = serializers.IntegerField()
    run = RunOutput(allow_null=True)


class SegmentsApi(AdminApi):
    """GET /api/customers/segments: each segment's size and rule, and the latest recompute."""

    def get(self, request: Request) -> Response:
        return Response(SegmentsOutput(segments_summary(shop_from(request))).data)
