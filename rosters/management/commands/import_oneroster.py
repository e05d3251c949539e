"""``python manage.py import_oneroster PATH``: rosters from the student information system, as
a OneRoster 1.1 CSV bundle (a folder or a .zip). The rules are in the README ("Rosters from the
SIS") and in ``rosters.roster_import``."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from rosters.oneroster import BundleError
from rosters.roster_import import oneroster_import, result_lines


class Command(BaseCommand):
    help = (
        "Import a OneRoster 1.1 CSV bundle (a folder or a .zip): districts, schools, students, "
        "teachers, classes and enrollments. A bundle with any bad row changes nothing: every "
        "bad row is reported with its file, line and reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="a folder or a .zip holding manifest.csv and the files")
        parser.add_argument(
            "--check", action="store_true", help="Check the bundle only; change nothing."
        )

    def handle(self, *args, path, check, **options):
        started = time.monotonic()
        try:
            result = oneroster_import(path, check=check)
        except FileNotFoundError:
            raise CommandError(f"No such file or folder: {path}") from None
        except BundleError as exc:
            raise CommandError(f"{path}: {exc} Nothing was changed.") from None
        for bad_row in result.bad_rows:
            self.stderr.write(f"{path}: {bad_row}")
        if not result.ok:
            count = result.bad_row_count
            more = count - len(result.bad_rows)
            raise CommandError(
                f"{path}: {count:,} bad row{'s' if count != 1 else ''} (listed above"
                f"{f', and {more:,} more' if more else ''}); nothing was changed. Correct the "
                "bundle and import it again."
            )
        for line in result_lines(result):
            self.stdout.write(f"{path}: {line}")
        seconds = time.monotonic() - started
        if check:
            self.stdout.write(f"{path}: {result.rows:,} rows, all good. Nothing was changed.")
        else:
            self.stdout.write(f"{path}: {result.rows:,} rows imported in {seconds:.1f} s.")
