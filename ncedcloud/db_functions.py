"""Reading many timestamps fast on PostgreSQL.

Django loads every ``timestamptz`` value through its own subclass of psycopg's pure-Python
loader (to attach its time zone), about 6 us a value here; a 160,000-student handout reads
five timestamps a row, 4 of its seconds. ``FastDateTime(field)`` reads the column as epoch
seconds instead (a ``float8``, loaded in C) and makes the aware datetime with
``datetime.fromtimestamp``, about 0.3 us. A double holds today's epoch to a tenth of a
microsecond, so the value comes back exact. Other databases read the column as it is.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import DateTimeField, Func


class FastDateTime(Func):
    """The timestamp column, read through a cheaper path on PostgreSQL (see the module)."""

    arity = 1
    output_field = DateTimeField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra
        )

    def as_sql(self, compiler, connection, template="%(expressions)s", **extra):
        return super().as_sql(compiler, connection, template=template, **extra)

    def get_db_converters(self, connection):
        if connection.vendor == "postgresql":
            return [_from_epoch]
        return super().get_db_converters(connection)


def _from_epoch(value, expression, connection):
    return None if value is None else datetime.fromtimestamp(value, UTC)
