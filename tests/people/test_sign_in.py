"""Whether a password signs a student in now, and why not, from the credential state alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from people.models import Student
from people.sign_in import Reason, current_default_signs_in, password_signs_in

NOW = timezone.now()


def student(**state) -> Student:
    defaults = {
        "is_active": True,
        "default_request_number": 7,
        "default_password_set_at": NOW - timedelta(days=2),
        "login_source": Student.LoginSource.REQUEST,
        "login_request_number": 7,
        "login_set_at": NOW - timedelta(days=2),
        "temporary_password_set_at": None,
    }
    return Student(**{**defaults, **state})


def test_the_password_the_login_holds_signs_in():
    answer = password_signs_in(student(), generation=7, made_at=NOW - timedelta(days=2), now=NOW)

    assert (answer.signs_in, answer.word, answer.note) == (True, "yes", "")


def test_a_replaced_default_still_signs_in_and_says_a_reset_would_give_the_newer_one():
    answer = password_signs_in(
        student(default_request_number=9), generation=7, made_at=NOW - timedelta(days=2), now=NOW
    )

    assert answer.signs_in
    assert answer.note.startswith("The default password was replaced by request #9 on ")


@pytest.mark.parametrize(
    ("state", "reason", "note"),
    [
        (
            {"login_source": "own", "login_request_number": None},
            Reason.OWN_PASSWORD,
            "The student chose their own password on ",
        ),
        (
            {"login_request_number": 9, "login_set_at": NOW},
            Reason.REPLACED,
            "Replaced by request #9.",
        ),
        ({"is_active": False}, Reason.INACTIVE, "The account is inactive."),
        ({"temporary_password_set_at": NOW - timedelta(days=31)}, Reason.EXPIRED, "Expired on "),
        (
            {
                "login_source": "created",
                "login_request_number": None,
                "login_set_at": NOW - timedelta(days=9),
            },
            Reason.NOT_RESET,
            "The login password was not reset by this request",
        ),
    ],
)
def test_every_no_says_why(state, reason, note, settings):
    settings.TEMPORARY_PASSWORD_EXPIRY_DAYS = 30

    answer = password_signs_in(
        student(**state), generation=7, made_at=NOW - timedelta(days=2), now=NOW
    )

    assert (answer.signs_in, answer.reason) == (False, reason)
    assert answer.note.startswith(note)


def test_the_account_s_first_default_is_its_own_generation():
    created = student(
        default_request_number=None, login_source="created", login_request_number=None
    )

    assert current_default_signs_in(created, now=NOW).signs_in


def test_the_record_says_a_default_only_default_is_not_the_login_password():
    default_only = student(default_request_number=9, default_password_set_at=NOW)

    answer = current_default_signs_in(default_only, now=NOW)

    assert not answer.signs_in
    assert answer.note.startswith("It is not the login password")
