"""A poll does not renew the staff session's idle timeout; every page still does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from tests.factories import RegenerationRequestFactory


def session_expiry(client) -> timezone.datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def session_expiry_moved_back(client, by: timedelta) -> None:
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() + timedelta(minutes=30) - by
    )


@pytest.mark.django_db
def test_polling_a_request_s_progress_leaves_the_session_s_expiry_alone(admin920_client, world):
    regeneration = RegenerationRequestFactory(requester=world.admin920, psu=world.psu920)
    admin920_client.get(reverse("regeneration:list"))
    session_expiry_moved_back(admin920_client, timedelta(minutes=10))
    before = session_expiry(admin920_client)

    answer = admin920_client.get(reverse("regeneration:progress", args=[regeneration.pk]))

    assert answer.status_code == 200 and answer.json()["status"] == "queued"
    assert session_expiry(admin920_client) == before


@pytest.mark.django_db
def test_opening_a_page_renews_the_session(admin920_client, world):
    regeneration = RegenerationRequestFactory(requester=world.admin920, psu=world.psu920)
    admin920_client.get(reverse("regeneration:list"))
    session_expiry_moved_back(admin920_client, timedelta(minutes=10))
    before = session_expiry(admin920_client)

    admin920_client.get(regeneration.get_absolute_url())

    assert session_expiry(admin920_client) > before + timedelta(minutes=9)
