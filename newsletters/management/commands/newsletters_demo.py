"""`python manage.py newsletters_demo SHOP`: the demo's newsletters (make demo runs it once the shop
is installed): the sender's details and three topics, unless the shop has topics already."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from newsletters.models import NewsletterSettings, Topic
from shop_app.models import Shop

DEMO_TOPICS: list[dict[str, Any]] = [
    {
        "handle": "new-arrivals",
        "names": {"en": "New arrivals", "ja": "新着アイテム"},
        "descriptions": {
            "en": "What just came in, picked for you.",
            "ja": "入荷したばかりのアイテムを、あなたに合わせて。",
        },
        "cadences": ["weekly", "biweekly", "monthly"],
        "sections": [
            {
                "heading": {"en": "Just in", "ja": "新着"},
                "body": {
                    "en": "Fresh pieces for the weeks ahead.",
                    "ja": "これからの季節に向けた新しいアイテムです。",
                },
            }
        ],
        "tags": ["new"],
        "collection_handles": ["new-arrivals", "frontpage"],
    },
    {
        "handle": "care-tips",
        "names": {"en": "Care tips", "ja": "お手入れのヒント"},
        "descriptions": {"en": "Keep what you love longer.", "ja": "お気に入りを長く使うために。"},
        "cadences": ["monthly", "quarterly"],
        "sections": [
            {
                "heading": {"en": "Wool, washed right", "ja": "ウールの正しい洗い方"},
                "body": {
                    "en": "Cold water, a gentle soap, and flat to dry.",
                    "ja": "冷水とやさしい洗剤で洗い、平らに干しましょう。",
                },
            }
        ],
        "picks_count": 2,
    },
    {
        "handle": "spring-moving",
        "names": {"en": "Moving and spring cleaning", "ja": "引っ越しと春の大掃除"},
        "descriptions": {
            "en": "In March and April: tips for a fresh start.",
            "ja": "3月と4月に、新生活のヒント。",
        },
        "cadences": ["weekly", "monthly"],
        "season_start_month": 3,
        "season_end_month": 4,
        "sections": [
            {
                "heading": {"en": "A fresh start", "ja": "新しいスタート"},
                "body": {"en": "Sort, keep, give away.", "ja": "仕分けて、残して、譲る。"},
            }
        ],
    },
]


class Command(BaseCommand):
    help = "Create the demo's newsletter topics for a shop that has none."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("shop")

    def handle(self, *args: Any, **options: Any) -> None:
        shop = Shop.objects.filter(domain=options["shop"]).first()
        if shop is None:
            raise CommandError(f"{options['shop']} has not installed the app")
        NewsletterSettings.objects.get_or_create(
            shop=shop,
            defaults={
                "sender_name": shop.name or "Omakase demo",
                "from_email": "news@omakase-demo.example",
                "postal_address": "1-2-3 Jingumae, Shibuya-ku, Tokyo 150-0001, Japan",
                "contact_email": "hello@omakase-demo.example",
            },
        )
        if Topic.objects.for_shop(shop).exists():
            return
        for position, topic in enumerate(DEMO_TOPICS):
            Topic.objects.create(shop=shop, position=position, **topic)
        self.stdout.write(f"newsletters: {len(DEMO_TOPICS)} topics for {shop.domain}")
