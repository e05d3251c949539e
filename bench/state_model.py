"""What the state day's targets ask of the machine (``python -m bench state-model``).

A model of the engine's order, not a measurement: the state's requests (``bench.state``'s
sizes, arrivals evenly over ``--submit-seconds``, the largest first and the rest in the same
seeded order), served by ``--lanes`` lanes chunk by chunk (``--chunk-size``), each chunk
taking ``chunk / (students_per_s / lanes)`` seconds, the next chunk going to the request
confirmed more than ``--first-chunk-seconds`` ago that has changed nobody (the earliest),
else to the one with the fewest students left (``engine.chunk_process_fairest``). A request
alone takes ``size / students_per_s`` plus ``--overhead-seconds`` (its start and finish), and
the same overhead is added to its time in the state. It prints the slowdowns and first-chunk
waits that order gives at a machine's throughput: the best the engine can do there, with no
start, query or dispatch cost, so what a real run cannot beat.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass

from .state import STATE_PSUS, STATE_STUDENTS, percentile, state_sizes


@dataclass
class Modelled:
    size: int
    arrival: float
    left: int
    first_chunk_at: float | None = None
    finished_at: float | None = None


def model(
    sizes: list[int],
    *,
    students_per_s: float,
    submit_seconds: float = 60.0,
    lanes: int = 2,
    chunk_size: int = 2000,
    first_chunk_seconds: float = 5.0,
    seed: int = 16,
) -> list[Modelled]:
    """Every request of ``sizes`` (largest first) with its first chunk and finish times."""
    largest, *others = sorted(sizes, reverse=True)
    random.Random(seed).shuffle(others)
    order = [largest, *others]
    step = submit_seconds / (len(order) - 1) if len(order) > 1 else 0.0
    requests = [Modelled(size, i * step, size) for i, size in enumerate(order)]
    lane_free = [0.0] * lanes
    lane_speed = students_per_s / lanes
    while any(r.left for r in requests):
        lane = min(range(lanes), key=lane_free.__getitem__)
        now = lane_free[lane]
        ready = [r for r in requests if r.left and r.arrival <= now]
        if not ready:
            lane_free[lane] = min(r.arrival for r in requests if r.left)
            continue
        overdue = [r for r in ready if r.left == r.size and now - r.arrival > first_chunk_seconds]
        chosen = (
            min(overdue, key=lambda r: r.arrival)
            if overdue
            else min(ready, key=lambda r: (r.left, r.arrival))
        )
        size = min(chunk_size, chosen.left)
        chosen.left -= size
        lane_free[lane] = now + size / lane_speed
        if chosen.first_chunk_at is None:
            chosen.first_chunk_at = lane_free[lane]
        if not chosen.left:
            chosen.finished_at = lane_free[lane]
    return requests


def figures(requests: list[Modelled], *, students_per_s: float, overhead_seconds: float) -> dict:
    def alone(r: Modelled) -> float:
        return r.size / students_per_s + overhead_seconds

    slowdowns = [(r.finished_at - r.arrival + overhead_seconds) / alone(r) for r in requests]
    waits = [r.first_chunk_at - r.arrival for r in requests]
    return {
        "students_per_s": students_per_s,
        "seconds": max(r.finished_at for r in requests),
        "slowdown_p50": percentile(slowdowns, 50),
        "slowdown_p95": percentile(slowdowns, 95),
        "slowdown_max": max(slowdowns),
        "first_chunk_p95_seconds": percentile(waits, 95),
        "first_chunk_max_seconds": max(waits),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench state-model", description=__doc__)
    parser.add_argument("--students", type=int, default=STATE_STUDENTS)
    parser.add_argument("--psus", type=int, default=STATE_PSUS)
    parser.add_argument("--submit-seconds", type=float, default=60.0)
    parser.add_argument(
        "--students-per-s",
        type=lambda raw: [float(x) for x in raw.split(",")],
        default=[3_000.0, 12_000.0, 20_000.0, 29_000.0],
        help="the machine's throughputs to model (default 3000,12000,20000,29000)",
    )
    parser.add_argument("--lanes", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--first-chunk-seconds", type=float, default=5.0)
    parser.add_argument("--overhead-seconds", type=float, default=0.3)
    options = parser.parse_args(argv)
    sizes = state_sizes(students=options.students, psus=options.psus)
    print(
        f"model of the state day: {sum(sizes):,} students in {len(sizes)} PSUs within "
        f"{options.submit_seconds:g} s, {options.lanes} lanes, chunks of {options.chunk_size:,}"
    )
    print(
        f"{'students/s':>10} {'drained s':>9} {'slow p50':>8} {'slow p95':>8} {'slow max':>8} "
        f"{'1st p95 s':>9} {'1st max s':>9}"
    )
    for speed in options.students_per_s:
        requests = model(
            sizes,
            students_per_s=speed,
            submit_seconds=options.submit_seconds,
            lanes=options.lanes,
            chunk_size=options.chunk_size,
            first_chunk_seconds=options.first_chunk_seconds,
        )
        f = figures(requests, students_per_s=speed, overhead_seconds=options.overhead_seconds)
        print(
            f"{speed:>10,.0f} {f['seconds']:>9.0f} {f['slowdown_p50']:>8.2f} "
            f"{f['slowdown_p95']:>8.2f} {f['slowdown_max']:>8.1f} "
            f"{f['first_chunk_p95_seconds']:>9.1f} {f['first_chunk_max_seconds']:>9.1f}"
        )
    return 0
