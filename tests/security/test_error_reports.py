"""Error reports never show a password. Each view that holds a plaintext password (in a
variable or a POST field) fails here at a point where the password is in hand, and the error
report Django mails to ADMINS (AdminEmailHandler, text and HTML, as in production with DEBUG
off) is searched for it. Django hides what the nearest ``sensitive_variables`` decorator up
the stack names, in every frame below it, so the failure is raised in a function called
with the password, as a bug or an outage deeper down would be."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from unittest import mock

import pytest
from django.contrib.auth.backends import ModelBackend
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.log import AdminEmailHandler

from credentials.crypto import decrypt_default_password
from people.models import Student, User
from regeneration import lifecycle
from tests.factories import STAFF_PASSWORD, RegenerationRequestFactory

HIDDEN = "********************"


class Injected(RuntimeError):
    pass


def explode(*args, **kwargs):
    """Stands for anything that fails with the password among its arguments."""
    raise Injected("a failure deeper down")


@contextmanager
def error_reports(settings):
    settings.ADMINS = [("Operator", "operator@example.org")]
    handler = AdminEmailHandler(include_html=True)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def reports() -> list[str]:
    """Each report mailed: its text and its HTML, one string."""
    assert mail.outbox, "no error report was mailed"
    return [
        message.body + "".join(content for content, _ in message.alternatives)
        for message in mail.outbox
    ]


def assert_reported_without(secrets: list[str], *, frame: str) -> None:
    for report in reports():
        assert "Injected" in report and frame in report, "not the report of this failure"
        assert HIDDEN in report, "the report hid nothing"
        for secret in secrets:
            assert secret not in report


def failing_client() -> Client:
    return Client(raise_request_exception=False)


@pytest.fixture
def finished(world):
    regeneration = RegenerationRequestFactory(requester=world.admin920, psu=world.psu920)
    lifecycle.request_run(request_id=regeneration.pk, budget_seconds=60)
    regeneration.refresh_from_db()
    assert regeneration.processed_count == 17
    return regeneration


def defaults_of_920(world) -> list[str]:
    tokens = world.students(world.psu920).values_list("default_password_encrypted", flat=True)
    return [decrypt_default_password(token) for token in tokens]


# Staff pages that show passwords -------------------------------------------------------------


@pytest.mark.django_db
def test_show_in_people_leaves_the_password_out_of_the_error_report(world, settings):
    student = world.students(world.psu920).first()
    client = failing_client()
    client.force_login(world.admin920)
    with (
        error_reports(settings),
        mock.patch("people.views.default_password_disclosure_record", explode),
    ):
        response = client.post(reverse("people:reveal", args=[student.pk]))

    assert response.status_code == 500
    assert_reported_without(["oldpass42"], frame="people_reveal")


@pytest.mark.django_db
def test_the_printable_cards_leave_the_passwords_out_of_the_error_report(world, finished, settings):
    client = failing_client()
    client.force_login(world.admin920)
    with error_reports(settings), mock.patch("regeneration.handout.render", explode):
        response = client.get(reverse("regeneration:handout_cards", args=[finished.pk]))

    assert response.status_code == 500
    assert_reported_without(defaults_of_920(world), frame="handout_cards")


@pytest.mark.django_db
def test_the_csv_handout_leaves_the_passwords_out_of_the_error_report(world, finished, settings):
    def write_first_row_then_fail(filename, header, rows):
        first_row = next(iter(rows))  # noqa: F841 -- a row in hand when the failure comes
        raise Injected("the CSV writer failed")

    client = failing_client()
    client.force_login(world.admin920)
    with (
        error_reports(settings),
        mock.patch("regeneration.handout.csv_download", write_first_row_then_fail),
    ):
        response = client.get(reverse("regeneration:handout_csv", args=[finished.pk]))

    assert response.status_code == 500
    assert_reported_without(defaults_of_920(world), frame="handout_csv")


@pytest.mark.django_db
def test_reset_to_default_leaves_the_default_out_of_the_error_report(world, settings):
    """The reset re-encrypts the student's default: the plaintext passes between the two."""
    student = world.students(world.psu920).first()
    client = failing_client()
    client.force_login(world.admin920)
    with error_reports(settings), mock.patch("people.services.encrypt_default_password", explode):
        response = client.post(reverse("people:reset_default", args=[student.pk]))

    assert response.status_code == 500
    assert_reported_without(["oldpass42"], frame="student_reset_to_default")


