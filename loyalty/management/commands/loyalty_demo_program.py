"""`python manage.py loyalty_demo_program --shop example.myshopify.com`: seed a program a newcomer
sees working at once (earning rules, three rewards, two tiers); nothing for a shop that has
rewards already. `make demo` runs it once the app is installed."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from loyalty.program import demo_program_seed
from shop_app.models import Shop


class Command(BaseCommand):
    help = "Seed a demonstration loyalty program for a shop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        shop = Shop.objects.installed().filter(domain=options["shop"]).first()
        if shop is None:
            raise CommandError(f"{options['shop']} has not installed the app")
        demo_program_seed(shop)
        self.stdout.write(f"loyalty program ready for {shop.domain}")
