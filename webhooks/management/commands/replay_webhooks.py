"""manage.py replay_webhooks: run failed webhook events again (the same service as the admin's
replay button). By default every failed event of every shop; narrow with --shop, --topic, --id."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from shop_app.models import Shop
from webhooks.models import EventStatus, WebhookEvent
from webhooks.processing import ReplayRefused, webhook_event_replay


class Command(BaseCommand):
    help = "Replay failed webhook events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", help="Only this shop (its myshopify domain).")
        parser.add_argument("--topic", help="Only this topic, e.g. orders/updated.")
        parser.add_argument("--id", type=int, action="append", dest="ids", help="Only these event ids.")
        parser.add_argument("--include-ignored", action="store_true", help="Also replay ignored events.")

    def handle(self, *args: Any, **options: Any) -> None:
        statuses = [EventStatus.FAILED] + ([EventStatus.IGNORED] if options["include_ignored"] else [])
        shops = Shop.objects.all()
        if options["shop"]:
            shops = shops.filter(domain=options["shop"])
        replayed = refused = 0
        for shop in shops:
            events = WebhookEvent.objects.for_shop(shop).filter(status__in=statuses)
            if options["topic"]:
                events = events.filter(topic=options["topic"])
            if options["ids"]:
                events = events.filter(pk__in=options["ids"])
            for event_pk in events.order_by("received_at").values_list("pk", flat=True):
                try:
                    webhook_event_replay(shop, event_pk)
                except ReplayRefused:
                    refused += 1  # picked up by something else meanwhile
                else:
                    replayed += 1
        self.stdout.write(
            f"replayed {replayed} event(s)" + (f", {refused} changed meanwhile" if refused else "")
        )
