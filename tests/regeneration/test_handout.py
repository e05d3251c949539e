"""Handing out new passwords: only a completed request's requester downloads them, as CSV
or printable cards; each download is recorded; undecryptable passwords stop everything."""

from __future__ import annotations

import csv
import io
import re

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse
from django.utils import timezone

from credentials.crypto import decrypt_default_password
from people.models import DefaultPasswordDisclosure, Student
from regeneration.handout import handout_state
from regeneration.models import RegenerationOutcome, RegenerationRequest
from tests.conftest import ROOT
from tests.factories import (
    RegenerationRequestFactory,
    UserFactory,
    lea_admin,
)
from tests.helpers import page_text, request_through_views

Status = RegenerationRequest.Status
HANDOUT_VIEWS = ["regeneration:handout_csv", "regeneration:handout_cards"]


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def finished(world) -> RegenerationRequest:
    """A completed request of admin920 that reset all 17 students of PSU 920 to its new
    default, ``oldpass42`` (the factory's), kept with each outcome."""
    students = list(world.students(world.psu920))
    now = timezone.now()
    regeneration = RegenerationRequestFactory(
        requester=world.admin920,
        psu=world.psu920,
        reset_current_passwords=True,
        status=Status.COMPLETED,
        targeted_count=len(students),
        processed_count=len(students),
        finished_at=now,
    )
    RegenerationOutcome.objects.bulk_create(
        RegenerationOutcome(
            request=regeneration,
            student=student,
            status=RegenerationOutcome.Status.CHANGED,
            password_reset=True,
            processed_at=now,
            default_password_encrypted=student.default_password_encrypted,
        )
        for student in students
    )
    Student.objects.filter(psu=world.psu920).update(
        default_request_number=regeneration.pk,
        login_source=Student.LoginSource.REQUEST,
        login_request_number=regeneration.pk,
        login_set_at=now,
    )
    return regeneration


