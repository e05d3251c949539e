"""Writes for the directory: a student's sign-in and password change, and the import."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from regeneration.crypto import encrypt_default_password
from regeneration.hashers import EncryptedTemporaryPasswordHasher
from regeneration.passwords import generate_default_password

from .models import Student
from .student_import import ImportRow


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


@dataclass(frozen=True)
class ImportCounts:
    created: int
    updated: int
    unchanged: int


IMPORTED_FIELDS = ("last_name", "first_name", "username", "psu_id", "campus_id", "grade")
LOOKUP_BATCH = 5000
STAGE_TABLE = "people_import_stage"
STAGE_COLUMNS = (
    "student_id",
    "student_number",
    *IMPORTED_FIELDS,
    "token",
    "login",
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
    staged, created, unchanged = [], 0, 0
    for row in rows:
        values = tuple(getattr(row, name) for name in IMPORTED_FIELDS)
        current = existing.get(row.student_number)
        if current is None:
            token = encrypt_default_password(generate_default_password(grade=row.grade))
            login = EncryptedTemporaryPasswordHasher.encode_token(token)
            staged.append((None, row.student_number, *values, token, login))
            created += 1
        elif current[1:] != values:
            staged.append((current[0], row.student_number, *values, None, None))
        else:
            unchanged += 1
    if staged:
        _write_staged(staged, now=timezone.now())
    return ImportCounts(created=created, updated=len(staged) - created, unchanged=unchanged)


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
        _stage(cursor, staged)
        cursor.execute(
            f"INSERT INTO {table} (student_number, {fields}, default_password_encrypted, "
            "password, default_password_set_at, temporary_password_set_at, "
            "must_change_password, is_active) "
            f"SELECT student_number, {fields}, token, login, %s, %s, %s, %s "
            f"FROM {STAGE_TABLE} WHERE student_id IS NULL ORDER BY student_number",
            [at, at, False, True],
        )
        assignments = ", ".join(f"{name} = s.{name}" for name in IMPORTED_FIELDS)
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM {STAGE_TABLE} s WHERE {table}.id = s.student_id"
        )


def _stage(cursor, staged: list[tuple]) -> None:
    columns = f"({', '.join(STAGE_COLUMNS)})"
    postgres = connection.vendor == "postgresql"
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} (student_id bigint, "
        "student_number varchar(10) NOT NULL, last_name varchar(100) NOT NULL, "
        "first_name varchar(100) NOT NULL, username varchar(64) NOT NULL, "
        "psu_id bigint NOT NULL, campus_id bigint NOT NULL, grade varchar(2) NOT NULL, "
        "token text, login text)" + (" ON COMMIT DELETE ROWS" if postgres else "")
    )
    cursor.execute(f"DELETE FROM {STAGE_TABLE}")
    if postgres:
        with cursor.cursor.copy(f"COPY {STAGE_TABLE} {columns} FROM STDIN") as copy:
            for row in staged:
                copy.write_row(row)
    else:
        placeholders = ", ".join(["%s"] * len(STAGE_COLUMNS))
        cursor.executemany(f"INSERT INTO {STAGE_TABLE} {columns} VALUES ({placeholders})", staged)
