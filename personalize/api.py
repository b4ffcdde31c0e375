"""Embedded-admin APIs of personalize (session-token authenticated, scoped to request.shop)."""

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from personalize.models import Order
from personalize.orders import RECENT_ORDERS_MAX, orders_recent_for_shop


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


class RecentOrdersApi(APIView):
    """GET /api/orders?limit=20: the orders Omakase holds, newest first."""

    def get(self, request: Request) -> Response:
        query = RecentOrdersInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        orders = orders_recent_for_shop(request.shop, query.validated_data["limit"])
        return Response({"results": OrderOutput(orders, many=True).data})
