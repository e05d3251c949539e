"""``manage.py import_students``: a file with any bad row changes nothing and names every bad
row; a good file creates and updates students in bulk."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from credentials.crypto import decrypt_default_password
from people.models import Student
from tests.conftest import ROOT
from tests.helpers import page_text

HEADER = "student_number,last_name,first_name,username,psu_code,campus_code,grade"


def write(tmp_path, *lines: str, name: str = "students.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def import_students(path, *args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_students", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def import_failing(path) -> tuple[str, str]:
    """The command's error and what it wrote to stderr."""
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_students", str(path), stdout=io.StringIO(), stderr=err)
    return str(failure.value), err.getvalue()


def snapshot() -> list[tuple]:
    return list(
        Student.objects.order_by("id").values_list(
            "student_number",
            "last_name",
            "first_name",
            "username",
            "psu_id",
            "campus_id",
            "grade",
            "password",
            "default_password_encrypted",
        )
    )


@pytest.mark.django_db
def test_a_file_with_bad_rows_names_every_one_and_changes_nothing(tmp_path, world):
    existing = world.students(world.psu920).first()
    other = world.students(world.psu920).last()
    path = write(
        tmp_path,
        HEADER,
        "7000000001,Good,Ann,ann.good,920,920304,3",  # good, new
        f"{existing.student_number},Renamed,Jo,{existing.username},920,920364,9",  # good update
        "7000000002,Lost,Al,al.lost,999,920304,3",
        "7000000003,Nowhere,Bo,bo.nowhere,920,920999,3",
        "7000000004,Astray,Cy,cy.astray,920,010304,3",
        "7000000005,Old,Di,di.old,920,920304,14",
        "7000000001,Twice,Ed,ed.twice,920,920304,3",
        "7000000006,Copy,Fay,ann.good,920,920304,3",
        f"7000000007,Taken,Gus,{other.username},920,920304,3",
        "12-34,Dash,Hal,hal dash,920,920304,K",
        "7000000008,,Ida,ida.blank,920,920304,3",
        "7000000009,Short,Jan",
        "",
        "7000000010,Late,Kim,kim.late,010,010304,-9",  # good, after a blank line
    )
    before = snapshot()

    message, err = import_failing(path)

    assert message == (
        f"{path}: 10 bad rows (listed above); nothing was changed. Correct the file and "
        "import it again."
    )
    allowed = "-5 -4 -3 -2 -1 0 1 2 3 4 5 6 7 8 9 10 11 12 13 -9"
    assert err.splitlines() == [
        f"{path}, line 4: unknown PSU code “999”",
        f"{path}, line 5: unknown campus code “920999”",
        f"{path}, line 6: campus 010304 belongs to PSU 010, not to PSU 920",
        f"{path}, line 7: grade “14” is not one of {allowed}",
        f"{path}, line 8: student number 7000000001 is also on line 2; each student must "
        "appear once",
        f"{path}, line 9: username ann.good is also on line 2; usernames must be unique",
        f"{path}, line 10: username {other.username} already belongs to another student "
        f"(student number {other.student_number})",
        f"{path}, line 11: student number “12-34” is not 1 to 10 digits; username “hal dash” "
        "must be at most 64 letters, digits, dots, hyphens or underscores, starting with a "
        f"letter or digit; grade “K” is not one of {allowed}",
        f"{path}, line 12: last name is empty",
        f"{path}, line 13: it has 3 fields where the header has 7",
    ]
    assert snapshot() == before


@pytest.mark.django_db
def test_a_good_file_creates_new_students_and_updates_known_ones(tmp_path, world):
    moving = world.students(world.psu920).first()
    staying = world.students(world.psu920).last()
    unchanged = [
        staying.student_number,
        staying.last_name,
        staying.first_name,
        staying.username,
        "920",
        staying.campus.code,
        staying.grade,
    ]
    path = write(
        tmp_path,
        # Columns in another order, with spaces and capitals, and one more column.
        "Grade,Campus Code,PSU Code,Student Number,Last Name,First Name,Username,Homeroom",
        "0,920304,920,7000000001,Nguyen,Linh,Linh.Nguyen,101",
        '05,32b000,32b,7000000002,"O\'Brien, Jr.",Sean,sean.obrien,102',
        f"9,920364,920,{moving.student_number},Moved,Maya,maya.moved,103",
        f"{unchanged[6]},{unchanged[5]},920,{','.join(unchanged[:4])},104",
    )
    moving_password, moving_default = moving.password, moving.default_password_encrypted
    count_before = Student.objects.count()

    out, err = import_students(path)

    assert err == ""
    assert re.fullmatch(
        rf"{re.escape(str(path))}: 2 students created, 1 updated, 1 unchanged, in \d+\.\d s\.\n",
        out,
    )
    assert Student.objects.count() == count_before + 2
    linh = Student.objects.get(student_number="7000000001")
    sean = Student.objects.get(student_number="7000000002")
    assert (linh.username, linh.grade, linh.campus.code, linh.psu.code) == (
        "linh.nguyen",
        "0",
        "920304",
        "920",
    )
    assert (sean.last_name, sean.grade, sean.psu.code) == ("O'Brien, Jr.", "5", "32B")
    for student in (linh, sean):
        default = decrypt_default_password(student.default_password_encrypted)
        assert student.password.startswith("fernet_temp$")
        assert student.check_password(default)
        assert student.temporary_password_set_at is not None
        assert student.default_password_set_at is not None
        assert not student.must_change_password and student.is_active
    moving.refresh_from_db()
    assert (moving.last_name, moving.first_name, moving.username) == ("Moved", "Maya", "maya.moved")
    assert (moving.campus.code, moving.grade) == ("920364", "9")
    assert (moving.password, moving.default_password_encrypted) == (moving_password, moving_default)


