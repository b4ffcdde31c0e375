import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from shop_app.crypto import TokenDecryptionError, token_decrypt, token_encrypt, token_reencrypt


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
