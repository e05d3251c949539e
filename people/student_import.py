"""Reading a student information system export: every row checked before anything changes.

The file is CSV, UTF-8 (a byte-order mark is fine), with a header row naming at least the
columns of ``COLUMNS`` in any order; other columns are ignored. Each row becomes an
``ImportRow`` or a ``BadRow`` (its line number and every reason it is bad). Writing is
``people.services.students_import``; it runs only when no row is bad.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .codes import STUDENT_NUMBER
from .models import ALLOWED_GRADES, PSU, Campus, Student

COLUMNS = (
    "student_number",
    "last_name",
    "first_name",
    "username",
    "psu_code",
    "campus_code",
    "grade",
)
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
# ASCII digits only: ``\d`` also matches other scripts' digits, which ``int()`` reads too.
INTEGER = re.compile(r"-?[0-9]+")
NAME_MAX = Student._meta.get_field("first_name").max_length
USERNAME_MAX = Student._meta.get_field("username").max_length
LOOKUP_BATCH = 5000
SHOWN = 40


class StudentFileError(Exception):
    """The file as a whole cannot be read (not CSV, not UTF-8, columns missing)."""


@dataclass(frozen=True)
class ImportRow:
    line: int
    student_number: str
    last_name: str
    first_name: str
    username: str
    psu_id: int
    campus_id: int
    grade: str


@dataclass(frozen=True)
class BadRow:
    line: int
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"line {self.line}: {'; '.join(self.reasons)}"


@dataclass
class StudentFile:
    rows: list[ImportRow] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)


def quoted(value: str) -> str:
    return f"“{value[:SHOWN]}{'…' if len(value) > SHOWN else ''}”"


def student_file_read(path: Path | str) -> StudentFile:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return student_rows_check(_records(csv.reader(handle)))
    except UnicodeDecodeError as exc:
        raise StudentFileError(
            f"The file is not UTF-8 text (byte {exc.start} cannot be read). Save it from the "
            "student information system or spreadsheet as “CSV UTF-8”."
        ) from None
    except csv.Error as exc:
        raise StudentFileError(f"The file is not valid CSV: {exc}.") from None


def _records(reader) -> Iterator[tuple[int, list[str]]]:
    for record in reader:
        if any(cell.strip() for cell in record):
            yield reader.line_num, record


def student_rows_check(records: Iterable[tuple[int, list[str]]]) -> StudentFile:
    """Check every (line number, cells) record; the first is the header."""
    records = iter(records)
    try:
        _, header = next(records)
    except StopIteration:
        raise StudentFileError("The file is empty: it needs a header row.") from None
    positions = _column_positions(header)
    raw = [(line, _cells(record, positions, len(header))) for line, record in records]
    return _Checker(raw).check()


def _column_positions(header: list[str]) -> dict[str, int]:
    names = [re.sub(r"[\s-]+", "_", name.strip().lower()) for name in header]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise StudentFileError(
            f"Line 1, the header, lacks the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}. The columns are: {', '.join(COLUMNS)}."
        )
    return {column: names.index(column) for column in COLUMNS}


def _cells(record: list[str], positions: dict[str, int], width: int) -> dict[str, str] | str:
    if len(record) != width:
        return f"it has {len(record)} fields where the header has {width}"
    if any("\x00" in cell for cell in record):
        # Not text, and PostgreSQL cannot store or even look it up.
        return "it holds a NUL character (byte 0), which is not text"
    return {column: record[position].strip() for column, position in positions.items()}


class _Checker:
    def __init__(self, raw: list[tuple[int, dict[str, str] | str]]):
        self.raw = raw
        self.psus = dict(PSU.objects.values_list("code", "id"))
        self.psu_codes = {psu_id: code for code, psu_id in self.psus.items()}
        self.campuses = {
            code: (campus_id, psu_id)
            for code, campus_id, psu_id in Campus.objects.values_list("code", "id", "psu_id")
        }
        parsed = [cells for _, cells in raw if isinstance(cells, dict)]
        self.owner_of_username = _existing(
            "username", {c["username"].lower() for c in parsed}, "student_number"
        )
        self.seen_numbers: dict[str, int] = {}
        self.seen_usernames: dict[str, int] = {}

    def check(self) -> StudentFile:
        result = StudentFile()
        for line, cells in self.raw:
            if isinstance(cells, str):
                result.bad_rows.append(BadRow(line, (cells,)))
                continue
            row, reasons = self._row(line, cells)
            if reasons:
                result.bad_rows.append(BadRow(line, tuple(reasons)))
            else:
                result.rows.append(row)
        return result

    def _row(self, line: int, cells: dict[str, str]) -> tuple[ImportRow | None, list[str]]:
        reasons: list[str] = []
        number = self._student_number(line, cells["student_number"], reasons)
        username = self._username(line, cells["username"], number, reasons)
        last_name = self._name("last name", cells["last_name"], reasons)
        first_name = self._name("first name", cells["first_name"], reasons)
        psu_id = self._psu(cells["psu_code"], reasons)
        campus_id = self._campus(cells["campus_code"], psu_id, reasons)
        grade = self._grade(cells["grade"], reasons)
        if reasons:
            return None, reasons
        row = ImportRow(line, number, last_name, first_name, username, psu_id, campus_id, grade)
        return row, reasons

    def _student_number(self, line: int, value: str, reasons: list[str]) -> str:
        if not STUDENT_NUMBER.matches(value):
            reasons.append(f"student number {quoted(value)} is not 1 to 10 digits")
        elif value in self.seen_numbers:
            reasons.append(
                f"student number {value} is also on line {self.seen_numbers[value]}; "
                "each student must appear once"
            )
        else:
            self.seen_numbers[value] = line
        return value

    def _username(self, line: int, value: str, number: str, reasons: list[str]) -> str:
        username = value.lower()
        if not username:
            reasons.append("username is empty")
        elif len(username) > USERNAME_MAX or not USERNAME.fullmatch(username):
            reasons.append(
                f"username {quoted(value)} must be at most {USERNAME_MAX} letters, digits, "
                "dots, hyphens or underscores, starting with a letter or digit"
            )
        elif username in self.seen_usernames:
            reasons.append(
                f"username {username} is also on line {self.seen_usernames[username]}; "
                "usernames must be unique"
            )
        else:
            self.seen_usernames[username] = line
            owner = self.owner_of_username.get(username)
            if owner is not None and owner != number:
                reasons.append(
                    f"username {username} already belongs to another student (student "
                    f"number {owner})"
                )
        return username

    def _name(self, label: str, value: str, reasons: list[str]) -> str:
        if not value:
            reasons.append(f"{label} is empty")
        elif len(value) > NAME_MAX:
            reasons.append(f"{label} is longer than {NAME_MAX} characters")
        return value

    def _psu(self, value: str, reasons: list[str]) -> int | None:
        code = value.upper()
        psu_id = self.psus.get(code)
        if psu_id is None:
            reasons.append(f"unknown PSU code {quoted(value)}")
        return psu_id

    def _campus(self, value: str, psu_id: int | None, reasons: list[str]) -> int | None:
        code = value.upper()
        campus = self.campuses.get(code)
        if campus is None:
            reasons.append(f"unknown campus code {quoted(value)}")
            return None
        campus_id, campus_psu_id = campus
        if psu_id is not None and campus_psu_id != psu_id:
            reasons.append(
                f"campus {code} belongs to PSU {self.psu_codes[campus_psu_id]}, "
                f"not to PSU {self.psu_codes[psu_id]}"
            )
        return campus_id

    def _grade(self, value: str, reasons: list[str]) -> str:
        grade = str(int(value)) if INTEGER.fullmatch(value) else value
        if grade not in ALLOWED_GRADES:
            reasons.append(f"grade {quoted(value)} is not one of {' '.join(ALLOWED_GRADES)}")
        return grade


def _existing(column: str, values: set[str], other: str) -> dict[str, str]:
    """``{value: other}`` for students whose ``column`` is one of ``values``."""
    found: dict[str, str] = {}
    ordered = sorted(values)
    for start in range(0, len(ordered), LOOKUP_BATCH):
        batch = ordered[start : start + LOOKUP_BATCH]
        found.update(Student.objects.filter(**{f"{column}__in": batch}).values_list(column, other))
    return found
