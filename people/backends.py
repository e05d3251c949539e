"""The authentication backends: the throttles' (axes), staff's, students' (separate from
staff), and the throttle's account key.

A password passes through every backend's ``authenticate``. Django's error reports hide the
variables that the nearest ``sensitive_variables`` decorator up the stack names, and
``django.contrib.auth.authenticate`` names only its own ``credentials``: so each backend
hides all of its variables, and those of everything it calls.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password, make_password
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from credentials.hashers import is_temporary_login

from .models import Student
from .sign_in import has_expired


class ThrottleBackend(AxesStandaloneBackend):
    """axes's lockout check (per account, and per address: ``people.throttle``)."""

    @sensitive_variables()
    def authenticate(self, request, username=None, password=None, **kwargs):
        return super().authenticate(request, username=username, password=password, **kwargs)


class StaffBackend(ModelBackend):
    """Django's own backend for staff."""

    @sensitive_variables()
    def authenticate(self, request, username=None, password=None, **kwargs):
        return super().authenticate(request, username=username, password=password, **kwargs)


class StudentBackend:
    """Checks a student's username and password through Django's hashers.

    It answers only to ``authenticate(request, student_username=..., password=...)``, so a
    student can never sign in through the staff sign-in page, and it restores no session
    (``get_user`` returns None): student sessions are kept by ``people.student_auth``.
    """

    @sensitive_variables()
    def authenticate(
        self,
        request: HttpRequest | None,
        student_username: str | None = None,
        password: str | None = None,
        **kwargs,
    ) -> Student | None:
        if not student_username or password is None:
            return None
        student = Student.objects.filter(username=student_username, is_active=True).first()
        if student is None:
            # Run the hasher anyway so a missing account takes as long as a wrong password.
            Student().set_password(password)
            return None
        if has_expired(student):
            # Verify without Django's upgrade setter: an expired password is never re-hashed
            # into a lasting one. The sign-in form tells the student to ask their teacher
            # only when the password was right; the attempt still counts as a failure.
            if check_password(password, student.password) and request is not None:
                request.student_password_expired = True
            _equalise_timing(student, password)
            return None
        if student.check_password(password):
            return student
        _equalise_timing(student, password)
        return None

    def get_user(self, user_id: int) -> None:
        return None


@sensitive_variables()
def _equalise_timing(student: Student, password: str) -> None:
    """A temporary (encrypted) password is checked in microseconds, an unknown username
    costs a full hash: without this, the time of a wrong answer would tell which usernames
    exist. Hash once more, and throw the result away."""
    if is_temporary_login(student.password):
        make_password(password)


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The account django-axes counts failures against: staff and students apart."""
    data = credentials if credentials is not None else getattr(request, "POST", {})
    student_username = data.get("student_username")
    if student_username:
        return f"student:{student_username.strip().lower()}"
    username = data.get("username")
    return username.strip().lower() if isinstance(username, str) else username
