"""Reading a file of UIDs (the *File Upload* request): one student number per line, no header;
blank lines, surrounding spaces, a byte-order mark and CRLF line ends are fine. Every bad line
is named (its number, the value cut short, and why) before anything is queued; duplicates
collapse with a note. Lookups go 5,000 numbers a query, so a district's file of 160,000 lines
is checked in seconds with memory that does not grow with anything but the list of ids."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from people.codes import STUDENT_NUMBER
from people.models import PSU, Student

LOOKUP_BATCH = 5000
SHOWN = 24


class UIDFileError(Exception):
    """The file as a whole cannot be used (not text, too large, empty)."""


@dataclass(frozen=True)
class BadLine:
    line: int
    value: str
    reason: str

    def __str__(self) -> str:
        shown = self.value if len(self.value) <= SHOWN else self.value[: SHOWN - 1] + "…"
        return f"Line {self.line:,}: “{shown}” {self.reason}."


@dataclass
class UIDFileCheck:
    student_ids: list[int] = field(default_factory=list)
    bad_lines: list[BadLine] = field(default_factory=list)
    duplicates: int = 0


def uid_file_read(upload) -> list[tuple[int, str]]:
    """The uploaded file's (line number, value) pairs, blank lines left out."""
    limit = settings.REGENERATION_UID_FILE_MAX_BYTES
    if upload.size > limit:
        raise UIDFileError(
            f"The file is {upload.size:,} bytes; a UID file may hold at most {limit:,} bytes "
            "(about 360,000 UIDs). Split it and make one request per file."
        )
    data = upload.read()
    if b"\x00" in data:
        raise UIDFileError("The file is not text: it holds NUL bytes. Upload a .txt file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UIDFileError(
            f"The file is not UTF-8 text (byte {exc.start:,} cannot be read). Upload a plain "
            ".txt file, one UID per line."
        ) from None
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
    values = [(n, value) for n, value in lines if value]
    if not values:
        raise UIDFileError("The file is empty: it needs one UID per line.")
    return values


def uid_file_check(values: list[tuple[int, str]], *, psu: PSU) -> UIDFileCheck:
    """Check every value: a UID (up to 10 digits), a known student, of ``psu``, active.
    Duplicates collapse onto their first line."""
    check = UIDFileCheck()
    first_line: dict[str, int] = {}
    for line, value in values:
        if not STUDENT_NUMBER.matches(value):
            check.bad_lines.append(BadLine(line, value, "is not a UID (up to 10 digits)"))
        elif value in first_line:
            check.duplicates += 1
        else:
            first_line[value] = line
    numbers = list(first_line)
    for start in range(0, len(numbers), LOOKUP_BATCH):
        _lookup(numbers[start : start + LOOKUP_BATCH], first_line, psu, check)
    check.bad_lines.sort(key=lambda bad: bad.line)
    return check


def _lookup(numbers: list[str], first_line: dict[str, int], psu: PSU, check: UIDFileCheck):
    found = {
        number: (student_id, psu_id, active)
        for number, student_id, psu_id, active in Student.objects.filter(
            student_number__in=numbers
        ).values_list("student_number", "id", "psu_id", "is_active")
    }
    for number in numbers:
        student = found.get(number)
        line = first_line[number]
        if student is None:
            check.bad_lines.append(BadLine(line, number, "is unknown: no student has this UID"))
        elif student[1] != psu.pk:
            check.bad_lines.append(
                BadLine(line, number, f"is a student of another PSU, not of {psu.code}")
            )
        elif not student[2]:
            check.bad_lines.append(BadLine(line, number, "is an inactive student"))
        else:
            check.student_ids.append(student[0])
