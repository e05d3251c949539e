"""Set-based writes: many rows put in a temporary staging table at once (COPY on PostgreSQL),
then written to their real tables with one INSERT or UPDATE ... FROM each. The student import
and the request engine both write this way: 100,000 rows take seconds, where row-by-row
statements or ``bulk_update`` take minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class StagingTable:
    """A temporary table of this database session: ``columns`` are (name, SQL type) pairs in
    types both PostgreSQL and SQLite read."""

    name: str
    columns: tuple[tuple[str, str], ...]

    @property
    def column_names(self) -> str:
        return ", ".join(name for name, _ in self.columns)

    def create(self, cursor) -> None:
        """A fresh, empty table for rows added a batch at a time (``append``) within one
        transaction: it is dropped at the commit on PostgreSQL, and first if it exists."""
        definition = ", ".join(f"{name} {kind}" for name, kind in self.columns)
        cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
        on_commit = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
        cursor.execute(f"CREATE TEMP TABLE {self.name} ({definition}){on_commit}")

    def append(self, cursor, rows: Iterable[Sequence]) -> None:
        """Add ``rows`` to the table ``create`` made (COPY on PostgreSQL)."""
        if connection.vendor == "postgresql":
            copy_sql = f"COPY {self.name} ({self.column_names}) FROM STDIN"
            with _logged(cursor, copy_sql), cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(self.columns))
            cursor.executemany(
                f"INSERT INTO {self.name} ({self.column_names}) VALUES ({placeholders})", rows
            )

    def fill(self, cursor, rows: Iterable[Sequence]) -> None:
        """Empty the table (creating it the first time) and put ``rows`` in it.

        On PostgreSQL a commit empties it too (``ON COMMIT DELETE ROWS``), but it is emptied
        here as well: writes run inside one outer transaction (as in tests) would otherwise
        see the rows of the write before."""
        postgres = connection.vendor == "postgresql"
        definition = ", ".join(f"{name} {kind}" for name, kind in self.columns)
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {self.name} ({definition})"
            + (" ON COMMIT DELETE ROWS" if postgres else "")
        )
        cursor.execute(f"DELETE FROM {self.name}")
        if postgres:
            copy_sql = f"COPY {self.name} ({self.column_names}) FROM STDIN"
            with _logged(cursor, copy_sql), cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(self.columns))
            cursor.executemany(
                f"INSERT INTO {self.name} ({self.column_names}) VALUES ({placeholders})", rows
            )


def _logged(cursor, sql: str):
    """Let Django's query log (and so query-count tests and the benchmark) see the COPY."""
    debug_sql = getattr(cursor, "debug_sql", None)
    return debug_sql(sql) if debug_sql else nullcontext()
