"""The overview's admin APIs: the dashboard's figures over a date range, and the checklist."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from overview.checklist import checklist_for
from overview.figures import overview_figures
from overview.rollups import rollups_ensure, shop_today
from shop_app.admin import AdminApi, shop_from

DEFAULT_DAYS = 30
RANGE_DAYS_MOST = 366


class OverviewInput(serializers.Serializer[Any]):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    locale = serializers.CharField(required=False, default="en")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and start > end:
            raise serializers.ValidationError({"start": "must be on or before end"})
        if start and end and (end - start).days + 1 > RANGE_DAYS_MOST:
            raise serializers.ValidationError({"end": f"a range is at most {RANGE_DAYS_MOST} days"})
        return attrs


class TotalsOutput(serializers.Serializer[Any]):
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    click_rate = serializers.FloatField(allow_null=True)
    attributed_orders = serializers.IntegerField()
    attributed_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    orders = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    member_orders = serializers.IntegerField()
    member_repeat_orders = serializers.IntegerField()
    member_repeat_rate = serializers.FloatField(allow_null=True)
    other_orders = serializers.IntegerField()
    other_repeat_orders = serializers.IntegerField()
    other_repeat_rate = serializers.FloatField(allow_null=True)
    points_issued = serializers.IntegerField()
    points_redeemed = serializers.IntegerField()
    points_outstanding = serializers.IntegerField()


class DayOutput(serializers.Serializer[Any]):
    day = serializers.DateField()
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    attributed_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    orders = serializers.IntegerField()


class BlockOutput(serializers.Serializer[Any]):
    block = serializers.CharField()
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    click_rate = serializers.FloatField(allow_null=True)
    attributed_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    previous_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)


class TopicOutput(serializers.Serializer[Any]):
    topic_id = serializers.IntegerField()
    name = serializers.CharField()
    subscribers = serializers.IntegerField()
    previous = serializers.IntegerField()


class SegmentOutput(serializers.Serializer[Any]):
    segment = serializers.CharField(allow_blank=True)
    shoppers = serializers.IntegerField()
    previous = serializers.IntegerField(allow_null=True)


class FactOutput(serializers.Serializer[Any]):
    fact = serializers.CharField()
    shoppers = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)
    previous_share = serializers.FloatField(allow_null=True)


class OverviewOutput(serializers.Serializer[Any]):
    start = serializers.DateField()
    end = serializers.DateField()
    previous_start = serializers.DateField()
    previous_end = serializers.DateField()
    currency = serializers.CharField()
    ready = serializers.BooleanField()
    computed_at = serializers.DateTimeField(allow_null=True)
    current = TotalsOutput()
    previous = TotalsOutput()
    days = DayOutput(many=True)
    blocks = BlockOutput(many=True)
    topics = TopicOutput(many=True)
    shoppers = serializers.IntegerField()
    segments = SegmentOutput(many=True)
    facts = FactOutput(many=True)


class OverviewApi(AdminApi):
    """GET /api/overview?start=YYYY-MM-DD&end=YYYY-MM-DD: the dashboard over that range (the last
    30 days by default) and the period of the same length before it, from the daily rollups."""

    def get(self, request: Request) -> Response:
        shop = shop_from(request)
        given = OverviewInput(data=request.query_params)
        given.is_valid(raise_exception=True)
        end = given.validated_data.get("end") or shop_today(shop)
        start = given.validated_data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if (end - start).days + 1 > RANGE_DAYS_MOST:
            raise serializers.ValidationError({"start": f"a range is at most {RANGE_DAYS_MOST} days"})
        rollups_ensure(shop)
        figures = overview_figures(shop, start, end, language=given.validated_data["locale"].split("-")[0])
        return Response(OverviewOutput(figures).data)


class StepOutput(serializers.Serializer[Any]):
    key = serializers.CharField()
    done = serializers.BooleanField(allow_null=True)
    url = serializers.CharField()
    external = serializers.BooleanField()


class ChecklistApi(AdminApi):
    """GET /api/overview/checklist: the first-run steps and which are done."""

    def get(self, request: Request) -> Response:
        steps = checklist_for(shop_from(request))
        return Response({"steps": StepOutput(steps, many=True).data})
