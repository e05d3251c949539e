"""Importing a OneRoster 1.1 bundle: all or nothing, in one transaction, with memory flat
however many rows.

Orgs are few: they are checked and written first, in Python. Users, classes and enrollments
are read a batch at a time (``BATCH``), checked row by row for what a row alone says (formats,
grades, orgs), and staged in temporary tables (COPY on PostgreSQL); what needs every row
(duplicates, references to other files or to the directory, usernames of other people) is
then checked in SQL, and the directory written with a few set-based INSERTs and UPDATEs
that touch only what changed. Any bad row rolls everything back, orgs included, and every
bad row is named with its file, line and reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from credentials.recipe import credentials_new
from ncedcloud.staging import StagingTable
from people.codes import CAMPUS_CODE, PSU_CODE, STUDENT_NUMBER
from people.models import PSU, Campus, Student, User
from people.student_import import NAME_MAX, USERNAME, USERNAME_MAX, quoted

from .oneroster import Bundle, Record, bundle_open, grade_of, split_list

BATCH = 5000
BAD_ROWS_KEPT = 1000
STAFF_USERNAME = re.compile(r"[\w.@+-]+")
STAFF_USERNAME_MAX = User._meta.get_field("username").max_length
EMAIL_MAX = User._meta.get_field("email").max_length
TITLE_MAX = 200
SOURCED_ID_MAX = 255

STUDENTS = StagingTable(
    "roster_students_stage",
    (
        ("line", "integer NOT NULL"),
        ("sourced_id", "varchar(255) NOT NULL"),
        ("student_number", "varchar(10) NOT NULL"),
        ("username", "varchar(64) NOT NULL"),
        ("first_name", "varchar(100) NOT NULL"),
        ("last_name", "varchar(100) NOT NULL"),
        ("grade", "varchar(2) NOT NULL"),
        ("campus_id", "bigint NOT NULL"),
        ("psu_id", "bigint NOT NULL"),
        ("is_active", "boolean NOT NULL"),
        ("token", "text"),
        ("login", "text"),
    ),
)
TEACHERS = StagingTable(
    "roster_teachers_stage",
    (
        ("line", "integer NOT NULL"),
        ("sourced_id", "varchar(255) NOT NULL"),
        ("username", "varchar(150) NOT NULL"),
        ("first_name", "varchar(150) NOT NULL"),
        ("last_name", "varchar(150) NOT NULL"),
        ("email", "varchar(254) NOT NULL"),
        ("psu_id", "bigint NOT NULL"),
        ("is_active", "boolean NOT NULL"),
        ("password", "varchar(128) NOT NULL"),
    ),
)
CLASSES = StagingTable(
    "roster_classes_stage",
    (
        ("line", "integer NOT NULL"),
        ("sourced_id", "varchar(255) NOT NULL"),
        ("title", "varchar(200) NOT NULL"),
        ("class_code", "varchar(100) NOT NULL"),
        ("campus_id", "bigint NOT NULL"),
        ("psu_id", "bigint NOT NULL"),
    ),
)
ENROLLMENTS = StagingTable(
    "roster_enrollments_stage",
    (
        ("line", "integer NOT NULL"),
        ("sourced_id", "varchar(255) NOT NULL"),
        ("class_sourced_id", "varchar(255) NOT NULL"),
        ("user_sourced_id", "varchar(255) NOT NULL"),
        ("role", "varchar(10) NOT NULL"),
        ("class_id", "bigint"),
        ("student_id", "bigint"),
        ("teacher_id", "bigint"),
    ),
)
DELETIONS = StagingTable(
    "roster_deletions_stage",
    (("file", "varchar(20) NOT NULL"), ("line", "integer NOT NULL"), ("sourced_id", "text")),
)
STAGES = (STUDENTS, TEACHERS, CLASSES, ENROLLMENTS, DELETIONS)


@dataclass(frozen=True, order=True)
class BadRow:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.reason}"


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deactivated


@dataclass
class RosterImport:
    """What an import did (or, with bad rows or ``check``, would have done: nothing was
    kept)."""

    counts: dict[str, Counts] = field(
        default_factory=lambda: {
            kind: Counts()
            for kind in ("districts", "schools", "students", "teachers", "classes", "enrollments")
        }
    )
    bad_rows: list[BadRow] = field(default_factory=list)
    bad_row_count: int = 0
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.bad_row_count

    @property
    def changed(self) -> int:
        return sum(counts.changed for counts in self.counts.values())

    def bad(self, record_or_file, line: int | None = None, reason: str = "") -> None:
        file, line = (
            (record_or_file.file, record_or_file.line)
            if isinstance(record_or_file, Record)
            else (record_or_file, line)
        )
        self.bad_row_count += 1
        if len(self.bad_rows) < BAD_ROWS_KEPT:
            self.bad_rows.append(BadRow(file, line, reason))


class _RollBack(Exception):
    pass


def oneroster_import(path: Path | str, *, check: bool = False) -> RosterImport:
    """Import the bundle at ``path`` (a folder or a .zip); with ``check``, or when any row is
    bad, nothing is kept. Raises ``BundleError`` when the bundle cannot be read at all."""
    result = RosterImport()
    try:
        with bundle_open(path) as bundle, transaction.atomic():
            _Import(bundle, result).run()
            if check or not result.ok:
                raise _RollBack
    except _RollBack:
        pass
    result.bad_rows.sort()
    return result


@dataclass(frozen=True)
class Org:
    kind: str  # "district" or "school"
    psu_id: int
    campus_id: int | None = None


class _Import:
    def __init__(self, bundle: Bundle, result: RosterImport):
        self.bundle = bundle
        self.result = result
        self.orgs: dict[str, Org] = {}
        self.now = timezone.now()

    def run(self) -> None:
        with connection.cursor() as cursor:
            self.cursor = cursor
            for stage in STAGES:
                stage.create(cursor)
            self._orgs()
            self._stage(USERS_FILE, self._user_rows)
            self._stage(CLASSES_FILE, self._class_rows)
            self._stage(ENROLLMENTS_FILE, self._enrollment_rows)
            if connection.vendor == "postgresql":
                for stage in STAGES:
                    cursor.execute(f"ANALYZE {stage.name}")
            self._check_staged()
            if self.result.ok:
                self._write()

    # Orgs: few, in Python.

    def _orgs(self) -> None:
        for psu in PSU.objects.exclude(sourced_id=None):
            self.orgs[psu.sourced_id] = Org("district", psu.pk)
        for campus in Campus.objects.exclude(sourced_id=None):
            self.orgs[campus.sourced_id] = Org("school", campus.psu_id, campus.pk)
        records = [r for r in self.bundle.records("orgs") if not r.problem or self._bad(r)]
        self.result.rows += len(records)
        seen: dict[tuple[str, str], int] = {}
        districts = [r for r in records if r["type"].lower() == "district"]
        schools = [r for r in records if r["type"].lower() == "school"]
        for record in districts:
            self._district(record, seen)
        for record in schools:
            self._school(record, seen)

    def _bad(self, record: Record, reason: str = "") -> bool:
        self.result.bad(record, reason=reason or record.problem)
        return False

    def _once(self, record: Record, seen: dict, key: tuple[str, str], what: str) -> bool:
        if key in seen:
            return self._bad(record, f"{what} {quoted(key[1])} is also on line {seen[key]}")
        seen[key] = record.line
        return True

    def _org_common(self, record: Record, seen: dict, code_format) -> str | None:
        sourced_id, code = record["sourcedId"], record["identifier"].upper()
        if not sourced_id:
            self._bad(record, "missing sourcedId")
            return None
        if record.to_be_deleted:
            return None  # PSUs and campuses stay: students keep their history.
        if not code_format.matches(code):
            self._bad(record, f"identifier {quoted(code)}: {code_format.description}")
            return None
        ok = self._once(record, seen, ("sourcedId", sourced_id), "sourcedId")
        ok = self._once(record, seen, ("identifier", code), "identifier") and ok
        if not record["name"]:
            self._bad(record, "missing name")
            return None
        return code if ok else None

    def _district(self, record: Record, seen: dict) -> None:
        code = self._org_common(record, seen, PSU_CODE)
        if code is None:
            return
        counts = self.result.counts["districts"]
        psu = PSU.objects.filter(code=code).first()
        if psu is None:
            psu = PSU.objects.create(code=code, name=record["name"], sourced_id=record["sourcedId"])
            counts.created += 1
        elif (psu.name, psu.sourced_id) != (record["name"], record["sourcedId"]):
            psu.name, psu.sourced_id = record["name"], record["sourcedId"]
            psu.save(update_fields=["name", "sourced_id"])
            counts.updated += 1
        else:
            counts.unchanged += 1
        self.orgs[record["sourcedId"]] = Org("district", psu.pk)

    def _school(self, record: Record, seen: dict) -> None:
        code = self._org_common(record, seen, CAMPUS_CODE)
        if code is None:
            return
        parent = self.orgs.get(record["parentSourcedId"])
        if parent is None or parent.kind != "district":
            self._bad(
                record,
                f"unknown reference: parentSourcedId {quoted(record['parentSourcedId'])} is "
                "not a district in orgs.csv or the portal",
            )
            return
        campus = Campus.objects.select_related("psu").filter(code=code).first()
        if campus is not None and campus.psu_id != parent.psu_id:
            district = PSU.objects.get(pk=parent.psu_id)
            self._bad(
                record,
                f"campus {code} belongs to PSU {campus.psu.code}, not to the district of its "
                f"parentSourcedId (PSU {district.code})",
            )
            return
        self._school_write(record, campus, code, parent)

    def _school_write(self, record: Record, campus, code: str, parent: Org) -> None:
        counts = self.result.counts["schools"]
        values = {"name": record["name"], "sourced_id": record["sourcedId"]}
        if campus is None:
            campus = Campus.objects.create(code=code, psu_id=parent.psu_id, **values)
            counts.created += 1
        elif (campus.name, campus.sourced_id) != (values["name"], values["sourced_id"]):
            Campus.objects.filter(pk=campus.pk).update(**values)
            counts.updated += 1
        else:
            counts.unchanged += 1
        self.orgs[record["sourcedId"]] = Org("school", parent.psu_id, campus.pk)

    # Users, classes, enrollments: a batch at a time into the staging tables.

    def _stage(self, file: str, rows) -> None:
        batch: list[Record] = []
        deletions: list[tuple] = []
        for record in self.bundle.records(file):
            self.result.rows += 1
            if record.problem:
                self._bad(record)
            elif not record["sourcedId"]:
                self._bad(record, "missing sourcedId")
            elif record.to_be_deleted:
                deletions.append((file, record.line, record["sourcedId"]))
            else:
                batch.append(record)
            if len(batch) == BATCH:
                rows(batch)
                batch = []
        if batch:
            rows(batch)
        DELETIONS.append(self.cursor, deletions)

    def _user_rows(self, batch: list[Record]) -> None:
        students, teachers = [], []
        for record in batch:
            role = record["role"].lower()
            if role == "student":
                row = self._student(record)
                if row:
                    students.append(row)
            elif role == "teacher":
                row = self._teacher(record)
                if row:
                    teachers.append(row)
        if students:
            self._stage_students(students)
        TEACHERS.append(self.cursor, teachers)

    def _missing(self, record: Record, columns: tuple[str, ...]) -> bool:
        missing = [column for column in columns if not record[column]]
        if missing:
            self._bad(record, f"missing {', '.join(missing)}")
        return bool(missing)

    def _enabled(self, record: Record) -> bool | None:
        value = record["enabledUser"].lower()
        if value not in ("true", "false", ""):
            self._bad(record, f"enabledUser {quoted(value)} is not true or false")
            return None
        return value != "false"

    def _student(self, record: Record) -> tuple | None:
        if self._missing(
            record, ("identifier", "username", "givenName", "familyName", "grades", "orgSourcedIds")
        ):
            return None
        reasons = []
        number, username = record["identifier"], record["username"].lower()
        if not STUDENT_NUMBER.matches(number):
            reasons.append(f"identifier {quoted(number)} is not a student number of 1 to 10 digits")
        if len(username) > USERNAME_MAX or not USERNAME.fullmatch(username):
            reasons.append(
                f"username {quoted(username)} must be at most {USERNAME_MAX} letters, digits, "
                "dots, hyphens or underscores, starting with a letter or digit"
            )
        names = (record["givenName"], record["familyName"])
        if any(len(name) > NAME_MAX for name in names):
            reasons.append(f"a name is longer than {NAME_MAX} characters")
        code = split_list(record["grades"])[0] if split_list(record["grades"]) else ""
        grade = grade_of(code)
        if grade is None:
            reasons.append(f"bad grade: {quoted(code)} has no mapping in ONEROSTER_GRADES")
        school = self._school_of(record, reasons)
        enabled = self._enabled(record)
        for reason in reasons:
            self._bad(record, reason)
        if reasons or enabled is None:
            return None
        return (
            record.line,
            record["sourcedId"],
            number,
            username,
            *names,
            grade,
            school.campus_id,
            school.psu_id,
            enabled,
        )

    def _school_of(self, record: Record, reasons: list[str]) -> Org | None:
        """The student's campus: the first school of ``orgSourcedIds``. Every org listed must
        be known, and of one district."""
        orgs = []
        for sourced_id in split_list(record["orgSourcedIds"]):
            org = self.orgs.get(sourced_id)
            if org is None:
                reasons.append(f"unknown reference: org {quoted(sourced_id)}")
            else:
                orgs.append(org)
        schools = [org for org in orgs if org.kind == "school"]
        if orgs and not schools:
            reasons.append("orgSourcedIds names no school")
        if len({org.psu_id for org in orgs}) > 1:
            reasons.append("orgSourcedIds names a campus of another district")
        return schools[0] if schools and len(reasons) == 0 else None

    def _teacher(self, record: Record) -> tuple | None:
        if self._missing(record, ("username", "givenName", "familyName", "orgSourcedIds")):
            return None
        reasons = []
        username = record["username"]
        if len(username) > STAFF_USERNAME_MAX or not STAFF_USERNAME.fullmatch(username):
            reasons.append(
                f"username {quoted(username)} must be at most {STAFF_USERNAME_MAX} letters, "
                "digits and @ . + - _"
            )
        if len(record["email"]) > EMAIL_MAX:
            reasons.append(f"email is longer than {EMAIL_MAX} characters")
        orgs = [self.orgs.get(s) for s in split_list(record["orgSourcedIds"])]
        if None in orgs:
            reasons.append("unknown reference: an org of orgSourcedIds is not in orgs.csv")
        elif len({org.psu_id for org in orgs}) > 1:
            reasons.append("orgSourcedIds names a campus of another district")
        enabled = self._enabled(record)
        for reason in reasons:
            self._bad(record, reason)
        if reasons or enabled is None:
            return None
        names = (record["givenName"][:150], record["familyName"][:150])
        psu_id = orgs[0].psu_id
        return (record.line, record["sourcedId"], username, *names, record["email"], psu_id,
                enabled, make_password(None))  # fmt: skip

    @sensitive_variables()
    def _stage_students(self, rows: list[tuple]) -> None:
        """Stage the students with credentials for those who are new (a batch's numbers are
        looked up at once): a re-import makes no password."""
        known = set(
            Student.objects.filter(student_number__in=[row[2] for row in rows]).values_list(
                "student_number", flat=True
            )
        )
        new = [row for row in rows if row[2] not in known]
        made = iter(credentials_new(grades=[row[6] for row in new]))
        staged = []
        for row in rows:
            credential = next(made) if row[2] not in known else None
            staged.append(
                (*row, credential.default_token, credential.login)
                if credential
                else (*row, None, None)
            )
        STUDENTS.append(self.cursor, staged)

    def _class_rows(self, batch: list[Record]) -> None:
        staged = []
        for record in batch:
            if self._missing(record, ("title", "schoolSourcedId")):
                continue
            org = self.orgs.get(record["schoolSourcedId"])
            if org is None or org.kind != "school":
                self._bad(
                    record,
                    f"unknown reference: schoolSourcedId {quoted(record['schoolSourcedId'])} "
                    "is not a school",
                )
                continue
            staged.append(
                (record.line, record["sourcedId"], record["title"][:TITLE_MAX],
                 record["classCode"][:100], org.campus_id, org.psu_id)
            )  # fmt: skip
        CLASSES.append(self.cursor, staged)

    def _enrollment_rows(self, batch: list[Record]) -> None:
        staged = []
        for record in batch:
            role = record["role"].lower()
            if role not in ("student", "teacher"):
                continue  # aides, administrators, guardians: not the portal's
            if self._missing(record, ("classSourcedId", "userSourcedId")):
                continue
            staged.append(
                (record.line, record["sourcedId"], record["classSourcedId"],
                 record["userSourcedId"], role, None, None, None)
            )  # fmt: skip
        ENROLLMENTS.append(self.cursor, staged)

    # Checks that need every row.

    def _check_staged(self) -> None:
        for file, sql, reason in _staged_checks():
            self.cursor.execute(sql)
            for line, value, other in self.cursor.fetchall():
                self.result.bad(file, line, reason.format(value=quoted(str(value)), other=other))

    # Writes.

    def _write(self) -> None:
        counts = self.result.counts
        at = connection.ops.adapt_datetimefield_value(self.now)
        run = self._run
        counts["students"].created = run(STUDENT_INSERT, [at, at, at])
        counts["students"].updated = run(STUDENT_UPDATE)
        run(TEACHER_USER_INSERT, [at])
        counts["teachers"].created = run(TEACHER_INSERT)
        counts["teachers"].updated = max(run(TEACHER_USER_UPDATE), run(TEACHER_UPDATE))
        counts["classes"].created = run(CLASS_INSERT)
        counts["classes"].updated = run(CLASS_UPDATE)
        for sql in ENROLLMENT_RESOLVE:
            run(sql)
        counts["enrollments"].created = run(ENROLLMENT_INSERT)
        counts["enrollments"].updated = run(ENROLLMENT_UPDATE)
        for kind, sqls in DEACTIVATE.items():
            counts[kind].deactivated = max(run(sql) for sql in sqls)
        self._unchanged()

    def _run(self, sql: str, params: list | None = None) -> int:
        self.cursor.execute(sql, params or [])
        return max(self.cursor.rowcount, 0)

    def _unchanged(self) -> None:
        for kind, stage in (
            ("students", STUDENTS),
            ("teachers", TEACHERS),
            ("classes", CLASSES),
            ("enrollments", ENROLLMENTS),
        ):
            self.cursor.execute(f"SELECT COUNT(*) FROM {stage.name}")
            counts = self.result.counts[kind]
            counts.unchanged = self.cursor.fetchone()[0] - counts.created - counts.updated


USERS_FILE, CLASSES_FILE, ENROLLMENTS_FILE = "users", "classes", "enrollments"
S, T, C, E, D = (stage.name for stage in STAGES)


def _duplicates(stage: str, column: str) -> str:
    """Rows whose ``column`` an earlier row of the same stage already has: (line, value, first
    line)."""
    return (
        f"SELECT s.line, s.{column}, f.first FROM {stage} s JOIN (SELECT {column}, MIN(line) "
        f"AS first FROM {stage} GROUP BY {column} HAVING COUNT(*) > 1) f "
        f"ON f.{column} = s.{column} WHERE s.line > f.first LIMIT {BAD_ROWS_KEPT}"
    )


def _staged_checks() -> Iterator[tuple[str, str, str]]:
    twice = "duplicate {what} {{value}}: also on line {{other}}"
    for file, stage, column, what in (
        ("users.csv", S, "sourced_id", "sourcedId"),
        ("users.csv", S, "student_number", "identifier"),
        ("users.csv", S, "username", "username"),
        ("users.csv", T, "sourced_id", "sourcedId"),
        ("users.csv", T, "username", "username"),
        ("classes.csv", C, "sourced_id", "sourcedId"),
        ("enrollments.csv", E, "sourced_id", "sourcedId"),
    ):
        yield file, _duplicates(stage, column), twice.format(what=what)
    yield (
        "users.csv",
        f"SELECT t.line, t.sourced_id, s.line FROM {T} t JOIN {S} s ON s.sourced_id = "
        f"t.sourced_id LIMIT {BAD_ROWS_KEPT}",
        "duplicate sourcedId {value}: also on line {other}",
    )
    yield (
        "users.csv",
        f"SELECT s.line, s.username, p.student_number FROM {S} s JOIN people_student p "
        f"ON p.username = s.username AND p.student_number <> s.student_number "
        f"LIMIT {BAD_ROWS_KEPT}",
        "duplicate username {value}: it belongs to another student (student number {other})",
    )
    yield (
        "users.csv",
        f"SELECT s.line, s.sourced_id, p.student_number FROM {S} s JOIN people_student p "
        f"ON p.sourced_id = s.sourced_id AND p.student_number <> s.student_number "
        f"LIMIT {BAD_ROWS_KEPT}",
        "duplicate sourcedId {value}: it belongs to another student (student number {other})",
    )
    yield (
        "users.csv",
        f"SELECT t.line, t.username, '' FROM {T} t JOIN people_user u ON u.username = t.username "
        f"LEFT JOIN rosters_teacher r ON r.user_id = u.id "
        f"WHERE r.sourced_id IS NULL OR r.sourced_id <> t.sourced_id LIMIT {BAD_ROWS_KEPT}",
        "duplicate username {value}: a staff account that is not this teacher's has it",
    )
    yield (
        "enrollments.csv",
        f"SELECT e.line, e.class_sourced_id, '' FROM {E} e WHERE NOT EXISTS (SELECT 1 FROM {C} "
        "c WHERE c.sourced_id = e.class_sourced_id) AND NOT EXISTS (SELECT 1 FROM "
        f"rosters_class c WHERE c.sourced_id = e.class_sourced_id) LIMIT {BAD_ROWS_KEPT}",
        "unknown reference: classSourcedId {value} is in neither classes.csv nor the portal",
    )
    for role, stage, table in (("student", S, "people_student"), ("teacher", T, "rosters_teacher")):
        yield (
            "enrollments.csv",
            f"SELECT e.line, e.user_sourced_id, '' FROM {E} e WHERE e.role = '{role}' AND NOT "
            f"EXISTS (SELECT 1 FROM {stage} s WHERE s.sourced_id = e.user_sourced_id) AND NOT "
            f"EXISTS (SELECT 1 FROM {table} s WHERE s.sourced_id = e.user_sourced_id) "
            f"LIMIT {BAD_ROWS_KEPT}",
            f"unknown reference: userSourcedId {{value}} is no {role} in users.csv or the portal",
        )


STUDENT_FIELDS = ("sourced_id", "username", "first_name", "last_name", "grade", "campus_id",
                  "psu_id", "is_active")  # fmt: skip
STUDENT_INSERT = (
    f"INSERT INTO people_student (student_number, {', '.join(STUDENT_FIELDS)}, "
    "default_password_encrypted, password, default_password_set_at, temporary_password_set_at, "
    "login_set_at, login_source, must_change_password) "
    f"SELECT student_number, {', '.join(STUDENT_FIELDS)}, token, login, %s, %s, %s, 'created', "
    f"false FROM {S} WHERE token IS NOT NULL ORDER BY student_number"
)
STUDENT_UPDATE = (
    f"UPDATE people_student SET {', '.join(f'{f} = s.{f}' for f in STUDENT_FIELDS)} FROM {S} s "
    "WHERE people_student.student_number = s.student_number AND s.token IS NULL AND ("
    + " OR ".join(
        f"people_student.{f} IS NULL OR people_student.{f} <> s.{f}"
        if f == "sourced_id"
        else f"people_student.{f} <> s.{f}"
        for f in STUDENT_FIELDS
    )
    + ")"
)
TEACHER_USER_INSERT = (
    "INSERT INTO people_user (password, is_superuser, username, first_name, last_name, email, "
    "is_staff, is_active, date_joined) SELECT t.password, false, t.username, t.first_name, "
    f"t.last_name, t.email, false, t.is_active, %s FROM {T} t WHERE NOT EXISTS (SELECT 1 FROM "
    "rosters_teacher r WHERE r.sourced_id = t.sourced_id)"
)
TEACHER_INSERT = (
    "INSERT INTO rosters_teacher (sourced_id, user_id, psu_id, is_active) SELECT t.sourced_id, "
    f"u.id, t.psu_id, t.is_active FROM {T} t JOIN people_user u ON u.username = t.username "
    "WHERE NOT EXISTS (SELECT 1 FROM rosters_teacher r WHERE r.sourced_id = t.sourced_id)"
)
TEACHER_USER_UPDATE = (
    "UPDATE people_user SET username = t.username, first_name = t.first_name, last_name = "
    f"t.last_name, email = t.email, is_active = t.is_active FROM rosters_teacher r JOIN {T} t "
    "ON t.sourced_id = r.sourced_id WHERE people_user.id = r.user_id AND ("
    + " OR ".join(
        f"people_user.{f} <> t.{f}"
        for f in ("username", "first_name", "last_name", "email", "is_active")
    )
    + ")"
)
TEACHER_UPDATE = (
    f"UPDATE rosters_teacher SET psu_id = t.psu_id, is_active = t.is_active FROM {T} t "
    "WHERE rosters_teacher.sourced_id = t.sourced_id AND (rosters_teacher.psu_id <> t.psu_id "
    "OR rosters_teacher.is_active <> t.is_active)"
)
CLASS_FIELDS = ("title", "class_code", "campus_id", "psu_id")
CLASS_INSERT = (
    f"INSERT INTO rosters_class (sourced_id, {', '.join(CLASS_FIELDS)}, is_active) SELECT "
    f"sourced_id, {', '.join(CLASS_FIELDS)}, true FROM {C} c WHERE NOT EXISTS (SELECT 1 FROM "
    "rosters_class r WHERE r.sourced_id = c.sourced_id) ORDER BY sourced_id"
)
CLASS_UPDATE = (
    f"UPDATE rosters_class SET {', '.join(f'{f} = c.{f}' for f in CLASS_FIELDS)}, is_active = "
    f"true FROM {C} c WHERE rosters_class.sourced_id = c.sourced_id AND (NOT "
    "rosters_class.is_active OR "
    + " OR ".join(f"rosters_class.{f} <> c.{f}" for f in CLASS_FIELDS)
    + ")"
)
ENROLLMENT_RESOLVE = (
    f"UPDATE {E} SET class_id = c.id FROM rosters_class c WHERE c.sourced_id = "
    f"{E}.class_sourced_id",
    f"UPDATE {E} SET student_id = s.id FROM people_student s WHERE {E}.role = 'student' AND "
    f"s.sourced_id = {E}.user_sourced_id",
    f"UPDATE {E} SET teacher_id = t.id FROM rosters_teacher t WHERE {E}.role = 'teacher' AND "
    f"t.sourced_id = {E}.user_sourced_id",
)
ENROLLMENT_FIELDS = ("roster_class_id", "role", "student_id", "teacher_id")
ENROLLMENT_INSERT = (
    "INSERT INTO rosters_enrollment (sourced_id, roster_class_id, role, student_id, teacher_id, "
    f"is_active) SELECT sourced_id, class_id, role, student_id, teacher_id, true FROM {E} e "
    "WHERE NOT EXISTS (SELECT 1 FROM rosters_enrollment r WHERE r.sourced_id = e.sourced_id) "
    "ORDER BY class_id, sourced_id"
)
ENROLLMENT_UPDATE = (
    "UPDATE rosters_enrollment SET roster_class_id = e.class_id, role = e.role, student_id = "
    f"e.student_id, teacher_id = e.teacher_id, is_active = true FROM {E} e WHERE "
    "rosters_enrollment.sourced_id = e.sourced_id AND (NOT rosters_enrollment.is_active OR "
    "rosters_enrollment.roster_class_id <> e.class_id OR rosters_enrollment.role <> e.role OR "
    "COALESCE(rosters_enrollment.student_id, 0) <> COALESCE(e.student_id, 0) OR "
    "COALESCE(rosters_enrollment.teacher_id, 0) <> COALESCE(e.teacher_id, 0))"
)


def _deactivate(table: str, file: str) -> str:
    return (
        f"UPDATE {table} SET is_active = false WHERE is_active AND sourced_id IN (SELECT "
        f"sourced_id FROM {D} WHERE file = '{file}')"
    )


DEACTIVATE = {
    "students": (_deactivate("people_student", USERS_FILE),),
    "teachers": (
        "UPDATE people_user SET is_active = false WHERE is_active AND id IN (SELECT user_id "
        f"FROM rosters_teacher WHERE sourced_id IN (SELECT sourced_id FROM {D} WHERE file = "
        "'users'))",
        _deactivate("rosters_teacher", USERS_FILE),
    ),
    "classes": (_deactivate("rosters_class", CLASSES_FILE),),
    "enrollments": (_deactivate("rosters_enrollment", ENROLLMENTS_FILE),),
}


def result_lines(result: RosterImport) -> list[str]:
    """What the import did, a line per kind, as the command and the page say it."""
    return [
        f"{kind}: {c.created:,} created, {c.updated:,} updated, {c.unchanged:,} unchanged, "
        f"{c.deactivated:,} deactivated"
        for kind, c in result.counts.items()
    ]
