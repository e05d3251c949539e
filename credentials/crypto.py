"""Encryption at rest of default passwords: MultiFernet with keys from DEFAULT_PASSWORD_KEYS.

The first key encrypts; every key is tried to decrypt, so a new key goes first and old keys
stay listed until ``manage.py rotate_default_password_keys`` has re-encrypted every row.
Fernet is AES-128-CBC with HMAC-SHA256 (encrypt-then-MAC); ASVS 5.0 lists AES-128-CBC as
legacy, the README records why it is used here. A token that cannot be decrypted raises
``DefaultPasswordDecryptionError``: it is never passed off as the password.

``encrypt_default_passwords`` and ``decrypt_default_passwords`` do a whole chunk at once
through ``credentials.fernet_batch``; they read and write the same tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from .fernet_batch import BatchFernet, token_bytes


def undecryptable_message(count: int = 1, consequence: str = "") -> str:
    """The one wording of "cannot be decrypted", for ``count`` passwords, followed by what
    that meant here (nothing shown, this student not changed, ...)."""
    subject = "A default password cannot" if count == 1 else f"{count:,} default passwords cannot"
    it = "it" if count == 1 else "them"
    return " ".join(
        part
        for part in (
            f"{subject} be decrypted with the keys in DEFAULT_PASSWORD_KEYS: the key that "
            f"encrypted {it} is missing or wrong.",
            consequence,
            "Ask the portal's operator to restore the key.",
        )
        if part
    )


class DefaultPasswordDecryptionError(Exception):
    """A stored default password cannot be decrypted with the configured keys."""

    def __init__(self, count: int = 1, consequence: str = "Nothing was shown or changed.") -> None:
        self.count = count
        super().__init__(undecryptable_message(count, consequence))


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise DefaultPasswordDecryptionError()
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


@lru_cache(maxsize=4)
def _batch_fernets(keys: tuple[str, ...]) -> tuple[BatchFernet, ...]:
    if not keys:
        raise DefaultPasswordDecryptionError()
    return tuple(BatchFernet(key) for key in keys)


def encrypt_default_passwords(plaintexts: Sequence[str]) -> list[str]:
    """``encrypt_default_password`` for many passwords at once, under the first key."""
    return _batch_fernets(tuple(settings.DEFAULT_PASSWORD_KEYS))[0].encrypt_many(
        [p.encode() for p in plaintexts]
    )


def decrypt_default_passwords(tokens: Sequence[str]) -> list[str | None]:
    """``decrypt_default_password`` for many tokens at once, trying every configured key; a
    token no key authenticates (or that does not decode) gives None at its position."""
    fernets = _batch_fernets(tuple(settings.DEFAULT_PASSWORD_KEYS))
    results: list[str | None] = [None] * len(tokens)
    pending = [(position, token_bytes(token)) for position, token in enumerate(tokens)]
    pending = [(position, data) for position, data in pending if data is not None]
    for fernet in fernets:
        if not pending:
            break
        pending = fernet.decrypt_many(pending, results)
    return results


def undecryptable_count(tokens: Iterable[str], *, batch_size: int = 5000) -> int:
    """How many of the tokens no configured key can decrypt, read ``batch_size`` at a time
    (so a district's tokens can stream through)."""
    failures = 0
    batch: list[str] = []
    for token in tokens:
        batch.append(token)
        if len(batch) == batch_size:
            failures += decrypt_default_passwords(batch).count(None)
            batch = []
    return failures + decrypt_default_passwords(batch).count(None)
