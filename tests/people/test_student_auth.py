"""Student sign-in, apart from staff: the forced change after a reset, sessions ended by a
reset, expiry of unused temporary passwords, and per-account throttling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import MD5PasswordHasher
from django.urls import reverse
from django.utils import timezone

from credentials.crypto import decrypt_default_password
from people.models import Student
from tests.helpers import field_errors, page_text, request_through_views

CHOSEN = "Purple-Giraffe-Kite-72"


def sign_in(client, username: str, password: str):
    return client.post(reverse("students:login"), {"username": username, "password": password})


def change_password(client, current: str, new: str, again: str | None = None):
    return client.post(
        reverse("students:password_change"),
        {"current_password": current, "new_password1": new, "new_password2": again or new},
    )


def login_errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


@pytest.fixture
def student(world) -> Student:
    return world.students(world.psu920).filter(campus=world.elementary, grade="5").first()


# Sign-in -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_sign_in_upgrades_the_temporary_hash_and_records_the_sign_in(client, student):
    assert student.password.startswith("fernet_temp$")
    Student.objects.filter(pk=student.pk).update(temporary_password_set_at=timezone.now())

    response = sign_in(client, student.username.upper() + " ", "oldpass42")

    assert response["Location"] == reverse("students:home")
    home = client.get(reverse("students:home"))
    assert f"You are signed in as {student.username}." in page_text(home)
    student.refresh_from_db()
    assert not student.password.startswith("fernet_temp$")
    assert student.check_password("oldpass42")
    assert student.temporary_password_set_at is None
    assert student.last_login is not None


@pytest.mark.django_db
def test_wrong_password_or_unknown_student_gets_one_plain_message(client, student):
    wrong = sign_in(client, student.username, "not-it")
    unknown = sign_in(client, "nobody", "oldpass42")

    message = "That username and password do not match. Check them and try again."
    assert login_errors(wrong) == [message]
    assert login_errors(unknown) == [message]
    assert client.get(reverse("students:home"))["Location"].startswith(reverse("students:login"))


@pytest.mark.django_db
def test_student_pages_show_no_staff_navigation(client, student):
    sign_in(client, student.username, "oldpass42")

    text = page_text(client.get(reverse("students:home")))

    assert "Request catalog" not in text and "My requests" not in text and "People" not in text
    assert f"Student · {student.username}" in text


@pytest.mark.django_db
def test_a_student_cannot_sign_in_on_the_staff_page_nor_a_staff_member_on_the_students(
    client, world, student
):
    staff_page = client.post(
        reverse("login"), {"username": student.username, "password": "oldpass42"}
    )
    student_page = sign_in(client, "admin920", "Staff-Test-Pass-1")

    assert staff_page.status_code == 200 and "_auth_user_id" not in client.session
    assert login_errors(student_page)
    assert client.get(reverse("catalog:index"))["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_sign_out_ends_the_student_session(client, student):
    sign_in(client, student.username, "oldpass42")

    response = client.post(reverse("students:logout"))

    assert response["Location"] == reverse("students:login")
    assert client.get(reverse("students:home"))["Location"].startswith(reverse("students:login"))


# The forced change, after a reset through a real request -----------------------------------


@pytest.mark.django_db(transaction=True)
def test_forced_change_after_a_reset_from_old_password_to_a_password_of_their_own(
    client, world, student, finish_requests
):
    admin = client.__class__()
    admin.force_login(world.admin920)
    request_through_views(
        admin,
        psu_code="920",
        campus_codes="920304",
        grade_levels="5",
        reset_current_passwords="on",
        force_password_change="on",
        finish=finish_requests,
    )
    student.refresh_from_db()
    new_default = decrypt_default_password(student.default_password_encrypted)

    # The old password no longer works; the new default does, and leads to the change page.
    assert login_errors(sign_in(client, student.username, "oldpass42"))
    response = sign_in(client, student.username, new_default)
    assert response["Location"] == reverse("students:home")
    home = client.get(reverse("students:home"))
    assert home["Location"] == reverse("students:password_change")
    page = client.get(reverse("students:password_change"))
    assert "Choose a new password" in page_text(page)

    # The default, a mismatch, a common password and a wrong current password are refused.
    assert field_errors(change_password(client, new_default, new_default), "new_password2") == [
        "Choose a password of your own: the new password must be different from the "
        "password your teacher gave you."
    ]
    assert field_errors(
        change_password(client, new_default, CHOSEN, "something-else"), "new_password2"
    ) == ["The two new passwords are not the same."]
    assert field_errors(change_password(client, new_default, "password123"), "new_password2") == [
        "This password is too common."
    ]
    assert field_errors(change_password(client, "guess", CHOSEN), "current_password") == [
        "Your current password is not right. Type the password you signed in with."
    ]
    student.refresh_from_db()
    assert student.must_change_password

    # A good password: the flag clears and the signed-in page shows.
    response = change_password(client, new_default, CHOSEN)
    assert response["Location"] == reverse("students:home")
    home = client.get(reverse("students:home"))
    assert "Your new password is set." in page_text(home)
    assert f"You are signed in as {student.username}." in page_text(home)
    student.refresh_from_db()
    assert not student.must_change_password
    assert not student.password.startswith("fernet_temp$")

    # Next time, the chosen password works and the default no longer does.
    client.post(reverse("students:logout"))
    assert login_errors(sign_in(client, student.username, new_default))
    assert sign_in(client, student.username, CHOSEN)["Location"] == reverse("students:home")
    assert client.get(reverse("students:home")).status_code == 200


@pytest.mark.django_db
def test_change_page_with_errors_summarises_them_instead_of_focusing_the_first_field(
    client, student
):
    sign_in(client, student.username, "oldpass42")
    fresh = client.get(reverse("students:password_change"))

    refused = change_password(client, "oldpass42", CHOSEN, "something-else")

    assert "autofocus" in fresh.text and 'id="form-errors"' not in fresh.text
    assert "autofocus" not in refused.text
    assert 'id="form-errors"' in refused.text
    assert "Your password was not changed. Correct the 1 field marked below." in page_text(refused)
    assert '<a href="#id_new_password2">New password again</a>' in refused.text


@pytest.mark.django_db(transaction=True)
def test_a_reset_ends_the_students_open_session(client, world, student, finish_requests):
    sign_in(client, student.username, "oldpass42")
    assert client.get(reverse("students:home")).status_code == 200
    admin = client.__class__()
    admin.force_login(world.admin920)

    request_through_views(
        admin,
        psu_code="920",
        campus_codes="920304",
        grade_levels="5",
        reset_current_passwords="on",
        finish=finish_requests,
    )

    response = client.get(reverse("students:home"))
    assert response["Location"] == f"{reverse('students:login')}?next=/student/"


@pytest.mark.django_db(transaction=True)
def test_a_regeneration_without_reset_keeps_the_session_and_the_password(
    client, world, student, finish_requests
):
    sign_in(client, student.username, "oldpass42")
    admin = client.__class__()
    admin.force_login(world.admin920)

    request_through_views(
        admin, psu_code="920", campus_codes="920304", grade_levels="5", finish=finish_requests
    )

    assert client.get(reverse("students:home")).status_code == 200
    client.post(reverse("students:logout"))
    assert sign_in(client, student.username, "oldpass42")["Location"] == reverse("students:home")


@pytest.mark.django_db
def test_a_student_who_must_change_can_reach_nothing_but_the_change_and_sign_out(client, student):
    Student.objects.filter(pk=student.pk).update(must_change_password=True)
    sign_in(client, student.username, "oldpass42")

    assert client.get(reverse("students:home"))["Location"] == reverse("students:password_change")
    assert client.get(reverse("students:password_change")).status_code == 200
    assert client.post(reverse("students:logout"))["Location"] == reverse("students:login")


# Expiry of unused temporary passwords ---------------------------------------------------------


def age_temporary_password(student: Student, days: int) -> None:
    Student.objects.filter(pk=student.pk).update(
        temporary_password_set_at=timezone.now() - timedelta(days=days)
    )


@pytest.mark.django_db
def test_an_unused_temporary_password_expires_and_the_student_is_told_to_ask_their_teacher(
    client, student, settings
):
    settings.TEMPORARY_PASSWORD_EXPIRY_DAYS = 30
    age_temporary_password(student, 31)

    right = sign_in(client, student.username, "oldpass42")
    wrong = sign_in(client, student.username, "not-it")

    assert login_errors(right) == [
        "This password has expired: it was given to you more than 30 days ago and never "
        "used. Ask your teacher for a new one."
    ]
    assert login_errors(wrong) == [
        "That username and password do not match. Check them and try again."
    ]
    assert client.get(reverse("students:home"))["Location"].startswith(reverse("students:login"))
    student.refresh_from_db()
    assert student.password.startswith("fernet_temp$")  # never upgraded into a lasting hash


@pytest.mark.django_db
def test_a_temporary_password_within_its_days_or_with_expiry_off_still_works(
    client, student, settings
):
    settings.TEMPORARY_PASSWORD_EXPIRY_DAYS = 30
    age_temporary_password(student, 29)
    assert sign_in(client, student.username, "oldpass42")["Location"] == reverse("students:home")

    client.post(reverse("students:logout"))
    settings.TEMPORARY_PASSWORD_EXPIRY_DAYS = 0
    age_temporary_password(student, 400)
    assert sign_in(client, student.username, "oldpass42")["Location"] == reverse("students:home")


# Throttling per account ---------------------------------------------------------------------


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_for_the_cool_off_even_with_the_right_password(
    client, world, student, settings
):
    limit = settings.AXES_FAILURE_LIMIT
    classmate = world.students(world.psu920).exclude(pk=student.pk).first()
    for _ in range(limit - 1):
        assert login_errors(sign_in(client, student.username, "wrong"))

    locked = sign_in(client, student.username, "wrong")
    right_but_locked = sign_in(client, student.username, "oldpass42")

    for response in (locked, right_but_locked):
        assert response.status_code == 429
        assert "This account is locked for 15 minutes after too many failed sign-ins." in page_text(
            response
        )
    assert client.get(reverse("students:home"))["Location"].startswith(reverse("students:login"))
    # Per account, not per address: a classmate at the same computer still signs in.
    assert sign_in(client, classmate.username, "oldpass42")["Location"] == reverse("students:home")
    client.post(reverse("students:logout"))

    # After the cool-off the right password works again, and the failures are forgotten.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert sign_in(client, student.username, "oldpass42")["Location"] == reverse("students:home")
    assert not AccessAttempt.objects.filter(username=f"student:{student.username}").exists()


@pytest.mark.django_db
def test_a_locked_student_does_not_lock_a_staff_member_of_the_same_name(client, world, settings):
    Student.objects.filter(pk=world.students().first().pk).update(username="admin920")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "admin920", "wrong")

    response = client.post(
        reverse("login"), {"username": "admin920", "password": "Staff-Test-Pass-1"}
    )

    assert response["Location"] == reverse("catalog:index")


@pytest.mark.django_db
def test_a_student_signing_in_on_a_staff_members_browser_signs_the_staff_member_out(
    client, world, student
):
    client.force_login(world.admin920)

    sign_in(client, student.username, "oldpass42")

    assert client.get(reverse("people:list"))["Location"].startswith(reverse("login"))
    assert client.get(reverse("students:home")).status_code == 200


class CountingHasher(MD5PasswordHasher):
    """The preferred hasher, counting how often a full hash is computed."""

    algorithm = "counting_md5"
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.mark.django_db
def test_a_wrong_password_costs_a_full_hash_whether_or_not_the_username_exists(
    client, student, settings
):
    """Temporary passwords are checked in microseconds; without an extra hash on failure the
    time of the answer would reveal which usernames exist."""
    settings.PASSWORD_HASHERS = [
        "tests.people.test_student_auth.CountingHasher",
        "credentials.hashers.EncryptedTemporaryPasswordHasher",
    ]
    costs = {}
    for username in (student.username, "nobody-by-this-name"):
        CountingHasher.calls = 0
        sign_in(client, username, "wrong-password")
        costs[username] = CountingHasher.calls

    assert costs == {student.username: 1, "nobody-by-this-name": 1}
    assert Student.objects.get(pk=student.pk).password.startswith("fernet_temp$")


@pytest.mark.django_db
def test_wrong_current_passwords_on_the_change_page_lock_the_account(client, student, settings):
    sign_in(client, student.username, "oldpass42")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = change_password(client, "no", CHOSEN)
        assert "Your current password is not right." in page_text(wrong)

    locked = change_password(client, "nope", CHOSEN)
    right_but_locked = change_password(client, "oldpass42", CHOSEN)
    elsewhere = sign_in(client.__class__(), student.username, "oldpass42")

    for response in (locked, right_but_locked, elsewhere):
        assert response.status_code == 429
        assert "This account is locked for 15 minutes" in page_text(response)
    assert Student.objects.get(pk=student.pk).check_password("oldpass42")
    # What axes keeps of the attempts masks every password field.
    stored = " ".join(AccessAttempt.objects.values_list("post_data", flat=True))
    assert "current_password=********************" in stored
    assert CHOSEN not in stored and "nope" not in stored


@pytest.mark.django_db
def test_the_right_current_password_forgets_the_accounts_earlier_failures(client, student):
    sign_in(client, student.username, "oldpass42")
    change_password(client, "not-it", CHOSEN)
    assert AccessAttempt.objects.filter(username=f"student:{student.username}").exists()

    response = change_password(client, "oldpass42", CHOSEN)

    assert response["Location"] == reverse("students:home")
    assert not AccessAttempt.objects.filter(username=f"student:{student.username}").exists()


@pytest.mark.django_db
def test_a_staff_sign_in_on_a_students_browser_signs_the_student_out(client, world, student):
    sign_in(client, student.username, "oldpass42")
    assert client.get(reverse("students:home")).status_code == 200

    response = client.post(
        reverse("login"), {"username": "admin920", "password": "Staff-Test-Pass-1"}
    )

    assert response["Location"] == reverse("catalog:index")
    assert client.get(reverse("students:home"))["Location"].startswith(reverse("students:login"))
    assert client.get(reverse("catalog:index")).status_code == 200
