"""Writes for the directory: a student's sign-in and password change, and the import."""

from __future__ import annotations

from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from .models import Student


def student_signed_in(*, student: Student) -> None:
    """Record a successful sign-in. The temporary password, if any, has now been used: it
    no longer expires (Django's upgrade path has already re-hashed it at full strength)."""
    now = timezone.now()
    Student.objects.filter(pk=student.pk).update(last_login=now, temporary_password_set_at=None)
    student.last_login = now
    student.temporary_password_set_at = None


@sensitive_variables("new_password")
def student_password_change(*, student: Student, new_password: str) -> None:
    """The student chose a password: hash it with the preferred hasher and lift the forced
    change. Every other session of the student ends (the session hash changes)."""
    student.set_password(new_password)
    student.must_change_password = False
    student.temporary_password_set_at = None
    student.save(update_fields=["password", "must_change_password", "temporary_password_set_at"])
