"""The state day (``make bench-state``, ``python -m bench state``): every PSU of a state
confirms a default-only request within one minute, on real Celery worker processes.

It makes a state of ``--students`` students in ``--psus`` PSUs whose sizes follow North
Carolina's spread (``state_sizes``), then, for each worker count of ``--workers`` (1 and 2):
starts that many worker processes (``celery worker --concurrency=1`` each, on a queue of
their own) and Celery beat (the sweep); runs every PSU's request alone, one after another
(once, on the first worker count: a request alone runs one task at a time); then confirms
every PSU's request within ``--submit-seconds`` (the largest PSU first, the others in a
seeded random order, evenly spaced) and waits for all of them. Requests are confirmed
through the service behind *Confirm* (``regeneration_request_create``) and dispatched to the
broker for real. What each figure means is in the README ("State day").

PostgreSQL and a Redis broker (CELERY_BROKER_URL) only. Everything it makes is named after
``MARKER`` and removed afterwards, also on an error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from unittest import mock

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min

from regeneration.lifecycle import regeneration_request_create
from regeneration.models import RegenerationChunk, RegenerationRequest
from regeneration.tasks import task_run_request

from . import data, measure

MARKER = "bench_state"
STATE_STUDENTS = 1_500_000
STATE_PSUS = 315
# North Carolina's spread: how many of the state's 315 PSUs, from the largest to the smallest
# student count of each band (spread evenly on a log scale within it).
BANDS = (
    (5, 160_000, 50_000),  # the largest districts: Wake County, Charlotte-Mecklenburg, ...
    (25, 40_000, 10_000),
    (85, 10_000, 1_000),  # most districts
    (200, 2_000, 100),  # charter schools
)
STUDENTS_PER_CAMPUS = 800
MAX_CAMPUSES = 200
WORKER_APP_NAME = f"{MARKER}-worker"  # application_name of the workers' connections
SAMPLE_SECONDS = 0.2  # pg_stat_activity's reading interval (--sample-seconds)
WARM_UP_PSUS = 4  # one small request per worker process before anything is timed
TARGETS = (
    # name, bound, what it is
    ("workers_2_vs_1_students_per_s", ">=", 0.9),
    ("failed_requests", "==", 0),
    ("slowdown_p95", "<=", 3.0),
    ("first_chunk_max_seconds", "<=", 10.0),
)


# The state's shape ----------------------------------------------------------------------------


def state_sizes(*, students: int, psus: int) -> list[int]:
    """PSU sizes in North Carolina's spread (``BANDS``), largest first, ``psus`` of them
    summing to ``students``: every band gets its share of the PSUs, sizes spread evenly on a
    log scale within the band, then all scaled to the total."""
    counts = _apportion([band[0] for band in BANDS], psus)
    raw: list[float] = []
    for count, (_, largest, smallest) in zip(counts, BANDS, strict=True):
        raw += _log_spread(largest, smallest, count)
    factor = students / sum(raw)
    sizes = sorted((max(1, round(size * factor)) for size in raw), reverse=True)
    sizes[0] += students - sum(sizes)
    return sizes


def _apportion(weights: list[int], total: int) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder), each part at least
    one when there are enough."""
    exact = [weight * total / sum(weights) for weight in weights]
    counts = [int(share) for share in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    for i, count in enumerate(counts):
        if count == 0 and total >= len(counts):
            counts[counts.index(max(counts))] -= 1
            counts[i] = 1
    return counts


def _log_spread(largest: int, smallest: int, count: int) -> list[float]:
    if count <= 1:
        return [float(largest)] * count
    ratio = smallest / largest
    return [largest * ratio ** (i / (count - 1)) for i in range(count)]


def submission_order(psus: list, *, seed: int) -> list:
    """The largest PSU confirms first, so that every other request arrives while it runs
    (the case fairness is about); the others follow in a seeded random order."""
    largest, *others = sorted(psus, key=lambda psu: psu.students, reverse=True)
    random.Random(seed).shuffle(others)
    return [largest, *others]


# Data -----------------------------------------------------------------------------------------


@dataclass
class State:
    data: data.BenchData
    psus: list[data.BenchPSU]  # largest first
    warm_up: list[data.BenchPSU] = field(default_factory=list)  # not timed

    @property
    def students(self) -> int:
        return sum(psu.students for psu in self.psus)


def state_create(sizes: list[int], *, say: Callable[[str], None], marker: str = MARKER) -> State:
    """The state's PSUs, one campus per 800 students (up to 200), and one administrator of
    all of them who confirms every request. Student numbers come from one free range."""
    state = State(data=data.BenchData(admin=data.bench_admin_create(marker=marker)), psus=[])
    codes = data.free_psu_codes(len(sizes))
    number = data.free_student_numbers(sum(sizes))
    for index, (code, size) in enumerate(zip(codes, sizes, strict=True)):
        psu = data.bench_psu_create(
            admin=state.data.admin,
            students=size,
            label=f"PSU {index + 1} of {len(sizes)}, {size} students",
            seed=index,
            marker=marker,
            code=code,
            campuses=min(MAX_CAMPUSES, max(1, math.ceil(size / STUDENTS_PER_CAMPUS))),
            first_number=number,
        )
        number += size
        state.data.psus.append(psu)
        state.psus.append(psu)
        if (index + 1) % 50 == 0:
            say(f"  {index + 1} PSUs, {sum(sizes[: index + 1]):,} students")
    for index in range(WARM_UP_PSUS):
        psu = data.bench_psu_create(
            admin=state.data.admin,
            students=20,
            label=f"warm-up {index + 1}",
            marker=marker,
            campuses=1,
        )
        state.data.psus.append(psu)
        state.warm_up.append(psu)
    return state


# Confirming and waiting -----------------------------------------------------------------------


@contextmanager
def published_into(queue: str) -> Iterator[None]:
    """*Confirm*'s real dispatch (on commit, to the broker), into ``queue``: the benchmark's
    workers read only that queue, so no other worker takes its requests."""
    real = task_run_request.apply_async

    def into_queue(*args, **kwargs):
        return real(*args, **{**kwargs, "queue": queue})

    with mock.patch.object(task_run_request, "apply_async", side_effect=into_queue):
        yield


def requests_confirm(
    state: State,
    order: list,
    *,
    spread_seconds: float,
    queue: str,
    requester: Callable | None = None,
    confirmed: Callable | None = None,
) -> list[int]:
    """Confirm a default-only request for each PSU of ``order``, evenly spaced over
    ``spread_seconds``, through the service behind *Confirm*, by ``requester(psu)`` (the
    state's administrator by default); ``confirmed(psu, request_id)`` is called after each."""
    start = time.monotonic()
    step = spread_seconds / (len(order) - 1) if len(order) > 1 else 0.0
    ids = []
    with published_into(queue):
        for index, psu in enumerate(order):
            delay = start + index * step - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            request = regeneration_request_create(
                requester=requester(psu) if requester else state.data.admin,
                values={
                    "psu_code": psu.code,
                    "campus_codes": [],
                    "grade_levels": [],
                    "reset_current_passwords": False,
                    "force_password_change": False,
                    "comments": MARKER,
                },
                confirmation_key=uuid.uuid4(),
                typed_count=psu.students,  # the administrator types the count shown
            )
            ids.append(request.pk)
            if confirmed:
                confirmed(psu, request.pk)
    return ids


def requests_wait(ids: list[int], *, timeout: float, poll: float) -> bool:
    """Wait until every request is finished; False if ``timeout`` passed first."""
    deadline = time.monotonic() + timeout
    unfinished = RegenerationRequest.objects.filter(pk__in=ids).exclude(
        status__in=RegenerationRequest.FINISHED_STATUSES
    )
    while unfinished.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


@dataclass(frozen=True)
class Timing:
    """One request, from the database: confirmed (queued), started (planned), first and last
    chunk written, finished."""

    psu_id: int
    students: int
    status: str
    queued_at: datetime
    first_chunk_at: datetime | None
    finished_at: datetime | None
    started_at: datetime | None = None
    last_chunk_at: datetime | None = None

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.queued_at).total_seconds()

    @property
    def first_chunk_seconds(self) -> float | None:
        if self.first_chunk_at is None:
            return None
        return (self.first_chunk_at - self.queued_at).total_seconds()

    def phases(self) -> dict[str, float] | None:
        """Where a finished request's time went: waiting to start, from its start to its
        first chunk, its chunks, and from its last chunk to *Completed*."""
        moments = (
            self.queued_at,
            self.started_at,
            self.first_chunk_at,
            self.last_chunk_at,
            self.finished_at,
        )
        if None in moments:
            return None
        names = ("to_start", "start_to_first_chunk", "chunks", "last_chunk_to_finished")
        return {
            name: (later - earlier).total_seconds()
            for name, earlier, later in zip(names, moments, moments[1:], strict=False)
        }


