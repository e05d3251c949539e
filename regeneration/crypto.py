"""Encryption at rest of default passwords: MultiFernet with keys from DEFAULT_PASSWORD_KEYS.

The first key encrypts; every key is tried to decrypt, so a new key goes first and old keys
stay listed until ``manage.py rotate_default_password_keys`` has re-encrypted every row.
Fernet is AES-128-CBC with HMAC-SHA256 (encrypt-then-MAC); ASVS 5.0 lists AES-128-CBC as
legacy, the README records why it is used here. A token that cannot be decrypted raises
``DefaultPasswordDecryptionError``: it is never passed off as the password.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DefaultPasswordDecryptionError(Exception):
    """A stored default password cannot be decrypted with the configured keys."""

    def __init__(self, detail: str = "") -> None:
        message = (
            "A stored default password could not be decrypted with the keys in "
            "DEFAULT_PASSWORD_KEYS: the key that encrypted it is missing or wrong. "
            "Nothing was shown or changed."
        )
        super().__init__(f"{message} {detail}".strip())


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise DefaultPasswordDecryptionError("DEFAULT_PASSWORD_KEYS is empty.")
    return MultiFernet([Fernet(key) for key in keys])


def default_password_cipher() -> MultiFernet:
    return _multifernet(tuple(settings.DEFAULT_PASSWORD_KEYS))


def encrypt_default_password(plaintext: str) -> str:
    return default_password_cipher().encrypt(plaintext.encode()).decode()


def decrypt_default_password(token: str) -> str:
    try:
        return default_password_cipher().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError, TypeError, AttributeError):
        raise DefaultPasswordDecryptionError() from None


def rotate_default_password_token(token: str) -> str:
    """Re-encrypt a token under the newest key (keeps the plaintext out of our code)."""
    try:
        return default_password_cipher().rotate(token.encode()).decode()
    except (InvalidToken, ValueError, TypeError, AttributeError):
        raise DefaultPasswordDecryptionError() from None