# CSV -----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_requester_downloads_the_changed_students_current_default_passwords_as_csv(
    client, world, finish_requests
):
    client.force_login(world.admin920)
    regeneration = request_through_views(
        client,
        psu_code="920",
        campus_codes="920304",
        reset_current_passwords="on",
        finish=finish_requests,
    )

    response = client.get(
        reverse("regeneration:handout_csv", args=[regeneration.pk]), REMOTE_ADDR="10.9.8.7"
    )

    assert response["Content-Disposition"] == (
        f'attachment; filename="request-{regeneration.pk}-default-passwords.csv"'
    )
    assert response["Cache-Control"] == "no-store"
    header, *rows = csv_rows(response)
    assert header == [
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
    students = {s.student_number: s for s in Student.objects.filter(campus=world.elementary)}
    assert sorted(row[0] for row in rows) == sorted(students)
    assert [row[6] for row in rows] == ["0"] * 4 + ["5"] * 6  # by campus, grade, name
    for (
        number,
        last,
        first,
        username,
        password,
        campus,
        grade,
        signs_in,
        note,
        _teacher,
        _class,
    ) in rows:
        student = students[number]
        assert (last, first, username) == (student.last_name, student.first_name, student.username)
        assert (campus, grade) == ("920304", student.grade)
        assert password == decrypt_default_password(student.default_password_encrypted)
        assert password != "oldpass42"
        assert student.check_password(password)
        assert (signs_in, note) == ("yes", "")
    disclosure = DefaultPasswordDisclosure.objects.get()
    assert disclosure.kind == DefaultPasswordDisclosure.Kind.CSV
    assert (disclosure.actor, disclosure.request_number, disclosure.psu) == (
        world.admin920,
        regeneration.pk,
        world.psu920,
    )
    assert (disclosure.student_count, disclosure.student, disclosure.ip) == (10, None, "10.9.8.7")


@pytest.mark.django_db
def test_csv_leaves_out_a_student_who_has_since_left_the_psu(client, world, finished):
    moved = world.students(world.psu920).first()
    Student.objects.filter(pk=moved.pk).update(psu=world.psu010, campus=world.campus010)
    client.force_login(world.admin920)

    rows = csv_rows(client.get(reverse("regeneration:handout_csv", args=[finished.pk])))[1:]

    assert len(rows) == 16
    assert moved.student_number not in {row[0] for row in rows}
    assert DefaultPasswordDisclosure.objects.get().student_count == 16


# Who may download ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("view", HANDOUT_VIEWS)
def test_a_colleague_of_the_same_psu_is_refused_with_the_reason(client, world, finished, view):
    client.force_login(lea_admin(UserFactory(username="admin920b"), world.psu920))

    response = client.get(reverse(view, args=[finished.pk]))

    assert response.status_code == 403
    assert "Only the administrator who made this request can download" in page_text(response)
    assert "oldpass42" not in response.content.decode()
    assert DefaultPasswordDisclosure.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("view", HANDOUT_VIEWS)
@pytest.mark.parametrize("who", ["admin010", "adminmulti"])
def test_administrators_of_other_psus_do_not_learn_the_request_exists(
    client, world, finished, view, who
):
    client.force_login(getattr(world, who))

    response = client.get(reverse(view, args=[finished.pk]))

    assert response.status_code == 404
    assert "oldpass42" not in response.content.decode()
    assert DefaultPasswordDisclosure.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("view", HANDOUT_VIEWS)
def test_the_requester_who_lost_the_psu_role_is_refused(client, world, finished, view):
    world.admin920.role_assignments.all().delete()
    lea_admin(world.admin920, world.psu010)
    client.force_login(world.admin920)

    response = client.get(reverse(view, args=[finished.pk]))

    assert response.status_code == 404
    assert DefaultPasswordDisclosure.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("view", HANDOUT_VIEWS)
def test_staff_without_the_role_are_refused(client, world, finished, view):
    for user in (world.teacher, world.support):
        client.force_login(user)

        response = client.get(reverse(view, args=[finished.pk]))

        assert response.status_code == 403
        assert "LEA Administrator role" in page_text(response)
    assert DefaultPasswordDisclosure.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("view", HANDOUT_VIEWS)
def test_signed_out_visitors_and_students_are_sent_to_the_staff_sign_in(
    client, world, finished, view
):
    url = reverse(view, args=[finished.pk])
    signed_out = client.get(url)
    student = world.students(world.psu920).first()
    client.post(reverse("students:login"), {"username": student.username, "password": "oldpass42"})
    as_student = client.get(url)

    for response in (signed_out, as_student):
        assert response["Location"] == f"{reverse('login')}?next={url}"
    assert DefaultPasswordDisclosure.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("view", HANDOUT_VIEWS)
@pytest.mark.parametrize("status", [Status.QUEUED, Status.RUNNING, Status.FAILED])
def test_passwords_are_handed_out_only_once_the_request_completed(
    client, world, finished, view, status
):
    RegenerationRequest.objects.filter(pk=finished.pk).update(status=status)
    client.force_login(world.admin920)

    response = client.get(reverse(view, args=[finished.pk]), follow=True)

    assert response.redirect_chain[0][0] == finished.get_absolute_url()
    assert (
        "The students' passwords can be handed out once the request has completed; this "
        f"request is {Status(status).label.lower()}." in page_text(response)
    )
    assert DefaultPasswordDisclosure.objects.count() == 0


@pytest.mark.django_db
def test_request_page_offers_the_handout_to_its_requester_only(client, world, finished):
    colleague = lea_admin(UserFactory(username="admin920b", first_name="Sam"), world.psu920)
    client.force_login(world.admin920)
    mine = client.get(finished.get_absolute_url())
    client.force_login(colleague)
    theirs = client.get(finished.get_absolute_url())

    csv_url = reverse("regeneration:handout_csv", args=[finished.pk])
    cards_url = reverse("regeneration:handout_cards", args=[finished.pk])
    assert f'href="{csv_url}"' in mine.content.decode()
    assert f'href="{cards_url}"' in mine.content.decode()
    assert "The passwords this request set for its 17 students became their login passwords" in (
        page_text(mine)
    )
    assert csv_url not in theirs.content.decode()
    assert (
        "Only the administrator who made this request, Pat "
        f"{world.admin920.last_name}, can download its students' passwords." in page_text(theirs)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "processed", "state"),
    [
        (Status.QUEUED, 0, "pending"),
        (Status.RUNNING, 5, "pending"),
        (Status.COMPLETED, 17, "ready"),
        (Status.COMPLETED_WITH_ERRORS, 3, "ready"),
        (Status.COMPLETED, 0, "nothing"),
        (Status.FAILED, 0, "failed"),
    ],
)
def test_handout_state_follows_the_request_for_its_requester(world, status, processed, state):
    regeneration = RegenerationRequestFactory(
        requester=world.admin920, psu=world.psu920, status=status, processed_count=processed
    )
    colleague = lea_admin(UserFactory(username="admin920b"), world.psu920)

    assert handout_state(regeneration, world.admin920) == state
    assert handout_state(regeneration, colleague) == "requester_only"