def timings(ids: list[int]) -> dict[int, Timing]:
    """Each request's times, by PSU id."""
    chunk_span = {
        request_id: (first, last)
        for request_id, first, last in RegenerationChunk.objects.filter(request_id__in=ids)
        .values("request_id")
        .annotate(first=Min("finished_at"), last=Max("finished_at"))
        .values_list("request_id", "first", "last")
    }
    rows = RegenerationRequest.objects.filter(pk__in=ids).values_list(
        "pk", "psu_id", "targeted_count", "status", "queued_at", "finished_at", "started_at"
    )
    timings = {}
    for pk, psu_id, targeted, status, queued, finished, started in rows:
        first, last = chunk_span.get(pk, (None, None))
        timings[psu_id] = Timing(
            psu_id,
            targeted,
            status,
            queued,
            first,
            finished,
            started_at=started,
            last_chunk_at=last,
        )
    return timings


# Measuring the workers ------------------------------------------------------------------------


class ConnectionSampler(threading.Thread):
    """The most database connections the workers hold at once: ``pg_stat_activity`` read
    at once and then every ``every`` seconds, counting the connections of this database
    whose application_name is one of ``app_names`` (the workers' PGAPPNAME), in ``most``
    per name and ``most_total`` together.

    A worker holds its connections only while a task runs (Celery closes them before and
    after each task), so a run of tasks shorter than ``every`` can pass unseen: a small
    state is read more often (``--sample-seconds``)."""

    def __init__(self, *app_names: str, every: float = SAMPLE_SECONDS) -> None:
        super().__init__(name="connection-sampler", daemon=True)
        self.app_names = list(app_names)
        self.every = every
        self.most = dict.fromkeys(app_names, 0)
        self.most_total = 0
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            self._sample(connection)
            while not self._halt.wait(self.every):
                self._sample(connection)
        finally:
            connection.close()

    def _sample(self, connection) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT application_name, count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = ANY(%s) "
                "GROUP BY application_name",
                [self.app_names],
            )
            counts = dict(cursor.fetchall())
        for name in self.app_names:
            self.most[name] = max(self.most[name], counts.get(name, 0))
        self.most_total = max(self.most_total, sum(counts.values()))

    def __enter__(self) -> ConnectionSampler:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self._halt.set()
        self.join(timeout=10)


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory (``VmHWM`` in /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"No VmHWM for process {pid}")


