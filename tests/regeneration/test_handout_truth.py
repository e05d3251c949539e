"""Every password a handout shows is the one its request set, and the handout says whether it
signs the student in now, and why not, across later requests, resets to the default and the
students' own changes."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from credentials.crypto import decrypt_default_password
from people.history import student_history
from people.models import Student
from people.services import student_password_change, student_reset_to_default
from regeneration.models import RegenerationRequest
from tests.helpers import page_text
from tests.regeneration.helpers import make_request, run

CSV_HEADER = [
    "Student number",
    "Last name",
    "First name",
    "Username",
    "Password",
    "Campus",
    "Grade",
    "Signs in",
    "Note",
    "Teacher",
    "Class",
]


def handout(client, regeneration: RegenerationRequest) -> dict[str, dict[str, str]]:
    """The request's CSV, by username."""
    response = client.get(reverse("regeneration:handout_csv", args=[regeneration.pk]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(body)))
    assert header == CSV_HEADER
    return {row[3]: dict(zip(header, row, strict=True)) for row in rows}


def signs_in(username: str, password: str) -> bool:
    return Student.objects.get(username=username).check_password(password)


@pytest.fixture
def two_requests(world, admin920_client):
    """Request #1 (reset + force) over campus 920304 grade 5, then request #2 (default only)
    over the whole PSU; #1's CSV downloaded once before #2."""
    first = run(
        make_request(
            world,
            campus_codes=["920304"],
            grade_levels=["5"],
            reset_current_passwords=True,
            force_password_change=True,
        )
    )
    before = handout(admin920_client, first)
    second = run(make_request(world))
    return first, second, before


@pytest.mark.django_db
def test_a_later_default_only_request_does_not_change_what_the_first_handed_out(
    admin920_client, two_requests
):
    first, second, before = two_requests

    after = handout(admin920_client, first)

    assert len(after) == 6
    assert {u: row["Password"] for u, row in after.items()} == {
        u: row["Password"] for u, row in before.items()
    }
    for username, row in after.items():
        assert signs_in(username, row["Password"])
        assert row["Signs in"] == "yes"
        assert row["Note"].startswith(f"The default password was replaced by request #{second.pk}")
        assert "still signs in" in row["Note"]


@pytest.mark.django_db
def test_a_default_only_request_says_its_passwords_sign_nobody_in(
    admin920_client, world, two_requests
):
    _, second, _ = two_requests

    rows = handout(admin920_client, second)

    assert len(rows) == 17
    for username, row in rows.items():
        assert (row["Signs in"], row["Note"]) == (
            "no",
            "The login password was not reset by this request (default only): it signs in "
            "once a login password is reset to the default.",
        )
        assert not signs_in(username, row["Password"])
        assert row["Password"] == decrypt_default_password(
            Student.objects.get(username=username).default_password_encrypted
        )
    page = admin920_client.get(second.get_absolute_url())
    assert "They do not sign in until a login password is reset to the default" in page_text(page)
    assert "Right now 0 of them sign in with the password this request set" in page_text(page)


@pytest.mark.django_db
def test_a_third_request_that_resets_some_students_is_named_in_the_first_handout(
    admin920_client, world, two_requests
):
    first, _, _ = two_requests
    third = run(
        make_request(
            world, campus_codes=["920304"], grade_levels=["5"], reset_current_passwords=True
        )
    )
    some = set(
        Student.objects.filter(campus=world.elementary, grade="5").values_list(
            "username", flat=True
        )
    )

    rows = handout(admin920_client, first)

    for username in some:
        assert (rows[username]["Signs in"], rows[username]["Note"]) == (
            "no",
            f"Replaced by request #{third.pk}.",
        )
    third_rows = handout(admin920_client, third)
    assert {third_rows[u]["Signs in"] for u in some} == {"yes"}


