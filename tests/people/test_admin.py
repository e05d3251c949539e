"""The disclosure audit in admin: Support reads it, nobody edits or deletes it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from people.models import DefaultPasswordDisclosure
from tests.factories import UserFactory
from tests.helpers import page_text


@pytest.fixture
def revealed(client, world) -> DefaultPasswordDisclosure:
    student = world.students(world.psu920).first()
    client.force_login(world.admin920)
    client.post(reverse("people:reveal", args=[student.pk]), REMOTE_ADDR="10.1.2.3")
    client.logout()
    return DefaultPasswordDisclosure.objects.get()


@pytest.mark.django_db
def test_support_reads_who_saw_whose_password_when_and_from_where(client, world, revealed):
    client.force_login(world.support)

    changelist = client.get(reverse("admin:people_defaultpassworddisclosure_changelist"))
    searched = client.get(
        reverse("admin:people_defaultpassworddisclosure_changelist"),
        {"q": revealed.student.student_number},
    )
    filtered = client.get(
        reverse("admin:people_defaultpassworddisclosure_changelist"), {"kind__exact": "csv"}
    )

    text = page_text(changelist)
    assert "admin920" in text
    assert "Revealed on the student's page" in text
    assert str(revealed.student) in text
    assert "10.1.2.3" in text
    assert "oldpass42" not in changelist.content.decode()
    assert list(searched.context["cl"].result_list) == [revealed]
    assert list(filtered.context["cl"].result_list) == []


@pytest.mark.django_db
def test_nobody_adds_changes_or_deletes_a_disclosure(client, world, revealed):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    for user in (world.support, root):
        client.force_login(user)
        opts = "admin:people_defaultpassworddisclosure"

        add = client.get(reverse(f"{opts}_add"))
        change = client.post(reverse(f"{opts}_change", args=[revealed.pk]), {"scope": "edited"})
        delete = client.post(reverse(f"{opts}_delete", args=[revealed.pk]), {"post": "yes"})

        assert add.status_code == 403
        assert change.status_code == 403
        assert delete.status_code == 403
    revealed.refresh_from_db()
    assert revealed.scope == ""


@pytest.mark.django_db
def test_lea_administrators_cannot_open_the_audit(client, world, revealed):
    client.force_login(world.admin920)

    response = client.get(reverse("admin:people_defaultpassworddisclosure_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
