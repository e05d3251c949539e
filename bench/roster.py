"""``python -m bench import`` (``make bench-import``): a generated statewide OneRoster 1.1
bundle (by default 1,500,000 students in 115 districts and 2,500 schools, a class of
``--class-size`` students and its teacher each) imported on PostgreSQL with
``manage.py import_oneroster``'s code, in a fresh process each time so that its peak memory is
its own: first a tenth of the students (same districts and schools), then all of them, then
the same bundle again, which must change nothing. Prints minutes, rows/s and peak memory,
writes ``--json``; every row it made is removed at the end (and first, if a run was
interrupted)."""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from rosters.oneroster import SPEC_COLUMNS
from rosters.roster_import import oneroster_import

from . import measure
from .state import _apportion, state_sizes

MARKER = "orbench"  # sourcedIds start "orbench-", usernames "orbench."
STUDENTS, DISTRICTS, SCHOOLS, CLASS_SIZE = 1_500_000, 115, 2_500, 25
BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
GRADES = ("KG", *(f"{n:02d}" for n in range(1, 13)))
FIRST = ("Ada", "Bao", "Carmen", "Dev", "Esha", "Finn", "Gia", "Hugo", "Iris", "Jai", "Kofi")
LAST = ("Okoro", "Nguyen", "Diaz", "Smith", "Patel", "Kim", "Brown", "Lee", "Oxendine", "Moore")
HEADERS = SPEC_COLUMNS


# The bundle -------------------------------------------------------------------------------------


def district_code(index: int) -> str:
    """``X00``, ``X01``, ...: PSU codes no real NC PSU has."""
    return f"X{BASE36[index // 36]}{BASE36[index % 36]}"


