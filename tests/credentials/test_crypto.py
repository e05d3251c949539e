"""Encryption at rest of default passwords."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from credentials.crypto import (
    DefaultPasswordDecryptionError,
    decrypt_default_password,
    encrypt_default_password,
)


def test_a_default_password_round_trips_and_is_not_stored_in_clear():
    token = encrypt_default_password("sunfrog47")

    assert "sunfrog47" not in token
    assert decrypt_default_password(token) == "sunfrog47"
    assert encrypt_default_password("sunfrog47") != token  # random IV per token


def test_a_token_under_an_unknown_key_raises_a_clear_error_not_ciphertext(settings):
    token = encrypt_default_password("sunfrog47")
    settings.DEFAULT_PASSWORD_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(DefaultPasswordDecryptionError) as caught:
        decrypt_default_password(token)

    assert "cannot be decrypted with the keys in DEFAULT_PASSWORD_KEYS" in str(caught.value)
    assert token not in str(caught.value)


@pytest.mark.parametrize("token", ["", "not-a-token", "gAAAAAtruncated"])
def test_garbage_tokens_raise_the_same_clear_error(token):
    with pytest.raises(DefaultPasswordDecryptionError):
        decrypt_default_password(token)


def test_old_keys_still_decrypt_after_a_new_key_is_put_first(settings):
    token = encrypt_default_password("sunfrog47")
    settings.DEFAULT_PASSWORD_KEYS = [
        Fernet.generate_key().decode(),
        *settings.DEFAULT_PASSWORD_KEYS,
    ]

    assert decrypt_default_password(token) == "sunfrog47"
