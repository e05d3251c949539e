"""The OneRoster import: each rule of the issue with a small bundle per case."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from credentials.crypto import decrypt_default_password
from people.models import PSU, Campus, Student, User
from rosters.models import Class, Enrollment, Teacher
from rosters.oneroster import BundleError, grade_of
from rosters.roster_import import oneroster_import
from tests.factories import CampusFactory, PSUFactory, StudentFactory

from .conftest import CLASSES, ENROLLMENTS, ORGS, USERS, zip_bundle

pytestmark = pytest.mark.django_db


def _bad(result) -> list[str]:
    return [str(bad) for bad in result.bad_rows]


def test_bulk_folder_creates_districts_schools_students_teachers_classes(bundle):
    result = oneroster_import(bundle())

    assert result.ok and result.changed
    psu = PSU.objects.get(code="920")
    assert (psu.name, psu.sourced_id) == ("Wake County Schools", "d920")
    campus = Campus.objects.get(code="920304")
    assert (campus.psu, campus.sourced_id) == (psu, "s304")
    ada = Student.objects.get(student_number="1900000001")
    assert (ada.username, ada.first_name, ada.last_name, ada.grade) == ("ada1", "Ada", "Okoro", "0")
    assert (ada.campus, ada.psu, ada.sourced_id, ada.is_active) == (campus, psu, "u1", True)
    # A new student's default password is also their temporary login password.
    assert ada.check_password(decrypt_default_password(ada.default_password_encrypted))
    teacher = Teacher.objects.get(sourced_id="t1")
    assert (teacher.user.username, teacher.user.email, teacher.psu) == (
        "mteach", "mteach@example.org", psu)  # fmt: skip
    assert not teacher.user.has_usable_password()
    roster_class = Class.objects.get(sourced_id="c1")
    assert (roster_class.title, roster_class.class_code, roster_class.campus) == (
        "Kindergarten A", "KG-A", campus)  # fmt: skip
    assert sorted(
        roster_class.enrollments.filter(role="student").values_list("student__username", flat=True)
    ) == ["ada1", "bao2"]
    assert roster_class.enrollments.get(role="teacher").teacher == teacher


def test_the_same_bundle_twice_changes_nothing(bundle):
    path = bundle()
    oneroster_import(path)
    before = list(Student.objects.values_list("id", "password", "default_password_encrypted"))

    again = oneroster_import(path)

    assert again.ok and again.changed == 0
    assert again.counts["students"].unchanged == 2
    assert again.counts["enrollments"].unchanged == 3
    assert list(Student.objects.values_list("id", "password", "default_password_encrypted")) == (
        before
    )
    assert (Teacher.objects.count(), Class.objects.count(), Enrollment.objects.count()) == (1, 1, 3)


def test_zip_with_the_files_in_a_folder_imports_as_the_folder_does(bundle, tmp_path):
    archive = zip_bundle(bundle(), tmp_path / "roster.zip", inner="export/")

    result = oneroster_import(archive)

    assert result.ok
    assert Student.objects.filter(sourced_id__in=["u1", "u2"]).count() == 2


def test_delta_updates_what_it_names_and_tobedeleted_deactivates(bundle):
    oneroster_import(bundle())
    ada = Student.objects.get(sourced_id="u1")
    delta = bundle(
        mode="delta",
        orgs=None,
        classes=None,
        users=[
            {**USERS[2], "status": "active", "familyName": "Nguyen-Tran", "grades": "06"},
            {"sourcedId": "u1", "status": "tobedeleted"},
        ],
        enrollments=[{"sourcedId": "e2", "status": "tobedeleted"}],
    )

    result = oneroster_import(delta)

    assert result.ok, _bad(result)
    bao = Student.objects.get(sourced_id="u2")
    assert (bao.last_name, bao.grade) == ("Nguyen-Tran", "6")
    ada.refresh_from_db()
    assert ada.is_active is False  # kept, with their history
    assert Enrollment.objects.get(sourced_id="e2").is_active is False
    assert (result.counts["students"].updated, result.counts["students"].deactivated) == (1, 1)
    assert oneroster_import(delta).changed == 0


def test_teacher_tobedeleted_cannot_sign_in_and_leaves_my_students(bundle):
    oneroster_import(bundle())
    oneroster_import(
        bundle(mode="delta", orgs=None, classes=None, enrollments=None,
               users=[{"sourcedId": "t1", "status": "tobedeleted"}])
    )  # fmt: skip

    teacher = Teacher.objects.get(sourced_id="t1")
    assert (teacher.is_active, teacher.user.is_active) == (False, False)
    assert User.objects.get(pk=teacher.user_id).is_teacher is False


def test_enabled_user_false_makes_the_student_inactive(bundle):
    oneroster_import(bundle(users=[USERS[0], {**USERS[1], "enabledUser": "false"}, USERS[2]]))

    assert Student.objects.get(sourced_id="u1").is_active is False


def test_quoted_fields_embedded_commas_newlines_bom_and_crlf_are_read(bundle):
    users = [
        USERS[0],
        {**USERS[1], "givenName": "Ada, Jr.", "familyName": 'O"Koro'},
        {**USERS[2], "familyName": "Nguyen\nsecond line"},
    ]
    classes = [{**CLASSES[0], "title": "Kindergarten A, room 4"}]
    enrollments = [
        *ENROLLMENTS,
        {"sourcedId": "e9", "classSourcedId": "c1", "userSourcedId": "nobody", "role": "student"},
    ]

    result = oneroster_import(
        bundle(users=users, classes=classes, enrollments=enrollments, bom=True)
    )

    # The embedded newline makes users.csv line 4 two lines long: enrollments still count
    # their own lines, and the bad row is named where it is.
    assert _bad(result) == [
        "enrollments.csv line 5: unknown reference: userSourcedId “nobody” is no student in "
        "users.csv or the portal"
    ]
    result = oneroster_import(bundle(users=users, classes=classes, bom=True))
    assert result.ok
    assert Student.objects.get(sourced_id="u1").first_name == "Ada, Jr."
    assert Student.objects.get(sourced_id="u1").last_name == 'O"Koro'
    assert Student.objects.get(sourced_id="u2").last_name == "Nguyen\nsecond line"
    assert Class.objects.get().title == "Kindergarten A, room 4"


def test_line_numbers_count_a_field_spanning_lines(bundle):
    users = [{**USERS[1], "familyName": "Two\nlines"}, {**USERS[2], "grades": "XX"}]

    result = oneroster_import(bundle(users=users, enrollments=None))

    assert _bad(result) == ["users.csv line 4: bad grade: “XX” has no mapping in ONEROSTER_GRADES"]


def test_bad_rows_are_each_named_with_file_line_and_reason_and_nothing_changes(bundle):
    PSUFactory(code="010")
    CampusFactory(code="010304", psu=PSU.objects.get(code="010"))
    StudentFactory(username="taken", student_number="5555")
    orgs = [
        *ORGS,
        {"sourcedId": "s010", "name": "Wrong", "type": "school", "identifier": "010304",
         "parentSourcedId": "d920"},
    ]  # fmt: skip
    users = [
        *USERS,
        {**USERS[1], "sourcedId": "u3", "username": "ada3"},  # line 5: duplicate identifier
        {**USERS[2], "sourcedId": "u4", "identifier": "1900000004"},  # 6: duplicate username
        {**USERS[2], "sourcedId": "u5", "identifier": "1900000005", "username": "x5",
         "grades": "PS"},  # 7: bad grade
        {**USERS[2], "sourcedId": "u6", "identifier": "1900000006", "username": "x6",
         "orgSourcedIds": "nowhere"},  # 8: unknown org
        {**USERS[2], "sourcedId": "u7", "identifier": "1900000007", "username": "taken"},  # 9
        {**USERS[2], "sourcedId": "u8", "identifier": "", "username": "x8"},  # 10: missing
    ]  # fmt: skip
    enrollments = [
        *ENROLLMENTS,
        {"sourcedId": "e4", "classSourcedId": "nope", "userSourcedId": "u1", "role": "student"},
    ]

    result = oneroster_import(bundle(orgs=orgs, users=users, enrollments=enrollments))

    assert _bad(result) == [
        "enrollments.csv line 5: unknown reference: classSourcedId “nope” is in neither "
        "classes.csv nor the portal",
        "orgs.csv line 4: campus 010304 belongs to PSU 010, not to the district of its "
        "parentSourcedId (PSU 920)",
        "users.csv line 5: duplicate identifier “1900000001”: also on line 3",
        "users.csv line 6: duplicate username “bao2”: also on line 4",
        "users.csv line 7: bad grade: “PS” has no mapping in ONEROSTER_GRADES",
        "users.csv line 8: unknown reference: org “nowhere”",
        "users.csv line 9: duplicate username “taken”: it belongs to another student "
        "(student number 5555)",
        "users.csv line 10: missing identifier",
    ]
    assert not PSU.objects.filter(code="920").exists()  # all or nothing: orgs too
    assert Student.objects.count() == 1


def test_a_teacher_username_of_another_staff_account_is_a_bad_row(bundle):
    User.objects.create_user("mteach")

    result = oneroster_import(bundle())

    assert _bad(result) == [
        "users.csv line 2: duplicate username “mteach”: a staff account that is not this "
        "teacher's has it"
    ]


def test_a_header_lacking_a_column_refuses_the_bundle(bundle):
    path = bundle()
    text = (path / "users.csv").read_text().replace("grades,", "grade,", 1)
    (path / "users.csv").write_text(text)

    with pytest.raises(
        BundleError, match=r"users\.csv line 1, the header, lacks the column grades"
    ):
        oneroster_import(path)


def test_the_manifest_says_which_files_are_read(bundle):
    path = bundle(classes=None, enrollments=None)
    (path / "classes.csv").write_text("not,even,a,roster\n")

    assert oneroster_import(path).ok
    (path / "manifest.csv").write_text(
        "propertyName,value\noneroster.version,1.1\nfile.users,bulk\n"
    )
    (path / "users.csv").unlink()
    with pytest.raises(BundleError, match=r"lists users\.csv \(bulk\), but it is missing"):
        oneroster_import(path)


def test_check_changes_nothing(bundle):
    result = oneroster_import(bundle(), check=True)

    assert result.ok and result.counts["students"].created == 2
    assert not Student.objects.exists()


@pytest.mark.parametrize(
    ("code", "grade"),
    [("KG", "0"), ("01", "1"), ("09", "9"), ("12", "12"), ("13", "13"), ("UG", "-9"),
     ("PK", "-1"), ("TK", "-1"), ("PR", "-2"), ("IT", "-3"), ("PS", None), ("Other", None),
     ("1", None)],
)  # fmt: skip
def test_ceds_grade_codes_map_to_the_portal_grades(code, grade):
    assert grade_of(code) == grade


def test_the_grade_mapping_is_a_setting(settings, bundle):
    settings.ONEROSTER_GRADES = {**settings.ONEROSTER_GRADES, "PS": "13"}
    users = [{**USERS[1], "grades": "PS"}]

    assert oneroster_import(bundle(users=users, enrollments=None)).ok
    assert Student.objects.get().grade == "13"


def test_command_imports_the_sample_bundle_and_reports_bad_rows(bundle, capsys):
    call_command("import_oneroster", "docs/oneroster-sample")
    out = capsys.readouterr().out
    assert "students: 7 created, 0 updated, 0 unchanged, 0 deactivated" in out
    assert Class.objects.count() == 3

    bad = bundle(users=[{**USERS[1], "grades": "ZZ"}], enrollments=None)
    with pytest.raises(CommandError, match="1 bad row \\(listed above\\); nothing was changed"):
        call_command("import_oneroster", str(bad))
    assert "users.csv line 2: bad grade" in capsys.readouterr().err
