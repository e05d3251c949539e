"""Does a password sign the student in now, and if not, why not.

A default password belongs to a *generation*: the regeneration request that made it (by
number), or None for the password the account was created or imported with. The login
password holds one generation's password (``Student.login_request_number``) unless the
student chose their own. So "does request #R's password sign in?" and "does the current
default sign in?" are one question, answered from the credential state the services keep,
without hashing anything.

``password_signs_in`` takes any object with the fields of ``Student`` it reads (a Student, or
a row of a handout query), so that a handout of 160,000 students asks it without loading
model instances.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import formats, timezone

from .models import Student

LoginSource = Student.LoginSource
# What password_signs_in reads of a student.
STATE_FIELDS = (
    "is_active",
    "default_request_number",
    "default_password_set_at",
    "login_source",
    "login_request_number",
    "login_set_at",
    "own_password_set_at",
    "temporary_password_set_at",
)


class Reason(enum.Enum):
    SIGNS_IN = "signs_in"
    INACTIVE = "inactive"
    EXPIRED = "expired"
    OWN_PASSWORD = "own_password"
    REPLACED = "replaced"
    NOT_RESET = "not_reset"
    UNDONE = "undone"


@dataclass(frozen=True)
class SignIn:
    """The answer, with what a page or a handout says about it."""

    reason: Reason
    note: str = ""

    @property
    def signs_in(self) -> bool:
        return self.reason is Reason.SIGNS_IN

    @property
    def word(self) -> str:
        return "yes" if self.signs_in else "no"


def when(moment: datetime | None) -> str:
    """A date as pages show it (local time)."""
    if moment is None:
        return "an unknown date"
    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")


def expires_at(student) -> datetime | None:
    """When the student's unused temporary login password stops working; None when there is
    none or temporary passwords never expire (TEMPORARY_PASSWORD_EXPIRY_DAYS = 0)."""
    days = settings.TEMPORARY_PASSWORD_EXPIRY_DAYS
    if student.temporary_password_set_at is None or days <= 0:
        return None
    return student.temporary_password_set_at + timedelta(days=days)


def password_signs_in(
    student, *, generation: int | None, made_at: datetime | None, now: datetime | None = None
) -> SignIn:
    """Whether the default password of ``generation`` (made at ``made_at``) is the student's
    login password right now, and why not when it is not."""
    now = now or timezone.now()
    holds = student.login_source != LoginSource.OWN and student.login_request_number == generation
    if holds:
        return _held(student, generation, now)
    if student.login_source == LoginSource.OWN:
        on = when(student.own_password_set_at)
        return SignIn(Reason.OWN_PASSWORD, f"The student chose their own password on {on}.")
    if made_at is not None and student.login_set_at is not None and student.login_set_at > made_at:
        return SignIn(Reason.REPLACED, _replaced_by(student))
    return SignIn(
        Reason.NOT_RESET,
        "The login password was not reset by this request (default only): it signs in once a "
        "login password is reset to the default.",
    )


def _held(student, generation: int | None, now: datetime) -> SignIn:
    if not student.is_active:
        return SignIn(Reason.INACTIVE, "The account is inactive.")
    if has_expired(student, now=now):
        return SignIn(
            Reason.EXPIRED, f"Expired on {when(expires_at(student))}: it was never used to sign in."
        )
    if student.default_request_number != generation:
        newer = student.default_request_number
        by = f"request #{newer}" if newer else "the account's first default password"
        return SignIn(
            Reason.SIGNS_IN,
            f"The default password was replaced by {by} on "
            f"{when(student.default_password_set_at)}; this password still signs in, but a "
            "reset to the default would now give the newer one.",
        )
    return SignIn(Reason.SIGNS_IN)


def _replaced_by(student) -> str:
    if student.login_request_number is not None:
        return f"Replaced by request #{student.login_request_number}."
    return (
        "Replaced by the account's first default password (a reset to the default on "
        f"{when(student.login_set_at)})."
    )


def signs_in_condition(*, generation: int, prefix: str = "", now: datetime | None = None) -> Q:
    """``password_signs_in(...).signs_in`` as a database condition on the student (fields
    behind ``prefix``, e.g. ``"student__"`` from an outcome), to count without loading rows:
    the login holds the generation's password, the student did not choose their own since,
    it has not expired unused, and the account is active."""
    condition = Q(**{f"{prefix}login_request_number": generation, f"{prefix}is_active": True})
    condition &= ~Q(**{f"{prefix}login_source": LoginSource.OWN})
    days = settings.TEMPORARY_PASSWORD_EXPIRY_DAYS
    if days > 0:
        cutoff = (now or timezone.now()) - timedelta(days=days)
        condition &= Q(**{f"{prefix}temporary_password_set_at__isnull": True}) | Q(
            **{f"{prefix}temporary_password_set_at__gt": cutoff}
        )
    return condition


def has_expired(student, *, now: datetime | None = None) -> bool:
    expiry = expires_at(student)
    return expiry is not None and expiry <= (now or timezone.now())


def current_default_signs_in(student: Student, *, now: datetime | None = None) -> SignIn:
    """Whether the student's current default password signs in now (the People record)."""
    answer = password_signs_in(
        student,
        generation=student.default_request_number,
        made_at=student.default_password_set_at,
        now=now,
    )
    if answer.reason is Reason.NOT_RESET:
        return SignIn(
            Reason.NOT_RESET,
            "It is not the login password: the login password was not reset to it since it "
            "was made. Reset to the default password to make it the login password.",
        )
    return answer
