"""The benchmark's measurements (see the README, "Benchmark").

Everything it reports about our code measures the real code: a request runs through
``regeneration.tasks``, ``lifecycle`` and ``engine`` in a fresh subprocess (so the peak memory
is that of the process that ran the task, and nothing else), the pages through Django's test
client against the real views. Only the two reference points are written here: the naive
``save()`` per student and the database's floor (COPY into a temporary table and one
``UPDATE ... FROM`` per chunk, with the encrypted values made before the clock starts).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from statistics import median, quantiles
from time import perf_counter
from unittest import mock

from django.conf import settings
from django.contrib.auth.hashers import get_hashers
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone
from kombu import Exchange, Queue

from credentials.crypto import (
    decrypt_default_password,
    decrypt_default_passwords,
    encrypt_default_password,
)
from credentials.policy import generate_default_password, generate_default_passwords
from people.models import PSU, Student, User
from regeneration import engine, lifecycle
from regeneration.models import RegenerationRequest
from regeneration.selectors import chunk_progress, match_counts
from regeneration.tasks import task_run_request
from tooling.worker import CeleryProcess, database_url

from .data import MARKER, BenchPSU, request_create, tables_settle

FLOOR_STAGE_TABLE = "bench_floor_stage"


def measure_naive(psu: BenchPSU, *, sample: int, skip: int = 0, atomic: bool = False) -> dict:
    """What a first version usually does: each student loaded as a model instance, a new
    password made, encrypted and written with ``save()``, one statement each; in autocommit
    (each save its own transaction, as in a task) or, with ``atomic``, all in one."""
    students = Student.objects.filter(psu_id=psu.psu_id).order_by("id")[skip : skip + sample]
    start = perf_counter()
    done = 0
    with transaction.atomic() if atomic else contextlib.nullcontext():
        for student in students.iterator(chunk_size=500):
            previous = decrypt_default_password(student.default_password_encrypted)
            new_password = generate_default_password(grade=student.grade, previous=previous)
            student.default_password_encrypted = encrypt_default_password(new_password)
            student.default_password_set_at = timezone.now()
            student.save()
            done += 1
    seconds = perf_counter() - start
    return {"students": done, "seconds": seconds, "per_s": done / seconds}


def measure_floor(psu: BenchPSU, *, chunk_size: int, lanes: int = 1) -> dict:
    """The database's own limit for writing N new encrypted values: per chunk, COPY into a
    temporary table and one ``UPDATE ... FROM``, one transaction. The values are made before
    the clock starts, so only the database's work (and the wire) is timed. With ``lanes``,
    that many threads, each with its own connection, take the next chunk as they finish one,
    as our request's lanes do."""
    ids = list(
        Student.objects.filter(psu_id=psu.psu_id).order_by("id").values_list("id", flat=True)
    )
    tokens = [encrypt_default_password(generate_default_password(grade="9")) for _ in ids]
    starts = iter(range(0, len(ids), chunk_size))
    taking = threading.Lock()

    def next_chunk() -> list | None:
        with taking:
            begin = next(starts, None)
        if begin is None:
            return None
        end = begin + chunk_size
        return list(zip(ids[begin:end], tokens[begin:end], strict=True))

    start = perf_counter()
    if lanes <= 1:
        _floor_lane(next_chunk)
    else:
        with ThreadPoolExecutor(lanes) as pool:
            for lane in [pool.submit(_floor_lane_thread, next_chunk) for _ in range(lanes)]:
                lane.result()
    seconds = perf_counter() - start
    return {"students": len(ids), "seconds": seconds, "per_s": len(ids) / seconds}


def _floor_lane_thread(next_chunk) -> None:
    try:
        _floor_lane(next_chunk)
    finally:
        connection.close()  # this thread's


