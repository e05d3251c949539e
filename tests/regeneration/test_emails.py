"""The requester's email when a request has finished."""

from __future__ import annotations

import pytest
from django.core import mail

from credentials.crypto import decrypt_default_password
from regeneration import emails
from regeneration.models import RegenerationRequest
from tests.regeneration.helpers import make_request, run

Status = RegenerationRequest.Status


@pytest.mark.django_db
def test_requester_is_emailed_the_outcome_without_any_password(world):
    regeneration = run(make_request(world, reset_current_passwords=True))
    new_defaults = [
        decrypt_default_password(s.default_password_encrypted) for s in world.students(world.psu920)
    ]

    emails.request_notify(request_id=regeneration.pk)

    message = mail.outbox[-1]
    assert message.to == ["admin920@example.org"]
    assert message.subject == f"Request #{regeneration.pk} for PSU 920: Completed"
    assert "Default passwords changed: 17" in message.body
    assert f"/requests/{regeneration.pk}/" in message.body
    assert not any(password in message.body for password in new_defaults)
