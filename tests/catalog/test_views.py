"""The request catalog shows each user what their roles allow, and explains the rest."""

from __future__ import annotations

import pytest
from django.urls import reverse

ENTRY = "Regenerate Student Default Passwords"


@pytest.mark.django_db
def test_catalog_requires_sign_in(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["admin920", "admin010", "adminmulti"])
def test_catalog_shows_the_regeneration_entry_to_lea_administrators(client, world, username):
    client.force_login(getattr(world, username))

    response = client.get("/")

    assert ENTRY in response.text
    assert reverse("regeneration:new") in response.text
    assert "You need the" not in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["teacher", "support"])
def test_catalog_explains_how_to_obtain_the_role_to_users_without_it(client, world, username):
    client.force_login(getattr(world, username))

    response = client.get("/")

    assert reverse("regeneration:new") not in response.text
    assert "You need the" in response.text and "LEA Administrator" in response.text
    assert reverse("catalog:role_request_new") in response.text
    assert "Request a Privileged Role" in response.text


@pytest.mark.django_db
def test_catalog_points_support_staff_to_the_review_in_admin(client, world):
    client.force_login(world.support)

    response = client.get("/")

    assert "You hold the Support role" in response.text
    assert reverse("admin:index") in response.text


@pytest.mark.django_db
def test_header_shows_the_user_and_their_psus(client, world):
    client.force_login(world.adminmulti)

    response = client.get("/")

    assert "PSU 010, 32B" in response.text


@pytest.mark.django_db
def test_form_url_answers_403_with_the_explanation_to_a_user_without_the_role(client, world):
    client.force_login(world.teacher)

    response = client.get(reverse("regeneration:new"))

    assert response.status_code == 403
    assert "LEA Administrator" in response.text
