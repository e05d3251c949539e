"""Encryption at rest, the temporary-password hasher and key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.core.management import CommandError, call_command

from people.models import Student
from regeneration.crypto import (
    DefaultPasswordDecryptionError,
    decrypt_default_password,
    encrypt_default_password,
)
from tests.factories import StudentFactory


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

    assert "could not be decrypted with the keys in DEFAULT_PASSWORD_KEYS" in str(caught.value)
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


def test_temporary_hasher_verifies_in_constant_time_and_is_never_preferred(settings):
    encoded = make_password("sunfrog47", hasher="fernet_temp")

    assert encoded.startswith("fernet_temp$")
    assert "sunfrog47" not in encoded
    assert check_password("sunfrog47", encoded)
    assert not check_password("sunfrog48", encoded)
    assert settings.PASSWORD_HASHERS[-1] == "regeneration.hashers.EncryptedTemporaryPasswordHasher"
    assert identify_hasher(encoded).must_update(encoded)


def test_temporary_hasher_refuses_everything_when_the_key_is_gone(settings):
    encoded = make_password("sunfrog47", hasher="fernet_temp")
    settings.DEFAULT_PASSWORD_KEYS = [Fernet.generate_key().decode()]

    assert not check_password("sunfrog47", encoded)


@pytest.mark.django_db
def test_the_first_successful_check_rehashes_with_the_preferred_hasher(settings):
    student = StudentFactory(default_password="sunfrog47")
    assert student.password.startswith("fernet_temp$")

    assert not student.check_password("wrong")
    assert Student.objects.get(pk=student.pk).password.startswith("fernet_temp$")
    assert student.check_password("sunfrog47")

    stored = Student.objects.get(pk=student.pk).password
    assert identify_hasher(stored).algorithm == "md5"  # the tests' preferred hasher
    assert Student.objects.get(pk=student.pk).check_password("sunfrog47")


@pytest.mark.django_db
def test_rotation_reencrypts_everything_under_the_newest_key(settings):
    students = StudentFactory.create_batch(5, default_password="sunfrog47")
    old_keys = list(settings.DEFAULT_PASSWORD_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.DEFAULT_PASSWORD_KEYS = [new_key, *old_keys]

    call_command("rotate_default_password_keys", "--batch-size", "2", verbosity=0)

    settings.DEFAULT_PASSWORD_KEYS = [new_key]  # the old key is retired
    for student in Student.objects.filter(pk__in=[s.pk for s in students]):
        assert decrypt_default_password(student.default_password_encrypted) == "sunfrog47"
        assert student.check_password("sunfrog47")


@pytest.mark.django_db
def test_rotation_reports_rows_no_key_can_read_and_leaves_them_alone(settings):
    readable = StudentFactory()
    unreadable = StudentFactory(
        default_password_encrypted=Fernet(Fernet.generate_key()).encrypt(b"x").decode()
    )
    settings.DEFAULT_PASSWORD_KEYS = [
        Fernet.generate_key().decode(),
        *settings.DEFAULT_PASSWORD_KEYS,
    ]

    with pytest.raises(
        CommandError, match=rf"1 students could not be decrypted .*ids: {unreadable.pk}\)"
    ):
        call_command("rotate_default_password_keys", verbosity=0)

    assert Student.objects.get(pk=unreadable.pk).default_password_encrypted == (
        unreadable.default_password_encrypted
    )
    assert Student.objects.get(pk=readable.pk).default_password_encrypted != (
        readable.default_password_encrypted
    )
