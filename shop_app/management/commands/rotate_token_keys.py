"""python manage.py rotate_token_keys

After putting a new key first in TOKEN_ENCRYPTION_KEYS (keeping the old ones after it), re-encrypt
every stored Shopify token under the new key; then the old keys can be removed."""

from typing import Any

from django.core.management.base import BaseCommand

from shop_app.crypto import tokens_reencrypt_all


class Command(BaseCommand):
    help = "Re-encrypt every stored Shopify token under the first key of TOKEN_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        count = tokens_reencrypt_all()
        self.stdout.write(f"Re-encrypted the tokens of {count} shops under the newest key.")
