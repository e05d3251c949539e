"""The two siblings of the PSU request: one student by UID, and a file of UIDs; through the
same confirm step, engine, outcomes and admin."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from people.models import Student
from regeneration.models import RegenerationOutcome, RegenerationRequest, UIDListDraft
from tests.factories import StudentFactory
from tests.helpers import field_errors, page_text

Selection = RegenerationRequest.Selection


def uid_file(text: str | bytes, name: str = "uids.txt") -> SimpleUploadedFile:
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/plain")


def confirm_and_finish(client, confirm_url: str, finish) -> RegenerationRequest:
    response = client.post(confirm_url)
    assert response.status_code == 302, page_text(response)
    return finish(RegenerationRequest.objects.order_by("-pk").first())


# One student ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_single_user_form_has_the_issue_s_fields(admin920_client):
    text = page_text(admin920_client.get(reverse("regeneration:new_single")))

    for label in (
        "PSU Code",
        "Student UID",
        "Also Reset Current Passwords",
        "Force Password Change at Next Login",
        "Request Comments",
    ):
        assert label in text


@pytest.mark.django_db(transaction=True)
def test_one_student_is_named_on_the_confirm_page_and_only_they_change(
    admin920_client, world, finish_requests
):
    student = Student.objects.filter(campus=world.high, grade="9").first()
    others = dict(
        Student.objects.exclude(pk=student.pk).values_list("pk", "default_password_encrypted")
    )
    response = admin920_client.post(
        reverse("regeneration:new_single"),
        {
            "psu_code": "920",
            "student_uid": f" {student.student_number} ",
            "reset_current_passwords": "on",
        },
    )
    confirm = admin920_client.get(response["Location"])

    assert f"{student.first_name} {student.last_name}, Enloe High (920364), Grade 9" in page_text(
        confirm
    )
    assert "1 student matches" in page_text(confirm)
    regeneration = confirm_and_finish(admin920_client, response["Location"], finish_requests)

    assert (regeneration.status, regeneration.selection) == ("completed", Selection.STUDENT)
    assert regeneration.processed_count == regeneration.targeted_count == 1
    assert RegenerationOutcome.objects.get(request=regeneration).student == student
    assert (
        dict(Student.objects.exclude(pk=student.pk).values_list("pk", "default_password_encrypted"))
        == others
    )
    assert "Regenerate Student Default Password (Single User)" in page_text(
        admin920_client.get(regeneration.get_absolute_url())
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("uid", "message"),
    [
        ("12ab", "“12ab” is not a Student UID: a UID is up to 10 digits."),
        ("99999999999", "“99999999999” is not a Student UID: a UID is up to 10 digits."),
        ("4242", "No student has the UID “4242”."),
    ],
)
def test_a_bad_uid_is_refused_with_its_reason(admin920_client, uid, message):
    response = admin920_client.post(
        reverse("regeneration:new_single"), {"psu_code": "920", "student_uid": uid}
    )

    assert field_errors(response, "student_uid") == [message]
    assert RegenerationRequest.objects.count() == 0


@pytest.mark.django_db
def test_a_student_of_another_psu_or_inactive_is_refused(admin920_client, world):
    foreign = Student.objects.filter(psu=world.psu010).first()
    inactive = Student.objects.filter(psu=world.psu920).first()
    Student.objects.filter(pk=inactive.pk).update(is_active=False)

    for student, message in (
        (foreign, f"The student “{foreign.student_number}” is not a student of PSU 920."),
        (
            inactive,
            f"The student “{inactive.student_number}” is inactive, so their password is not "
            "regenerated.",
        ),
    ):
        response = admin920_client.post(
            reverse("regeneration:new_single"),
            {"psu_code": "920", "student_uid": student.student_number},
        )
        assert field_errors(response, "student_uid") == [message]
    assert RegenerationRequest.objects.count() == 0


# A file of UIDs --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_file_with_a_bom_crlf_blank_lines_spaces_and_duplicates_is_read(
    admin920_client, world, finish_requests
):
    chosen = list(Student.objects.filter(psu=world.psu920).order_by("pk")[:5])
    lines = ["\ufeff" + chosen[0].student_number, "", f"  {chosen[1].student_number}  "]
    lines += [s.student_number for s in chosen[2:]] + [chosen[0].student_number, ""]
    response = admin920_client.post(
        reverse("regeneration:new_file"),
        {"psu_code": "920", "uid_file": uid_file("\r\n".join(lines), "grade-5.txt")},
    )
    assert response.status_code == 302, page_text(response)
    confirm = admin920_client.get(response["Location"])

    text = page_text(confirm)
    assert "grade-5.txt: 5 students (1 duplicate line collapsed onto the first)" in text
    assert "5 students match" in text
    regeneration = confirm_and_finish(admin920_client, response["Location"], finish_requests)
    assert (regeneration.selection, regeneration.uid_file_name) == (Selection.LIST, "grade-5.txt")
    changed = set(
        RegenerationOutcome.objects.filter(request=regeneration).values_list(
            "student_id", flat=True
        )
    )
    assert changed == {s.pk for s in chosen}
    assert not UIDListDraft.objects.exists()


@pytest.mark.django_db
def test_every_bad_line_is_named_with_its_number_value_and_reason(admin920_client, world):
    good = Student.objects.filter(psu=world.psu920).first()
    foreign = Student.objects.filter(psu=world.psu010).first()
    inactive = StudentFactory(campus=world.elementary, is_active=False)
    text = "\n".join(
        [
            good.student_number,
            "K-12",
            foreign.student_number,
            "",
            "55555",
            inactive.student_number,
            "x" * 40,
        ]
    )

    response = admin920_client.post(
        reverse("regeneration:new_file"), {"psu_code": "920", "uid_file": uid_file(text)}
    )

    assert field_errors(response, "uid_file") == [
        "5 lines of the file cannot be used, so nothing was requested. Correct them and "
        "upload the file again:",
        "Line 2: “K-12” is not a UID (up to 10 digits).",
        f"Line 3: “{foreign.student_number}” is a student of another PSU, not of 920.",
        "Line 5: “55555” is unknown: no student has this UID.",
        f"Line 6: “{inactive.student_number}” is an inactive student.",
        "Line 7: “xxxxxxxxxxxxxxxxxxxxxxx…” is not a UID (up to 10 digits).",
    ]
    assert RegenerationRequest.objects.count() == 0 and not UIDListDraft.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "The file is not text: it holds NUL bytes."),
        (b"9000000001\n\xe9t\xe9\n", "The file is not UTF-8 text"),
        (b"\n \r\n\n", "The file is empty: it needs one UID per line."),
    ],
)
def test_a_file_that_is_not_text_or_is_empty_gets_a_clear_error(admin920_client, data, message):
    response = admin920_client.post(
        reverse("regeneration:new_file"), {"psu_code": "920", "uid_file": uid_file(data)}
    )

    assert field_errors(response, "uid_file")[0].startswith(message)
    assert RegenerationRequest.objects.count() == 0


@pytest.mark.django_db
def test_a_file_too_large_says_the_limit(admin920_client, settings):
    settings.REGENERATION_UID_FILE_MAX_BYTES = 100

    response = admin920_client.post(
        reverse("regeneration:new_file"),
        {"psu_code": "920", "uid_file": uid_file("9000000001\n" * 20)},
    )

    assert field_errors(response, "uid_file") == [
        "The file is 220 bytes; a UID file may hold at most 100 bytes (about 360,000 UIDs). "
        "Split it and make one request per file."
    ]


@pytest.mark.django_db
def test_the_admin_shows_how_each_request_chose_its_students(client, world, settings):
    import uuid

    from regeneration.lifecycle import regeneration_request_create

    student = Student.objects.filter(psu=world.psu920).first()
    values = {
        "selection": Selection.LIST,
        "psu_code": "920",
        "uid_file_name": "spring.txt",
        "reset_current_passwords": False,
        "force_password_change": False,
        "comments": "",
    }
    regeneration = regeneration_request_create(
        requester=world.admin920,
        values=values,
        confirmation_key=uuid.uuid4(),
        student_ids=[student.pk],
    )
    client.force_login(world.support)

    page = client.get(
        reverse("admin:regeneration_regenerationrequest_change", args=[regeneration.pk])
    )

    assert "A file of UIDs: spring.txt (1 student)" in page_text(page)
