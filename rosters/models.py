"""Classes from the student information system: teachers (staff accounts linked to their
OneRoster ``sourcedId``), classes (sections of a campus) and enrollments (who teaches and
who takes a class). PSUs, campuses and students are the directory's (``people``); OneRoster
names them by ``sourcedId`` too, kept on those models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from people.models import PSU, Campus, Student


class Teacher(models.Model):
    """A teacher of the SIS, as a staff account. Created with no usable password: an LEA
    administrator invites them to set one (a password-reset email)."""

    sourced_id = models.CharField("OneRoster sourcedId", max_length=255, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="roster_teacher"
    )
    psu = models.ForeignKey(
        PSU, on_delete=models.PROTECT, related_name="roster_teachers", verbose_name="PSU"
    )
    is_active = models.BooleanField(default=True)
    invited_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user__last_name", "user__first_name", "id"]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.username


class Class(models.Model):
    """A section of one campus (OneRoster ``classes.csv``)."""

    sourced_id = models.CharField("OneRoster sourcedId", max_length=255, unique=True)
    title = models.CharField(max_length=200)
    class_code = models.CharField(max_length=100, blank=True)
    campus = models.ForeignKey(Campus, on_delete=models.PROTECT, related_name="roster_classes")
    psu = models.ForeignKey(
        PSU, on_delete=models.PROTECT, related_name="roster_classes", verbose_name="PSU"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "classes"
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["campus", "title"], name="roster_class_campus_idx")]

    def __str__(self) -> str:
        return f"{self.title} ({self.class_code})" if self.class_code else self.title


class Enrollment(models.Model):
    """A student taking a class, or a teacher teaching it (OneRoster ``enrollments.csv``).
    ``tobedeleted`` makes it inactive: the row stays, as the student's history does."""

    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        TEACHER = "teacher", "Teacher"

    sourced_id = models.CharField("OneRoster sourcedId", max_length=255, unique=True)
    roster_class = models.ForeignKey(
        Class, on_delete=models.CASCADE, related_name="enrollments", verbose_name="class"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, null=True, blank=True, related_name="enrollments"
    )
    teacher = models.ForeignKey(
        Teacher, on_delete=models.PROTECT, null=True, blank=True, related_name="enrollments"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(role="student") & Q(student__isnull=False) & Q(teacher__isnull=True))
                | (Q(role="teacher") & Q(teacher__isnull=False) & Q(student__isnull=True)),
                name="enrollment_student_or_teacher",
            ),
        ]
        indexes = [
            models.Index(fields=["roster_class", "role"], name="enrollment_class_idx"),
            models.Index(fields=["student"], name="enrollment_student_idx"),
            models.Index(fields=["teacher"], name="enrollment_teacher_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} in {self.roster_class_id}: {self.sourced_id}"
