from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.test import override_settings

from shop_app.crypto import TokenDecryptionError, token_decrypt, token_encrypt, token_reencrypt
from shop_app.models import Shop
from shop_app.tokens import IssuedToken, shop_access_token, shop_tokens_store


def test_a_token_is_not_stored_in_the_clear() -> None:
    ciphertext = token_encrypt("shpat_secret")

    assert "shpat_secret" not in ciphertext
    assert token_decrypt(ciphertext) == "shpat_secret"


def test_rotation_keeps_old_tokens_readable_and_moves_them_to_the_new_key() -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(TOKEN_ENCRYPTION_KEYS=[old_key]):
        stored = token_encrypt("shpat_secret")

    with override_settings(TOKEN_ENCRYPTION_KEYS=[new_key, old_key]):
        assert token_decrypt(stored) == "shpat_secret"
        rotated = token_reencrypt(stored)

    with override_settings(TOKEN_ENCRYPTION_KEYS=[new_key]):
        assert token_decrypt(rotated) == "shpat_secret"
        with pytest.raises(TokenDecryptionError):
            token_decrypt(stored)


def test_the_rotation_command_moves_every_stored_token_to_the_new_key(shop: Shop, other_shop: Shop) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(TOKEN_ENCRYPTION_KEYS=[old_key]):
        shop_tokens_store(shop, IssuedToken(access_token="shpat_a", scopes="", refresh_token="shprt_a"))
        shop_tokens_store(other_shop, IssuedToken(access_token="shpat_b", scopes=""))

    with override_settings(TOKEN_ENCRYPTION_KEYS=[new_key, old_key]):
        call_command("rotate_token_keys", stdout=StringIO())

    with override_settings(TOKEN_ENCRYPTION_KEYS=[new_key]):
        shop.refresh_from_db()
        other_shop.refresh_from_db()
        assert shop_access_token(shop) == "shpat_a"
        assert token_decrypt(shop.refresh_token_encrypted) == "shprt_a"
        assert shop_access_token(other_shop) == "shpat_b"