# Sign-in and password changes --------------------------------------------------------------


@pytest.mark.django_db
def test_student_sign_in_leaves_the_password_out_of_the_error_report(world, settings):
    student = world.students(world.psu920).first()
    with error_reports(settings), mock.patch.object(Student, "check_password", explode):
        response = failing_client().post(
            reverse("students:login"), {"username": student.username, "password": "oldpass42"}
        )

    assert response.status_code == 500
    assert_reported_without(["oldpass42"], frame="people/backends.py")


@pytest.mark.django_db
def test_the_temporary_password_hasher_leaves_both_passwords_out_of_the_error_report(
    world, settings
):
    """The stored temporary password is decrypted to compare: neither the typed password
    nor the decrypted one may show."""
    student = world.students(world.psu920).first()
    assert student.password.startswith("fernet_temp$")
    with error_reports(settings), mock.patch("credentials.hashers.constant_time_compare", explode):
        response = failing_client().post(
            reverse("students:login"), {"username": student.username, "password": "typed-guess"}
        )

    assert response.status_code == 500
    assert_reported_without(["typed-guess", "oldpass42"], frame="credentials/hashers.py")


@pytest.mark.django_db
def test_the_students_password_change_leaves_every_password_out_of_the_error_report(
    world, settings
):
    student = world.students(world.psu920).first()
    client = failing_client()
    client.post(reverse("students:login"), {"username": student.username, "password": "oldpass42"})
    chosen = "Purple-Giraffe-Kite-72"
    with (
        error_reports(settings),
        mock.patch("people.forms.password_validation.validate_password", explode),
    ):
        response = client.post(
            reverse("students:password_change"),
            {"current_password": "oldpass42", "new_password1": chosen, "new_password2": chosen},
        )

    assert response.status_code == 500
    assert_reported_without(["oldpass42", chosen], frame="clean_new_password2")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_staff_sign_in_leaves_the_password_out_of_the_error_report(world, settings, url):
    with error_reports(settings), mock.patch.object(User, "check_password", explode):
        response = failing_client().post(url, {"username": "admin920", "password": STAFF_PASSWORD})

    assert response.status_code == 500
    assert_reported_without([STAFF_PASSWORD], frame="authenticate")


@pytest.mark.django_db
def test_the_staff_password_change_leaves_the_passwords_out_of_the_error_report(world, settings):
    client = failing_client()
    client.force_login(world.admin920)
    chosen = "Another-Staff-Pass-93"
    with error_reports(settings), mock.patch.object(User, "check_password", explode):
        response = client.post(
            reverse("password_change"),
            {"old_password": STAFF_PASSWORD, "new_password1": chosen, "new_password2": chosen},
        )

    assert response.status_code == 500
    assert_reported_without([STAFF_PASSWORD, chosen], frame="clean_old_password")


@pytest.mark.django_db
def test_staff_backends_hide_what_they_hold_below_djangos_own_authenticate(world, settings):
    """Django's ``authenticate`` hides only its ``credentials``; the backends it calls hold
    the password under other names."""
    with (
        error_reports(settings),
        mock.patch.object(ModelBackend, "user_can_authenticate", explode),
    ):
        response = failing_client().post(
            reverse("login"), {"username": "admin920", "password": STAFF_PASSWORD}
        )

    assert response.status_code == 500
    assert_reported_without([STAFF_PASSWORD], frame="user_can_authenticate")