@dataclass
class WorkerRun:
    count: int
    alone: dict[int, Timing]
    state: dict[int, Timing]
    pool_rss_mb: list[float]
    connections: int
    finished_in_time: bool


def measure_workers(
    state: State,
    order: list,
    *,
    count: int,
    spread_seconds: float,
    timeout: float,
    children: list,
    say: Callable[[str], None],
    alone: dict[int, Timing] | None = None,
    sample_seconds: float = SAMPLE_SECONDS,
) -> WorkerRun:
    """On ``count`` worker processes and beat: every request alone (unless ``alone`` gives
    those times already), then the state day."""
    queue = f"{MARKER}-{os.getpid()}-{count}"
    processes = celery_processes_start(count, queue=queue, children=children)
    try:
        warm_up(state, count, queue=queue, timeout=timeout)
        if alone is None:
            say(f"{count} worker process(es): each request alone ...")
            data.tables_settle()
            alone = _alone(state, order, queue=queue, timeout=timeout)
        say(f"{count} worker process(es): {len(order)} requests within {spread_seconds:g} s ...")
        data.tables_settle()
        with ConnectionSampler(WORKER_APP_NAME, every=sample_seconds) as sampler:
            ids = requests_confirm(state, order, spread_seconds=spread_seconds, queue=queue)
            finished = requests_wait(ids, timeout=timeout, poll=0.5)
        pool_rss = [
            peak_rss_mb(pid)
            for process in processes
            if process.kind == "worker"
            for pid in process.children()
        ]
        return WorkerRun(
            count=count,
            alone=alone,
            state=timings(ids),
            pool_rss_mb=pool_rss,
            connections=sampler.most[WORKER_APP_NAME],
            finished_in_time=finished,
        )
    finally:
        for process in processes:
            measure.celery_process_stop(process, children)
        measure.broker_queue_remove(queue)