def _floor_lane(next_chunk) -> None:
    student_table = connection.ops.quote_name(Student._meta.db_table)
    while (rows := next_chunk()) is not None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {FLOOR_STAGE_TABLE} "
                "(student_id bigint PRIMARY KEY, token text NOT NULL) ON COMMIT DELETE ROWS"
            )
            with cursor.cursor.copy(f"COPY {FLOOR_STAGE_TABLE} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            # Bounded by the chunk's id range, as our request's UPDATE is: without it
            # PostgreSQL hashes a scan of the whole student table for every chunk.
            cursor.execute(
                f"UPDATE {student_table} SET default_password_encrypted = s.token "
                f"FROM {FLOOR_STAGE_TABLE} s WHERE {student_table}.id = s.student_id "
                f"AND {student_table}.id BETWEEN %s AND %s",
                [rows[0][0], rows[-1][0]],
            )


# Our request, through the real task, in a fresh process ----------------------------------------


def measure_request(
    psu: BenchPSU,
    admin: User,
    *,
    reset: bool,
    force: bool,
    campus_codes: list[str] | None = None,
    student_ids: list[int] | None = None,
    undo_of: RegenerationRequest | None = None,
    children: list[subprocess.Popen],
) -> dict:
    """Run one request (by filters, a list of students, or an undo) in a fresh subprocess
    (``bench_regeneration --child-run-request``) that dispatches it the way *Confirm* does;
    tasks run in that process (eager), so its peak RSS is the peak of the process that ran
    the task."""
    request = request_create(
        psu,
        admin,
        reset=reset,
        force=force,
        campus_codes=campus_codes,
        student_ids=student_ids,
        undo_of=undo_of,
    )
    result = run_child("--child-run-request", request.pk, children=children)
    if result["status"] != RegenerationRequest.Status.COMPLETED:
        raise RuntimeError(f"The benchmark request ended {result['status']}: {result}")
    return {**result, "request_id": request.pk}


def run_child(option: str, value: int, *, children: list, extra: int | None = None) -> dict:
    """``manage.py bench_regeneration <option> <value>`` in a fresh process (tasks in process,
    no broker); its figures come back as JSON."""
    with tempfile.TemporaryDirectory() as directory:
        result_path = Path(directory) / "result.json"
        child = subprocess.Popen(
            [
                sys.executable,
                str(Path(settings.BASE_DIR) / "manage.py"),
                "bench_regeneration",
                option,
                str(value),
                *(["--child-extra", str(extra)] if extra is not None else []),
                "--child-result",
                str(result_path),
            ],
            env=child_environment(eager=True),
        )
        children.append(child)
        status = child.wait()
        children.remove(child)
        if status != 0 or not result_path.exists():
            raise RuntimeError(f"The benchmark subprocess failed (exit status {status}).")
        return json.loads(result_path.read_text())


# UID files and single-user requests -------------------------------------------------------------


def measure_uid_file(psu: BenchPSU, *, children: list, share: float = 1.0) -> dict:
    """Checking a UID file of (a share of) the PSU's students, as the *File Upload* form
    does, in a fresh process: seconds and that process's peak memory."""
    return run_child("--child-uid-file", round(share * 1000), children=children, extra=psu.psu_id)


def child_uid_file(*, psu_id: int, permille: int) -> dict:
    """In the subprocess: the file (every student number of the PSU, or a share of them,
    one a line, with a byte-order mark and CRLF) read and checked. The file is written to
    disk first, as Django spools an upload of this size, so that the process's memory
    before the check holds no copy of the numbers."""
    from django.core.files.uploadedfile import UploadedFile

    from regeneration.uid_file import uid_file_check, uid_file_read

    settings.DEBUG = False
    students = Student.objects.filter(psu_id=psu_id)
    count = max(1, students.count() * permille // 1000)
    numbers = students.order_by("id").values_list("student_number", flat=True)[:count]
    with tempfile.TemporaryFile() as spooled:
        spooled.write("\ufeff".encode())
        for n, number in enumerate(numbers.iterator(chunk_size=5000)):
            spooled.write(("\r\n" if n else "").encode() + number.encode())
        size = spooled.tell()
        spooled.seek(0)
        upload = UploadedFile(spooled, name="uids.txt", content_type="text/plain", size=size)
        psu = PSU.objects.get(pk=psu_id)
        rss_before = peak_rss_mb()
        start = perf_counter()
        check = uid_file_check(uid_file_read(upload), psu=psu)
        seconds = perf_counter() - start
    return {
        "lines": count,
        "students": len(check.student_ids),
        "bad_lines": len(check.bad_lines),
        "seconds": seconds,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_single_user(psu: BenchPSU, admin: User, *, requests: int, children: list) -> dict:
    """Single-user requests, each from *Confirm* (recorded and dispatched as the service
    does it) to *Completed* on a real Celery worker process: p50, p95 over ``requests``."""
    queue = f"{MARKER}-single-{os.getpid()}"
    worker = _worker_start(queue, 0, children, hashing=False)
    ids = student_ids_sample(psu, requests)
    seconds = []
    try:
        for student_id in ids:
            start = perf_counter()
            request = request_create(psu, admin, reset=True, student_ids=[student_id])
            task_run_request.apply_async(kwargs={"request_id": request.pk}, queue=queue)
            request = _wait_finished(request, timeout=60)
            seconds.append(perf_counter() - start)
            if request.status != RegenerationRequest.Status.COMPLETED:
                raise RuntimeError(f"A single-user request ended {request.status}.")
    finally:
        celery_process_stop(worker, children)
        broker_queue_remove(queue)
    return {
        "single_user_requests": len(seconds),
        "single_user_p50_seconds": median(seconds),
        "single_user_p95_seconds": p95(seconds),
    }


def student_ids_sample(psu: BenchPSU, count: int) -> list[int]:
    ids = Student.objects.filter(psu_id=psu.psu_id).order_by("id").values_list("id", flat=True)
    step = max(1, psu.students // count)
    return list(ids[::step][:count])


# Handouts and the People filter ----------------------------------------------------------------


@contextmanager
def hashes_counted() -> Iterator[list[str]]:
    """Count every password hash made or checked (each configured hasher's encode and
    verify) while the block runs: the handout and the People filter must make none."""
    calls: list[str] = []
    patches = []
    for hasher in get_hashers():
        for method in ("encode", "verify"):
            real = getattr(type(hasher), method)

            def counted(self, *args, _real=real, _name=f"{hasher.algorithm}.{method}", **kw):
                calls.append(_name)
                return _real(self, *args, **kw)

            patches.append(mock.patch.object(type(hasher), method, counted))
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield calls


def measure_handout_csv(request_id: int, *, children: list) -> dict:
    """The request's CSV handout through the real view, in a fresh process: seconds from the
    GET to the last byte, that process's peak memory, and the hashes made (none)."""
    return run_child("--child-handout-csv", request_id, children=children)


def child_handout_csv(*, request_id: int) -> dict:
    """In the subprocess: download the CSV as its requester does, reading every byte."""
    settings.DEBUG = False
    request = RegenerationRequest.objects.select_related("requester").get(pk=request_id)
    client = Client(HTTP_HOST=_allowed_host())
    client.force_login(request.requester)
    rss_before = peak_rss_mb()
    with hashes_counted() as hashes:
        start = perf_counter()
        response = client.get(reverse("regeneration:handout_csv", args=[request_id]))
        size = rows = 0
        for part in response.streaming_content:
            size += len(part)
            rows += part.count(b"\n")
        seconds = perf_counter() - start
    return {
        "status": response.status_code,
        "rows": rows - 1,
        "bytes": size,
        "seconds": seconds,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "hashes": len(hashes),
    }


def measure_people_filter(psu: BenchPSU, admin: User, *, repeats: int, warmup: int = 3) -> dict:
    """People filtered by "Signed in since the last reset", yes and no, page 1, through the
    real view, with 1 student in 100 signed in since the reset (the rest not)."""
    Student.objects.filter(psu_id=psu.psu_id).update(temporary_password_set_at=timezone.now())
    signed_in = Student.objects.filter(psu_id=psu.psu_id, id__in=_every_hundredth(psu))
    signed_in.update(temporary_password_set_at=None)
    client = Client(HTTP_HOST=_allowed_host())
    client.force_login(admin)
    timings: dict[str, list[float]] = {"yes": [], "no": []}
    with hashes_counted() as hashes:
        for round_ in range(warmup + repeats):
            for answer in timings:
                response, ms = _timed(client.get, reverse("people:list"), {"signed_in": answer})
                if response.status_code != 200:
                    raise RuntimeError(f"People answered {response.status_code}.")
                if round_ >= warmup:
                    timings[answer].append(ms)
    return {
        "people_filter_students": psu.students,
        "people_signed_in_yes_p95_ms": p95(timings["yes"]),
        "people_signed_in_no_p95_ms": p95(timings["no"]),
        "people_signed_in_filter_p95_ms": max(p95(timings["yes"]), p95(timings["no"])),
        "people_filter_hashes": len(hashes),
    }


def _every_hundredth(psu: BenchPSU):
    ids = Student.objects.filter(psu_id=psu.psu_id).order_by("id").values_list("id", flat=True)
    return list(ids)[::100]


def child_run_request(*, request_id: int) -> dict:
    """In the subprocess: dispatch the request as *Confirm*'s on-commit hook does; with no
    broker configured the task and every slice it re-enqueues run right here.

    The clock starts once the process is warm, as a long-lived worker is: the Celery app
    finalised, the database connected, Django's list of 20,000 common passwords and the
    encryption keys loaded. A fresh process pays about half a second for these, once. DEBUG
    goes off, as in production: with it Django keeps the last 9,000 queries per connection,
    memory that grows with the request."""
    settings.DEBUG = False
    task_run_request.app.finalize()
    connection.ensure_connection()
    generate_default_passwords(grades=["0"], previous=[None])
    decrypt_default_passwords([encrypt_default_password("warm-up")])
    rss_before = peak_rss_mb()
    start = perf_counter()
    lifecycle.request_dispatch(request_id=request_id)
    seconds = perf_counter() - start
    request = RegenerationRequest.objects.get(pk=request_id)
    return {
        "status": request.status,
        "students": request.processed_count,
        "failed": request.failed_count,
        "chunks": chunk_progress(request)[1],
        "seconds": seconds,
        "per_s": request.processed_count / seconds,
        "skipped": request.skipped_count,
        "handled_per_s": (request.processed_count + request.skipped_count + request.failed_count)
        / seconds,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux, VmHWM: ``getrusage``'s ru_maxrss
    carries the parent's resident size over fork and exec, so a fresh child would report
    the benchmark's own peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child_environment(*, eager: bool, **extra: str) -> dict[str, str]:
    """The environment of a subprocess: this database, this chunk size; no broker (tasks
    run in process) when ``eager``."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "REGENERATION_CHUNK_SIZE": str(settings.REGENERATION_CHUNK_SIZE),
        "REGENERATION_HASHED_CHUNK_SIZE": str(settings.REGENERATION_HASHED_CHUNK_SIZE),
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "ERROR",  # keep the benchmark's own output readable
        **extra,
    }
    if eager:
        env.pop("CELERY_BROKER_URL", None)
    else:
        env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    return env


# Queries per chunk, and throughput per chunk size ----------------------------------------------


def measure_chunk_sizes(
    psu: BenchPSU, admin: User, *, sizes: list[int], campus_codes: list[str]
) -> list[dict]:
    """For each chunk size, run a default-only request over ``campus_codes`` chunk by chunk
    through the services, counting every query each chunk's transaction makes (the COPY
    included) and timing the whole."""
    results = []
    for size in sizes:
        tables_settle()
        request = request_create(psu, admin, campus_codes=campus_codes)
        with override_settings(REGENERATION_CHUNK_SIZE=size):
            start = perf_counter()
            counts = chunk_query_counts(request_id=request.pk)
            seconds = perf_counter() - start
        request.refresh_from_db()
        results.append(
            {
                "chunk_size": size,
                "chunks": len(counts),
                "queries_per_chunk_min": min(counts),
                "queries_per_chunk_max": max(counts),
                "students": request.processed_count,
                "per_s": request.processed_count / seconds,
            }
        )
    return results


# The pages --------------------------------------------------------------------------------------


def measure_pages(psu: BenchPSU, admin: User, *, repeats: int, warmup: int = 3) -> dict:
    """*Request* (the form's POST), the confirm page (GET, with its counts) and *Confirm*
    (POST: records the request and dispatches it on commit) through the test client, and the
    confirm page's count query (``match_counts``) on its own; all for the whole PSU."""
    client = Client(HTTP_HOST=_allowed_host())
    client.force_login(admin)
    form = {"psu_code": psu.code, "campus_codes": "", "grade_levels": "", "comments": MARKER}
    timings: dict[str, list[float]] = {"request": [], "confirm_page": [], "confirm": []}
    psu_row = PSU.objects.get(pk=psu.psu_id)
    with dispatch_held_back() as dispatch:
        for round_ in range(warmup + repeats):
            measured = round_ >= warmup
            response, ms = _timed(client.post, reverse("regeneration:new"), form)
            _expect_redirect(response, "/confirm/")
            confirm_url = response["Location"]
            page, page_ms = _timed(client.get, confirm_url)
            if page.status_code != 200:
                raise RuntimeError(f"The confirm page answered {page.status_code}.")
            response, confirm_ms = _timed(
                client.post, confirm_url, {"confirm_count": str(psu.students)}
            )
            _expect_redirect(response, "/requests/")
            RegenerationRequest.objects.filter(psu_id=psu.psu_id, comments=MARKER).delete()
            if measured:
                timings["request"].append(ms)
                timings["confirm_page"].append(page_ms)
                timings["confirm"].append(confirm_ms)
    client.logout()
    counts = []
    for round_ in range(warmup + repeats):
        _, ms = _timed(match_counts, psu=psu_row, campus_codes=[], grade_levels=[])
        if round_ >= warmup:
            counts.append(ms)
    figures = {"dispatch": dispatch}
    for name, samples in (*timings.items(), ("count", counts)):
        figures[f"{name}_p50_ms"] = median(samples)
        figures[f"{name}_p95_ms"] = p95(samples)
    return figures


@contextmanager
def dispatch_held_back() -> Iterator[str]:
    """Keep *Confirm* from running the request it records. With a broker the real publish
    happens, into a throw-away queue that no worker reads and that is deleted afterwards;
    without one (tasks would run in process, inline) the publish is replaced by a no-op."""
    real_apply_async = task_run_request.apply_async
    if settings.CELERY_TASK_ALWAYS_EAGER:
        with mock.patch.object(task_run_request, "apply_async", return_value=None):
            yield "no broker: task_run_request.apply_async patched to a no-op"
        return
    sink = f"{MARKER}-sink-{os.getpid()}"

    def publish_to_sink(*args, **kwargs):
        return real_apply_async(*args, **{**kwargs, "queue": sink})

    try:
        with mock.patch.object(task_run_request, "apply_async", side_effect=publish_to_sink):
            yield f"real publish to the broker, into the unread queue {sink!r} (deleted after)"
    finally:
        broker_queue_remove(sink)


def broker_queue_remove(name: str) -> None:
    """Delete a queue the benchmark used, its messages and the bindings kombu keeps in Redis.
    kombu deletes only the bindings its channel knows of, so the queue is declared first."""
    with task_run_request.app.connection_for_write() as conn:
        queue = Queue(name, Exchange(name), routing_key=name)(conn.default_channel)
        queue.declare()
        queue.delete()


def _allowed_host() -> str:
    for host in settings.ALLOWED_HOSTS:
        if host not in ("*", "") and not host.startswith("["):
            return host.lstrip(".")
    return "localhost"


def _timed(function, *args, **kwargs):
    start = perf_counter()
    result = function(*args, **kwargs)
    return result, (perf_counter() - start) * 1000


def _expect_redirect(response, fragment: str) -> None:
    if response.status_code != 302 or fragment not in response["Location"]:
        raise RuntimeError(
            f"Expected a redirect to {fragment}, got {response.status_code} "
            f"{response.get('Location', '')}"
        )


def p95(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0]
    return quantiles(samples, n=20, method="inclusive")[18]


# Full-strength hashing at request time: 1 worker against 2 -------------------------------------


def measure_hashed_workers(
    psu: BenchPSU, admin: User, *, worker_counts: list[int], children: list[subprocess.Popen]
) -> list[dict]:
    """With REGENERATION_HASH_AT_REQUEST_TIME=True, a reset hashes every login password at
    full strength and its chunks fan out as tasks; run it on real Celery worker subprocesses
    (one process each) against the broker, on a queue of their own."""
    queue = f"{MARKER}-{os.getpid()}"
    results = []
    for count in worker_counts:
        workers = [_worker_start(queue, index, children) for index in range(count)]
        try:
            request = request_create(psu, admin, reset=True)
            start = perf_counter()
            task_run_request.apply_async(kwargs={"request_id": request.pk}, queue=queue)
            request = _wait_finished(request, timeout=max(120, psu.students * 2))
            seconds = perf_counter() - start
        finally:
            for worker in workers:
                celery_process_stop(worker, children)
            broker_queue_remove(queue)
        if request.status != RegenerationRequest.Status.COMPLETED:
            raise RuntimeError(f"The hashed request ended {request.status}.")
        results.append(
            {
                "workers": count,
                "students": request.processed_count,
                "chunks": chunk_progress(request)[1],
                "seconds": seconds,
                "per_s": request.processed_count / seconds,
            }
        )
    return results


def chunk_query_counts(*, request_id: int) -> list[int]:
    """Run a queued request chunk by chunk in this thread, counting every query of each
    chunk's transaction (the COPY included: ``ncedcloud.staging`` logs it)."""
    lifecycle.request_start(request_id=request_id)
    counts = []
    while True:
        with CaptureQueriesContext(connection) as queries:
            processed = engine.chunk_process_next(request_id=request_id)
        if not processed:
            break
        counts.append(len(queries))
    lifecycle.request_finalize(request_id=request_id)
    return counts


def _worker_start(queue: str, index: int, children: list, *, hashing: bool = True) -> CeleryProcess:
    return celery_process_start(
        "worker",
        queue=queue,
        name=f"{queue}-{index}",
        children=children,
        REGENERATION_HASH_AT_REQUEST_TIME=str(hashing),
    )


def celery_process_start(
    kind: str, *, queue: str, name: str, children: list, wait: bool = True, **extra_env: str
) -> CeleryProcess:
    """A real Celery worker (or beat) on this database and broker, reading (or sending to)
    ``queue`` only, logging to a temporary file; remembered in ``children`` so that it is
    stopped whatever happens. Without ``wait``, call its ``wait_ready()``."""
    log_fd, log_name = tempfile.mkstemp(prefix=f"{name}-", suffix=".log")
    os.close(log_fd)
    process = CeleryProcess(
        kind,
        env=child_environment(eager=False, CELERY_TASK_DEFAULT_QUEUE=queue, **extra_env),
        log_path=Path(log_name),
        name=name,
        queue=queue,
    )
    children.append(process)
    return process.start(wait=wait)


def celery_process_stop(worker: CeleryProcess, children: list) -> None:
    worker.terminate(timeout=30)
    children.remove(worker)
    worker.log_path.unlink(missing_ok=True)
    for schedule in worker.log_path.parent.glob(f"{worker.log_path.stem}.schedule*"):
        schedule.unlink(missing_ok=True)  # beat's


def stop_process(process) -> None:
    """A benchmark child (a request subprocess or a worker), stopped warm, then killed."""
    if isinstance(process, CeleryProcess):
        process.terminate(timeout=30)
        return
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_finished(request: RegenerationRequest, *, timeout: float) -> RegenerationRequest:
    deadline = time.monotonic() + timeout
    while True:
        request.refresh_from_db()
        if request.is_finished:
            return request
        if time.monotonic() > deadline:
            raise RuntimeError(f"Request {request.pk} did not finish within {timeout:.0f} s.")
        time.sleep(0.05)


# The machine ------------------------------------------------------------------------------------


def machine_info() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "ram_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "postgresql": server_version,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
