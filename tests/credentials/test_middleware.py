"""A password no configured key decrypts, wherever a view meets it, answers 503 with the one
message naming DEFAULT_PASSWORD_KEYS: never a stack trace, a bare 500 or the ciphertext."""

from __future__ import annotations

import pytest
from django.urls import reverse

from people.models import DefaultPasswordDisclosure
from regeneration import lifecycle
from tests.factories import RegenerationRequestFactory
from tests.helpers import page_text


@pytest.fixture
def finished(world):
    regeneration = RegenerationRequestFactory(requester=world.admin920, psu=world.psu920)
    lifecycle.request_run(request_id=regeneration.pk, budget_seconds=60)
    return regeneration


@pytest.mark.django_db
@pytest.mark.parametrize("view", ["regeneration:handout_csv", "regeneration:handout_cards"])
def test_with_every_key_gone_the_handouts_answer_503_naming_the_setting(
    admin920_client, world, finished, settings, view
):
    settings.DEFAULT_PASSWORD_KEYS = []

    response = admin920_client.get(reverse(view, args=[finished.pk]))

    assert response.status_code == 503
    text = page_text(response)
    assert "Passwords cannot be read right now" in text
    assert "cannot be decrypted with the keys in DEFAULT_PASSWORD_KEYS" in text
    assert "Traceback" not in text and "gAAAA" not in response.content.decode()
    assert "Back to the request catalog" in text
    assert DefaultPasswordDisclosure.objects.count() == 0