def celery_processes_start(count: int, *, queue: str, children: list) -> list:
    """``count`` worker processes (``--concurrency=1`` each, their connections named
    WORKER_APP_NAME) and beat, on ``queue``, started at once and waited for."""
    processes = [
        measure.celery_process_start(
            "worker",
            queue=queue,
            name=f"{queue}-{index}",
            children=children,
            wait=False,
            PGAPPNAME=WORKER_APP_NAME,
        )
        for index in range(count)
    ]
    processes.append(
        measure.celery_process_start("beat", queue=queue, name=f"{queue}-beat", children=children)
    )
    for process in processes:
        process.wait_ready()
    return processes


def warm_up(state: State, count: int, *, queue: str, timeout: float) -> None:
    """One small request per worker process at once, so that no timed request pays for a
    process's first task (its connection, Django's common-password list, the keys)."""
    ids = requests_confirm(state, state.warm_up[:count], spread_seconds=0, queue=queue)
    if not requests_wait(ids, timeout=timeout, poll=0.05):
        raise RuntimeError("The warm-up requests did not finish.")


def _alone(state: State, order: list, *, queue: str, timeout: float) -> dict[int, Timing]:
    ids = []
    for psu in order:
        ids += requests_confirm(state, [psu], spread_seconds=0, queue=queue)
        if not requests_wait(ids[-1:], timeout=timeout, poll=0.01):
            raise RuntimeError(f"PSU {psu.code}'s request alone did not finish in {timeout} s.")
    alone = timings(ids)
    failed = [t for t in alone.values() if t.status != "completed"]
    if failed:
        raise RuntimeError(f"{len(failed)} request(s) run alone did not complete: {failed[:3]}")
    return alone


# Figures --------------------------------------------------------------------------------------


def worker_figures(run: WorkerRun) -> dict:
    """The JSON's ``workers_W`` object: exactly the figures the issue names."""
    done = [t for t in run.state.values() if t.status == "completed"]
    slowdowns = [t.seconds / run.alone[t.psu_id].seconds for t in done]
    first_chunks = [
        t.first_chunk_seconds for t in run.state.values() if t.first_chunk_seconds is not None
    ]
    return {
        "students_per_s": _students_per_s(run.state.values()),
        "slowdown_p50": median(slowdowns) if slowdowns else None,
        "slowdown_p95": percentile(slowdowns, 95),
        "slowdown_max": max(slowdowns, default=None),
        "first_chunk_p95_seconds": percentile(first_chunks, 95),
        "peak_rss_mb": max(run.pool_rss_mb, default=None),
        "max_db_connections": run.connections,
        "failed_requests": len(run.state) - len(done),
    }


