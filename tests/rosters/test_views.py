"""A teacher's My Students, a class's CSV and cards, the teacher's reset; the LEA
administrator's Teachers page (invites by Django's password-reset email, the PSU setting);
the superuser's import page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credentials.crypto import decrypt_default_password
from people.models import CredentialEvent, DefaultPasswordDisclosure, Student
from rosters.models import Teacher
from tests.factories import StudentFactory, UserFactory, class_taught
from tests.helpers import page_text

from .conftest import write_bundle, zip_bundle

pytestmark = pytest.mark.django_db


@pytest.fixture
def classes(world):
    """The teacher teaches two classes of Apex Elementary: the kindergarten (4 students) and
    grade 5 (6 students); a colleague teaches a third with two of grade 5."""
    kindergarten = list(world.elementary.students.filter(grade="0"))
    fifth = list(world.elementary.students.filter(grade="5"))
    return {
        "k": class_taught(world.teacher, world.elementary, kindergarten, "k"),
        "5": class_taught(world.teacher, world.elementary, fifth, "g5"),
        "other": class_taught(UserFactory(username="colleague"), world.elementary, fifth[:2], "o"),
    }


@pytest.fixture
def teacher_client(client, world, classes):
    client.force_login(world.teacher)
    return client


def csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def test_my_students_lists_the_teachers_classes_and_their_students(teacher_client, classes):
    response = teacher_client.get(reverse("rosters:my_students"))

    text = page_text(response)
    assert "Class k" in text and "Class g5" in text and "Class o" not in text
    for student in Student.objects.filter(campus__code="920304"):
        assert student.username in text
    assert "Enloe" not in text
    assert "Reset to default password" not in text  # PSU 920 does not allow it
    assert "My Students" in text  # the navigation names it


def test_my_students_runs_a_fixed_number_of_queries(
    teacher_client, world, django_assert_num_queries
):
    # Session, user, the header's roles (teacher, LEA administrator, support), the classes
    # and their students: the same for three classes as for two.
    class_taught(world.teacher, world.high, list(world.high.students.all()), "third")
    with django_assert_num_queries(9):
        teacher_client.get(reverse("rosters:my_students"))


def test_staff_who_teach_nothing_get_403_with_the_reason(client, world):
    client.force_login(world.admin920)

    response = client.get(reverse("rosters:my_students"))

    assert response.status_code == 403
    assert "This page is for teachers" in page_text(response)


def test_class_csv_has_the_current_default_passwords_and_is_recorded(
    teacher_client, classes, world
):
    response = teacher_client.get(
        reverse("rosters:class_csv", args=[classes["k"].pk]), REMOTE_ADDR="10.1.2.3"
    )

    rows = csv_rows(response)
    assert list(rows[0]) == [
        "Student number", "Last name", "First name", "Username", "Password", "Campus",
        "Grade", "Signs in", "Note", "Teacher", "Class",
    ]  # fmt: skip
    students = {s.username: s for s in world.elementary.students.filter(grade="0")}
    assert sorted(row["Username"] for row in rows) == sorted(students)
    for row in rows:
        student = students[row["Username"]]
        assert row["Password"] == decrypt_default_password(student.default_password_encrypted)
        assert (row["Signs in"], row["Class"]) == ("yes", "Class k")
        assert row["Teacher"] == f"{world.teacher.first_name} {world.teacher.last_name}"
    disclosure = DefaultPasswordDisclosure.objects.get()
    assert (disclosure.kind, disclosure.actor, disclosure.psu, disclosure.student_count) == (
        DefaultPasswordDisclosure.Kind.CLASS_CSV, world.teacher, world.psu920, 4)  # fmt: skip
    assert (disclosure.scope, disclosure.ip) == ("Class Class k at campus 920304", "10.1.2.3")


def test_class_csv_says_when_a_default_does_not_sign_in(teacher_client, classes, world):
    student = world.elementary.students.filter(grade="0").first()
    student.login_source = Student.LoginSource.OWN
    student.save()

    rows = {r["Username"]: r for r in csv_rows(
        teacher_client.get(reverse("rosters:class_csv", args=[classes["k"].pk])))}  # fmt: skip

    assert rows[student.username]["Signs in"] == "no"
    assert rows[student.username]["Note"].startswith("The student chose their own password")


def test_class_cards_print_the_class_only_and_are_recorded(teacher_client, classes, world):
    response = teacher_client.get(reverse("rosters:class_cards", args=[classes["5"].pk]))

    text = page_text(response)
    fifth = world.elementary.students.filter(grade="5")
    for student in fifth:
        assert student.username in text
        assert decrypt_default_password(student.default_password_encrypted) in text
    for student in world.elementary.students.filter(grade="0"):
        assert student.username not in text
    assert response["Cache-Control"].startswith("max-age=0")
    disclosure = DefaultPasswordDisclosure.objects.get()
    assert (disclosure.kind, disclosure.student_count) == ("class_cards", 6)


def test_another_teachers_class_answers_404(teacher_client, classes):
    for name in ("class_csv", "class_cards"):
        response = teacher_client.get(reverse(f"rosters:{name}", args=[classes["other"].pk]))
        assert response.status_code == 404
    assert not DefaultPasswordDisclosure.objects.exists()


def test_teacher_reset_is_refused_until_the_psu_allows_it(teacher_client, classes, world):
    student = world.elementary.students.filter(grade="0").first()
    url = reverse("rosters:class_student_reset", args=[classes["k"].pk, student.pk])

    refused = teacher_client.post(url, {"force_password_change": "on"})

    assert refused.status_code == 403
    assert "has not allowed teachers to reset" in page_text(refused)
    world.psu920.teachers_may_reset = True
    world.psu920.save()
    assert "Reset to default password" in page_text(teacher_client.get(url))
    response = teacher_client.post(url, {"force_password_change": "on"})
    assert response["Location"] == reverse("rosters:my_students")
    event = CredentialEvent.objects.get(student=student)
    assert (event.kind, event.actor, event.must_change) == ("reset_to_default", world.teacher, True)
    student.refresh_from_db()
    assert student.must_change_password
    assert student.check_password(decrypt_default_password(student.default_password_encrypted))


def test_lea_admin_sets_the_psu_setting_of_their_own_psu_only(client, world):
    client.force_login(world.admin920)
    assert "Teachers may reset to the default password" in page_text(
        client.get(reverse("rosters:teachers"))
    )

    client.post(reverse("rosters:psu_settings", args=["920"]), {"teachers_may_reset": "on"})
    world.psu920.refresh_from_db()
    assert world.psu920.teachers_may_reset is True
    assert client.post(reverse("rosters:psu_settings", args=["010"]), {}).status_code == 404
    client.post(reverse("rosters:psu_settings", args=["920"]), {})
    world.psu920.refresh_from_db()
    assert world.psu920.teachers_may_reset is False


def test_invite_emails_a_set_password_link_that_works(client, world, classes):
    teacher = Teacher.objects.get(user=world.teacher)
    world.teacher.set_unusable_password()
    world.teacher.save()
    other_psu = class_taught(UserFactory(username="t010"), world.campus010, [], "x")
    client.force_login(world.admin920)

    client.post(reverse("rosters:teachers_invite"), {"psu": "920"})

    assert sorted(m.to[0] for m in mail.outbox) == ["colleague@example.org", "teacher@example.org"]
    message = next(m for m in mail.outbox if m.to == ["teacher@example.org"])
    assert message.subject == "Set your NCEdCloud Portal password"
    link = re.search(r"http://testserver(/accounts/reset/\S+)", message.body).group(1)
    teacher.refresh_from_db()
    assert teacher.invited_at is not None
    client.logout()
    form = client.get(link, follow=True)
    assert "Choose your password" in page_text(form)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Apex-Teacher-2027", "new_password2": "Apex-Teacher-2027"},
        follow=True,
    )
    assert "Your password is set" in page_text(done)
    world.teacher.refresh_from_db()
    assert world.teacher.check_password("Apex-Teacher-2027")
    assert not default_token_generator.check_token(world.teacher, link.split("/")[-2])
    # One teacher, and none of another PSU.
    mail.outbox.clear()
    client.force_login(world.admin920)
    client.post(reverse("rosters:teachers_invite"), {"teacher": teacher.pk})
    assert [m.to for m in mail.outbox] == [["teacher@example.org"]]
    other = Teacher.objects.get(enrollments__roster_class=other_psu)
    assert client.post(reverse("rosters:teachers_invite"), {"teacher": other.pk}).status_code == 404


def test_superuser_imports_a_zip_from_the_page(client, tmp_path, world):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    archive = zip_bundle(write_bundle(tmp_path / "b"), tmp_path / "b.zip")
    upload = SimpleUploadedFile("roster.zip", archive.read_bytes(), "application/zip")

    response = client.post(reverse("rosters:import"), {"bundle": upload})

    assert "students: 2 created" in page_text(response)
    assert Student.objects.filter(sourced_id="u1").exists()


def test_the_import_page_is_for_superusers_only(client, world):
    client.force_login(world.admin920)

    assert client.get(reverse("rosters:import")).status_code == 403


def test_a_deactivated_student_leaves_my_students(teacher_client, classes, world):
    student = world.elementary.students.filter(grade="0").first()
    Student.objects.filter(pk=student.pk).update(is_active=False)

    text = page_text(teacher_client.get(reverse("rosters:my_students")))

    assert student.username not in text
    assert StudentFactory._meta.model is Student
