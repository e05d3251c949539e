"""Who may do what: the predicates every staff view of the portal, and the request catalog,
go through, and the decorators made of them. They read the signed-in user's roles through the
properties of ``people.User``. A predicate says whether a role allows the page at all (403
otherwise); which students and requests it shows is the selectors' job (404 outside)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

LEA_ADMIN_REQUIRED = "This page needs the LEA Administrator role for at least one PSU."
HELP_DESK_REQUIRED = (
    "This page needs the LEA Administrator, LEA Student Help Desk or School Student Help Desk role."
)


def may_regenerate_many(user) -> bool:
    """The PSU-wide and file requests: LEA Administrators only."""
    return user.is_lea_admin


def may_help_students(user) -> bool:
    """People (view, *Show*, reset to default) and the single-user request: LEA
    Administrators and both help-desk roles."""
    return user.is_lea_admin or user.is_help_desk


def role_required(predicate: Callable[[object], bool], message: str):
    """Signed-in staff for whom ``predicate`` holds; others get 403 with ``message`` and the
    way to request the role."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not predicate(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


lea_admin_required = role_required(may_regenerate_many, LEA_ADMIN_REQUIRED)
help_desk_required = role_required(may_help_students, HELP_DESK_REQUIRED)


TEACHER_REQUIRED = (
    "This page is for teachers whose classes come from the student information system (OneRoster)."
)


def teacher_required(view):
    """Signed-in staff linked to an active OneRoster teacher (``User.is_teacher``); others
    get 403 with the reason."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_teacher:
            raise PermissionDenied(TEACHER_REQUIRED)
        return view(request, *args, **kwargs)

    return wrapped


SUPERUSER_REQUIRED = "This page is for the portal's superusers."


def superuser_required(view):
    """Signed-in superusers; other staff get 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_superuser:
            raise PermissionDenied(SUPERUSER_REQUIRED)
        return view(request, *args, **kwargs)

    return wrapped
