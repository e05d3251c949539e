"""The fault drills of ``make drill``, on a smaller request, in CI.

They start their own PostgreSQL cluster, Redis server and Celery processes, so they run once,
in the PostgreSQL + Redis pass of the suite."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BROKER_MODE, ROOT

needs = [shutil.which("redis-server"), any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))]

pytestmark = [
    pytest.mark.skipif(not BROKER_MODE, reason="drills run once, in the PostgreSQL + Redis pass"),
    pytest.mark.skipif(not all(needs), reason="needs PostgreSQL's initdb and redis-server"),
]


def test_every_fault_leaves_each_student_changed_exactly_once(tmp_path):
    results = tmp_path / "drills.json"

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "drills",
            "--students",
            "2000",
            "--json",
            str(results),
            "--logs",
            str(tmp_path / "logs"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )

    report = json.loads(results.read_text())
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert report["problems"] == []
    rows = {row["number"]: row for row in report["rows"]}
    assert sorted(rows) == list(range(1, 12))
    for number, row in rows.items():
        assert row["changed_twice"] == 0
        if number == 9:  # wrong key: fails loudly, overwrites nothing
            assert (row["status"], row["changed_once"]) == ("failed", 0)
        elif number == 11:  # cancelled mid-chunk: those changed once, the rest not at all
            assert row["status"] == "cancelled"
            assert 0 < row["changed_once"] < row["targeted"]
            assert row["changed_once"] + row["not_changed"] == row["targeted"]
        else:
            assert row["status"] == "completed"
            assert row["changed_once"] == row["targeted"] > 0
            assert row["not_changed"] == 0
    assert report["generated_passwords"] > 2000 * 8
    assert set(report["secrets"].values()) == {0}
