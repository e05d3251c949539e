"""Student sessions, kept apart from staff ``request.user``.

A signed-in student's session holds the student's id and an HMAC of the student's password
field, as Django's own session auth hash does for staff. ``StudentSessionMiddleware`` sets
``request.student`` (a Student or None) from it; when the stored password changes (a reset,
or the student's own change in another browser) the HMAC no longer matches and the session
ends. Django's ``login()`` is never called for a student: ``request.user`` stays a staff
member or anonymous, so no staff page ever admits a student.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.functional import SimpleLazyObject

from .models import Student

STUDENT_ID_KEY = "_student_id"
STUDENT_HASH_KEY = "_student_auth_hash"
HASH_SALT = "people.student_auth.session"


def student_session_hash(student: Student, secret: str | None = None) -> str:
    return salted_hmac(HASH_SALT, student.password, secret=secret, algorithm="sha256").hexdigest()


def _hash_matches(student: Student, stored: str) -> bool:
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return any(
        constant_time_compare(stored, student_session_hash(student, secret)) for secret in secrets
    )


def student_session_start(request: HttpRequest, student: Student) -> None:
    """Sign the student in on this browser. A new session key guards against fixation; a
    staff member signed in on the same browser is signed out first."""
    if SESSION_KEY in request.session:
        request.session.flush()
    else:
        request.session.cycle_key()
    _store(request, student)


def student_session_refresh(request: HttpRequest, student: Student) -> None:
    """Keep this session after the student changed their own password; the student's other
    sessions end (as with Django's ``update_session_auth_hash``)."""
    request.session.cycle_key()
    _store(request, student)


def _store(request: HttpRequest, student: Student) -> None:
    request.session[STUDENT_ID_KEY] = student.pk
    request.session[STUDENT_HASH_KEY] = student_session_hash(student)
    request.student = student


def student_session_end(request: HttpRequest) -> None:
    request.session.flush()
    request.student = None


def student_session_drop_on_staff_sign_in(sender, request: HttpRequest | None, user, **kwargs):
    """A staff member signing in on a browser where a student is signed in signs the student
    out: one browser holds one of the two, never both (the other way round,
    ``student_session_start`` signs staff out). Connected to Django's ``user_logged_in``,
    which every staff sign-in sends (the portal's page, admin's, ``Client.force_login``);
    Django's ``login()`` has already given the session a new key."""
    if request is None or not hasattr(request, "session"):
        return
    for key in (STUDENT_ID_KEY, STUDENT_HASH_KEY):
        request.session.pop(key, None)
    request.student = None


def session_student(request: HttpRequest) -> Student | None:
    """The student this session belongs to, if the password they signed in with (or set
    since) is still theirs and the account is active."""
    student_id = request.session.get(STUDENT_ID_KEY)
    stored = request.session.get(STUDENT_HASH_KEY)
    if student_id is None or not stored:
        return None
    student = (
        Student.objects.select_related("campus", "psu")
        .filter(pk=student_id, is_active=True)
        .first()
    )
    if student is None or not _hash_matches(student, stored):
        for key in (STUDENT_ID_KEY, STUDENT_HASH_KEY):
            request.session.pop(key, None)
        return None
    return student


class StudentSessionMiddleware:
    """Sets ``request.student`` lazily: pages that never look pay no query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.student = SimpleLazyObject(lambda: session_student(request))
        return self.get_response(request)


def student_required(view=None, *, allow_must_change: bool = False):
    """A signed-in student; otherwise the student sign-in page. A student who must change
    their password is sent to the change page from every other student page."""

    def decorator(view_func):
        @wraps(view_func)
        def wrapped(request: HttpRequest, *args, **kwargs):
            # ``request.student`` is lazy: truthy only when a student is signed in.
            if not request.student:
                return redirect_to_login(request.get_full_path(), reverse("students:login"))
            if request.student.must_change_password and not allow_must_change:
                return redirect("students:password_change")
            return view_func(request, *args, **kwargs)

        return wrapped

    return decorator(view) if view is not None else decorator
