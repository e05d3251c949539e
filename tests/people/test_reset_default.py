"""*Reset to default password* from a student's record: a confirm step, the option to force a
change, sessions ended, the history and admin recording it, and scoped like People."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from credentials.crypto import decrypt_default_password
from people.models import CredentialEvent, Student
from tests.helpers import page_text


def default_of(student: Student) -> str:
    return decrypt_default_password(student.default_password_encrypted)


@pytest.fixture
def own_password_student(world):
    """A student of 920 who signed in and chose their own password."""
    from people.services import student_password_change

    student = world.students(world.psu920).first()
    student_password_change(student=student, new_password="Chosen-by-me-2026")
    return Student.objects.get(pk=student.pk)


@pytest.mark.django_db
def test_the_confirm_step_names_the_student_and_changes_nothing(
    admin920_client, own_password_student
):
    url = reverse("people:reset_default", args=[own_password_student.pk])

    page = admin920_client.get(url)

    assert "Reset to default password" in page_text(page)
    assert own_password_student.first_name in page_text(page)
    assert "every session the student has open ends now" in page_text(page)
    assert "Force password change at next login" in page_text(page)
    own_password_student.refresh_from_db()
    assert own_password_student.check_password("Chosen-by-me-2026")


@pytest.mark.django_db
@pytest.mark.parametrize("force", [True, False])
def test_the_reset_makes_the_default_the_login_password_and_records_it(
    admin920_client, world, own_password_student, force
):
    url = reverse("people:reset_default", args=[own_password_student.pk])

    response = admin920_client.post(url, {"force_password_change": "on"} if force else {})

    assert response["Location"] == reverse("people:detail", args=[own_password_student.pk])
    student = Student.objects.get(pk=own_password_student.pk)
    assert student.check_password(default_of(student))
    assert not student.check_password("Chosen-by-me-2026")
    assert student.must_change_password is force
    assert student.login_source == Student.LoginSource.RESET_TO_DEFAULT
    assert student.login_is_default and not student.signed_in_since_reset
    event = CredentialEvent.objects.get(kind=CredentialEvent.Kind.RESET_TO_DEFAULT)
    assert (event.student, event.actor, event.must_change) == (student, world.admin920, force)
    record = page_text(admin920_client.get(response["Location"]))
    assert "Signs in now Yes: it is the login password, since" in record
    assert "Login password reset to the default password" in record


@pytest.mark.django_db
def test_the_reset_ends_the_students_open_sessions(admin920_client, world):
    student = world.students(world.psu920).first()
    browser = Client()  # the student's own
    browser.post(reverse("students:login"), {"username": student.username, "password": "oldpass42"})
    assert browser.get(reverse("students:home")).status_code == 200

    admin920_client.post(reverse("people:reset_default", args=[student.pk]))

    assert browser.get(reverse("students:home"))["Location"].startswith(reverse("students:login"))


@pytest.mark.django_db
def test_a_student_of_another_psu_cannot_be_reset(client, world):
    student = world.students(world.psu920).first()
    before = student.password
    client.force_login(world.admin010)

    for method in (client.get, client.post):
        assert method(reverse("people:reset_default", args=[student.pk])).status_code == 404
    client.force_login(world.teacher)
    assert client.post(reverse("people:reset_default", args=[student.pk])).status_code == 403
    assert Student.objects.get(pk=student.pk).password == before
    assert not CredentialEvent.objects.exists()


@pytest.mark.django_db
def test_an_undecryptable_default_is_not_made_the_login_password(
    admin920_client, own_password_student, settings
):
    from cryptography.fernet import Fernet

    settings.DEFAULT_PASSWORD_KEYS = [Fernet.generate_key().decode()]

    response = admin920_client.post(reverse("people:reset_default", args=[own_password_student.pk]))

    assert response.status_code == 503
    assert (
        "A default password cannot be decrypted with the keys in DEFAULT_PASSWORD_KEYS"
        in page_text(response)
    )
    assert own_password_student.default_password_encrypted not in response.content.decode()
    assert Student.objects.get(pk=own_password_student.pk).password == own_password_student.password


@pytest.mark.django_db
def test_people_filters_on_signed_in_since_the_last_reset(admin920_client, world):
    signed_in = list(world.students(world.psu920)[:3])
    Student.objects.filter(psu=world.psu920).exclude(pk__in=[s.pk for s in signed_in]).update(
        temporary_password_set_at="2026-11-30T10:00:00Z"
    )

    yes = admin920_client.get(reverse("people:list"), {"signed_in": "yes"})
    no = admin920_client.get(reverse("people:list"), {"signed_in": "no"})

    assert {s.pk for s in yes.context["page"]} == {s.pk for s in signed_in}
    assert no.context["page"].paginator.count == 14
    assert "Signed in since the last reset" in page_text(yes)
