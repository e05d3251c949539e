"""``python -m bench import`` (``make bench-import``) on a tiny state: the JSON's keys, a
re-import that changes nothing, and the bundle's rows gone afterwards. The speed and memory
targets live in the benchmark's printed figures, not here."""

from __future__ import annotations

import csv
import json

import pytest
from django.db import connection

from bench import roster
from people.models import PSU, Campus, Student, User
from rosters.models import Class, Enrollment, Teacher

KEYS = {
    "students",
    "import_seconds",
    "rows_per_s",
    "peak_rss_mb",
    "peak_rss_mb_tenth",
    "reimport_changed",
    "details",
}


def test_the_bundle_has_every_student_in_a_class_with_its_teacher(tmp_path):
    counts = roster.bundle_write(tmp_path, students=1_000, districts=3, schools=10, class_size=25)

    with open(tmp_path / "users.csv", newline="") as handle:
        users = list(csv.DictReader(handle))
    students = [u for u in users if u["role"] == "student"]
    assert len(students) == 1_000
    assert len({u["identifier"] for u in students}) == 1_000
    assert counts["orgs"] == 3 + 10
    assert counts["enrollments"] == len(users)  # each student once, each teacher once
    assert counts["classes"] == sum(u["role"] == "teacher" for u in users)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="bench import measures PostgreSQL: run the suite with DATABASE_URL=postgres://...",
)
@pytest.mark.django_db(transaction=True)
def test_bench_import_reports_its_figures_and_removes_its_data(tmp_path, capsys):
    before = (Student.objects.count(), PSU.objects.count(), User.objects.count())
    options = ["--students", "300", "--districts", "3", "--schools", "6", "--class-size", "20"]

    status = roster.main(
        [*options, "--work-dir", str(tmp_path), "--json", str(tmp_path / "i.json")]
    )

    figures = json.loads((tmp_path / "i.json").read_text())
    assert status == 0
    assert set(figures) == KEYS
    assert figures["students"] == 300
    assert figures["reimport_changed"] == 0
    assert figures["details"]["counts"]["students"]["created"] == 300
    counts = figures["details"]["counts"]
    assert counts["enrollments"]["created"] == 300 + counts["classes"]["created"]  # + teachers
    assert figures["import_seconds"] > 0 and figures["rows_per_s"] > 0
    assert 20 < figures["peak_rss_mb_tenth"] <= figures["peak_rss_mb"] * 1.5 < 1500
    assert "the same bundle again: 0 changed" in capsys.readouterr().out
    assert (Student.objects.count(), PSU.objects.count(), User.objects.count()) == before
    assert not Campus.objects.filter(sourced_id__startswith=roster.MARKER).exists()
    assert not (Teacher.objects.exists() or Class.objects.exists() or Enrollment.objects.exists())
    assert list(tmp_path.iterdir()) == [tmp_path / "i.json"]
