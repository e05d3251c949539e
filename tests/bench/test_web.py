"""``python -m bench web`` (``make bench-web``) on a tiny state and a few simulated staff:
locust against gunicorn, idle and during a state run; the figures there, and everything it
made gone afterwards. The targets live in the benchmark's printed figures, not here."""

from __future__ import annotations

import json
from pathlib import Path

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
    short = ["--pollers", "6", "--browsers", "4", "--idle-seconds", "6", "--submit-seconds", "3"]

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
    # The worker and beat ran at a lower CPU weight than PostgreSQL (nice 10, read back), and
    # gunicorn at a higher one (nice -10) where the suite may give it (CAP_SYS_NICE), else 0.
    assert figures["worker_nice_applied"] == [10, 10]
    assert figures["web_nice_applied"] == (-10 if _may_raise_priority() else 0)
    # The pollers poll each from their own moment of the 2 s cycle, not in step (locust's
    # constant_pacing had them all within a few milliseconds): all 6 start within the same
    # 0.1 s only by chance, less than once in 100,000 runs.
    assert figures["polls_in_step"]["idle"] < 1
    assert "state_run.progress_p95_ms < 100" in capsys.readouterr().out
    assert PSU.objects.filter(name__startswith=web.MARKER).count() == 0
    assert User.objects.filter(username__startswith=web.MARKER).count() == 0
    assert not RegenerationRequest.objects.exists()
    assert not Session.objects.exists()
    assert Student.objects.count() == students_before


def _may_raise_priority() -> bool:
    """Whether this process has CAP_SYS_NICE (bit 23 of its effective capabilities)."""
    status = Path("/proc/self/status").read_text()
    effective = next(line for line in status.splitlines() if line.startswith("CapEff:"))
    return bool(int(effective.split()[1], 16) >> 23 & 1)


def test_polls_in_step_is_the_largest_share_started_within_a_tenth_of_the_cycle():
    def phase(starts: list[float]) -> web.Phase:
        # (end, page, milliseconds, failed): each poll took 30 ms
        samples = [(start + 0.03, "progress", 30.0, None) for start in starts]
        samples.append((starts[0] + 0.5, "people", 80.0, None))  # not a poll
        return web.Phase(samples=samples, window=(0, 100))

    spread = [cycle * 2 + offset for cycle in range(5) for offset in (0.0, 0.5, 1.0, 1.5)]
    in_step = [cycle * 2 + offset for cycle in range(5) for offset in (0.30, 0.32, 0.35, 0.39)]
    # round the end of the cycle: 1.97 and 0.02 are 0.05 s apart
    around = [cycle * 2 + offset for cycle in range(5) for offset in (1.97, 0.02, 1.0, 1.5)]

    assert web.polls_in_step(phase(spread)) == pytest.approx(0.25)
    assert web.polls_in_step(phase(in_step)) == pytest.approx(1.0)
    assert web.polls_in_step(phase(around)) == pytest.approx(0.5)
    assert web.polls_in_step(web.Phase(samples=[], window=(0, 100))) is None
