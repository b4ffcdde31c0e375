"""Shopify tokens are encrypted at rest with Fernet. TOKEN_ENCRYPTION_KEYS lists keys newest
first: the first encrypts, all decrypt, so a key can be rotated without losing a token."""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction

from shop_app.models import Shop


class TokenDecryptionError(Exception):
    """A stored token could not be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        # Development only (production refuses to start without keys): a key derived from the
        # Django secret key, so that a fresh checkout works with nothing configured.
        derived = base64.urlsafe_b64encode(hashlib.sha256(f"tokens:{secret_key}".encode()).digest())
        return MultiFernet([Fernet(derived)])
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS), settings.SECRET_KEY)


def token_encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def token_decrypt(ciphertext: str) -> str:
    try:
        return _current().decrypt(ciphertext.encode()).decode()
    except InvalidToken as error:
        raise TokenDecryptionError("no configured key decrypts this token") from error


def token_reencrypt(ciphertext: str) -> str:
    """The same token under the newest key (for a rotation job)."""
    return _current().rotate(ciphertext.encode()).decode()


def tokens_reencrypt_all() -> int:
    """Re-encrypt every shop's tokens under the newest key, one row at a time under its lock (a
    refresh may be writing the same row). Returns how many shops had tokens."""
    count = 0
    for pk in Shop.objects.exclude(access_token_encrypted="").values_list("pk", flat=True):
        with transaction.atomic():
            shop = Shop.objects.select_for_update().get(pk=pk)
            if not shop.access_token_encrypted:
                continue
            shop.access_token_encrypted = token_reencrypt(shop.access_token_encrypted)
            if shop.refresh_token_encrypted:
                shop.refresh_token_encrypted = token_reencrypt(shop.refresh_token_encrypted)
            shop.save(update_fields=["access_token_encrypted", "refresh_token_encrypted", "updated_at"])
            count += 1
    return count
