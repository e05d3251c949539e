"""Fault drills: ``python -m drills --students 20000`` (``make drill``).

Starts a PostgreSQL cluster, a Redis server and Celery worker and beat processes of its own,
then runs each fault on a request of N students and prints one row per fault. Exits non-zero
if any student is changed twice by one request, or left unchanged by a request that reports
completed, or if a generated password shows up where it must not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m drills", description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20_000, help="students per request")
    parser.add_argument("--only", default="", help="comma-separated fault numbers, e.g. 1,4")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--logs", type=Path, help="keep the services' logs in this folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from drills.environment import DrillSetupError

    try:
        from drills.scenarios import run_drills
    except DrillSetupError as exc:
        print(f"drills: cannot run here: {exc}", file=sys.stderr)
        return 2
    only = {int(n) for n in args.only.split(",") if n.strip()}
    try:
        report = run_drills(students=args.students, only=only, log_folder=args.logs)
    except DrillSetupError as exc:
        print(f"drills: cannot run here: {exc}", file=sys.stderr)
        return 2
    print(report.table())
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2))
    for problem in report.problems():
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if report.problems() else 0


if __name__ == "__main__":
    sys.exit(main())