def worker_details(run: WorkerRun) -> dict:
    """What lies behind the figures: per size band, and the extremes."""
    state = list(run.state.values())
    firsts = [t.first_chunk_seconds for t in state if t.first_chunk_seconds is not None]
    finished = [t.finished_at for t in state if t.finished_at]
    return {
        "requests": len(state),
        "students": sum(t.students for t in state),
        "state_seconds": (max(finished) - min(t.queued_at for t in state)).total_seconds()
        if finished
        else None,
        "drain_seconds": (max(finished) - max(t.queued_at for t in state)).total_seconds()
        if finished
        else None,
        "alone_seconds_sum": sum(t.seconds for t in run.alone.values()),
        "alone_students_per_s": sum(t.students for t in run.alone.values())
        / sum(t.seconds for t in run.alone.values()),
        "first_chunk_p50_seconds": median(firsts) if firsts else None,
        "first_chunk_max_seconds": max(firsts, default=None),
        "pool_peak_rss_mb": run.pool_rss_mb,
        "finished_in_time": run.finished_in_time,
        "by_size": _by_size(run),
        # Every request of the day, largest first: what the percentiles are taken over.
        "requests_by_size": [
            {
                "students": t.students,
                "alone_seconds": run.alone[t.psu_id].seconds,
                "state_seconds": t.seconds,
                "first_chunk_seconds": t.first_chunk_seconds,
                "phases_seconds": t.phases(),
            }
            for t in sorted(state, key=lambda t: t.students, reverse=True)
        ],
    }


def _by_size(run: WorkerRun) -> list[dict]:
    rows = []
    bounds = ((50_000, None), (10_000, 50_000), (1_000, 10_000), (0, 1_000))
    for low, high in bounds:
        band = [
            t
            for t in run.state.values()
            if t.students >= low and (high is None or t.students < high) and t.seconds
        ]
        if not band:
            continue
        slowdowns = [t.seconds / run.alone[t.psu_id].seconds for t in band]
        rows.append(
            {
                "students": f"{low:,}+" if high is None else f"{low:,}-{high - 1:,}",
                "requests": len(band),
                "alone_p50_seconds": median(run.alone[t.psu_id].seconds for t in band),
                "state_p50_seconds": median(t.seconds for t in band),
                "state_max_seconds": max(t.seconds for t in band),
                "slowdown_p50": median(slowdowns),
                "slowdown_max": max(slowdowns),
                "first_chunk_max_seconds": max(
                    (t.first_chunk_seconds for t in band if t.first_chunk_seconds is not None),
                    default=None,
                ),
                "phases_p50_seconds": _phases_median(band),
            }
        )
    return rows


def _phases_median(band: list[Timing]) -> dict[str, float] | None:
    """Per phase (``Timing.phases``), its median over the band's requests."""
    phases = [p for p in (t.phases() for t in band) if p is not None]
    if not phases:
        return None
    return {name: median(p[name] for p in phases) for name in phases[0]}


def _students_per_s(state) -> float | None:
    state = list(state)
    finished = [t.finished_at for t in state if t.finished_at]
    if not finished:
        return None
    seconds = (max(finished) - min(t.queued_at for t in state)).total_seconds()
    return sum(t.students for t in state if t.status == "completed") / seconds


