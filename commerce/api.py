"""Embedded-admin APIs of personalize (session-token authenticated, scoped to request.shop)."""

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.backfill import backfill_latest_for_shop
from commerce.models import Order
from commerce.orders import RECENT_ORDERS_MAX, orders_recent_for_shop


class RecentOrdersInput(serializers.Serializer[Any]):
    limit = serializers.IntegerField(min_value=1, max_value=RECENT_ORDERS_MAX, default=20)


class OrderOutput(serializers.ModelSerializer[Order]):
    class Meta:
        model = Order
        fields = [
            "shopify_id",
            "name",
            "email",
            "currency",
            "total_price",
            "financial_status",
            "fulfillment_status",
            "shopify_created_at",
            "cancelled_at",
        ]


class ImportOutput(serializers.Serializer[Any]):
    status = serializers.CharField()
    phase = serializers.CharField()
    customers_imported = serializers.IntegerField()
    orders_imported = serializers.IntegerField()
    error = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ImportApi(APIView):
    """GET /api/import: the progress of the import of the store's history (null before it starts)."""

    def get(self, request: Request) -> Response:
        backfill = backfill_latest_for_shop(request.shop)
        return Response({"import": ImportOutput(backfill).data if backfill else None})


class RecentOrdersApi(APIView):
    """GET /api/orders?limit=20: the orders Omakase holds, newest first."""

    def get(self, request: Request) -> Response:
        query = RecentOrdersInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        orders = orders_recent_for_shop(request.shop, query.validated_data["limit"])
        return Response({"results": OrderOutput(orders, many=True).data})
