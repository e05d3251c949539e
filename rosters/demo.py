"""Demo data of the rosters: the demo account ``teacher`` is the OneRoster teacher
``tch-920-hughes`` (as in ``docs/oneroster-sample/``) and teaches two classes at Apex
Elementary (920304), each of a dozen of its students. Running it twice changes nothing."""

from __future__ import annotations

from people.models import Campus, Student, User

from .models import Class, Enrollment, Teacher

TEACHER_USERNAME = "teacher"
TEACHER_SOURCED_ID = "tch-920-hughes"
CAMPUS_CODE = "920304"
# sourcedId, title, class code, the grade of its students
DEMO_CLASSES = (
    ("demo-920304-g2-hughes", "Grade 2 Homeroom", "G2-HUGHES", "2"),
    ("demo-920304-g3-math", "Grade 3 Math", "M3-1", "3"),
)
STUDENTS_PER_CLASS = 12


def rosters_seed() -> int:
    """Create the demo teacher link, classes and enrollments that are missing; the number of
    classes created."""
    user = User.objects.get(username=TEACHER_USERNAME)
    campus = Campus.objects.get(code=CAMPUS_CODE)
    teacher, _ = Teacher.objects.get_or_create(
        user=user, defaults={"sourced_id": TEACHER_SOURCED_ID, "psu_id": campus.psu_id}
    )
    created = 0
    for sourced_id, title, code, grade in DEMO_CLASSES:
        roster_class, new = Class.objects.get_or_create(
            sourced_id=sourced_id,
            defaults={
                "title": title,
                "class_code": code,
                "campus": campus,
                "psu_id": campus.psu_id,
            },
        )
        created += new
        if new:
            _enroll(roster_class, teacher, grade)
    return created


def _enroll(roster_class: Class, teacher: Teacher, grade: str) -> None:
    students = Student.objects.filter(campus=roster_class.campus, grade=grade).order_by(
        "student_number"
    )[:STUDENTS_PER_CLASS]
    Enrollment.objects.create(
        sourced_id=f"{roster_class.sourced_id}-teacher",
        roster_class=roster_class,
        role=Enrollment.Role.TEACHER,
        teacher=teacher,
    )
    Enrollment.objects.bulk_create(
        Enrollment(
            sourced_id=f"{roster_class.sourced_id}-{student.student_number}",
            roster_class=roster_class,
            role=Enrollment.Role.STUDENT,
            student=student,
        )
        for student in students
    )
