"""Embedded-admin APIs of profiles (session-token authenticated, scoped to shop_from(request))."""

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from personalize.customers import CUSTOMERS_SEARCH_MAX, customers_search, segments_summary
from personalize.models import Profile, ProfileSettings
from personalize.picks import picks_as_json, picks_for
from personalize.quiz import QuizError, quiz_for, quiz_save
from personalize.refresh import profile_settings
from personalize.rules import (
    BLOCKS,
    DISCOVERY_SHARE_MAX,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    PRODUCTS_MAX,
    RuleError,
    RulesInput,
    product_handles,
    recommendation_settings,
    recommendation_settings_update,
)
from personalize.stats import block_stats
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


# --- Recommendations ---------------------------------------------------------------------------


class RulesSerializer(serializers.Serializer[Any]):
    discovery_share = serializers.FloatField(min_value=0, max_value=DISCOVERY_SHARE_MAX)
    pinned = serializers.ListField(
        child=serializers.CharField(max_length=255, allow_blank=True), max_length=PRODUCTS_MAX
    )
    excluded = serializers.ListField(
        child=serializers.CharField(max_length=255, allow_blank=True), max_length=PRODUCTS_MAX
    )
    block_limits = serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=LIMIT_MAX))
    taste_half_life_days = serializers.IntegerField(min_value=7, max_value=730, required=False)


class RecommendationRulesApi(AdminApi):
    """GET /api/recommendations/rules: the merchant's rules (products by handle);
    PUT the same shape to change them (400 naming the field, nothing saved)."""

    def get(self, request: Request) -> Response:
        shop = shop_from(request)
        settings = recommendation_settings(shop)
        return Response(
            {
                "taste_half_life_days": profile_settings(shop).taste_half_life_days,
                "discovery_share": settings.discovery_share,
                "pinned": product_handles(shop, settings.pinned_product_ids),
                "excluded": product_handles(shop, settings.excluded_product_ids),
                "block_limits": settings.block_limits,
                "blocks": list(BLOCKS),
                "limit_default": LIMIT_DEFAULT,
            }
        )

    def put(self, request: Request) -> Response:
        rules = RulesSerializer(data=request.data)
        rules.is_valid(raise_exception=True)
        try:
            recommendation_settings_update(
                shop_from(request),
                RulesInput(
                    discovery_share=rules.validated_data["discovery_share"],
                    pinned_handles=rules.validated_data["pinned"],
                    excluded_handles=rules.validated_data["excluded"],
                    block_limits=rules.validated_data["block_limits"],
                ),
            )
        except RuleError as error:
            return Response({error.field: [error.message]}, status=400)
        half_life = rules.validated_data.get("taste_half_life_days")
        if half_life is not None:
            ProfileSettings.objects.update_or_create(
                shop=shop_from(request), defaults={"taste_half_life_days": half_life}
            )
        return self.get(request)


class PreviewInput(serializers.Serializer[Any]):
    block = serializers.ChoiceField(choices=BLOCKS, default="for-you")
    customer_id = serializers.IntegerField(required=False, min_value=1)
    product_id = serializers.IntegerField(required=False, min_value=1)
    locale = serializers.ChoiceField(choices=["en", "ja"], default="en")


class RecommendationsPreviewApi(AdminApi):
    """GET /api/recommendations/preview?block=&customer_id=&product_id=: what that shopper (or a
    guest) would see in that block, with the reasons, as the storefront answers it."""

    def get(self, request: Request) -> Response:
        query = PreviewInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        shop = shop_from(request)
        picks = picks_for(
            shop,
            query.validated_data["block"],
            customer_id=query.validated_data.get("customer_id"),
            product_id=query.validated_data.get("product_id"),
        )
        return Response({"items": picks_as_json(shop, picks, query.validated_data["locale"])})


# --- The quiz -------------------------------------------------------------------------------------------


class QuizApi(AdminApi):
    """GET /api/quiz: the shop's quiz as the builder edits it (null fields before there is one);
    PUT {"title", "questions", "published"} to save it (400 naming the field, nothing saved)."""

    def get(self, request: Request) -> Response:
        quiz = quiz_for(shop_from(request), published_only=False)
        if quiz is None:
            return Response({"title": "", "questions": [], "published": False})
        return Response({"title": quiz.title, "questions": quiz.questions, "published": quiz.published})

    def put(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        try:
            quiz_save(
                shop_from(request),
                data.get("title"),
                data.get("questions"),
                published=bool(data.get("published")),
            )
        except QuizError as error:
            return Response({error.field: [error.message]}, status=400)
        return self.get(request)


class StatsInput(serializers.Serializer[Any]):
    days = serializers.IntegerField(min_value=1, max_value=365, default=30)


class BlockStatsApi(AdminApi):
    """GET /api/recommendations/stats?days=30: per block, impressions, clicks, click rate and
    attributed revenue over the last `days` days, and the same per day for the chart."""

    def get(self, request: Request) -> Response:
        query = StatsInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        end = timezone.localdate()
        start = end - timedelta(days=query.validated_data["days"] - 1)
        return Response(block_stats(shop_from(request), start, end))
