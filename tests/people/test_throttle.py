"""The per-address failure budget beside the per-account lockout: spraying one guess over
many accounts from one address is refused after SIGNIN_ADDRESS_FAILURE_LIMIT failures an
hour, for student sign-in, staff sign-in and the change-password page alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from people.models import SignInFailure, Student
from tests.factories import STAFF_PASSWORD, StudentFactory
from tests.helpers import page_text

SCHOOL = "203.0.113.10"
ELSEWHERE = "198.51.100.20"
LIMIT = 10
PAUSED = "Too many failed sign-ins from this network"


@pytest.fixture(autouse=True)
def small_budget(settings):
    settings.SIGNIN_ADDRESS_FAILURE_LIMIT = LIMIT


@pytest.fixture
def classmates(world) -> list[Student]:
    return StudentFactory.create_batch(30, campus=world.elementary, grade="0")


def student_sign_in(client, username: str, password: str, address: str = SCHOOL, **headers):
    return client.post(
        reverse("students:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def staff_sign_in(client, username: str, password: str, address: str = SCHOOL):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def refused_for_the_address(response) -> bool:
    return response.status_code == 429 and PAUSED in page_text(response)


@pytest.mark.django_db
def test_one_guess_on_each_of_many_accounts_is_refused_once_the_address_used_its_budget(
    client, classmates
):
    answers = [student_sign_in(client, s.username, "sunfrog47") for s in classmates]

    answered = [r for r in answers if r.status_code == 200]
    refused = [r for r in answers if refused_for_the_address(r)]
    assert len(answered) == LIMIT
    assert all("do not match" in page_text(r) for r in answered)
    assert len(refused) == len(classmates) - LIMIT
    # The refused guesses were never checked, so they count against no account.
    assert AccessAttempt.objects.count() == LIMIT
    assert SignInFailure.objects.filter(address=SCHOOL).count() == LIMIT


@pytest.mark.django_db
def test_over_the_budget_the_right_password_is_refused_too_but_not_from_another_address(
    client, classmates
):
    for student in classmates[:LIMIT]:
        student_sign_in(client, student.username, "wrong")
    student = classmates[-1]

    from_school = student_sign_in(client, student.username, "oldpass42")
    from_elsewhere = student_sign_in(client.__class__(), student.username, "oldpass42", ELSEWHERE)

    assert refused_for_the_address(from_school)
    assert client.get(reverse("students:home"))["Location"].startswith(reverse("students:login"))
    assert from_elsewhere["Location"] == reverse("students:home")


@pytest.mark.django_db
def test_the_page_says_when_to_try_again_and_trying_meanwhile_does_not_push_it_back(
    client, classmates
):
    for student in classmates[:LIMIT]:
        student_sign_in(client, student.username, "wrong")
    oldest = SignInFailure.objects.order_by("at").first().at
    expected = timezone.localtime(oldest + timedelta(hours=1))

    first = student_sign_in(client, classmates[LIMIT].username, "wrong")
    again = student_sign_in(client, classmates[LIMIT + 1].username, "wrong")

    for response in (first, again):
        assert f"Try again after {expected:%-I:%M %p} (in 60 minutes)." in page_text(response)
        assert 3590 <= int(response["Retry-After"]) <= 3600
        assert "Your account is not locked." in page_text(response)
    assert SignInFailure.objects.count() == LIMIT


@pytest.mark.django_db
def test_the_budget_comes_back_as_the_hours_failures_age_out(client, classmates):
    for student in classmates[:LIMIT]:
        student_sign_in(client, student.username, "wrong")
    assert refused_for_the_address(student_sign_in(client, classmates[-1].username, "oldpass42"))

    SignInFailure.objects.update(at=timezone.now() - timedelta(hours=1, seconds=1))
    response = student_sign_in(client, classmates[-1].username, "oldpass42")

    assert response["Location"] == reverse("students:home")


@pytest.mark.django_db
def test_failures_older_than_the_hour_are_forgotten_when_new_ones_come(client, classmates):
    SignInFailure.objects.create(address=ELSEWHERE, at=timezone.now() - timedelta(hours=2))

    student_sign_in(client, classmates[0].username, "wrong")

    assert list(SignInFailure.objects.values_list("address", flat=True)) == [SCHOOL]


@pytest.mark.django_db
def test_staff_sign_in_counts_against_the_same_budget_and_is_refused_over_it(
    client, world, classmates
):
    for student in classmates[: LIMIT - 1]:
        student_sign_in(client, student.username, "wrong")
    assert staff_sign_in(client, "nobody-on-staff", "wrong").status_code == 200

    response = staff_sign_in(client, "admin920", STAFF_PASSWORD)

    assert refused_for_the_address(response)
    assert "Back to the staff sign-in" in page_text(response)
    assert "_auth_user_id" not in client.session
    assert staff_sign_in(client, "admin920", STAFF_PASSWORD, ELSEWHERE).status_code == 302


@pytest.mark.django_db
def test_wrong_current_passwords_on_the_change_page_count_against_the_address(client, classmates):
    student = classmates[0]
    assert student_sign_in(client, student.username, "oldpass42").status_code == 302
    for student_elsewhere in classmates[1:LIMIT]:
        student_sign_in(client.__class__(), student_elsewhere.username, "wrong")

    wrong = change_password(client, "not-my-password")
    right = change_password(client, "oldpass42")

    assert "Your current password is not right." in page_text(wrong)
    assert refused_for_the_address(right)
    assert Student.objects.get(pk=student.pk).check_password("oldpass42")


def change_password(client, current: str, address: str = SCHOOL):
    new = "Purple-Giraffe-Kite-72"
    return client.post(
        reverse("students:password_change"),
        {"current_password": current, "new_password1": new, "new_password2": new},
        REMOTE_ADDR=address,
    )


@pytest.mark.django_db
def test_a_forwarded_for_header_changes_nothing_without_a_trusted_proxy(client, classmates):
    for number, student in enumerate(classmates[:LIMIT]):
        student_sign_in(client, student.username, "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")

    response = student_sign_in(
        client, classmates[-1].username, "oldpass42", HTTP_X_FORWARDED_FOR="192.0.2.99"
    )

    assert refused_for_the_address(response)
    assert set(SignInFailure.objects.values_list("address", flat=True)) == {SCHOOL}


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_budget(client, classmates, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for student in classmates[:LIMIT]:
        student_sign_in(
            client, student.username, "wrong", proxy, HTTP_X_FORWARDED_FOR=f"6.6.6.6, {SCHOOL}"
        )

    same_school = student_sign_in(
        client, classmates[-2].username, "oldpass42", proxy, HTTP_X_FORWARDED_FOR=SCHOOL
    )
    other_school = student_sign_in(
        client.__class__(),
        classmates[-1].username,
        "oldpass42",
        proxy,
        HTTP_X_FORWARDED_FOR=f"{SCHOOL}, {ELSEWHERE}",
    )

    assert refused_for_the_address(same_school)
    assert other_school["Location"] == reverse("students:home")
    assert set(SignInFailure.objects.values_list("address", flat=True)) == {SCHOOL}
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {SCHOOL}


@pytest.mark.django_db
def test_a_right_password_between_guesses_does_not_renew_the_addresss_budget(client, classmates):
    known = classmates[0]
    for student in classmates[1:LIMIT]:
        student_sign_in(client, student.username, "wrong")
    assert student_sign_in(client, known.username, "oldpass42")["Location"] == reverse(
        "students:home"
    )
    client.post(reverse("students:logout"))

    last_guess = student_sign_in(client, classmates[LIMIT].username, "wrong")
    next_guess = student_sign_in(client, classmates[LIMIT + 1].username, "wrong")

    assert "do not match" in page_text(last_guess)
    assert refused_for_the_address(next_guess)
