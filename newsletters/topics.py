"""The merchant's side: topics, the sender's details, the schedule, previews and the figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from newsletters.content import confirmation_email, issue_context, issue_email, newsletter_settings
from newsletters.models import (
    Delivery,
    DeliveryKind,
    Issue,
    NewsletterSettings,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    Topic,
)
from newsletters.periods import in_season, next_period_start, period_key, period_start
from newsletters.sending import shop_local_now
from shop_app.models import Shop
from shop_app.work import WorkStatus


def topics_for(shop: Shop) -> list[Topic]:
    return list(Topic.objects.for_shop(shop).order_by("position", "pk"))


def topic_get_for_shop(shop: Shop, topic_id: int) -> Topic:
    return Topic.objects.for_shop(shop).get(pk=topic_id)


def topic_save(shop: Shop, values: Mapping[str, Any], topic: Topic | None = None) -> Topic:
    """Create a topic, or change one (`values` as the admin API's serializer cleaned them)."""
    topic = topic or Topic(shop=shop)
    for name, value in values.items():
        setattr(topic, name, value)
    topic.save()
    return topic


def settings_save(shop: Shop, values: Mapping[str, Any]) -> NewsletterSettings:
    with transaction.atomic():
        found, _ = NewsletterSettings.objects.select_for_update().get_or_create(shop=shop)
        for name, value in values.items():
            setattr(found, name, value)
        found.save()
    return found


# --- The schedule --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextIssue:
    cadence: str
    send_at: datetime
    readers: int


def topic_schedule(topic: Topic, now: datetime | None = None) -> list[NextIssue]:
    """When the next issue of each cadence the topic's readers chose goes out, in season."""
    now = now or timezone.now()
    shop = topic.shop
    local = shop_local_now(shop, now)
    sending = newsletter_settings(shop)
    counts = dict(
        Subscription.objects.for_shop(shop)
        .filter(topic=topic, status=SubscriptionStatus.CONFIRMED)
        .values_list("cadence")
        .annotate(readers=Count("pk"))
        .values_list("cadence", "readers")
    )
    sent = set(Issue.objects.for_shop(shop).filter(topic=topic).values_list("period", flat=True))
    schedule = []
    for cadence in topic.cadences:
        start = period_start(cadence, local.date())
        for _attempt in range(60):  # past an out-of-season stretch, at most five years of months
            if period_key(cadence, start) not in sent and in_season(topic, start):
                break
            start = next_period_start(cadence, start)
        send_at = datetime.combine(start, time(hour=sending.send_hour), tzinfo=local.tzinfo)
        schedule.append(NextIssue(cadence, max(send_at, local), counts.get(cadence, 0)))
    return schedule


# --- Preview -------------------------------------------------------------------------------------


def preview_for(
    topic: Topic,
    subscriber: Subscriber | None,
    sections: list[dict[str, Any]] | None,
    cadence: str | None = None,
) -> dict[str, str]:
    """The issue as this reader would get it now (with the sections being written, unsaved), or as
    a reader with no history would: subject, HTML and text. Nothing is stored or sent."""
    shop = topic.shop
    today = timezone.localdate()
    cadence = cadence or (topic.cadences[0] if topic.cadences else "monthly")
    issue = Issue(
        shop=shop,
        topic=topic,
        cadence=cadence,
        period_start=today,
        sections=topic.sections if sections is None else sections,
    )
    reader = subscriber or Subscriber(shop=shop, email="reader@example.com", language=shop.locale[:2] or "en")
    if reader.pk is None:
        reader.pk = 0
    subscription = Subscription(shop=shop, subscriber=reader, topic=topic, cadence=cadence)
    message = issue_email(issue_context(issue, today), reader, subscription, delivery_pk=0)
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    return {"subject": str(message.subject), "html": str(html), "text": str(message.body), "to": reader.email}


def confirmation_preview(topic: Topic) -> str:
    shop = topic.shop
    reader = Subscriber(shop=shop, pk=0, email="reader@example.com", language=shop.locale[:2] or "en")
    return str(confirmation_email(reader, [Subscription(topic=topic, cadence=topic.cadences[0])], 0).body)


def topic_readers(topic: Topic, limit: int = 50) -> list[Subscriber]:
    return list(
        Subscriber.objects.for_shop(topic.shop)
        .filter(subscriptions__topic=topic, subscriptions__status=SubscriptionStatus.CONFIRMED)
        .order_by("pk")[:limit]
    )


def reader_for_preview(topic: Topic, subscriber_id: int | None) -> Subscriber | None:
    if subscriber_id is None:
        return None
    return Subscriber.objects.for_shop(topic.shop).select_related("shop").filter(pk=subscriber_id).first()


# --- The figures ---------------------------------------------------------------------------------


def topic_stats(shop: Shop, days: int, today: date | None = None) -> dict[str, Any]:
    """Per topic and day over the last `days`: readers at the end of the day, who joined (growth),
    who left, emails sent, delivered (sent and not bounced), opened (where the provider tells us:
    none over plain SMTP) and clicked."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    subscriptions = Subscription.objects.for_shop(shop)
    confirmed_before = dict(
        subscriptions.filter(confirmed_at__lt=since)
        .filter(Q(unsubscribed_at__isnull=True) | Q(unsubscribed_at__gte=since))
        .values_list("topic")
        .annotate(n=Count("pk"))
        .values_list("topic", "n")
    )
    series: dict[int, dict[date, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))

    def add(field: str, rows: Any) -> None:
        for topic_id, day, count in rows:
            if day is not None:
                series[topic_id][day][field] += count

    add(
        "joined",
        subscriptions.filter(confirmed_at__gte=since)
        .annotate(day=TruncDate("confirmed_at"))
        .values_list("topic", "day")
        .annotate(n=Count("pk"))
        .values_list("topic", "day", "n"),
    )
    add(
        "left",
        subscriptions.filter(unsubscribed_at__gte=since, confirmed_at__isnull=False)
        .annotate(day=TruncDate("unsubscribed_at"))
        .values_list("topic", "day")
        .annotate(n=Count("pk"))
        .values_list("topic", "day", "n"),
    )
    deliveries = Delivery.objects.for_shop(shop).filter(
        kind=DeliveryKind.ISSUE, status=WorkStatus.DONE, processed_at__gte=since
    )
    for field, rows in (
        ("sent", deliveries),
        ("delivered", deliveries.filter(bounced_at__isnull=True)),
        ("opened", deliveries.filter(opened_at__isnull=False)),
        ("clicked", deliveries.filter(clicked_at__isnull=False)),
    ):
        add(
            field,
            rows.annotate(day=TruncDate("processed_at"))
            .values_list("issue__topic", "day")
            .annotate(n=Count("pk"))
            .values_list("issue__topic", "day", "n"),
        )
    topics = []
    for topic in topics_for(shop):
        readers = confirmed_before.get(topic.pk, 0)
        points = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            counts = series[topic.pk][day]
            readers += counts["joined"] - counts["left"]
            points.append(
                {
                    "day": day.isoformat(),
                    "readers": readers,
                    "joined": counts["joined"],
                    "left": counts["left"],
                    "sent": counts["sent"],
                    "delivered": counts["delivered"],
                    "opened": counts["opened"],
                    "clicked": counts["clicked"],
                }
            )
        totals = {
            field: sum(point[field] for point in points)
            for field in ("joined", "left", "sent", "delivered", "opened", "clicked")
        }
        topics.append(
            {"id": topic.pk, "handle": topic.handle, "readers": readers, "totals": totals, "days": points}
        )
    return {"days": days, "topics": topics}