def percentile(samples: list[float], pct: float) -> float | None:
    """The ``pct``-th percentile, interpolated between the closest ranks."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def targets(figures: dict, details: dict) -> dict:
    measured = {}
    if "workers_1" in figures and "workers_2" in figures:
        one, two = figures["workers_1"]["students_per_s"], figures["workers_2"]["students_per_s"]
        measured["workers_2_vs_1_students_per_s"] = two / one if one and two else None
    for key, values in figures.items():
        if key.startswith("workers_") and isinstance(values, dict):
            measured[f"{key}.failed_requests"] = values["failed_requests"]
            measured[f"{key}.slowdown_p95"] = values["slowdown_p95"]
            measured[f"{key}.first_chunk_max_seconds"] = details[key]["first_chunk_max_seconds"]
    met = {}
    for name, value in measured.items():
        op, bound = next((op, bound) for target, op, bound in TARGETS if name.endswith(target))
        met[name] = value is not None and (
            value >= bound if op == ">=" else value <= bound if op == "<=" else value == bound
        )
    return {"targets_measured": measured, "targets_met": met}


# The command ----------------------------------------------------------------------------------


def run(options: argparse.Namespace, *, say: Callable[[str], None]) -> dict:
    if connection.vendor != "postgresql":
        raise SystemExit(f"bench state measures PostgreSQL; this database is {connection.vendor}.")
    if settings.CELERY_TASK_ALWAYS_EAGER:
        raise SystemExit("bench state needs real workers: set CELERY_BROKER_URL=redis://...")
    if data.bench_leftovers_remove(marker=MARKER):
        say("Removed the data of an earlier, killed run.")
    sizes = state_sizes(students=options.students, psus=options.psus)
    figures: dict = {
        "students": sum(sizes),
        "psus": len(sizes),
        "largest_psu": sizes[0],
        "smallest_psu": sizes[-1],
        "submit_seconds": options.submit_seconds,
        "chunk_size": settings.REGENERATION_CHUNK_SIZE,
        "parallel_chunks": settings.REGENERATION_PARALLEL_CHUNKS,
        "task_budget_seconds": settings.REGENERATION_TASK_BUDGET_SECONDS,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": measure.machine_info(),
    }
    children: list = []
    say(f"Creating a state of {sum(sizes):,} students in {len(sizes)} PSUs ...")
    state = None
    try:
        state = state_create(sizes, say=say)
        say(f"Rewriting every student {options.rewrite_passes} time(s) ...")
        data.students_rewrite(state.psus, passes=options.rewrite_passes)
        order = submission_order(state.psus, seed=options.seed)
        details = {}
        alone = None
        for count in options.workers:
            result = measure_workers(
                state,
                order,
                count=count,
                spread_seconds=options.submit_seconds,
                timeout=options.timeout,
                children=children,
                say=say,
                alone=alone,
                sample_seconds=options.sample_seconds,
            )
            # A request alone runs as one task at a time however many workers there are
            # (its slices follow one another): its time alone is measured once.
            alone = result.alone
            figures[f"workers_{count}"] = worker_figures(result)
            details[f"workers_{count}"] = worker_details(result)
    finally:
        for child in list(children):
            measure.stop_process(child)
        if state is not None:
            say("Removing the state's data ...")
            data.bench_data_remove(state.data)
    figures["details"] = details
    figures.update(targets(figures, details))
    figures["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    figures["load_average_after"] = measure.machine_info()["load_average"]
    return figures


def report(figures: dict) -> str:
    lines = [
        "",
        f"bench state: {figures['students']:,} students in {figures['psus']} PSUs "
        f"({figures['largest_psu']:,} to {figures['smallest_psu']:,}), every request "
        f"confirmed within {figures['submit_seconds']:g} s; chunk size {figures['chunk_size']:,}, "
        f"{figures['parallel_chunks']} lanes, task slices of {figures['task_budget_seconds']:g} s",
        f"machine: {_machine(figures['machine'])}; load average after "
        f"{figures['load_average_after']}",
        "",
    ]
    counts = [key for key in figures if key.startswith("workers_")]
    rows = (
        ("students/s (first Confirm to last Completed)", "students_per_s"),
        ("slowdown against alone, p50", "slowdown_p50"),
        ("slowdown against alone, p95", "slowdown_p95"),
        ("slowdown against alone, worst", "slowdown_max"),
        ("Confirm to first chunk p95, s", "first_chunk_p95_seconds"),
        ("peak RSS per worker process, MB", "peak_rss_mb"),
        ("most database connections of the workers", "max_db_connections"),
        ("failed requests", "failed_requests"),
    )
    lines.append(f"{'figure':<46}" + "".join(f"{key.replace('_', ' '):>14}" for key in counts))
    for label, key in rows:
        lines.append(f"{label:<46}" + "".join(f"{_fmt(figures[c][key]):>14}" for c in counts))
    lines.append(
        f"{'Confirm to first chunk worst, s':<46}"
        + "".join(f"{_fmt(figures['details'][c]['first_chunk_max_seconds']):>14}" for c in counts)
    )
    for count in counts:
        detail = figures["details"][count]
        lines += [
            "",
            f"{count.replace('_', ' ')}: state in {_fmt(detail['state_seconds'])} s "
            f"(drained {_fmt(detail['drain_seconds'])} s after the last Confirm); alone, one "
            f"after another: {_fmt(detail['alone_seconds_sum'])} s, "
            f"{_fmt(detail['alone_students_per_s'])} students/s",
            f"  {'students':>16} {'requests':>8} {'alone p50 s':>12} {'state p50 s':>12} "
            f"{'state max s':>12} {'slow p50':>9} {'slow max':>9} {'1st chunk max s':>16}",
        ]
        lines += [
            f"  {row['students']:>16} {row['requests']:>8} {_fmt(row['alone_p50_seconds']):>12} "
            f"{_fmt(row['state_p50_seconds']):>12} {_fmt(row['state_max_seconds']):>12} "
            f"{_fmt(row['slowdown_p50']):>9} {_fmt(row['slowdown_max']):>9} "
            f"{_fmt(row['first_chunk_max_seconds']):>16}"
            for row in detail["by_size"]
        ]
        lines.append(
            f"  where a request's time went, p50 s: {'students':>16} {'to start':>9} "
            f"{'to 1st chunk':>13} {'chunks':>9} {'to Completed':>13}"
        )
        lines += [
            f"  {'':>35}{row['students']:>16} "
            + " ".join(
                f"{_fmt(row['phases_p50_seconds'][name]):>{width}}"
                for name, width in (
                    ("to_start", 9),
                    ("start_to_first_chunk", 13),
                    ("chunks", 9),
                    ("last_chunk_to_finished", 13),
                )
            )
            for row in detail["by_size"]
            if row.get("phases_p50_seconds")
        ]
    lines += ["", f"{'target':<56} {'measured':>10}  met"]
    for name, value in figures["targets_measured"].items():
        op, bound = next((op, b) for target, op, b in TARGETS if name.endswith(target))
        met = "yes" if figures["targets_met"][name] else "NO"
        lines.append(f"{name + ' ' + op + ' ' + _fmt(bound):<56} {_fmt(value):>10}  {met}")
    return "\n".join(lines)


def _machine(m: dict) -> str:
    return (
        f"{m['nproc']} x {m['cpu_model']}, {m['ram_gb']} GB RAM, PostgreSQL {m['postgresql']}, "
        f"Python {m['python']}, load average before {m['load_average']}"
    )


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _int_list(raw: str) -> list[int]:
    return [int(value) for value in raw.split(",") if value.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench state", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--students", type=int, default=STATE_STUDENTS)
    parser.add_argument("--psus", type=int, default=STATE_PSUS)
    parser.add_argument("--workers", type=_int_list, default=[1, 2], help="default 1,2")
    parser.add_argument(
        "--submit-seconds", type=float, default=60.0, help="every request confirmed within this"
    )
    parser.add_argument("--seed", type=int, default=16, help="of the submission order")
    parser.add_argument("--rewrite-passes", type=int, default=1, help="before anything is timed")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds a phase may take at most"
    )
    parser.add_argument(
        "--sample-seconds",
        type=float,
        default=SAMPLE_SECONDS,
        help="how often the workers' connections are counted (default %(default)s)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args(argv)
    if options.sample_seconds <= 0:
        parser.error("--sample-seconds must be more than 0")
    if options.psus < 1 or options.students < options.psus:
        parser.error("--students must be at least --psus, and --psus at least 1")
    return options


def main(argv: list[str] | None = None) -> int:
    """``python -m bench state [options]`` (``bench/__main__.py`` sets Django up first)."""
    options = parse_args(argv)
    logging.getLogger("regeneration").setLevel(logging.WARNING)  # one line per request

    def say(message: str) -> None:
        print(message, flush=True)

    with sigterm_interrupts():
        figures = run(options, say=say)
    print(report(figures))
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
        print(f"Figures written to {options.json}")
    return 0


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt, so that the data is removed then too."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
