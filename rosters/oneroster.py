"""Reading a OneRoster 1.1 CSV bundle (a folder or a .zip): the manifest, and each file's
records one at a time with the line it starts on, so that memory stays flat however large the
bundle. Checking and writing are ``rosters.roster_import``'s.

The files are CSV as RFC 4180 says (quoted fields, embedded commas and newlines, CRLF), in
UTF-8 with or without a byte-order mark. Only ``manifest.csv``, ``orgs.csv``, ``users.csv``,
``classes.csv`` and ``enrollments.csv`` are read; others are ignored.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings

FILES = ("orgs", "users", "classes", "enrollments")
# The columns the portal reads of each file; a header lacking one refuses the bundle.
COLUMNS = {
    "orgs": ("sourcedId", "status", "name", "type", "identifier", "parentSourcedId"),
    "users": (
        "sourcedId",
        "status",
        "enabledUser",
        "orgSourcedIds",
        "role",
        "username",
        "givenName",
        "familyName",
        "identifier",
        "email",
        "grades",
    ),
    "classes": ("sourcedId", "status", "title", "classCode", "schoolSourcedId"),
    "enrollments": ("sourcedId", "status", "classSourcedId", "userSourcedId", "role"),
}
# Every column of each file in the OneRoster 1.1 CSV binding, in its order: what an SIS
# writes (the benchmark's bundle and the tests' bundles are written with these).
SPEC_COLUMNS = {
    "orgs": ["sourcedId", "status", "dateLastModified", "name", "type", "identifier",
             "parentSourcedId"],
    "users": ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
              "username", "userIds", "givenName", "familyName", "middleName", "identifier",
              "email", "sms", "phone", "agentSourcedIds", "grades", "password"],
    "classes": ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId",
                "classCode", "classType", "location", "schoolSourcedId", "termSourcedIds",
                "subjects", "subjectCodes", "periods"],
    "enrollments": ["sourcedId", "status", "dateLastModified", "classSourcedId",
                    "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate",
                    "endDate"],
}  # fmt: skip
BULK, DELTA, ABSENT = "bulk", "delta", "absent"
TO_BE_DELETED = "tobedeleted"


class BundleError(Exception):
    """The bundle as a whole cannot be read: no manifest, a file the manifest lists is
    missing, a header lacks a column, not UTF-8, not CSV."""


@dataclass(frozen=True)
class Record:
    """One row: the line it starts on (a quoted field may span lines), its cells by column,
    or, for a row that cannot be read as one, ``problem``."""

    file: str
    line: int
    cells: dict[str, str]
    problem: str = ""

    def __getitem__(self, column: str) -> str:
        return self.cells[column]

    @property
    def to_be_deleted(self) -> bool:
        return self.cells.get("status", "").lower() == TO_BE_DELETED


class Bundle:
    """An open bundle: which files the manifest lists (bulk or delta), and their records."""

    def __init__(self, opener, names: dict[str, str]):
        self._opener = opener
        self._names = names
        self.modes = self._manifest()

    def _manifest(self) -> dict[str, str]:
        if "manifest" not in self._names:
            raise BundleError("The bundle has no manifest.csv: it is not a OneRoster CSV bundle.")
        values = {}
        for record in self._records("manifest", ("propertyName", "value")):
            values[record["propertyName"]] = record["value"].lower()
        version = values.get("oneroster.version", "")
        if version != "1.1":
            raise BundleError(
                f"manifest.csv says oneroster.version is “{version}”; this import reads 1.1."
            )
        modes = {}
        for name in FILES:
            mode = values.get(f"file.{name}", ABSENT)
            if mode not in (BULK, DELTA, ABSENT):
                raise BundleError(
                    f"manifest.csv says file.{name} is “{mode}”; it must be bulk, delta or absent."
                )
            if mode != ABSENT and name not in self._names:
                raise BundleError(f"manifest.csv lists {name}.csv ({mode}), but it is missing.")
            modes[name] = mode
        return modes

    def records(self, name: str) -> Iterator[Record]:
        """The records of ``name`` (none when the manifest says it is absent)."""
        if self.modes[name] == ABSENT:
            return iter(())
        return self._records(name, COLUMNS[name])

    def _records(self, name: str, columns: tuple[str, ...]) -> Iterator[Record]:
        file = f"{name}.csv"
        with self._opener(self._names[name]) as binary:
            text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
            try:
                yield from _read(file, csv.reader(text), columns)
            except UnicodeDecodeError:
                raise BundleError(f"{file} is not UTF-8 text.") from None
            except csv.Error as exc:
                raise BundleError(f"{file} is not valid CSV: {exc}.") from None


def _read(file: str, reader, columns: tuple[str, ...]) -> Iterator[Record]:
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise BundleError(f"{file} is empty: it needs a header row.") from None
    missing = [column for column in columns if column not in header]
    if missing:
        raise BundleError(
            f"{file} line 1, the header, lacks the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}."
        )
    positions = [(column, header.index(column)) for column in columns]
    width = len(header)
    line = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield _record(file, line, cells, positions, width)
        line = reader.line_num + 1


def _record(file: str, line: int, cells: list[str], positions, width: int) -> Record:
    if len(cells) != width:
        return Record(file, line, {}, f"it has {len(cells)} fields where the header has {width}")
    if any("\x00" in cell for cell in cells):
        return Record(file, line, {}, "it holds a NUL character (byte 0), which is not text")
    return Record(file, line, {column: cells[index].strip() for column, index in positions})


@contextmanager
def bundle_open(path: Path | str) -> Iterator[Bundle]:
    """Open a folder or a .zip of a OneRoster CSV bundle. The files may sit at the top of the
    zip or in one folder inside it."""
    path = Path(path)
    if path.is_dir():
        names = {p.stem.lower(): p for p in path.iterdir() if p.suffix.lower() == ".csv"}
        yield Bundle(lambda p: open(p, "rb"), _known(names))  # noqa: SIM115 -- closed by the reader
        return
    if not zipfile.is_zipfile(path):
        raise BundleError(f"{path.name} is neither a folder nor a .zip file.")
    with zipfile.ZipFile(path) as archive:
        names = {
            PurePosixPath(info.filename).stem.lower(): info.filename
            for info in archive.infolist()
            if not info.is_dir() and info.filename.lower().endswith(".csv")
        }
        yield Bundle(archive.open, _known(names))


def _known(names: dict) -> dict:
    return {name: value for name, value in names.items() if name in ("manifest", *FILES)}


def grade_of(code: str) -> str | None:
    """The portal's grade for a CEDS grade code (``ONEROSTER_GRADES``); None: no mapping."""
    return settings.ONEROSTER_GRADES.get(code.strip())


def split_list(value: str) -> list[str]:
    """A OneRoster list field (``orgSourcedIds``, ``grades``): comma-separated."""
    return [item.strip() for item in value.split(",") if item.strip()]