@pytest.mark.django_db
def test_an_imported_student_signs_in_with_the_initial_default_password(client, tmp_path, world):
    import_students(write(tmp_path, HEADER, "7000000001,Nguyen,Linh,linh.nguyen,920,920304,4"))
    student = Student.objects.get(student_number="7000000001")
    password = decrypt_default_password(student.default_password_encrypted)

    client.post(reverse("students:login"), {"username": "linh.nguyen", "password": password})

    assert "You are signed in as linh.nguyen." in page_text(client.get(reverse("students:home")))


@pytest.mark.django_db
def test_check_only_reads_the_file(tmp_path, world):
    path = write(tmp_path, HEADER, "7000000001,Nguyen,Linh,linh.nguyen,920,920304,4")
    before = snapshot()

    out, _ = import_students(path, "--check")

    assert out == f"{path}: 1 rows, all good. Nothing was changed.\n"
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "student_number,name,grade\n1,Ann,3\n",
            "Line 1, the header, lacks the columns last_name, first_name, username, "
            "psu_code, campus_code. The columns are: student_number, last_name, first_name, "
            "username, psu_code, campus_code, grade. Nothing was changed.",
        ),
        ("", "The file is empty: it needs a header row. Nothing was changed."),
    ],
)
def test_a_file_without_the_columns_is_refused(tmp_path, world, content, message):
    path = tmp_path / "students.csv"
    path.write_text(content, encoding="utf-8")

    assert import_failing(path) == (f"{path}: {message}", "")


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_is_refused(tmp_path, world):
    path = tmp_path / "students.csv"
    path.write_bytes(f"{HEADER}\n7000000001,Müller,Jan,jan.m,920,920304,4\n".encode("latin-1"))

    message, _ = import_failing(path)

    assert "The file is not UTF-8 text" in message
    assert not Student.objects.filter(student_number="7000000001").exists()


@pytest.mark.django_db
def test_the_sample_file_in_the_repository_imports_cleanly(world):
    # The sample uses the demo campus codes; the test world holds 920304, 920364, 010304.
    out, err = import_students(ROOT / "docs" / "sample_students.csv")

    assert err == ""
    assert "6 students created, 0 updated, 0 unchanged" in out


@pytest.mark.django_db
def test_a_row_with_a_nul_character_is_a_bad_row_not_a_crash(tmp_path, world):
    before = snapshot()
    path = write(tmp_path, HEADER, "7000000001,Love\x00lace,Ada,ada1,920,920304,5")

    message, reported = import_failing(path)

    assert "1 bad row" in message
    assert "line 2" in reported.lower() and "NUL character" in reported
    assert snapshot() == before


@pytest.mark.django_db
def test_digits_of_other_scripts_are_bad_rows_not_numbers(tmp_path, world):
    """``\\d`` matches Arabic-Indic or full-width digits, and ``int()`` reads them: only ASCII
    digits make a student number or a grade."""
    path = write(
        tmp_path,
        HEADER,
        "٧٠٠٠٠٠٠٠٠١,Arabic,Ali,ali.arabic,920,920304,3",
        "７０００００００２,Wide,Wen,wen.wide,920,920304,3",
        "7000000003,Grade,Gia,gia.grade,920,920304,٥",
    )
    before = snapshot()

    message, err = import_failing(path)

    allowed = "-5 -4 -3 -2 -1 0 1 2 3 4 5 6 7 8 9 10 11 12 13 -9"
    assert message.startswith(f"{path}: 3 bad rows (listed above); nothing was changed.")
    assert err.splitlines() == [
        f"{path}, line 2: student number “٧٠٠٠٠٠٠٠٠١” is not 1 to 10 digits",
        f"{path}, line 3: student number “７０００００００２” is not 1 to 10 digits",
        f"{path}, line 4: grade “٥” is not one of {allowed}",
    ]
    assert snapshot() == before
