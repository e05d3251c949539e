"""``python manage.py import_students FILE.csv``: load or update students from a student
information system export. The columns are in the README and in ``people.student_import``."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from people.services import students_import
from people.student_import import COLUMNS, StudentFileError, student_file_read


class Command(BaseCommand):
    help = (
        "Create or update students from a CSV export (columns: "
        + ", ".join(COLUMNS)
        + "). A file with any bad row changes nothing: every bad row is reported with its "
        "line number and reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file, UTF-8, with a header row")
        parser.add_argument(
            "--check", action="store_true", help="Check the file only; change nothing."
        )

    def handle(self, *args, file, check, **options):
        started = time.monotonic()
        try:
            student_file = student_file_read(file)
        except FileNotFoundError:
            raise CommandError(f"No such file: {file}") from None
        except StudentFileError as exc:
            raise CommandError(f"{file}: {exc} Nothing was changed.") from None
        for bad_row in student_file.bad_rows:
            self.stderr.write(f"{file}, {bad_row}")
        if student_file.bad_rows:
            count = len(student_file.bad_rows)
            raise CommandError(
                f"{file}: {count:,} bad row{'s' if count != 1 else ''} (listed above); "
                "nothing was changed. Correct the file and import it again."
            )
        rows = student_file.rows
        if check:
            self.stdout.write(f"{file}: {len(rows):,} rows, all good. Nothing was changed.")
            return
        counts = students_import(rows=rows)
        self.stdout.write(
            f"{file}: {counts.created:,} students created, {counts.updated:,} updated, "
            f"{counts.unchanged:,} unchanged, in {time.monotonic() - started:.1f} s."
        )