# Cards ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cards_are_grouped_by_campus_and_grade_one_group_per_printed_page(client, world, finished):
    client.force_login(world.admin920)

    response = client.get(reverse("regeneration:handout_cards", args=[finished.pk]))

    html = response.content.decode()
    headings = re.findall(r'<h2 id="group-\d+" class="card-group__title">(.*?)</h2>', html)
    assert headings == [
        "Apex Elementary (920304) · Kindergarten · 4 students",
        "Apex Elementary (920304) · Grade 5 · 6 students",
        "Enloe High (920364) · Grade 9 · 5 students",
        "Enloe High (920364) · Ungraded · 2 students",
    ]
    assert html.count('class="login-card"') == 17
    assert html.count("oldpass42") == 17
    text = page_text(response)
    for student in world.students(world.psu920):
        assert f"Username {student.username} Password oldpass42" in text
    assert "Sign in at http://testserver/student/login/" in text
    assert "9000000" not in text  # no student number unless asked for
    assert '<link rel="stylesheet" href="/static/css/cards.css">' in html
    assert "no-store" in response["Cache-Control"]
    disclosure = DefaultPasswordDisclosure.objects.get()
    assert disclosure.kind == DefaultPasswordDisclosure.Kind.CARDS
    assert (disclosure.request_number, disclosure.student_count) == (finished.pk, 17)
    assert disclosure.scope == "All students the request changed"


@pytest.mark.django_db
def test_cards_page_has_no_inline_style_or_script_and_its_css_breaks_pages(client, world, finished):
    client.force_login(world.admin920)

    html = client.get(reverse("regeneration:handout_cards", args=[finished.pk])).content.decode()

    assert " style=" not in html and "<style" not in html
    assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/static/js/portal.js" defer>']
    css = (ROOT / "static" / "css" / "cards.css").read_text()
    print_rules = css[css.index("@media print") :]
    assert ".card-group { break-after: page; page-break-after: always;" in print_rules


@pytest.mark.django_db
def test_a_large_request_is_printed_a_campus_at_a_time(client, world, finished, settings):
    settings.HANDOUT_CARDS_MAX_STUDENTS = 12
    client.force_login(world.admin920)
    url = reverse("regeneration:handout_cards", args=[finished.pk])

    chooser = client.get(url)
    one_campus = client.get(url, {"campus": "920304"})

    assert "That is 17 students: more than the 12 cards one page prints well." in page_text(chooser)
    assert 'href="?campus=920304"' in chooser.content.decode()
    assert 'href="?campus=920364"' in chooser.content.decode()
    assert "oldpass42" not in chooser.content.decode()
    assert one_campus.content.decode().count('class="login-card"') == 10
    assert "Campus 920304." in page_text(one_campus)
    disclosure = DefaultPasswordDisclosure.objects.get()
    assert (disclosure.student_count, disclosure.scope) == (10, "Campus 920304")


@pytest.mark.django_db
def test_a_very_large_campus_is_printed_a_grade_at_a_time(client, world, finished, settings):
    settings.HANDOUT_CARDS_MAX_STUDENTS = 5
    client.force_login(world.admin920)
    url = reverse("regeneration:handout_cards", args=[finished.pk])

    chooser = client.get(url, {"campus": "920304"})
    grade = client.get(url, {"campus": "920304", "grade": "5"})

    assert "or this large campus a grade at a time" in page_text(chooser)
    assert 'href="?campus=920304&amp;grade=5"' in chooser.content.decode()
    assert "grade 5 (6)" in page_text(chooser)
    assert grade.content.decode().count('class="login-card"') == 6
    assert DefaultPasswordDisclosure.objects.get().scope == "Campus 920304, Grade 5"


@pytest.mark.django_db
def test_cards_for_a_campus_the_request_did_not_change_show_the_choice(client, world, finished):
    client.force_login(world.admin920)

    response = client.get(
        reverse("regeneration:handout_cards", args=[finished.pk]), {"campus": "010304"}
    )

    assert "This request changed no student at campus 010304. Choose below." in page_text(response)
    assert "login-card" not in response.content.decode()
    assert DefaultPasswordDisclosure.objects.count() == 0


