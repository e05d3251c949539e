"""Who may do what: the decorators every staff view of the portal goes through. They read
the signed-in user's roles through the properties of ``people.User``."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

LEA_ADMIN_REQUIRED = "This page needs the LEA Administrator role for at least one PSU."


def lea_admin_required(view):
    """Signed-in staff holding the LEA Administrator role for at least one PSU; others get
    403 with an explanation of how to obtain the role."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_lea_admin:
            raise PermissionDenied(LEA_ADMIN_REQUIRED)
        return view(request, *args, **kwargs)

    return wrapped


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
