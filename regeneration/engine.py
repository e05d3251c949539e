"""The chunk engine: a request's students in chunks of a stable (id) order, each chunk one
transaction.

A chunk locks its row and its students' rows, makes their new credentials (the credential
pipeline below), writes them and the students' credential state with one set-based UPDATE
from a staging table, inserts one outcome row per student (keeping the default it set, for
the handouts, and what the student had before, for an undo), and marks itself done. An
undo's chunks restore what the undone request replaced instead (``regeneration.undo``). A
chunk already done is skipped, so a task delivered again changes no student twice and
finishes the rest. On PostgreSQL several lanes (threads, each with its own connection) claim
chunks at once with SKIP LOCKED.

Lanes share the work of every running request: each chunk a lane claims belongs to the
running request with the fewest students left to change (``chunk_process_fairest``), so a
500-student request confirmed while a 160,000-student one runs is done after a chunk of the
large one, not after all of it.

The request's lifecycle around this (start, finish, fail) is ``regeneration.lifecycle``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from credentials.crypto import decrypt_default_passwords, undecryptable_message
from credentials.recipe import credentials_new
from ncedcloud.staging import StagingTable
from people.models import Student

from .models import RegenerationChunk, RegenerationOutcome, RegenerationRequest
from .selectors import students_of_request
from .undo import undo_chunk

# How often the express lane looks for small requests while it has none.
EXPRESS_POLL_SECONDS = 0.05
STAGE = StagingTable(
    "regeneration_stage",
    (("student_id", "bigint PRIMARY KEY"), ("token", "text NOT NULL"), ("login", "text")),
)
UNDECRYPTABLE_STUDENT = undecryptable_message(consequence="This student was not changed.")
# (outcome column, student column): what a student had before a request, for its undo.
PREVIOUS = (
    ("previous_default_encrypted", "default_password_encrypted"),
    ("previous_default_set_at", "default_password_set_at"),
    ("previous_default_request_number", "default_request_number"),
    ("previous_password", "password"),
    ("previous_must_change", "must_change_password"),
    ("previous_temporary_set_at", "temporary_password_set_at"),
    ("previous_login_source", "login_source"),
    ("previous_login_request_number", "login_request_number"),
    ("previous_login_set_at", "login_set_at"),
)


# Planning -----------------------------------------------------------------------------------


def chunks_plan(request: RegenerationRequest, students) -> list[RegenerationChunk]:
    """The request's chunks: its students' ids read once, in order, with a server-side
    cursor, cut every ``chunk_size_for(request)`` students."""
    size = chunk_size_for(request)
    chunks: list[RegenerationChunk] = []
    first = last = None
    count = 0
    for student_id in (
        students.order_by("id").values_list("id", flat=True).iterator(chunk_size=10_000)
    ):
        if count == 0:
            first = student_id
        last = student_id
        count += 1
        if count == size:
            chunks.append(_chunk(request, len(chunks), first, last, count))
            count = 0
    if count:
        chunks.append(_chunk(request, len(chunks), first, last, count))
    return chunks


def _chunk(request, index, first, last, size) -> RegenerationChunk:
    return RegenerationChunk(
        request=request, index=index, first_student_id=first, last_student_id=last, size=size
    )


def chunk_size_for(request: RegenerationRequest) -> int:
    if hashes_at_request_time(request):
        return settings.REGENERATION_HASHED_CHUNK_SIZE
    return settings.REGENERATION_CHUNK_SIZE


def hashes_at_request_time(request: RegenerationRequest) -> bool:
    """A reset hashed at full strength while it runs: its chunks fan out as tasks."""
    return request.reset_current_passwords and settings.REGENERATION_HASH_AT_REQUEST_TIME


def pending_chunk_ids(*, request_id: int) -> list[int]:
    return list(
        RegenerationChunk.objects.filter(
            request_id=request_id, status=RegenerationChunk.Status.PENDING
        )
        .order_by("index")
        .values_list("pk", flat=True)
    )


# Lanes --------------------------------------------------------------------------------------


def _nothing(*args) -> None:
    return None


def _reraise(request_id: int, error: Exception) -> None:
    raise error


@dataclass(frozen=True)
class LaneHooks:
    """What the request's lifecycle does between a lane's chunks; the engine itself neither
    starts nor finishes requests.

    ``before_claim()`` runs before each claim (the lifecycle starts a request waiting for a
    worker), ``before_express_claim(at_most)`` before each look of the express lane (it
    starts only the waiting requests of at most that many students);
    ``request_drained(request_id)`` after a lane processed what was the last claimable chunk
    of a request (the lifecycle finishes it); ``chunk_failed(request_id, error)`` when a
    chunk raised (the lifecycle fails that request, or re-raises; by default the error
    propagates)."""

    before_claim: Callable[[], object] = _nothing
    request_drained: Callable[[int], object] = _nothing
    chunk_failed: Callable[[int, Exception], object] = _reraise
    # Before each look of the express lane: start the waiting requests of at most this many
    # students.
    before_express_claim: Callable[[int], object] = _nothing


class ChunkFailed(Exception):
    """A chunk of request ``request_id`` raised (the cause); its transaction rolled back."""

    def __init__(self, request_id: int) -> None:
        super().__init__(f"A chunk of request {request_id} failed.")
        self.request_id = request_id


def chunks_run(*, request_id: int, deadline: float, hooks: LaneHooks | None = None) -> bool:
    """Process chunks until the request has none left to claim (True) or the deadline has
    passed (False); each lane does at least one chunk. Lanes take the fairest chunk of any
    running request (``chunk_process_fairest``), so while this request waits its turn they
    work on others'.

    On PostgreSQL, REGENERATION_PARALLEL_CHUNKS lanes run at once, each a thread with its own
    database connection. While one lane waits for PostgreSQL to write its chunk, another
    decrypts, generates and encrypts the next one, so Python and the database work at the
    same time instead of taking turns; claiming chunks with SKIP LOCKED keeps lanes apart
    exactly as it keeps two workers apart. SQLite allows one writer at a time, and inside an
    open transaction (tests) other connections would not see its rows: there one lane runs,
    in this thread.
    """
    hooks = hooks or LaneHooks()
    stop = threading.Event()
    lanes = settings.REGENERATION_PARALLEL_CHUNKS
    if lanes <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return _lane_run(request_id, deadline, stop, hooks)
    express = settings.REGENERATION_EXPRESS_LANE_STUDENTS
    threads = lanes + (1 if express > 0 else 0)
    with ThreadPoolExecutor(threads, thread_name_prefix=f"request-{request_id}") as pool:
        futures = [
            pool.submit(_own_connection, _lane_run, request_id, deadline, stop, hooks)
            for _ in range(lanes)
        ]
        express_lane = (
            pool.submit(_own_connection, _express_lane_run, express, deadline, stop, hooks)
            if express > 0
            else None
        )
        try:
            finished = all([future.result() for future in futures])
        finally:
            stop.set()  # on an error (or a time limit) here, the other lanes stop too
    if express_lane is not None:
        express_lane.result()  # its error, if it raised, is the task's as a lane's would be
    return finished


def _own_connection(run: Callable, *args):
    """``run(*args)`` in a lane's thread, closing the thread's database connection after."""
    try:
        return run(*args)
    finally:
        connections.close_all()


def _serve_fairest(hooks: LaneHooks, *, at_most_left: int | None = None) -> int | None:
    """Claim and process the fairest chunk (``chunk_process_fairest``); a chunk that raised
    goes to ``hooks.chunk_failed``, and a request whose last claimable chunk this was to
    ``hooks.request_drained``. Returns the request served, or None when nothing was left to
    claim."""
    try:
        served = chunk_process_fairest(at_most_left=at_most_left)
    except ChunkFailed as failed:
        hooks.chunk_failed(failed.request_id, failed.__cause__)
        served = failed.request_id
    if served is not None and not chunks_claimable(request_id=served):
        hooks.request_drained(served)
    return served


def _lane_run(request_id: int, deadline: float, stop: threading.Event, hooks) -> bool:
    try:
        while not stop.is_set():
            hooks.before_claim()
            if _serve_fairest(hooks) is None:
                return True  # nothing left to claim, of any request
            if not chunks_claimable(request_id=request_id):
                return True
            if time.monotonic() >= deadline:
                return False
        return False
    except BaseException:
        stop.set()
        raise


def _express_lane_run(at_most: int, deadline: float, stop: threading.Event, hooks) -> None:
    """The express lane: while the task's lanes run, start and serve the requests with at
    most ``at_most`` students left (REGENERATION_EXPRESS_LANE_STUDENTS), looking again every
    EXPRESS_POLL_SECONDS when there are none; it stops with the lanes.

    The lanes reach a chunk boundary only when the chunk in hand is written, so without it a
    charter school's 300 students confirmed while a district runs waited for that chunk
    (about 0.2 s here, three times what the request takes alone) before anything started,
    and its slowdown was that wait. The express lane takes no chunk of a larger request,
    so the lanes keep their throughput.

    While nothing small waits, a look is one query (``small_work_waiting``), not the start
    and the claim: those cost 5 to 7 ms of the process's Python each look (the ORM builds
    them), and at 20 looks a second that took a fifth of a large request's speed
    (``bench_regeneration``'s default only, 10,300 against 13,200 students/s, measured with
    and without the express lane)."""
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            if not small_work_waiting(at_most):
                stop.wait(EXPRESS_POLL_SECONDS)
                continue
            hooks.before_express_claim(at_most)
            if _serve_fairest(hooks, at_most_left=at_most) is None:
                stop.wait(EXPRESS_POLL_SECONDS)
    except BaseException:
        stop.set()
        raise


def small_work_waiting(at_most: int) -> bool:
    """Whether a request of at most ``at_most`` students is queued, or one running has at
    most that many left and a pending chunk: the express lane's look while nothing small
    waits, one query written by hand (no ORM to build it), so that looking costs next to
    nothing.
    It may say yes when the look finds nothing to do (a small request queued behind a
    larger one of its PSU, a chunk another lane holds): the look then does the rest."""
    with connection.cursor() as cursor:
        cursor.execute(
            _small_work_sql(),
            [
                RegenerationRequest.Status.QUEUED,
                at_most,
                RegenerationRequest.Status.RUNNING,
                at_most,
                RegenerationChunk.Status.PENDING,
            ],
        )
        return bool(cursor.fetchone()[0])


def _small_work_sql() -> str:
    qn = connection.ops.quote_name
    requests = qn(RegenerationRequest._meta.db_table)
    chunks = qn(RegenerationChunk._meta.db_table)
    return (
        f"SELECT EXISTS (SELECT 1 FROM {requests} q WHERE q.status = %s AND q.targeted_count <= %s)"
        f" OR EXISTS (SELECT 1 FROM {requests} r WHERE r.status = %s"
        " AND r.targeted_count - r.processed_count - r.failed_count - r.skipped_count <= %s"
        f" AND EXISTS (SELECT 1 FROM {chunks} c WHERE c.request_id = r.id AND c.status = %s))"
    )


# One chunk ----------------------------------------------------------------------------------


def chunk_process_fairest(*, at_most_left: int | None = None) -> int | None:
    """Claim the next chunk, that no other lane or worker holds, of the running request with
    the fewest students left to change (the earliest confirmed among equals), and process
    it. Returns its request's id, or None when no chunk of any running request is left to
    claim; raises ``ChunkFailed`` (from the error) when processing it raised.

    Fewest left first (shortest remaining work first) keeps every small request ahead of
    the large ones: a 500-student request waits for at most the chunks in hand, never for a
    160,000-student one to finish, and a large request alone still gets every lane. Measured
    against "fewest changed so far first" (README, "State day"): that one served the first
    chunks of all new requests in arrival order, so a charter school confirmed late waited
    for the first chunk of every district confirmed before it. Chunks of requests that hash
    at request time are left to their own fanned-out tasks. With ``at_most_left``, only
    requests with at most that many students left are served (the express lane)."""
    request_id = None
    try:
        with transaction.atomic():
            chunk = _fairest_chunks(at_most_left=at_most_left).first()
            if chunk is None:
                return None
            request_id = chunk.request_id
            _process_locked_chunk(chunk)
            return request_id
    except Exception as exc:
        if request_id is None:
            raise
        raise ChunkFailed(request_id) from exc


def _fairest_chunks(*, at_most_left: int | None = None):
    chunks = RegenerationChunk.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        status=RegenerationChunk.Status.PENDING,
        request__status=RegenerationRequest.Status.RUNNING,
    )
    if settings.REGENERATION_HASH_AT_REQUEST_TIME:
        chunks = chunks.exclude(request__reset_current_passwords=True)
    done = F("request__processed_count") + F("request__failed_count") + F("request__skipped_count")
    left = F("request__targeted_count") - done
    if at_most_left is not None:
        chunks = chunks.alias(left=left).filter(left__lte=at_most_left)
    return chunks.annotate(overdue=_first_chunk_overdue()).order_by(
        "overdue", left.asc(), "request__queued_at", "request_id", "index"
    )


def _first_chunk_overdue():
    """0 for a request confirmed more than REGENERATION_FIRST_CHUNK_SECONDS ago that has
    changed nobody yet, 1 otherwise: an overdue request's first chunk goes ahead of the
    fewest-left order. Without it a district confirmed while many smaller requests run waits
    for all of them before its first chunk (measured: README, "State day")."""
    waited = timezone.now() - timedelta(seconds=settings.REGENERATION_FIRST_CHUNK_SECONDS)
    untouched = Q(
        request__processed_count=0,
        request__failed_count=0,
        request__skipped_count=0,
        request__queued_at__lt=waited,
    )
    return Case(When(untouched, then=Value(0)), default=Value(1), output_field=IntegerField())


def chunks_claimable(*, request_id: int) -> bool:
    """The request runs and has a pending chunk (perhaps held by a lane right now)."""
    return RegenerationChunk.objects.filter(
        request_id=request_id,
        status=RegenerationChunk.Status.PENDING,
        request__status=RegenerationRequest.Status.RUNNING,
    ).exists()


def chunk_process_next(*, request_id: int) -> bool:
    """Claim the first pending chunk of this request that no other worker holds and process
    it; False when no chunk is left to claim, or the request no longer runs."""
    with transaction.atomic():
        chunk = (
            RegenerationChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(request_id=request_id, status=RegenerationChunk.Status.PENDING)
            .order_by("index")
            .first()
        )
        if chunk is None:
            return False
        return _process_locked_chunk(chunk)


def chunk_process(*, chunk_id: int) -> bool:
    """Process one chunk, waiting for a worker that holds it; False if it is already done."""
    with transaction.atomic():
        chunk = (
            RegenerationChunk.objects.select_for_update(of=("self",)).filter(pk=chunk_id).first()
        )
        if chunk is None or chunk.status == RegenerationChunk.Status.DONE:
            return False
        return _process_locked_chunk(chunk)


def _process_locked_chunk(chunk: RegenerationChunk) -> bool:
    """Do the chunk's work and mark it done; False, doing nothing, once the request is no
    longer running (cancelled: no chunk starts after that)."""
    request = RegenerationRequest.objects.get(pk=chunk.request_id)
    if request.status != RegenerationRequest.Status.RUNNING:
        return False
    now = timezone.now()
    if request.is_undo:
        changed, failed, skipped = undo_chunk(request, chunk, now=now)
    else:
        changed, failed = _regenerate_chunk(request, chunk, now=now)
        skipped = 0
    RegenerationChunk.objects.filter(pk=chunk.pk).update(
        status=RegenerationChunk.Status.DONE, finished_at=now
    )
    RegenerationRequest.objects.filter(pk=request.pk).update(
        processed_count=F("processed_count") + changed,
        failed_count=F("failed_count") + failed,
        skipped_count=F("skipped_count") + skipped,
        heartbeat_at=now,
    )
    return True


def _regenerate_chunk(request: RegenerationRequest, chunk: RegenerationChunk, *, now):
    """New defaults (and with reset, login credentials) for the chunk's students; returns
    (changed, failed)."""
    rows = list(
        students_of_request(request)
        .filter(id__gte=chunk.first_student_id, id__lte=chunk.last_student_id)
        .order_by("id")
        .select_for_update()
        .values_list("id", "grade", "default_password_encrypted")
    )
    staged, failures = _new_credentials(rows, request=request)
    _write_staged(staged, request=request, chunk=chunk, now=now)
    if failures:
        RegenerationOutcome.objects.bulk_create(
            RegenerationOutcome(
                request=request,
                student_id=student_id,
                status=RegenerationOutcome.Status.FAILED,
                error=UNDECRYPTABLE_STUDENT,
                processed_at=now,
            )
            for student_id in failures
        )
    return len(staged), len(failures)


# The credential pipeline --------------------------------------------------------------------


@sensitive_variables()
def _new_credentials(
    rows, *, request: RegenerationRequest
) -> tuple[list[tuple[int, str, str | None]], list[int]]:
    """New encrypted defaults (and, with reset, login credentials) for the rows, as staged
    rows (student id, token, login); the ids of students whose current default cannot be
    decrypted are returned apart, and those students are left unchanged. The whole chunk is
    decrypted, generated and encrypted in batches: per student that costs about a tenth of
    doing it one by one (``credentials.fernet_batch``, ``credentials.policy``)."""
    decrypted = iter(decrypt_default_passwords([token for _, _, token in rows if token]))
    readable: list[tuple[int, str, str | None]] = []
    failures: list[int] = []
    for student_id, grade, token in rows:
        previous = next(decrypted) if token else None
        if token and previous is None:
            failures.append(student_id)
        else:
            readable.append((student_id, grade, previous))
    new = credentials_new(
        grades=[grade for _, grade, _ in readable],
        previous=[previous for _, _, previous in readable],
        hash_login=hashes_at_request_time(request),
    )
    reset = request.reset_current_passwords
    staged = [
        (student_id, made.default_token, made.login if reset else None)
        for (student_id, _, _), made in zip(readable, new, strict=True)
    ]
    return staged, failures


# The staged write ---------------------------------------------------------------------------


def _write_staged(
    staged: list[tuple], *, request: RegenerationRequest, chunk: RegenerationChunk, now
) -> None:
    """Write a chunk with a constant number of statements: stage the rows (COPY on
    PostgreSQL), then one UPDATE of the students and one INSERT of the outcomes.

    The UPDATE is bounded by the chunk's id range: the staging table has no statistics, and
    without the bound PostgreSQL joins it by hashing a scan of the whole student table, for
    every chunk, so a request's cost grew with the square of its size."""
    if not staged:
        return
    qn = connection.ops.quote_name
    student_table = qn(Student._meta.db_table)
    outcome_table = qn(RegenerationOutcome._meta.db_table)
    at = connection.ops.adapt_datetimefield_value(now)
    reset = request.reset_current_passwords
    must_change = request.force_change_in_effect
    with connection.cursor() as cursor:
        STAGE.fill(cursor, staged)
        assignments = [
            "default_password_encrypted = s.token",
            "default_password_set_at = %s",
            "default_request_number = %s",
        ]
        params: list = [at, request.pk]
        if reset:
            assignments += [
                "password = s.login",
                "must_change_password = %s",
                "temporary_password_set_at = %s",
                "login_source = %s",
                "login_request_number = %s",
                "login_set_at = %s",
            ]
            params += [must_change, at, Student.LoginSource.REQUEST, request.pk, at]
        # The outcome keeps the default it set (encrypted) for the request's handouts, and
        # what the student had before (as it was kept) for an undo: written first, from the
        # students' rows as they still are.
        previous = ", ".join(f"st.{column}" for _, column in PREVIOUS)
        cursor.execute(
            f"INSERT INTO {outcome_table} "
            "(request_id, student_id, status, password_reset, must_change_set, error, "
            f"processed_at, default_password_encrypted, {', '.join(f for f, _ in PREVIOUS)}) "
            f"SELECT %s, s.student_id, %s, %s, %s, '', %s, s.token, {previous} "
            f"FROM {STAGE.name} s JOIN {student_table} st ON st.id = s.student_id "
            "WHERE st.id BETWEEN %s AND %s",
            [
                request.pk,
                RegenerationOutcome.Status.CHANGED,
                reset,
                must_change,
                at,
                chunk.first_student_id,
                chunk.last_student_id,
            ],
        )
        cursor.execute(
            f"UPDATE {student_table} SET {', '.join(assignments)} "
            f"FROM {STAGE.name} s WHERE {student_table}.id = s.student_id "
            f"AND {student_table}.id BETWEEN %s AND %s",
            [*params, chunk.first_student_id, chunk.last_student_id],
        )
