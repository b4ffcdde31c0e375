"""The Newsletters page's APIs (session-token authenticated, scoped to the token's shop): topics,
the sender's details, a live preview as a chosen reader would get it, the schedule and figures."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from newsletters.content import LANGUAGES
from newsletters.models import Cadence, NewsletterSettings, Topic
from newsletters.topics import (
    preview_for,
    reader_for_preview,
    settings_save,
    topic_get_for_shop,
    topic_readers,
    topic_save,
    topic_schedule,
    topic_stats,
    topics_for,
)
from shop_app.admin import AdminApi

TEXT_MAX = 5_000


def _texts(value: Any, field: str, max_length: int) -> dict[str, str]:
    if not isinstance(value, dict) or not set(value) <= set(LANGUAGES):
        raise serializers.ValidationError(f"{field} must map en and ja to texts")
    texts = {}
    for language, text in value.items():
        if not isinstance(text, str) or len(text) > max_length:
            raise serializers.ValidationError(
                f"{field}.{language} must be text of at most {max_length} characters"
            )
        if text.strip():
            texts[language] = text.strip()
    return texts


class SectionSerializer(serializers.Serializer[dict[str, Any]]):
    heading = serializers.JSONField()
    body = serializers.JSONField()

    def validate_heading(self, value: Any) -> dict[str, str]:
        return _texts(value, "heading", 200)

    def validate_body(self, value: Any) -> dict[str, str]:
        return _texts(value, "body", TEXT_MAX)


class TopicInput(serializers.Serializer[dict[str, Any]]):
    handle = serializers.SlugField(max_length=64)
    names = serializers.JSONField()
    descriptions = serializers.JSONField(required=False, default=dict)
    cadences = serializers.ListField(
        child=serializers.ChoiceField(choices=Cadence.choices), min_length=1, max_length=4
    )
    season_start_month = serializers.IntegerField(
        min_value=1, max_value=12, required=False, allow_null=True, default=None
    )
    season_end_month = serializers.IntegerField(
        min_value=1, max_value=12, required=False, allow_null=True, default=None
    )
    sections = SectionSerializer(many=True, required=False, default=list)
    collection_handles = serializers.ListField(
        child=serializers.CharField(max_length=255), max_length=20, default=list
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=255), max_length=20, default=list)
    picks_count = serializers.IntegerField(min_value=0, max_value=8, default=3)
    active = serializers.BooleanField(default=True)
    position = serializers.IntegerField(min_value=0, max_value=1000, default=0)

    def validate_names(self, value: Any) -> dict[str, str]:
        names = _texts(value, "names", 120)
        if "en" not in names:
            raise serializers.ValidationError("names.en is required")
        return names

    def validate_descriptions(self, value: Any) -> dict[str, str]:
        return _texts(value, "descriptions", 500)

    def validate_cadences(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("season_start_month") is None) != (attrs.get("season_end_month") is None):
            raise serializers.ValidationError({"season_end_month": "a season has a first and a last month"})
        return attrs


class TopicOutput(serializers.ModelSerializer[Topic]):
    schedule = serializers.SerializerMethodField()

    class Meta:
        model = Topic
        fields = (
            "id",
            "handle",
            "names",
            "descriptions",
            "cadences",
            "season_start_month",
            "season_end_month",
            "sections",
            "collection_handles",
            "tags",
            "picks_count",
            "active",
            "position",
            "schedule",
        )

    def get_schedule(self, topic: Topic) -> list[dict[str, Any]]:
        return [
            {"cadence": entry.cadence, "send_at": entry.send_at.isoformat(), "readers": entry.readers}
            for entry in topic_schedule(topic)
        ]


class NewslettersTopicsApi(AdminApi):
    """GET /api/newsletters/topics: the shop's topics with their next issues; POST creates one."""

    def get(self, request: Request) -> Response:
        return Response({"topics": TopicOutput(topics_for(self.shop(request)), many=True).data})

    def post(self, request: Request) -> Response:
        shop = self.shop(request)
        incoming = TopicInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        if Topic.objects.for_shop(shop).filter(handle=incoming.validated_data["handle"]).exists():
            raise serializers.ValidationError({"handle": ["another topic has this handle"]})
        return Response(TopicOutput(topic_save(shop, incoming.validated_data)).data, status=201)


class NewslettersTopicApi(AdminApi):
    """PUT /api/newsletters/topics/<id>: change a topic (what the next issue says, too)."""

    def put(self, request: Request, topic_id: int) -> Response:
        shop = self.shop(request)
        topic = _topic(shop, topic_id)
        incoming = TopicInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        clash = (
            Topic.objects.for_shop(shop).filter(handle=incoming.validated_data["handle"]).exclude(pk=topic.pk)
        )
        if clash.exists():
            raise serializers.ValidationError({"handle": ["another topic has this handle"]})
        return Response(TopicOutput(topic_save(shop, incoming.validated_data, topic)).data)


def _topic(shop: Any, topic_id: int) -> Topic:
    try:
        return topic_get_for_shop(shop, topic_id)
    except Topic.DoesNotExist as missing:
        raise Http404("no such topic") from missing


class PreviewInput(serializers.Serializer[dict[str, Any]]):
    subscriber_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    sections = SectionSerializer(many=True, required=False, allow_null=True, default=None)
    cadence = serializers.ChoiceField(choices=Cadence.choices, required=False, allow_null=True, default=None)


class NewslettersPreviewApi(AdminApi):
    """POST /api/newsletters/topics/<id>/preview {subscriber_id?, sections?, cadence?}: the issue as
    that reader would get it, with the sections being written; GET lists readers to choose."""

    def get(self, request: Request, topic_id: int) -> Response:
        topic = _topic(self.shop(request), topic_id)
        return Response(
            {
                "readers": [
                    {"id": r.pk, "email": r.email, "language": r.language} for r in topic_readers(topic)
                ]
            }
        )

    def post(self, request: Request, topic_id: int) -> Response:
        topic = _topic(self.shop(request), topic_id)
        incoming = PreviewInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        reader = reader_for_preview(topic, data["subscriber_id"])
        if data["subscriber_id"] is not None and reader is None:
            raise serializers.ValidationError({"subscriber_id": ["is not a reader of this shop"]})
        return Response(preview_for(topic, reader, data["sections"], data["cadence"]))


class SettingsSerializer(serializers.ModelSerializer[NewsletterSettings]):
    class Meta:
        model = NewsletterSettings
        fields = ("sender_name", "from_email", "postal_address", "contact_email", "send_hour")
        extra_kwargs = {"send_hour": {"min_value": 0, "max_value": 23}}


class NewslettersSettingsApi(AdminApi):
    """GET/PUT /api/newsletters/settings: who sends, from where (the footer of every email)."""

    def get(self, request: Request) -> Response:
        found = NewsletterSettings.objects.for_shop(self.shop(request)).first()
        return Response(SettingsSerializer(found or NewsletterSettings()).data)

    def put(self, request: Request) -> Response:
        incoming = SettingsSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return Response(SettingsSerializer(settings_save(self.shop(request), incoming.validated_data)).data)


class StatsInput(serializers.Serializer[dict[str, Any]]):
    days = serializers.IntegerField(min_value=7, max_value=365, default=90)


class NewslettersStatsApi(AdminApi):
    """GET /api/newsletters/stats?days=90: per topic and day, readers, growth, sent, delivered,
    opened (where known), clicked and left."""

    def get(self, request: Request) -> Response:
        incoming = StatsInput(data=request.query_params)
        incoming.is_valid(raise_exception=True)
        return Response(topic_stats(self.shop(request), incoming.validated_data["days"]))
