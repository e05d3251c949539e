"""Undo of a request: for REGENERATION_UNDO_DAYS after it finished (or was cancelled), its
requester can give back to every student it changed what they had before, where nothing has
changed their credentials since.

A student is *still as the request left them* when their default is still the one it set and,
where it reset the login password, their login password still holds that request's password
(signed in with it or not; not chosen by the student, not replaced). Those get back the
previous default and, where the request reset the login password, the previous login
credential (as it was kept: encrypted or hashed) and must-change flag, with the credential
state that went with them. The others are listed and left alone. The undo runs as a request of
its own ("Undo of #N") through the same engine; its chunk work is ``undo_chunk``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from ncedcloud.staging import StagingTable
from people.models import Student
from people.sign_in import when

from .models import RegenerationOutcome, RegenerationRequest

UNDO_STAGE = StagingTable("regeneration_undo_stage", (("student_id", "bigint PRIMARY KEY"),))
LEFT_ALONE_SHOWN = 50
# What an undo restores from the undone request's outcome, when it reset the login password.
LOGIN_RESTORED = (
    ("password", "previous_password"),
    ("must_change_password", "previous_must_change"),
    ("temporary_password_set_at", "previous_temporary_set_at"),
    ("login_source", "previous_login_source"),
    ("login_request_number", "previous_login_request_number"),
    ("login_set_at", "previous_login_set_at"),
)
DEFAULT_RESTORED = (
    ("default_password_encrypted", "previous_default_encrypted"),
    ("default_password_set_at", "previous_default_set_at"),
    ("default_request_number", "previous_default_request_number"),
)


def undo_deadline(request: RegenerationRequest):
    if request.finished_at is None:
        return None
    return request.finished_at + timedelta(days=settings.REGENERATION_UNDO_DAYS)


def undo_refusal(request: RegenerationRequest, user, *, now=None) -> str | None:
    """Why ``user`` cannot undo ``request`` now; None when they can."""
    now = now or timezone.now()
    if request.requester_id != user.pk:
        return "Only the administrator who made a request can undo it."
    if request.is_undo:
        return "An undo cannot itself be undone."
    if request.status not in (
        RegenerationRequest.Status.COMPLETED,
        RegenerationRequest.Status.COMPLETED_WITH_ERRORS,
        RegenerationRequest.Status.CANCELLED,
    ):
        return "A request can be undone once it has finished or been cancelled."
    if not request.processed_count:
        return "This request changed no student, so there is nothing to undo."
    deadline = undo_deadline(request)
    if request.undo_data_removed_at is not None or deadline <= now:
        return (
            f"This request could be undone until {when(deadline)} "
            f"({settings.REGENERATION_UNDO_DAYS} days after it finished)."
        )
    undone = request.undos.exclude(status=RegenerationRequest.Status.FAILED).first()
    if undone is not None:
        return f"This request is already undone by request #{undone.pk}."
    return None


@dataclass(frozen=True)
class LeftAlone:
    student: Student
    reason: str


@dataclass(frozen=True)
class UndoPreview:
    restorable: int
    left_alone: list[LeftAlone]
    left_alone_count: int


def undo_preview(request: RegenerationRequest) -> UndoPreview:
    """What an undo of ``request`` would do now: how many students it would restore, and who
    it would leave alone and why (the first LEFT_ALONE_SHOWN), counted in the database."""
    outcomes = changed_outcomes(request)
    still = still_as_set(request.pk)
    restorable = outcomes.filter(still).count()
    others = outcomes.exclude(still)
    shown = others.select_related("student__campus")[:LEFT_ALONE_SHOWN]
    left_alone = [LeftAlone(o.student, changed_since(o.student, o)) for o in shown]
    return UndoPreview(restorable, left_alone, others.count())


def still_as_set(number: int) -> Q:
    """``changed_since(...) is None`` as a condition on the undone request's outcomes."""
    return (
        ~Q(previous_default_encrypted="")
        & Q(student__default_request_number=number)
        & (
            Q(password_reset=False)
            | (
                Q(student__login_request_number=number)
                & ~Q(student__login_source=Student.LoginSource.OWN)
            )
        )
    )


def changed_outcomes(request: RegenerationRequest):
    return RegenerationOutcome.objects.filter(
        request=request,
        status=RegenerationOutcome.Status.CHANGED,
        student__psu_id=request.psu_id,
    ).order_by("student_id")


def changed_since(student, outcome: RegenerationOutcome) -> str | None:
    """Why the student is no longer as ``outcome``'s request left them; None when they are."""
    number = outcome.request_id
    if not outcome.previous_default_encrypted:
        return "What the student had before was not kept."
    if student.default_request_number != number:
        by = student.default_request_number
        return (
            f"The default was changed since, by request #{by}."
            if by
            else ("The default was changed since.")
        )
    if not outcome.password_reset:
        return None
    if student.login_source == Student.LoginSource.OWN:
        return f"The student chose their own password on {when(student.own_password_set_at)}."
    if student.login_request_number != number:
        return "The login password was replaced since."
    return None


