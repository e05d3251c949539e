"""``python -m bench state`` (``make bench-state``) on a tiny state: the figures of each
worker count there, and the state's data gone afterwards. The targets live in the
benchmark's printed figures, not here."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from bench import state
from people.models import PSU, Student, User
from regeneration.models import RegenerationRequest
from tests.conftest import BROKER_MODE

WORKER_KEYS = {
    "students_per_s",
    "slowdown_p50",
    "slowdown_p95",
    "slowdown_max",
    "first_chunk_p95_seconds",
    "peak_rss_mb",
    "max_db_connections",
    "failed_requests",
}


def test_state_sizes_follow_north_carolinas_spread_and_add_up():
    sizes = state.state_sizes(students=1_500_000, psus=315)

    assert (len(sizes), sum(sizes)) == (315, 1_500_000)
    assert sizes == sorted(sizes, reverse=True)
    assert 150_000 <= sizes[0] <= 170_000  # Wake County
    assert sum(size >= 50_000 for size in sizes) == 5
    assert sum(1_000 <= size < 10_000 for size in sizes) >= 80
    assert sum(size < 2_100 for size in sizes) >= 200  # charters
    assert min(sizes) >= 95


def test_a_small_state_keeps_one_psu_of_each_kind():
    sizes = state.state_sizes(students=30_000, psus=20)

    assert (len(sizes), sum(sizes)) == (20, 30_000)
    assert sizes[0] > 10 * sizes[len(sizes) // 2]


@pytest.mark.skipif(
    connection.vendor != "postgresql" or not BROKER_MODE,
    reason="bench state runs real Celery workers on PostgreSQL and Redis: run the suite with "
    "DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://...",
)
@pytest.mark.django_db(transaction=True)
def test_bench_state_reports_each_worker_count_and_removes_its_data(tmp_path, capsys, settings):
    students_before = Student.objects.count()
    # Its larger PSUs then need their count typed at Confirm, as a district's does.
    settings.REGENERATION_CONFIRM_TYPING_THRESHOLD = 10

    # Its tasks last a few hundredths of a second, and a worker holds connections only
    # while a task runs: they are counted every 5 ms (every 0.2 s would miss them).
    options = ["--students", "90", "--psus", "4", "--submit-seconds", "1", "--timeout", "120"]
    options += ["--sample-seconds", "0.005"]

    status = state.main([*options, "--json", str(tmp_path / "state.json")])

    figures = json.loads((tmp_path / "state.json").read_text())
    assert status == 0
    for count in (1, 2):
        workers = figures[f"workers_{count}"]
        assert set(workers) == WORKER_KEYS
        assert workers["failed_requests"] == 0
        assert workers["students_per_s"] > 0
        assert 0 < workers["slowdown_p50"] <= workers["slowdown_p95"] <= workers["slowdown_max"]
        assert workers["first_chunk_p95_seconds"] > 0
        assert 20 < workers["peak_rss_mb"] < 1000
        # one worker process holds 1 + REGENERATION_PARALLEL_CHUNKS + 1 (the express lane)
        # connections at most
        assert 1 <= workers["max_db_connections"] <= count * 4
    assert figures["details"]["workers_1"]["requests"] == 4
    requests = figures["details"]["workers_1"]["requests_by_size"]
    assert [r["students"] for r in requests] == sorted(state.state_sizes(students=90, psus=4))[::-1]
    assert all(r["state_seconds"] > 0 and r["alone_seconds"] > 0 for r in requests)
    # Where each band's time went: every phase measured, none negative.
    for row in figures["details"]["workers_1"]["by_size"]:
        phases = row["phases_p50_seconds"]
        assert set(phases) == {
            "to_start",
            "start_to_first_chunk",
            "chunks",
            "last_chunk_to_finished",
        }
        assert all(seconds >= 0 for seconds in phases.values())
    assert "workers_2_vs_1_students_per_s" in figures["targets_met"]
    assert "slowdown against alone, p95" in capsys.readouterr().out
    assert PSU.objects.filter(name__startswith=state.MARKER).count() == 0
    assert User.objects.filter(username__startswith=state.MARKER).count() == 0
    assert not RegenerationRequest.objects.exists()
    assert Student.objects.count() == students_before
