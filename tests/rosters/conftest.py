"""A small OneRoster bundle written to a folder (or a zip), file by file, so that each test
states only what it changes."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from rosters.oneroster import COLUMNS, SPEC_COLUMNS

HEADERS = SPEC_COLUMNS
assert all(set(COLUMNS[name]) <= set(HEADERS[name]) for name in COLUMNS)

ORGS = [
    {"sourcedId": "d920", "name": "Wake County Schools", "type": "district", "identifier": "920"},
    {"sourcedId": "s304", "name": "Apex Elementary", "type": "school", "identifier": "920304",
     "parentSourcedId": "d920"},
]  # fmt: skip
USERS = [
    {"sourcedId": "t1", "enabledUser": "true", "orgSourcedIds": "s304", "role": "teacher",
     "username": "mteach", "givenName": "Maya", "familyName": "Teach",
     "email": "mteach@example.org"},
    {"sourcedId": "u1", "enabledUser": "true", "orgSourcedIds": "s304", "role": "student",
     "username": "ada1", "givenName": "Ada", "familyName": "Okoro", "identifier": "1900000001",
     "grades": "KG"},
    {"sourcedId": "u2", "enabledUser": "true", "orgSourcedIds": "s304", "role": "student",
     "username": "bao2", "givenName": "Bao", "familyName": "Nguyen", "identifier": "1900000002",
     "grades": "05"},
]  # fmt: skip
CLASSES = [{"sourcedId": "c1", "title": "Kindergarten A", "classCode": "KG-A",
            "schoolSourcedId": "s304"}]  # fmt: skip
ENROLLMENTS = [
    {"sourcedId": "e1", "classSourcedId": "c1", "userSourcedId": "t1", "role": "teacher"},
    {"sourcedId": "e2", "classSourcedId": "c1", "userSourcedId": "u1", "role": "student"},
    {"sourcedId": "e3", "classSourcedId": "c1", "userSourcedId": "u2", "role": "student"},
]


def write_bundle(folder: Path, *, mode: str = "bulk", lineterminator="\r\n", bom=False, **files):
    """Write manifest.csv and each file (``orgs=[...]``, ...; the defaults above for those
    not given; ``None`` leaves a file out as absent)."""
    folder.mkdir(parents=True, exist_ok=True)
    contents = {"orgs": ORGS, "users": USERS, "classes": CLASSES, "enrollments": ENROLLMENTS}
    contents.update(files)
    manifest = [["propertyName", "value"], ["manifest.version", "1.0"],
                ["oneroster.version", "1.1"]]  # fmt: skip
    for name, rows in contents.items():
        manifest.append([f"file.{name}", "absent" if rows is None else mode])
        if rows is not None:
            _write(folder / f"{name}.csv", HEADERS[name], rows, lineterminator, bom)
    with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator=lineterminator).writerows(manifest)
    return folder


def _write(path: Path, header, rows, lineterminator, bom):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8", newline="")


def zip_bundle(folder: Path, target: Path, *, inner: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in folder.iterdir():
            archive.write(path, f"{inner}{path.name}")
    return target


@pytest.fixture
def bundle(tmp_path):
    counter = iter(range(1000))

    def make(**kwargs) -> Path:
        return write_bundle(tmp_path / f"bundle{next(counter)}", **kwargs)

    return make
