"""Writes for the directory: a student's sign-in and password change, the import, and the
record of every time default passwords were shown."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from credentials.crypto import decrypt_default_password, encrypt_default_password
from credentials.hashers import temporary_login
from credentials.recipe import credentials_new
from ncedcloud.staging import StagingTable

from .models import CredentialEvent, DefaultPasswordDisclosure, Student
from .student_import import ImportRow

logger = logging.getLogger(__name__)


@transaction.atomic
def student_signed_in(*, student: Student) -> None:
    """Record a successful sign-in. The first after the portal set the login password is
    recorded in the student's history (with the request whose password it was); the
    temporary password has now been used: it no longer expires (Django's upgrade path has
    already re-hashed it at full strength)."""
    now = timezone.now()
    if student.temporary_password_set_at is not None:
        CredentialEvent.objects.create(
            student=student,
            kind=CredentialEvent.Kind.FIRST_SIGN_IN,
            at=now,
            request_number=student.login_request_number,
        )
    Student.objects.filter(pk=student.pk).update(last_login=now, temporary_password_set_at=None)
    student.last_login = now
    student.temporary_password_set_at = None


@sensitive_variables()
@transaction.atomic
def student_password_change(*, student: Student, new_password: str) -> None:
    """The student chose a password: hash it with the preferred hasher and lift the forced
    change. Every other session of the student ends (the session hash changes)."""
    now = timezone.now()
    student.set_password(new_password)
    student.must_change_password = False
    student.temporary_password_set_at = None
    student.login_source = Student.LoginSource.OWN
    student.login_request_number = None
    student.login_set_at = student.own_password_set_at = now
    student.save(update_fields=[*LOGIN_STATE_FIELDS, "own_password_set_at"])
    CredentialEvent.objects.create(student=student, kind=CredentialEvent.Kind.OWN_PASSWORD, at=now)


LOGIN_STATE_FIELDS = (
    "password",
    "must_change_password",
    "temporary_password_set_at",
    "login_source",
    "login_request_number",
    "login_set_at",
)


@sensitive_variables()
@transaction.atomic
def student_reset_to_default(*, student: Student, actor, force_change: bool) -> CredentialEvent:
    """Make the student's login password their current default password, as a temporary
    login password (it expires unused, and is re-hashed at the first sign-in); with
    ``force_change`` the student must choose a new one then. The login credential is a fresh
    encryption of the default, so the stored password always changes and every session of
    the student ends. Raises ``DefaultPasswordDecryptionError`` (and changes nothing) when
    the default cannot be decrypted: a login nobody can check would lock the student out."""
    locked = Student.objects.select_for_update().get(pk=student.pk)
    fresh_token = encrypt_default_password(
        decrypt_default_password(locked.default_password_encrypted)
    )
    now = timezone.now()
    locked.password = temporary_login(fresh_token)
    locked.must_change_password = force_change
    locked.temporary_password_set_at = locked.login_set_at = now
    locked.login_source = Student.LoginSource.RESET_TO_DEFAULT
    locked.login_request_number = locked.default_request_number
    locked.save(update_fields=list(LOGIN_STATE_FIELDS))
    event = CredentialEvent.objects.create(
        student=locked,
        kind=CredentialEvent.Kind.RESET_TO_DEFAULT,
        at=now,
        actor=actor,
        request_number=locked.default_request_number,
        must_change=force_change,
    )
    logger.info(
        "Student %s reset to the default password by %s (force change: %s)",
        locked.pk,
        actor.username,
        force_change,
    )
    return event


@dataclass(frozen=True)
class ImportCounts:
    created: int
    updated: int
    unchanged: int


IMPORTED_FIELDS = ("last_name", "first_name", "username", "psu_id", "campus_id", "grade")
LOOKUP_BATCH = 5000
STAGE = StagingTable(
    "people_import_stage",
    (
        ("student_id", "bigint"),
        ("student_number", "varchar(10) NOT NULL"),
        ("last_name", "varchar(100) NOT NULL"),
        ("first_name", "varchar(100) NOT NULL"),
        ("username", "varchar(64) NOT NULL"),
        ("psu_id", "bigint NOT NULL"),
        ("campus_id", "bigint NOT NULL"),
        ("grade", "varchar(2) NOT NULL"),
        ("token", "text"),
        ("login", "text"),
    ),
)


@transaction.atomic
def students_import(*, rows: list[ImportRow]) -> ImportCounts:
    """Create the students that are new and update the directory data of those that exist
    (matched by student number), in one transaction. Existing students keep their
    passwords. A new student gets a generated default password, encrypted, which is also
    their temporary login password until their first sign-in (as a reset would set it).

    Rows are staged in a temporary table (COPY on PostgreSQL) and written with one INSERT
    and one UPDATE: 100,000 rows take seconds, where Django's ``bulk_update`` takes minutes.
    """
    existing = _existing_students([row.student_number for row in rows])
    new_rows = [row for row in rows if row.student_number not in existing]
    credentials = credentials_new(grades=[row.grade for row in new_rows])
    staged = [
        (None, row.student_number, *_imported(row), new.default_token, new.login)
        for row, new in zip(new_rows, credentials, strict=True)
    ]
    unchanged = 0
    for row in rows:
        current = existing.get(row.student_number)
        if current is None:
            continue
        if current[1:] != _imported(row):
            staged.append((current[0], row.student_number, *_imported(row), None, None))
        else:
            unchanged += 1
    if staged:
        _write_staged(staged, now=timezone.now())
    created = len(new_rows)
    return ImportCounts(created=created, updated=len(staged) - created, unchanged=unchanged)


def _imported(row: ImportRow) -> tuple:
    return tuple(getattr(row, name) for name in IMPORTED_FIELDS)


def _existing_students(numbers: list[str]) -> dict[str, tuple]:
    """``{student number: (id, *IMPORTED_FIELDS)}`` of the students already known."""
    found: dict[str, tuple] = {}
    for start in range(0, len(numbers), LOOKUP_BATCH):
        batch = numbers[start : start + LOOKUP_BATCH]
        for number, *values in Student.objects.filter(student_number__in=batch).values_list(
            "student_number", "id", *IMPORTED_FIELDS
        ):
            found[number] = tuple(values)
    return found


def _write_staged(staged: list[tuple], *, now) -> None:
    table = connection.ops.quote_name(Student._meta.db_table)
    fields = ", ".join(IMPORTED_FIELDS)
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        STAGE.fill(cursor, staged)
        cursor.execute(
            f"INSERT INTO {table} (student_number, {fields}, default_password_encrypted, "
            "password, default_password_set_at, temporary_password_set_at, login_set_at, "
            "login_source, must_change_password, is_active) "
            f"SELECT student_number, {fields}, token, login, %s, %s, %s, %s, %s, %s "
            f"FROM {STAGE.name} WHERE student_id IS NULL ORDER BY student_number",
            [at, at, at, Student.LoginSource.CREATED, False, True],
        )
        assignments = ", ".join(f"{name} = s.{name}" for name in IMPORTED_FIELDS)
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM {STAGE.name} s WHERE {table}.id = s.student_id"
        )


def default_password_disclosure_record(
    *,
    actor,
    kind: str,
    psu_id: int,
    student: Student | None = None,
    request_number: int | None = None,
    student_count: int = 1,
    scope: str = "",
    ip: str | None = None,
) -> DefaultPasswordDisclosure:
    """Record that ``actor`` was shown default passwords (never the passwords themselves):
    one student's, or those of the students of request ``request_number``."""
    disclosure = DefaultPasswordDisclosure.objects.create(
        actor=actor,
        kind=kind,
        psu_id=psu_id,
        student=student,
        request_number=request_number,
        student_count=student_count,
        scope=scope[:200],
        ip=ip,
    )
    logger.info(
        "Default passwords shown (%s) to %s: %s student(s), psu_id %s%s",
        kind,
        actor.username,
        student_count,
        psu_id,
        f", request {request_number}"
        if request_number
        else (f", student {student.pk}" if student else f", {scope[:200]}"),
    )
    return disclosure


def psu_teachers_may_reset_set(*, psu, allowed: bool, actor) -> None:
    """The PSU setting *Teachers may reset to the default password* (off by default),
    changed by one of the PSU's LEA administrators."""
    psu.teachers_may_reset = allowed
    psu.save(update_fields=["teachers_may_reset"])
    logger.info(
        "PSU %s: teachers may reset to the default password: %s (set by %s)",
        psu.code,
        allowed,
        actor.username,
    )