def school_plan(*, students: int, districts: int, schools: int) -> list[tuple[int, list[int]]]:
    """Per district, its students and its schools' sizes: districts in NC's spread, schools
    shared in proportion to the districts' sizes (one at least), students evenly."""
    sizes = state_sizes(students=students, psus=districts)
    school_counts = _apportion(sizes, schools)
    plan = []
    for size, count in zip(sizes, school_counts, strict=True):
        count = max(1, min(count, size, 999))
        plan.append((size, [size // count + (i < size % count) for i in range(count)]))
    return plan


def bundle_write(
    folder: Path, *, students: int, districts: int, schools: int, class_size: int
) -> dict:
    """Write the bundle a row at a time (memory flat); returns its row counts."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(HEADERS, 0)
    files = {name: open(folder / f"{name}.csv", "w", newline="") for name in HEADERS}  # noqa: SIM115 -- closed below
    try:
        writers = {name: csv.writer(handle) for name, handle in files.items()}
        for name, writer in writers.items():
            writer.writerow(HEADERS[name])

        def row(name: str, /, **cells) -> None:
            writers[name].writerow([cells.get(column, "") for column in HEADERS[name]])
            counts[name] += 1

        _districts_write(
            row, school_plan(students=students, districts=districts, schools=schools), class_size
        )
    finally:
        for handle in files.values():
            handle.close()
    manifest = [
        ["propertyName", "value"],
        ["manifest.version", "1.0"],
        ["oneroster.version", "1.1"],
        *[[f"file.{n}", "bulk"] for n in HEADERS],
    ]
    with open(folder / "manifest.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(manifest)
    return counts


def _districts_write(row, plan, class_size: int) -> None:
    number = teacher = 0
    school_index = 0
    for d, (_, school_sizes) in enumerate(plan):
        code = district_code(d)
        district = f"{MARKER}-d{d}"
        row(
            "orgs",
            sourcedId=district,
            name=f"Bench District {code}",
            type="district",
            identifier=code,
        )
        for s, size in enumerate(school_sizes):
            school = f"{MARKER}-s{school_index}"
            school_index += 1
            row(
                "orgs",
                sourcedId=school,
                name=f"Bench School {code}{s:03d}",
                type="school",
                identifier=f"{code}{s:03d}",
                parentSourcedId=district,
            )
            for start in range(0, size, class_size):
                members = range(number + start, number + min(start + class_size, size))
                _class_write(row, school, teacher, members)
                teacher += 1
            number += size


def _class_write(row, school: str, teacher: int, members: range) -> None:
    grade = GRADES[teacher % len(GRADES)]
    klass, user = f"{MARKER}-c{teacher}", f"{MARKER}-t{teacher}"
    row(
        "users",
        sourcedId=user,
        enabledUser="true",
        orgSourcedIds=school,
        role="teacher",
        username=f"{MARKER}.t{teacher}",
        givenName=FIRST[teacher % 11],
        familyName=LAST[teacher % 10],
        email=f"t{teacher}@bench.example.org",
    )
    row(
        "classes",
        sourcedId=klass,
        title=f"Grade {grade} Homeroom {teacher}",
        grades=grade,
        classCode=f"H{teacher}",
        classType="homeroom",
        schoolSourcedId=school,
    )
    row(
        "enrollments",
        sourcedId=f"{klass}-t",
        classSourcedId=klass,
        schoolSourcedId=school,
        userSourcedId=user,
        role="teacher",
        primary="true",
    )
    for n in members:
        student = f"{MARKER}-u{n}"
        row(
            "users",
            sourcedId=student,
            enabledUser="true",
            orgSourcedIds=school,
            role="student",
            username=f"{MARKER}.{n}",
            givenName=FIRST[n % 11],
            familyName=LAST[(n // 11) % 10],
            identifier=str(8_000_000_000 + n),
            grades=grade,
        )
        row(
            "enrollments",
            sourcedId=f"{klass}-{n}",
            classSourcedId=klass,
            schoolSourcedId=school,
            userSourcedId=student,
            role="student",
        )


# One import, in its own process ----------------------------------------------------------------


def child_import(path: str, result: str) -> int:
    """In the subprocess: import the bundle; its figures, and this process's peak memory."""
    # As in production: with DEBUG on, Django would keep every statement it ran.
    settings.DEBUG = False
    started = time.monotonic()
    imported = oneroster_import(path)
    seconds = time.monotonic() - started
    figures = {
        "ok": imported.ok,
        "bad_rows": [str(bad) for bad in imported.bad_rows[:20]],
        "rows": imported.rows,
        "seconds": round(seconds, 2),
        "changed": imported.changed,
        "counts": {kind: vars(c) for kind, c in imported.counts.items()},
        "peak_rss_mb": round(measure.peak_rss_mb(), 1),
    }
    Path(result).write_text(json.dumps(figures))
    return 0 if imported.ok else 1


def import_in_child(path: Path, children: list) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        result = Path(directory) / "result.json"
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench",
                "import",
                "--child",
                str(path),
                "--child-result",
                str(result),
            ],
            env=measure.child_environment(eager=True),
            cwd=settings.BASE_DIR,
        )
        children.append(child)
        status = child.wait()
        children.remove(child)
        figures = json.loads(result.read_text()) if result.exists() else {}
        if status != 0 or not figures.get("ok"):
            raise RuntimeError(f"The import subprocess failed (exit status {status}): {figures}")
        return figures


# Clean-up ---------------------------------------------------------------------------------------


CLEANUP = (
    "DELETE FROM rosters_enrollment WHERE roster_class_id IN (SELECT id FROM rosters_class "
    "WHERE sourced_id LIKE %s)",
    "DELETE FROM rosters_class WHERE sourced_id LIKE %s",
    "DELETE FROM rosters_teacher WHERE sourced_id LIKE %s",
    "DELETE FROM people_student WHERE sourced_id LIKE %s",
    "DELETE FROM people_campus WHERE sourced_id LIKE %s",
    "DELETE FROM people_psu WHERE sourced_id LIKE %s",
)


def data_remove() -> None:
    """Every row the benchmark made: by the sourcedIds and usernames of its bundle."""
    with connection.cursor() as cursor:
        for sql in CLEANUP:
            cursor.execute(sql, [f"{MARKER}-%"])
        cursor.execute("DELETE FROM people_user WHERE username LIKE %s", [f"{MARKER}.%"])


# The run ----------------------------------------------------------------------------------------


def run(options: argparse.Namespace, *, say) -> dict:
    if connection.vendor != "postgresql":
        raise SystemExit("bench import measures PostgreSQL: set DATABASE_URL=postgres://...")
    machine = measure.machine_info()
    children: list = []
    folder = Path(tempfile.mkdtemp(prefix="bench-import-", dir=options.work_dir))
    shape = {
        "districts": options.districts,
        "schools": options.schools,
        "class_size": options.class_size,
    }
    data_remove()
    try:
        tenth_students = max(options.students // 10, options.schools)
        say(f"Writing a bundle of {tenth_students:,} students ...")
        bundle_write(folder / "tenth", students=tenth_students, **shape)
        say("Importing it ...")
        tenth = import_in_child(folder / "tenth", children)
        say(f"  {tenth['rows']:,} rows in {tenth['seconds']:,.1f} s, {tenth['peak_rss_mb']} MB")
        shutil.rmtree(folder / "tenth")
        data_remove()
        say(f"Writing a bundle of {options.students:,} students ...")
        started = time.monotonic()
        rows = bundle_write(folder / "full", students=options.students, **shape)
        generate_seconds = time.monotonic() - started
        say(f"  {sum(rows.values()):,} rows in {generate_seconds:,.0f} s: {rows}. Importing ...")
        full = import_in_child(folder / "full", children)
        say(f"  {full['rows']:,} rows in {full['seconds']:,.1f} s, {full['peak_rss_mb']} MB")
        say("Importing the same bundle again ...")
        again = import_in_child(folder / "full", children)
        say(f"  {again['changed']:,} changed in {again['seconds']:,.1f} s")
    finally:
        for child in children:
            measure.stop_process(child)
        shutil.rmtree(folder, ignore_errors=True)
        say("Removing the benchmark's rows ...")
        data_remove()
    return {
        "students": options.students,
        "import_seconds": full["seconds"],
        "rows_per_s": round(full["rows"] / full["seconds"]),
        "peak_rss_mb": full["peak_rss_mb"],
        "peak_rss_mb_tenth": tenth["peak_rss_mb"],
        "reimport_changed": again["changed"],
        "details": {
            "rows": full["rows"],
            "rows_by_file": rows,
            "students_tenth": tenth_students,
            "import_seconds_tenth": tenth["seconds"],
            "reimport_seconds": again["seconds"],
            "reimport_peak_rss_mb": again["peak_rss_mb"],
            "counts": full["counts"],
            "generate_seconds": round(generate_seconds, 1),
            **shape,
            "machine": machine,
        },
    }


def report(figures: dict) -> str:
    d = figures["details"]
    m = d["machine"]
    return "\n".join(
        [
            "",
            f"OneRoster import: {figures['students']:,} students, {d['districts']} districts, "
            f"{d['schools']:,} schools, {d['rows']:,} rows ({d['rows_by_file']})",
            f"machine: {m['nproc']} x {m['cpu_model']}, {m['ram_gb']} GB RAM, PostgreSQL "
            f"{m['postgresql']}, Python {m['python']}, load average before {m['load_average']}",
            f"  import: {figures['import_seconds'] / 60:,.1f} min "
            f"({figures['import_seconds']:,.0f} s), {figures['rows_per_s']:,} rows/s",
            f"  peak memory: {figures['peak_rss_mb']} MB at {figures['students']:,} students, "
            f"{figures['peak_rss_mb_tenth']} MB at {d['students_tenth']:,}",
            f"  the same bundle again: {figures['reimport_changed']:,} changed, in "
            f"{d['reimport_seconds']:,.0f} s",
        ]
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench import", description=__doc__)
    parser.add_argument("--students", type=int, default=STUDENTS)
    parser.add_argument("--districts", type=int, default=DISTRICTS)
    parser.add_argument("--schools", type=int, default=SCHOOLS)
    parser.add_argument("--class-size", type=int, default=CLASS_SIZE)
    parser.add_argument("--work-dir", type=Path, default=None, help="where the bundle is written")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-result", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if not options.child and not (
        1 <= options.districts <= len(BASE36) ** 2 and options.districts <= options.schools
    ):
        parser.error("--districts must be 1 to 1,296 and at most --schools")
    if not options.child and options.students < options.schools:
        parser.error("--students must be at least --schools")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if options.child:
        return child_import(options.child, options.child_result)

    def say(message: str) -> None:
        print(message, flush=True)

    figures = run(options, say=say)
    print(report(figures))
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
        print(f"Figures written to {options.json}")
    return 0
