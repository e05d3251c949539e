"""The temporary-password hasher: never preferred, re-hashed at the first sign-in."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.hashers import check_password, identify_hasher, make_password

from people.models import Student
from tests.factories import StudentFactory


def test_temporary_hasher_verifies_in_constant_time_and_is_never_preferred(settings):
    encoded = make_password("sunfrog47", hasher="fernet_temp")

    assert encoded.startswith("fernet_temp$")
    assert "sunfrog47" not in encoded
    assert check_password("sunfrog47", encoded)
    assert not check_password("sunfrog48", encoded)
    assert settings.PASSWORD_HASHERS[-1] == "credentials.hashers.EncryptedTemporaryPasswordHasher"
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