# Keys ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("view", HANDOUT_VIEWS)
def test_handout_answers_503_naming_the_key_when_passwords_cannot_be_decrypted(
    client, world, finished, settings, view
):
    student = world.students(world.psu920).first()
    settings.DEFAULT_PASSWORD_KEYS = [Fernet.generate_key().decode()]
    client.force_login(world.admin920)

    response = client.get(reverse(view, args=[finished.pk]))

    assert response.status_code == 503
    assert "Traceback" not in response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert (
        "17 default passwords cannot be decrypted with the keys in DEFAULT_PASSWORD_KEYS: the "
        "key that encrypted them is missing or wrong. Nothing was downloaded."
        in page_text(response)
    )
    assert student.default_password_encrypted not in response.content.decode()
    assert DefaultPasswordDisclosure.objects.count() == 0


@pytest.mark.django_db
def test_a_formula_in_a_name_is_neutralised_in_the_csv(client, world, finished):
    student = world.students(world.psu920).first()
    Student.objects.filter(pk=student.pk).update(
        first_name='=HYPERLINK("http://evil.example","Click")', last_name="+SUM(A1:A9)"
    )
    client.force_login(world.admin920)

    rows = csv_rows(client.get(reverse("regeneration:handout_csv", args=[finished.pk])))

    row = next(r for r in rows if r[0] == student.student_number)
    assert row[1:3] == ["'+SUM(A1:A9)", '\'=HYPERLINK("http://evil.example","Click")']
    assert all(not cell.startswith(("=", "+", "@")) for r in rows for cell in r)


# What the cards print --------------------------------------------------------------------------


@pytest.mark.django_db
def test_labels_layout_and_student_numbers_only_when_asked(client, world, finished):
    client.force_login(world.admin920)
    url = reverse("regeneration:handout_cards", args=[finished.pk])
    student = world.students(world.psu920).first()

    labels = client.get(url, {"layout": "labels"})
    numbered = client.get(url, {"numbers": "1"})

    assert 'class="login-labels"' in labels.content.decode()
    assert labels.content.decode().count('class="login-card"') == 17
    assert "30 labels a sheet" in page_text(labels)
    assert student.student_number not in labels.content.decode()
    assert student.student_number in page_text(numbered)


@pytest.mark.django_db
def test_cards_and_email_use_the_portal_base_url_when_it_is_set(client, world, finished, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.org/"
    client.force_login(world.admin920)

    text = page_text(client.get(reverse("regeneration:handout_cards", args=[finished.pk])))

    assert "Sign in at https://portal.example.org/student/login/" in text


@pytest.mark.django_db
def test_each_username_and_password_gets_a_size_that_keeps_it_on_one_line(client, world, finished):
    student = world.students(world.psu920).first()
    Student.objects.filter(pk=student.pk).update(username="averyveryverylongusername2026x")
    client.force_login(world.admin920)

    html = client.get(reverse("regeneration:handout_cards", args=[finished.pk])).content.decode()

    assert '<dd class="credential fit-32">averyveryverylongusername2026x</dd>' in html
    assert '<dd class="credential fit-12">oldpass42</dd>' in html
    css = (ROOT / "static" / "css" / "cards.css").read_text()
    assert ".credential {" in css and "white-space: nowrap" in css


# Keeping the passwords a request set ---------------------------------------------------------


@pytest.mark.django_db
def test_the_passwords_are_removed_after_the_retention_days_and_the_handout_says_so(
    client, world, finished, settings
):
    from datetime import timedelta

    from regeneration.lifecycle import handouts_expire

    settings.HANDOUT_RETENTION_DAYS = 30
    assert handouts_expire(now=finished.finished_at + timedelta(days=29)) == 0
    assert handouts_expire(now=finished.finished_at + timedelta(days=31)) == 1
    client.force_login(world.admin920)

    page = client.get(finished.get_absolute_url())
    download = client.get(reverse("regeneration:handout_csv", args=[finished.pk]), follow=True)

    assert not RegenerationOutcome.objects.exclude(default_password_encrypted="").exists()
    assert "The passwords this request set were removed on" in page_text(page)
    assert "30 days after it finished" in page_text(download)
    assert DefaultPasswordDisclosure.objects.count() == 0
