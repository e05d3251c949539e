from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from catalog.models import RoleAssignment
from credentials.crypto import decrypt_default_password
from people.models import PSU, Campus, Student, User
from rosters.models import Class, Enrollment
from rosters.selectors import classes_with_students


def counts() -> dict:
    return {
        "psus": PSU.objects.count(),
        "campuses": Campus.objects.count(),
        "students": Student.objects.count(),
        "users": User.objects.count(),
        "roles": RoleAssignment.objects.count(),
        "classes": Class.objects.count(),
        "enrollments": Enrollment.objects.count(),
    }


@pytest.mark.django_db
def test_seed_demo_twice_leaves_the_same_counts_and_passwords():
    call_command("seed_demo", "--force", verbosity=0)
    first = counts()
    tokens = dict(Student.objects.values_list("pk", "default_password_encrypted"))

    call_command("seed_demo", "--force", verbosity=0)

    assert counts() == first
    assert dict(Student.objects.values_list("pk", "default_password_encrypted")) == tokens


@pytest.mark.django_db
def test_seed_demo_creates_the_documented_districts_accounts_and_grades():
    call_command("seed_demo", "--force", "--password", "Another-Demo-1", verbosity=0)

    per_psu = {psu.code: (psu.campuses.count(), psu.students.count()) for psu in PSU.objects.all()}
    assert per_psu == {"920": (6, 1200), "010": (3, 400), "32B": (1, 150)}
    assert set(Student.objects.values_list("grade", flat=True)) == {
        "-5",
        "-4",
        "-3",
        "-2",
        "-1",
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "10",
        "11",
        "12",
        "13",
        "-9",
    }
    assert Student.objects.values("username").distinct().count() == 1750
    assert User.objects.get(username="admin920").administered_psu_codes == ["920"]
    assert User.objects.get(username="adminmulti").administered_psu_codes == ["010", "32B"]
    assert User.objects.get(username="support").is_support
    assert not User.objects.get(username="teacher").is_lea_admin
    assert User.objects.get(username="root").is_superuser
    assert User.objects.get(username="helpdesk920").help_desk_psu_ids == [
        PSU.objects.get(code="920").pk
    ]
    school = User.objects.get(username="school920304")
    assert school.help_desk_campus_ids == [Campus.objects.get(code="920304").pk]
    assert school.check_password("Another-Demo-1")
    assert User.objects.get(username="teacher").check_password("Another-Demo-1")
    for student in Student.objects.all():
        assert len(decrypt_default_password(student.default_password_encrypted)) >= 6


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False  # as in production (and as Django's test runner sets it)

    with pytest.raises(CommandError, match="Refusing to create demo accounts with DEBUG off"):
        call_command("seed_demo", verbosity=0)
    assert User.objects.count() == 0

    call_command("seed_demo", "--force", verbosity=0)
    assert User.objects.filter(username="admin920").exists()


@pytest.mark.django_db
def test_seed_demo_teacher_teaches_two_classes_at_920304_and_the_sample_bundle_imports():
    call_command("seed_demo", "--force", verbosity=0)
    teacher = User.objects.get(username="teacher")

    classes = classes_with_students(teacher)

    assert teacher.is_teacher
    assert [(c.title, c.campus.code, len(c.students)) for c in classes] == [
        ("Grade 2 Homeroom", "920304", 12),
        ("Grade 3 Math", "920304", 12),
    ]
    assert {s.grade for s in classes[0].students} == {"2"}
    # The README's sample bundle imports into the demo data, its teacher being `teacher`.
    call_command("import_oneroster", "docs/oneroster-sample", verbosity=0)
    titles = [c.title for c in classes_with_students(User.objects.get(username="teacher"))]
    assert titles == ["Grade 1 Reading", "Grade 2 Homeroom", "Grade 3 Math"]
