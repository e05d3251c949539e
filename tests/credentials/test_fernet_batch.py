"""The batch Fernet path writes and reads exactly the tokens cryptography's Fernet does."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from credentials.crypto import (
    DefaultPasswordDecryptionError,
    decrypt_default_password,
    decrypt_default_passwords,
    encrypt_default_password,
    encrypt_default_passwords,
)

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
# Short, exactly one block, several blocks, and characters beyond ASCII.
PLAINTEXTS = ["sunfrog47", "", "x" * 15, "y" * 16, "Hq7tRb9xKm3p" * 4, "Ünïcødé ✓ 密码"]


@pytest.fixture
def keys(settings):
    """A rotation in progress: the new key encrypts, both decrypt."""
    settings.DEFAULT_PASSWORD_KEYS = [NEW_KEY, OLD_KEY]


def test_batch_tokens_are_read_by_cryptography_fernet_under_the_newest_key(keys):
    tokens = encrypt_default_passwords(PLAINTEXTS)

    assert [Fernet(NEW_KEY).decrypt(t.encode()).decode() for t in tokens] == PLAINTEXTS
    assert [decrypt_default_password(t) for t in tokens] == PLAINTEXTS
    assert len(set(tokens)) == len(tokens)  # a fresh IV per token


def test_batch_reads_tokens_of_cryptography_fernet_under_every_configured_key(keys):
    tokens = [
        Fernet(OLD_KEY if n % 2 else NEW_KEY).encrypt(p.encode()).decode()
        for n, p in enumerate(PLAINTEXTS)
    ]

    assert decrypt_default_passwords(tokens) == PLAINTEXTS


@hypothesis_settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=12))
def test_batch_round_trip_of_any_text_matches_one_by_one(plaintexts):
    tokens = encrypt_default_passwords(plaintexts)

    assert decrypt_default_passwords(tokens) == plaintexts
    assert [decrypt_default_password(t) for t in tokens] == plaintexts


def test_batch_gives_none_for_tampered_foreign_and_malformed_tokens(keys):
    good = encrypt_default_password("sunfrog47")
    tampered = good[:40] + ("B" if good[40] != "B" else "C") + good[41:]
    foreign = Fernet(Fernet.generate_key()).encrypt(b"sunfrog47").decode()
    truncated = good[:-8]

    results = decrypt_default_passwords([tampered, foreign, truncated, "not a token", "", good])

    assert results == [None, None, None, None, None, "sunfrog47"]


def test_batch_decrypt_refuses_to_run_without_keys(settings):
    settings.DEFAULT_PASSWORD_KEYS = []

    with pytest.raises(DefaultPasswordDecryptionError):
        decrypt_default_passwords(["gAAAAAB-not-read"])
