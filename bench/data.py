"""The benchmark's own data: a PSU of N students loaded with COPY, its administrator, and
their removal afterwards (also of what a killed run left behind).

Everything is named after ``MARKER`` so that it can be found and removed.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from catalog.models import RoleAssignment
from credentials.recipe import credentials_new
from people.demo import FIRST_NAMES, LAST_NAMES
from people.models import PSU, Campus, CredentialEvent, DefaultPasswordDisclosure, Student, User
from regeneration.models import (
    RegenerationChunk,
    RegenerationOutcome,
    RegenerationRequest,
    RequestedStudent,
)

MARKER = "bench_regeneration"
STUDENTS_PER_CAMPUS = 800  # a large NC district: ~160,000 students in ~200 schools
MIN_CAMPUSES = 10  # so that a tenth of the campuses is a tenth of the students
MAX_CAMPUSES = 200
CAMPUS_GRADES = (
    ("-1", "0", "1", "2", "3", "4", "5"),  # elementary
    ("6", "7", "8"),  # middle
    ("9", "10", "11", "12", "-9"),  # high
)
SETUP_BLOCK = 10_000  # students made and encrypted at once while setting up


@dataclass
class BenchPSU:
    psu_id: int
    code: str
    campus_codes: list[str]
    students: int

    def campus_share(self, fraction: float) -> list[str]:
        """The first campuses holding ``fraction`` of the students (students are spread
        evenly over the campuses)."""
        return self.campus_codes[: max(1, round(len(self.campus_codes) * fraction))]


@dataclass
class BenchData:
    admin: User
    psus: list[BenchPSU] = field(default_factory=list)


def bench_admin_create(*, marker: str = MARKER) -> User:
    admin = User.objects.create(username=f"{marker}-{uuid.uuid4().hex[:8]}", email="")
    admin.set_unusable_password()
    admin.save(update_fields=["password"])
    return admin


def bench_psu_create(
    *,
    admin: User,
    students: int,
    label: str,
    seed: int = 1,
    marker: str = MARKER,
    code: str | None = None,
    campuses: int | None = None,
    first_number: int | None = None,
) -> BenchPSU:
    """A PSU with campuses and ``students`` active students loaded with COPY. Students of
    all campuses are interleaved in id order, as years of enrolment leave them. ``code``,
    ``campuses`` and ``first_number`` (of the student numbers) are chosen when not given."""
    code = code or free_psu_codes(1)[0]
    psu = PSU.objects.create(code=code, name=f"{marker}: {label}")
    RoleAssignment.objects.create(user=admin, role=RoleAssignment.Role.LEA_ADMIN, psu=psu)
    if campuses is None:
        campuses = min(MAX_CAMPUSES, max(MIN_CAMPUSES, students // STUDENTS_PER_CAMPUS), students)
    campus_rows = Campus.objects.bulk_create(
        Campus(code=f"{code}{i:03d}", name=f"Benchmark school {i + 1}", psu=psu)
        for i in range(campuses)
    )
    if first_number is None:
        first_number = free_student_numbers(students)
    _students_copy(psu, campus_rows, students, random.Random(seed), first_number, marker)
    return BenchPSU(psu.pk, code, [c.code for c in campus_rows], students)


def free_psu_codes(count: int) -> list[str]:
    """``count`` PSU codes starting with Z that neither a PSU nor a campus uses (campus codes
    start with their PSU's code)."""
    taken = set(PSU.objects.filter(code__startswith="Z").values_list("code", flat=True))
    taken |= {
        code[:3]
        for code in Campus.objects.filter(code__startswith="Z").values_list("code", flat=True)
    }
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    free = [f"Z{a}{b}" for a in alphabet for b in alphabet if f"Z{a}{b}" not in taken]
    if len(free) < count:
        raise RuntimeError(f"Fewer than {count} free PSU codes starting with Z are left.")
    return free[:count]


def _students_copy(
    psu: PSU,
    campuses: list[Campus],
    count: int,
    rng: random.Random,
    first_number: int,
    marker: str,
) -> None:
    """COPY ``count`` students in, their passwords made and encrypted in blocks, as the
    regeneration does, so that setting up 160,000 students takes seconds."""
    now = timezone.now()
    columns = (
        "student_number, first_name, last_name, username, psu_id, campus_id, grade, "
        "default_password_encrypted, default_password_set_at, must_change_password, "
        "temporary_password_set_at, is_active, password, login_source, login_set_at"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        copy_sql = f"COPY {Student._meta.db_table} ({columns}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for start in range(0, count, SETUP_BLOCK):
                numbers = range(start, min(count, start + SETUP_BLOCK))
                grades = [rng.choice(_campus_grades(n, len(campuses))) for n in numbers]
                made = credentials_new(grades=grades)
                for n, grade, new in zip(numbers, grades, made, strict=True):
                    copy.write_row(
                        (
                            str(first_number + n),
                            rng.choice(FIRST_NAMES),
                            rng.choice(LAST_NAMES),
                            f"{marker}-{psu.code.lower()}-{n}",
                            psu.pk,
                            campuses[n % len(campuses)].pk,
                            grade,
                            new.default_token,
                            now,
                            False,
                            now,
                            True,
                            new.login,
                            Student.LoginSource.CREATED,
                            now,
                        )
                    )


def _campus_grades(student: int, campuses: int) -> tuple[str, ...]:
    """Student ``n`` goes to campus ``n % campuses``; campuses take turns being an
    elementary, a middle and a high school."""
    return CAMPUS_GRADES[(student % campuses) % len(CAMPUS_GRADES)]


def free_student_numbers(count: int) -> int:
    """The first of ``count`` free ten-digit student numbers starting with 7."""
    first = 7_000_000_000
    while Student.objects.filter(
        student_number__gte=str(first), student_number__lte=str(first + count)
    ).exists():
        first += 10_000_000
        if first + count > 7_999_999_999:
            raise RuntimeError("No free range of student numbers is left for the benchmark.")
    return first


def bench_data_remove(data: BenchData) -> None:
    """Remove every row the benchmark made: its requests, outcomes, chunks, students,
    campuses, roles, PSUs and its administrator."""
    psu_ids = [psu.psu_id for psu in data.psus]
    _rows_remove(psu_ids=psu_ids, user_ids=[data.admin.pk] if data.admin.pk else [])


def bench_leftovers_remove(*, marker: str = MARKER) -> int:
    """Remove what a benchmark killed outright (SIGKILL, power loss) left behind."""
    psu_ids = list(PSU.objects.filter(name__startswith=f"{marker}:").values_list("pk", flat=True))
    user_ids = list(
        User.objects.filter(username__startswith=f"{marker}-").values_list("pk", flat=True)
    )
    _rows_remove(psu_ids=psu_ids, user_ids=user_ids)
    return len(psu_ids)


def _rows_remove(*, psu_ids: list[int], user_ids: list[int]) -> None:
    table = {
        model: connection.ops.quote_name(model._meta.db_table)
        for model in (
            RegenerationOutcome,
            RegenerationChunk,
            RequestedStudent,
            RegenerationRequest,
            CredentialEvent,
            DefaultPasswordDisclosure,
            Student,
            Campus,
            RoleAssignment,
            PSU,
            User,
        )
    }
    requests = f"SELECT id FROM {table[RegenerationRequest]} WHERE psu_id = ANY(%s)"
    students = f"SELECT id FROM {table[Student]} WHERE psu_id = ANY(%s)"
    if connection.vendor == "postgresql" and psu_ids:
        # The foreign-key checks at COMMIT (one per student removed, per table that refers
        # to students) are planned from the tables' statistics. Right after a run wrote 1.5
        # million outcome rows into a table last analyzed empty, the check on the outcomes
        # was planned as a scan of a whole index, per student: a first `bench web` at full
        # size spent more than 15 minutes in that COMMIT. Fresh statistics first.
        with connection.cursor() as cursor:
            for model in (RegenerationOutcome, CredentialEvent, RequestedStudent, Student):
                cursor.execute(f"ANALYZE {table[model]}")
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (RegenerationOutcome, RegenerationChunk, RequestedStudent):
            cursor.execute(
                f"DELETE FROM {table[model]} WHERE request_id IN ({requests})", [psu_ids]
            )
        cursor.execute(
            f"DELETE FROM {table[CredentialEvent]} WHERE student_id IN ({students})", [psu_ids]
        )
        for model in (
            RegenerationRequest,
            DefaultPasswordDisclosure,
            Student,
            Campus,
            RoleAssignment,
        ):
            cursor.execute(f"DELETE FROM {table[model]} WHERE psu_id = ANY(%s)", [psu_ids])
        cursor.execute(f"DELETE FROM {table[RoleAssignment]} WHERE user_id = ANY(%s)", [user_ids])
        cursor.execute(f"DELETE FROM {table[PSU]} WHERE id = ANY(%s)", [psu_ids])
        cursor.execute(f"DELETE FROM {table[User]} WHERE id = ANY(%s)", [user_ids])


def students_rewrite(psus: list[BenchPSU], *, passes: int = 2) -> None:
    """Rewrite every student of the PSUs ``passes`` times, vacuuming after each: the table
    and its indexes are then as a district that has run requests before has them. On a
    freshly loaded table the first full rewrite is 17-25% slower than every later one
    (the indexes grow into new pages; later passes reuse what VACUUM freed), so whichever
    timed pass came first would pay alone for it. Measured pass by pass over 18 alternating
    passes: from the second on, the floor's and our speeds hold steady."""
    table = connection.ops.quote_name(Student._meta.db_table)
    for _ in range(passes):
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET default_password_set_at = default_password_set_at "
                "WHERE psu_id = ANY(%s)",
                [[psu.psu_id for psu in psus]],
            )
        tables_settle()


def tables_settle() -> None:
    """Start every timed phase from the same state: dead row versions of the previous phase
    vacuumed, statistics fresh, and (where the role may) a checkpoint just taken, so each
    phase pays the same first-touch WAL cost."""
    with connection.cursor() as cursor:
        for model in (Student, RegenerationOutcome):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        with contextlib.suppress(DatabaseError), transaction.atomic():
            cursor.execute("CHECKPOINT")  # needs a privileged role; optional


def request_create(
    psu: BenchPSU,
    admin: User,
    *,
    reset: bool = False,
    force: bool = False,
    campus_codes: list[str] | None = None,
    student_ids: list[int] | None = None,
    undo_of: RegenerationRequest | None = None,
) -> RegenerationRequest:
    """A queued request as *Confirm* records it (not dispatched): by filters, for a list of
    students (``student_ids``, as a UID file's), or the undo of a request."""
    Selection = RegenerationRequest.Selection
    selection = Selection.FILTERS
    if student_ids is not None:
        selection = Selection.STUDENT if len(student_ids) == 1 else Selection.LIST
    if undo_of is not None:
        selection = Selection.UNDO
    with transaction.atomic():
        request = RegenerationRequest.objects.create(
            requester=admin,
            psu_id=psu.psu_id,
            selection=selection,
            undo_of=undo_of,
            campus_codes=campus_codes or [],
            grade_levels=[],
            reset_current_passwords=reset,
            force_password_change=force,
            comments=f"{MARKER}",
            confirmation_key=uuid.uuid4(),
        )
        if student_ids is not None:
            RequestedStudent.objects.bulk_create(
                (RequestedStudent(request=request, student_id=pk) for pk in student_ids),
                batch_size=5000,
            )
    return request


def student_ids(psu: BenchPSU) -> list[int]:
    return list(
        Student.objects.filter(psu_id=psu.psu_id).order_by("id").values_list("id", flat=True)
    )
