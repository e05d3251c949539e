"""Key rotation of the students' stored passwords."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from credentials.crypto import (
    decrypt_default_password,
)
from people.models import Student
from tests.factories import StudentFactory


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
        CommandError, match=rf"A default password cannot be decrypted .*ids: {unreadable.pk}\)"
    ):
        call_command("rotate_default_password_keys", verbosity=0)

    assert Student.objects.get(pk=unreadable.pk).default_password_encrypted == (
        unreadable.default_password_encrypted
    )
    assert Student.objects.get(pk=readable.pk).default_password_encrypted != (
        readable.default_password_encrypted
    )
