"""Reads of the rosters: a teacher's own classes and their students, an LEA administrator's
teachers, and the classes of a handout's students. Every read is scoped: a teacher reaches
only classes they teach, an administrator only the teachers of the PSUs they administer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count, Prefetch, Q, QuerySet

from people.models import Student

from .models import Class, Enrollment, Teacher

# The columns of every password handout's CSV: a request's (regeneration.handout) and a
# class's (My Students), so a teacher's file and an administrator's read the same.
HANDOUT_CSV_HEADER = [
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


def classes_taught_by(user) -> QuerySet[Class]:
    """The active classes the user teaches (an active enrollment as teacher), by title."""
    return (
        Class.objects.filter(
            is_active=True,
            enrollments__is_active=True,
            enrollments__role=Enrollment.Role.TEACHER,
            enrollments__teacher__user=user,
            enrollments__teacher__is_active=True,
        )
        .select_related("campus", "psu")
        .distinct()
        .order_by("title", "id")
    )


def class_students(roster_class: Class) -> QuerySet[Student]:
    """The class's active students (active enrollments), in name order."""
    return (
        Student.objects.filter(
            is_active=True,
            enrollments__roster_class=roster_class,
            enrollments__is_active=True,
            enrollments__role=Enrollment.Role.STUDENT,
        )
        .select_related("campus", "psu")
        .distinct()
        .order_by("last_name", "first_name", "id")
    )


def classes_with_students(user) -> list[Class]:
    """*My Students*: the user's classes, each with ``students`` (its active students) and
    ``teacher_names``, in two queries whatever the number of classes."""
    students = Prefetch(
        "enrollments",
        queryset=Enrollment.objects.filter(
            is_active=True, role=Enrollment.Role.STUDENT, student__is_active=True
        )
        .select_related("student")
        .order_by("student__last_name", "student__first_name", "student__id"),
        to_attr="student_enrollments",
    )
    classes = list(classes_taught_by(user).prefetch_related(students))
    for roster_class in classes:
        roster_class.students = [e.student for e in roster_class.student_enrollments]
    return classes


def class_teacher_names(roster_class: Class) -> str:
    return ", ".join(
        teacher.user.get_full_name()
        for teacher in Teacher.objects.filter(
            enrollments__roster_class=roster_class,
            enrollments__is_active=True,
            enrollments__role=Enrollment.Role.TEACHER,
        ).select_related("user")
    )


def teachers_visible_to(user) -> QuerySet[Teacher]:
    """The teachers of the PSUs the user administers, with how many classes each teaches."""
    active_classes = Q(
        enrollments__is_active=True,
        enrollments__roster_class__is_active=True,
        enrollments__role=Enrollment.Role.TEACHER,
    )
    return (
        Teacher.objects.filter(psu_id__in=user.administered_psu_ids)
        .select_related("user", "psu")
        .annotate(class_count=Count("enrollments", filter=active_classes))
        .order_by("psu__code", "user__last_name", "user__first_name", "id")
    )


def psu_has_classes(psu_id: int) -> bool:
    """Whether any roster has been imported for the PSU: a handout of a PSU with none skips
    asking for each batch of its students' classes."""
    return Class.objects.filter(psu_id=psu_id, is_active=True).exists()


def classes_of_students(student_ids: Iterable[int]) -> dict[int, list[tuple[int, str, str]]]:
    """``{student id: [(class id, class, teachers), ...]}`` for the active classes of these
    students, by class title: a handout's *Teacher* and *Class* columns, and its cards
    grouped by class. Two queries for any number of students."""
    enrollments = (
        Enrollment.objects.filter(
            student_id__in=list(student_ids),
            is_active=True,
            role=Enrollment.Role.STUDENT,
            roster_class__is_active=True,
        )
        .order_by("roster_class__title", "roster_class_id")
        .values_list("student_id", "roster_class_id", "roster_class__title")
    )
    rows = list(enrollments)
    teachers = _teachers_of_classes({class_id for _, class_id, _ in rows})
    found: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for student_id, class_id, title in rows:
        found[student_id].append((class_id, title, teachers.get(class_id, "")))
    return found


def _teachers_of_classes(class_ids: set[int]) -> dict[int, str]:
    names: dict[int, list[str]] = defaultdict(list)
    for class_id, first, last in (
        Enrollment.objects.filter(
            roster_class_id__in=class_ids, is_active=True, role=Enrollment.Role.TEACHER
        )
        .order_by("teacher__user__last_name", "teacher__user__first_name")
        .values_list("roster_class_id", "teacher__user__first_name", "teacher__user__last_name")
    ):
        names[class_id].append(f"{first} {last}".strip())
    return {class_id: ", ".join(people) for class_id, people in names.items()}