class _Kept(NamedTuple):
    """What ``changed_since`` reads of an outcome of the undone request."""

    request_id: int
    student_id: int
    previous_default_encrypted: str
    password_reset: bool


class _Now(NamedTuple):
    """What ``changed_since`` reads of a student, as the chunk locked it."""

    id: int
    default_request_number: int | None
    login_source: str
    login_request_number: int | None
    own_password_set_at: datetime | None


def undo_chunk(request: RegenerationRequest, chunk, *, now) -> tuple[int, int, int]:
    """Restore the chunk's students that are still as the undone request left them; the
    others get a *Left alone* outcome saying why. Runs in the chunk's transaction, the
    students' rows locked. Returns (restored, failed, left alone).

    It reads only the columns the decision needs, as tuples: model instances of 2,000
    students and 2,000 outcomes a chunk made an undo half as fast as the request it undid."""
    in_range = {"student_id__gte": chunk.first_student_id, "student_id__lte": chunk.last_student_id}
    kept = [
        _Kept(*values)
        for values in RegenerationOutcome.objects.filter(
            request_id=request.undo_of_id, status=RegenerationOutcome.Status.CHANGED, **in_range
        ).values_list(*_Kept._fields)
    ]
    students = {
        values[0]: _Now(*values)
        for values in Student.objects.filter(
            psu_id=request.psu_id,  # moved to another PSU since: not the undo's to touch
            id__gte=chunk.first_student_id,
            id__lte=chunk.last_student_id,
            id__in=[outcome.student_id for outcome in kept],
        )
        .select_for_update()
        .values_list(*_Now._fields)
    }
    restored, left_alone = [], []
    for outcome in kept:
        student = students.get(outcome.student_id)
        if student is None:
            continue
        reason = changed_since(student, outcome)
        if reason is None:
            restored.append(outcome.student_id)
        else:
            left_alone.append((outcome.student_id, reason))
    _restore(restored, request=request, chunk=chunk, now=now)
    RegenerationOutcome.objects.bulk_create(
        RegenerationOutcome(
            request=request,
            student_id=student_id,
            status=RegenerationOutcome.Status.SKIPPED,
            error=reason[:300],
            processed_at=now,
        )
        for student_id, reason in left_alone
    )
    return len(restored), 0, len(left_alone)


def _restore(student_ids: list[int], *, request: RegenerationRequest, chunk, now) -> None:
    """One UPDATE of the students from the undone request's outcomes, one INSERT of the
    undo's outcomes."""
    if not student_ids:
        return
    qn = connection.ops.quote_name
    student_table = qn(Student._meta.db_table)
    outcome_table = qn(RegenerationOutcome._meta.db_table)
    at = connection.ops.adapt_datetimefield_value(now)
    range_ = [chunk.first_student_id, chunk.last_student_id]
    with connection.cursor() as cursor:
        UNDO_STAGE.fill(cursor, [(student_id,) for student_id in student_ids])
        defaults = [f"{column} = o.{kept}" for column, kept in DEFAULT_RESTORED]
        logins = [
            f"{column} = CASE WHEN o.password_reset THEN o.{kept} ELSE {student_table}.{column} END"
            for column, kept in LOGIN_RESTORED
        ]
        cursor.execute(
            f"UPDATE {student_table} SET {', '.join(defaults + logins)} "
            f"FROM {UNDO_STAGE.name} s, {outcome_table} o "
            f"WHERE {student_table}.id = s.student_id AND o.student_id = s.student_id "
            # The range on the outcome too: without it PostgreSQL reads every outcome of the
            # undone request for each chunk.
            f"AND o.request_id = %s AND o.student_id BETWEEN %s AND %s "
            f"AND {student_table}.id BETWEEN %s AND %s",
            [request.undo_of_id, *range_, *range_],
        )
        cursor.execute(
            f"INSERT INTO {outcome_table} (request_id, student_id, status, password_reset, "
            "must_change_set, error, processed_at, default_password_encrypted, "
            "previous_default_encrypted, previous_password, previous_login_source) "
            "SELECT %s, o.student_id, %s, o.password_reset, "
            "o.password_reset AND o.previous_must_change, '', %s, '', '', '', '' "
            f"FROM {UNDO_STAGE.name} s JOIN {outcome_table} o ON o.student_id = s.student_id "
            "WHERE o.request_id = %s AND o.student_id BETWEEN %s AND %s",
            [request.pk, RegenerationOutcome.Status.CHANGED, at, request.undo_of_id, *range_],
        )
