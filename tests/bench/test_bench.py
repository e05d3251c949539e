"""``manage.py bench_regeneration`` on a tiny district: every figure there and sane, and the
benchmark's data gone afterwards, also when it is interrupted. The speed targets live in the
benchmark's printed figures, not here."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bench import data, measure
from people.models import PSU, Student, User
from tests.conftest import BROKER_MODE

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="bench_regeneration measures PostgreSQL (COPY, UPDATE ... FROM, its planner); "
    "run the suite with DATABASE_URL=postgres://...",
)
REQUIRED_KEYS = {
    "students",
    "naive_per_s",
    "floor_per_s",
    "floor_lanes_per_s",
    "default_only_per_s",
    "reset_per_s",
    "reset_force_per_s",
    "peak_rss_mb",
    "peak_rss_mb_tenth",
    "queries_per_chunk",
    "request_p95_ms",
    "confirm_p95_ms",
    "count_p95_ms",
    "handout_csv_seconds",
    "handout_csv_peak_rss_mb",
    "people_signed_in_filter_p95_ms",
    "single_user_p95_seconds",
    "uid_file_validation_seconds",
    "file_request_per_s",
    "undo_per_s",
}
PAGES = ("request", "confirm_page", "confirm", "count")


def leftovers() -> tuple[int, int]:
    return (
        PSU.objects.filter(name__startswith=data.MARKER).count(),
        User.objects.filter(username__startswith=data.MARKER).count(),
    )


@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the refusal on SQLite")
@pytest.mark.django_db
def test_bench_regeneration_refuses_to_run_on_sqlite():
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("bench_regeneration", students=100)

    assert leftovers() == (0, 0)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_bench_regeneration_reports_every_figure_and_removes_its_data(world, tmp_path):
    students_before = Student.objects.count()
    out = StringIO()

    call_command(
        "bench_regeneration",
        students=60,
        json=tmp_path / "bench.json",
        naive_sample=10,
        repeats=3,
        chunk_sizes=[5, 10],
        hash_students=2 if BROKER_MODE else 0,
        single_user_requests=3,
        stdout=out,
    )

    figures = json.loads((tmp_path / "bench.json").read_text())
    assert set(figures) >= REQUIRED_KEYS
    assert (figures["students"], figures["tenth_students"]) == (60, 6)
    for name in ("naive", "floor", "floor_lanes", "default_only", "reset", "reset_force"):
        assert figures[f"{name}_per_s"] > 0
    assert 20 < figures["peak_rss_mb_tenth"] <= figures["peak_rss_mb"] * 1.5
    assert figures["queries_per_chunk"] > 0 and figures["queries_per_chunk_constant"]
    for page in PAGES:
        assert 0 < figures[f"{page}_p50_ms"] <= figures[f"{page}_p95_ms"]
    if BROKER_MODE:
        assert [row["workers"] for row in figures["hashed"]] == [1, 2]
        assert all(row["students"] == 2 and row["per_s"] > 0 for row in figures["hashed"])
    assert (figures["handout_csv_rows"], figures["handout_csv_hashes"]) == (60, 0)
    assert figures["people_filter_hashes"] == 0
    assert figures["uid_file_lines"] == 60 and figures["file_request_per_s"] > 0
    assert figures["undo_restored"] + figures["undo_left_alone"] == 60
    if BROKER_MODE:
        assert figures["single_user_p95_seconds"] > 0
    assert figures["handout_csv_seconds"] > 0 and figures["people_signed_in_filter_p95_ms"] > 0
    assert "our request, reset + force, students/s" in out.getvalue()
    assert "default_only_vs_floor_lanes >= 0.80" in out.getvalue()
    assert leftovers() == (0, 0)
    assert Student.objects.count() == students_before


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_bench_regeneration_removes_its_data_when_interrupted(monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(measure, "measure_floor", interrupted)

    with pytest.raises(KeyboardInterrupt):
        call_command("bench_regeneration", students=30, naive_sample=5, stdout=StringIO())

    assert leftovers() == (0, 0)
    assert Student.objects.count() == 0
