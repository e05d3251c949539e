"""``python -m bench web`` (``make bench-web``) on a tiny state and a few simulated staff:
locust against gunicorn, idle and during a state run; the figures there, and everything it
made gone afterwards. The targets live in the benchmark's printed figures, not here."""

from __future__ import annotations

import json

import pytest
from django.contrib.sessions.models import Session
from django.db import connection

from bench import web
from people.models import PSU, Student, User
from regeneration.models import RegenerationRequest
from tests.conftest import BROKER_MODE

PHASE_KEYS = {"progress_p95_ms", "people_p95_ms", "confirm_p95_ms", "errors"}


@pytest.mark.skipif(
    connection.vendor != "postgresql" or not BROKER_MODE,
    reason="bench web runs gunicorn and real Celery workers on PostgreSQL and Redis: run the "
    "suite with DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://...",
)
@pytest.mark.django_db(transaction=True)
def test_bench_web_reports_each_page_idle_and_during_a_state_run_and_removes_its_data(
    tmp_path, capsys
):
    students_before = Student.objects.count()

    small = ["--students", "60", "--psus", "3", "--workers", "1", "--web-workers", "1"]
    # Confirms spread over 3 s keep the state run longer than the pollers' 2 s pace, however
    # fast the tiny requests finish (over 1 s, a run of 1.5 s had no poll in its window).
    # Each browser picks People or the confirm page at random every 1 to 3 s: 4 browsers for
    # 6 s make about 12 picks, so People is left out of the idle phase about once in 4,000
    # runs (with 2 for 4 s, about 4 picks: once in 16, which made this test fail at times).
    short = ["--pollers", "4", "--browsers", "4", "--idle-seconds", "6", "--submit-seconds", "3"]

    status = web.main([*small, *short, "--timeout", "120", "--json", str(tmp_path / "web.json")])

    figures = json.loads((tmp_path / "web.json").read_text())
    assert status == 0
    for phase in ("idle", "state_run"):
        assert set(figures[phase]) == PHASE_KEYS
        assert figures[phase]["errors"] == 0
        assert figures[phase]["progress_p95_ms"] > 0
        assert figures["pages"][phase]["progress"]["requests"] > 0
    assert figures["pages"]["idle"]["people"]["p50_ms"] > 0
    assert figures["state_run_requests"]["completed"] == 3
    assert "state_run.progress_p95_ms < 100" in capsys.readouterr().out
    assert PSU.objects.filter(name__startswith=web.MARKER).count() == 0
    assert User.objects.filter(username__startswith=web.MARKER).count() == 0
    assert not RegenerationRequest.objects.exists()
    assert not Session.objects.exists()
    assert Student.objects.count() == students_before