@pytest.mark.django_db
def test_a_student_reset_to_default_signs_in_with_the_default_shown_and_the_handout_agrees(
    admin920_client, world, two_requests
):
    _, second, _ = two_requests
    student = Student.objects.filter(psu=world.psu920, grade="9").first()
    shown = admin920_client.post(reverse("people:reveal", args=[student.pk]))
    password = shown.context["revealed_password"]
    assert "It does not sign the student in now" in page_text(shown)

    reset = admin920_client.post(
        reverse("people:reset_default", args=[student.pk]), {"force_password_change": "on"}
    )

    assert reset.status_code == 302
    student.refresh_from_db()
    assert student.check_password(password)
    assert student.must_change_password
    rows = handout(admin920_client, second)
    assert (rows[student.username]["Signs in"], rows[student.username]["Note"]) == ("yes", "")
    assert rows[student.username]["Password"] == password
    others = [row for username, row in rows.items() if username != student.username]
    assert {row["Signs in"] for row in others} == {"no"}
    record = admin920_client.get(reverse("people:detail", args=[student.pk]))
    assert "Signs in now Yes: it is the login password, since" in page_text(record)


@pytest.mark.django_db
def test_after_a_student_chooses_their_own_password_every_handout_says_no(
    admin920_client, world, two_requests
):
    first, second, _ = two_requests
    student = Student.objects.get(username=next(iter(handout(admin920_client, first))))

    student_password_change(student=student, new_password="My-own-Secret-77")

    for regeneration in (first, second):
        row = handout(admin920_client, regeneration)[student.username]
        assert row["Signs in"] == "no"
        assert row["Note"].startswith("The student chose their own password on ")


@pytest.mark.django_db
def test_cards_print_only_the_students_whose_password_signs_in_and_say_who_was_left_out(
    admin920_client, world, two_requests
):
    _, second, _ = two_requests
    student = Student.objects.filter(psu=world.psu920, grade="9").first()
    student_reset_to_default(student=student, actor=world.admin920, force_change=False)

    response = admin920_client.get(reverse("regeneration:handout_cards", args=[second.pk]))

    html = response.content.decode()
    assert html.count('class="login-card"') == 1
    assert student.username in html
    text = page_text(response)
    assert "16 students got no card" in text
    assert "16: their login password was not reset by this request (default only)" in text


@pytest.mark.django_db
def test_the_history_lists_what_happened_newest_first(admin920_client, world, two_requests):
    first, second, _ = two_requests
    student = Student.objects.filter(campus=world.elementary, grade="5").first()
    admin920_client.post(reverse("people:reveal", args=[student.pk]))
    student_reset_to_default(student=student, actor=world.admin920, force_change=True)
    Client().post(
        reverse("students:login"),
        {"username": student.username, "password": _default_of(student)},
    )
    student.refresh_from_db()
    student_password_change(student=student, new_password="My-own-Secret-77")

    history = [entry.what for entry in _history(student)]

    assert history == [
        "Chose their own password",
        f"First sign-in with the password set by request #{second.pk}",
        "Login password reset to the default password, password change forced at the next sign-in",
        "Default password shown in People",
        f"Default password regenerated by request #{second.pk}",
        f"Passwords of request #{first.pk} downloaded (csv download, all students the "
        "request changed)",
        f"Default password regenerated by request #{first.pk}, login password reset to it, "
        "password change forced at the next sign-in",
    ]


@pytest.mark.django_db
def test_the_request_page_counts_who_signed_in_with_its_password(
    admin920_client, world, two_requests
):
    first, _, _ = two_requests
    rows = handout(admin920_client, first)
    for username in list(rows)[:2]:
        Client().post(
            reverse("students:login"),
            {"username": username, "password": rows[username]["Password"]},
        )

    page = admin920_client.get(first.get_absolute_url())

    assert "Right now 6 of them sign in with the password this request set; 2 have signed in " in (
        page_text(page)
    )


def _default_of(student: Student) -> str:
    return decrypt_default_password(Student.objects.get(pk=student.pk).default_password_encrypted)


def _history(student: Student):
    return student_history(Student.objects.get(pk=student.pk))
