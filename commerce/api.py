"""Embedded-admin APIs of commerce (session-token authenticated, scoped to shop_from(request))."""

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from commerce.backfill import backfill_latest_for_shop
from commerce.catalog import PRODUCTS_SEARCH_MAX, products_search_for_shop
from commerce.models import Order, Variant
from commerce.orders import RECENT_ORDERS_MAX, orders_recent_for_shop
from shop_app.admin import AdminApi, shop_from


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
    products_imported = serializers.IntegerField()
    collections_imported = serializers.IntegerField()
    phase_imported = serializers.IntegerField()
    phase_total = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ImportApi(AdminApi):
    """GET /api/import: the progress of the import of the store's history (null before it starts)."""

    def get(self, request: Request) -> Response:
        backfill = backfill_latest_for_shop(shop_from(request))
        return Response({"import": ImportOutput(backfill).data if backfill else None})


class RecentOrdersApi(AdminApi):
    """GET /api/orders?limit=20: the orders Omakase holds, newest first."""

    def get(self, request: Request) -> Response:
        query = RecentOrdersInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        orders = orders_recent_for_shop(shop_from(request), query.validated_data["limit"])
        return Response({"results": OrderOutput(orders, many=True).data})


class ProductsInput(serializers.Serializer[Any]):
    q = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    limit = serializers.IntegerField(min_value=1, max_value=PRODUCTS_SEARCH_MAX, default=20)


class VariantOutput(serializers.ModelSerializer[Variant]):
    class Meta:
        model = Variant
        fields = [
            "shopify_id",
            "title",
            "sku",
            "options",
            "price",
            "compare_at_price",
            "currency",
            "available",
        ]


class ProductOutput(serializers.Serializer[Any]):
    """A ProductListing."""

    shopify_id = serializers.IntegerField(source="product.shopify_id")
    title = serializers.CharField(source="product.title")
    handle = serializers.CharField(source="product.handle")
    product_type = serializers.CharField(source="product.product_type")
    vendor = serializers.CharField(source="product.vendor")
    tags = serializers.ListField(source="product.tag_list", child=serializers.CharField())
    status = serializers.CharField(source="product.status")
    image_url = serializers.CharField(source="product.image_url")
    shopify_updated_at = serializers.DateTimeField(source="product.shopify_updated_at")
    available = serializers.IntegerField(allow_null=True)
    variants = VariantOutput(many=True)


class ProductsApi(AdminApi):
    """GET /api/products?q=&limit=20: the store's products whose title, handle, vendor, type or a
    variant's SKU contains q, by title, each with its variants and their stock."""

    def get(self, request: Request) -> Response:
        query = ProductsInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        products = products_search_for_shop(
            shop_from(request), query.validated_data["q"], query.validated_data["limit"]
        )
        return Response({"results": ProductOutput(products, many=True).data})
