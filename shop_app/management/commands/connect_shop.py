"""python manage.py connect_shop example.myshopify.com --access-token shpat_...

Registers a store that runs Omakase as a custom app: the merchant created the app in their own
admin and copied its static Admin API token. Creates the webhook subscriptions and starts the
backfill, exactly as an install does."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop_app.domains import shop_domain_normalize
from shop_app.install import shop_connect_custom_app


class Command(BaseCommand):
    help = "Connect a store that runs Omakase as a custom app, with its static Admin API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domain", help="The store's myshopify.com domain.")
        parser.add_argument("--access-token", required=True, help="The custom app's Admin API token.")
        parser.add_argument("--scopes", default="", help="The scopes granted to the custom app.")

    def handle(self, *args: Any, **options: Any) -> None:
        domain = shop_domain_normalize(options["domain"])
        if domain is None:
            raise CommandError(f"{options['domain']!r} is not a myshopify.com domain.")
        if not options["access_token"].strip():
            raise CommandError("The access token is empty.")
        outcome = shop_connect_custom_app(domain, options["access_token"].strip(), options["scopes"])
        verb = "Connected" if outcome.newly_installed else "Updated the token of"
        self.stdout.write(f"{verb} {domain}; webhook subscriptions and the backfill follow in the worker.")
