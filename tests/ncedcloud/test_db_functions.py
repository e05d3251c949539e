"""``FastDateTime`` reads a timestamp back exactly as it was stored, on either backend."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from ncedcloud.db_functions import FastDateTime
from people.models import Student
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db


def test_timestamps_come_back_exact_to_the_microsecond_and_aware():
    moments = [
        datetime(2026, 12, 2, 8, 30, 15, 123456, tzinfo=UTC),
        datetime(2026, 12, 2, 8, 30, 15, 123457, tzinfo=UTC),
        datetime(2038, 1, 19, 3, 14, 8, 999999, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
    ]
    for moment in moments:
        StudentFactory(login_set_at=moment)
    StudentFactory(login_set_at=None)
    read = list(Student.objects.order_by("id").values_list(FastDateTime("login_set_at"), flat=True))
    assert read == [*moments, None]
    assert all(value.utcoffset().total_seconds() == 0 for value in read[:-1])
    # Two moments a microsecond apart stay apart and in order.
    assert read[0] < read[1]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL planner setting")
def test_server_side_cursors_are_planned_for_every_row():
    """``.iterator()`` reads are read to the end: PostgreSQL plans them for all rows, not
    a fast start (settings, cursor_tuple_fraction)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")
        assert cursor.fetchone()[0] == "1"
