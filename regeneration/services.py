"""Writes: recording, dispatching, running and sweeping regeneration requests.

A request runs as chunks of students in a stable (id) order. Each chunk is one transaction:
lock the chunk row and the students' rows, write the new encrypted default passwords (and,
with reset, the login credential and must-change flag) with one set-based UPDATE from a
staging table, insert one outcome row per student, mark the chunk done and advance the
request's counters. A chunk already done is skipped, so a task delivered again changes no
student twice and finishes the rest. Tasks carry the request id only.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.mail import send_mail
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from people.models import PSU, Student

from .crypto import (
    DefaultPasswordDecryptionError,
    decrypt_default_password,
    decrypt_default_passwords,
    encrypt_default_passwords,
)
from .hashers import EncryptedTemporaryPasswordHasher
from .models import (
    DefaultPasswordDisclosure,
    RegenerationChunk,
    RegenerationOutcome,
    RegenerationRequest,
)
from .passwords import generate_default_passwords
from .selectors import students_of_request

logger = logging.getLogger(__name__)

Status = RegenerationRequest.Status
STAGE_TABLE = "regeneration_stage"
# Errors a retry can cure: the database restarted or the connection dropped mid-chunk. The
# chunk's transaction rolled back, so running it again is safe.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


class RunState(enum.Enum):
    MORE = "more"  # time budget used up; run again for the rest
    FAN_OUT = "fan_out"  # chunks are to be dispatched as separate tasks
    WAITING = "waiting"  # another request of the same PSU runs first
    FINISHED = "finished"
    GONE = "gone"


@dataclass(frozen=True)
class ChunkResult:
    changed: int
    reset: int
    failed: int


# Recording and dispatching ----------------------------------------------------------------


def regeneration_request_create(
    *, requester, values: dict, confirmation_key: uuid.UUID
) -> tuple[RegenerationRequest, bool]:
    """Record a confirmed request as queued and dispatch it once the row is committed.

    The confirmation key makes this idempotent: a second confirm of the same draft (double
    click, back button, resubmit) returns the request already made. Returns (request, created).
    """
    existing = RegenerationRequest.objects.filter(confirmation_key=confirmation_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            request = RegenerationRequest.objects.create(
                requester=requester,
                psu=PSU.objects.get(code=values["psu_code"]),
                campus_codes=values["campus_codes"],
                grade_levels=values["grade_levels"],
                reset_current_passwords=values["reset_current_passwords"],
                force_password_change=values["force_password_change"],
                comments=values["comments"],
                confirmation_key=confirmation_key,
            )
            logger.info(
                "Request %s queued by %s for PSU %s",
                request.pk,
                requester.username,
                values["psu_code"],
            )
            transaction.on_commit(partial(request_dispatch, request_id=request.pk))
    except IntegrityError:
        return RegenerationRequest.objects.get(confirmation_key=confirmation_key), False
    return request, True


def request_dispatch(*, request_id: int) -> bool:
    """Hand the request to the task queue. If the broker cannot be reached the request
    stays queued and the periodic sweep dispatches it later; the caller is never held up."""
    from .tasks import task_run_request

    try:
        task_run_request.apply_async(kwargs={"request_id": request_id}, retry=False)
    except Exception as exc:  # kombu, redis and socket errors share no base class
        logger.warning(
            "Task queue unreachable for request %s (%s); it stays queued for the sweep.",
            request_id,
            type(exc).__name__,
        )
        return False
    RegenerationRequest.objects.filter(pk=request_id).update(dispatched_at=timezone.now())
    return True


def requests_sweep(*, now=None) -> list[int]:
    """Dispatch again what no worker is known to be running: queued requests never (or long
    ago) dispatched, and running requests whose heartbeat stopped (their worker died, or the
    broker lost the message). Running a request twice is harmless: chunks are claimed."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.REGENERATION_STALE_AFTER_SECONDS)
    not_recently_dispatched = Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale)
    lost = RegenerationRequest.objects.filter(
        (
            Q(
                status=Status.QUEUED,
                dispatched_at__isnull=True,
                queued_at__lt=now - timedelta(seconds=5),
            )
        )
        | (Q(status=Status.QUEUED) & Q(dispatched_at__lt=stale))
        | (Q(status=Status.RUNNING, heartbeat_at__lt=stale) & not_recently_dispatched)
    ).order_by("queued_at", "id")
    dispatched = []
    for request_id in lost.values_list("pk", flat=True):
        logger.info("Sweep dispatches request %s again", request_id)
        if request_dispatch(request_id=request_id):
            dispatched.append(request_id)
    return dispatched


def psu_dispatch_next(*, psu_id: int) -> None:
    """Requests of one PSU run one at a time, oldest first: start the next one."""
    next_id = (
        RegenerationRequest.objects.filter(psu_id=psu_id, status=Status.QUEUED)
        .order_by("queued_at", "id")
        .values_list("pk", flat=True)
        .first()
    )
    if next_id is not None:
        request_dispatch(request_id=next_id)


# Running ------------------------------------------------------------------------------------


def request_run(*, request_id: int, budget_seconds: float) -> RunState:
    """Start the request if it is queued, then process its chunks until none is left
    (finish it) or the time budget is used (the caller runs it again)."""
    state = request_start(request_id=request_id)
    if state is not None:
        return state
    if fans_out(request_id=request_id):
        return RunState.FAN_OUT
    try:
        finished = chunks_run(request_id=request_id, deadline=time.monotonic() + budget_seconds)
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        request_fail(request_id=request_id, message=describe_failure(exc))
        return RunState.FINISHED
    if not finished:
        return RunState.MORE
    request_finalize(request_id=request_id)
    return RunState.FINISHED


def chunks_run(*, request_id: int, deadline: float) -> bool:
    """Process the request's pending chunks until none is left to claim (True) or the
    deadline has passed (False); each lane does at least one chunk.

    On PostgreSQL, REGENERATION_PARALLEL_CHUNKS lanes run at once, each a thread with its own
    database connection. While one lane waits for PostgreSQL to write its chunk, another
    decrypts, generates and encrypts the next one, so Python and the database work at the
    same time instead of taking turns; claiming chunks with SKIP LOCKED keeps lanes apart
    exactly as it keeps two workers apart. SQLite allows one writer at a time, and inside an
    open transaction (tests) other connections would not see its rows: there one lane runs,
    in this thread.
    """
    stop = threading.Event()
    lanes = settings.REGENERATION_PARALLEL_CHUNKS
    if lanes <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return _lane_run(request_id, deadline, stop)
    with ThreadPoolExecutor(lanes, thread_name_prefix=f"request-{request_id}") as pool:
        futures = [pool.submit(_lane_thread, request_id, deadline, stop) for _ in range(lanes)]
        try:
            return all([future.result() for future in futures])
        finally:
            stop.set()  # on an error (or a time limit) here, the other lanes stop too


def _lane_thread(request_id: int, deadline: float, stop: threading.Event) -> bool:
    try:
        return _lane_run(request_id, deadline, stop)
    finally:
        connections.close_all()  # this thread's connection


def _lane_run(request_id: int, deadline: float, stop: threading.Event) -> bool:
    try:
        while not stop.is_set():
            if chunk_process_next(request_id=request_id) is None:
                return True
            if time.monotonic() >= deadline:
                return False
        return False
    except BaseException:
        stop.set()
        raise


def fans_out(*, request_id: int) -> bool:
    """With full-strength hashing at request time, chunks run in parallel on all workers."""
    return (
        settings.REGENERATION_HASH_AT_REQUEST_TIME
        and RegenerationRequest.objects.filter(pk=request_id, reset_current_passwords=True).exists()
    )


def request_start(*, request_id: int) -> RunState | None:
    """Move a queued request to running and plan its chunks; None when it runs (now or
    already), otherwise why it does not."""
    with transaction.atomic():
        request = RegenerationRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            return RunState.GONE
        if request.status == Status.RUNNING:
            return None
        if request.status != Status.QUEUED:
            return RunState.FINISHED
        # One request per PSU at a time: lock the PSU so two starts cannot both see none.
        PSU.objects.select_for_update().filter(pk=request.psu_id).first()
        if _earlier_request_pending(request):
            return RunState.WAITING
        students = students_of_request(request)
        try:
            _check_keys_decrypt(students)
        except DefaultPasswordDecryptionError as exc:
            _mark_failed(request, str(exc))
            return RunState.FINISHED
        chunks = _plan_chunks(request, students)
        RegenerationChunk.objects.bulk_create(chunks)
        now = timezone.now()
        request.status = Status.RUNNING
        request.started_at = request.heartbeat_at = now
        request.targeted_count = sum(chunk.size for chunk in chunks)
        request.chunk_count = len(chunks)
        request.save(
            update_fields=["status", "started_at", "heartbeat_at", "targeted_count", "chunk_count"]
        )
    logger.info("Request %s started: %s students", request_id, request.targeted_count)
    return None


def _earlier_request_pending(request: RegenerationRequest) -> bool:
    others = RegenerationRequest.objects.filter(psu_id=request.psu_id).exclude(pk=request.pk)
    return others.filter(
        Q(status=Status.RUNNING)
        | Q(status=Status.QUEUED, queued_at__lt=request.queued_at)
        | Q(status=Status.QUEUED, queued_at=request.queued_at, pk__lt=request.pk)
    ).exists()


def _check_keys_decrypt(students) -> None:
    """Fail before changing anything when the configured keys cannot read the passwords."""
    token = students.order_by("id").values_list("default_password_encrypted", flat=True).first()
    if token:
        decrypt_default_password(token)


def _plan_chunks(request: RegenerationRequest, students) -> list[RegenerationChunk]:
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
    if request.reset_current_passwords and settings.REGENERATION_HASH_AT_REQUEST_TIME:
        return settings.REGENERATION_HASHED_CHUNK_SIZE
    return settings.REGENERATION_CHUNK_SIZE


def pending_chunk_ids(*, request_id: int) -> list[int]:
    return list(
        RegenerationChunk.objects.filter(
            request_id=request_id, status=RegenerationChunk.Status.PENDING
        )
        .order_by("index")
        .values_list("pk", flat=True)
    )


def chunk_process_next(*, request_id: int) -> ChunkResult | None:
    """Claim the first pending chunk no other worker holds and process it; None when no
    chunk is left to claim."""
    with transaction.atomic():
        chunk = (
            RegenerationChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(request_id=request_id, status=RegenerationChunk.Status.PENDING)
            .order_by("index")
            .first()
        )
        if chunk is None:
            return None
        return _process_locked_chunk(chunk)


def chunk_process(*, chunk_id: int) -> ChunkResult | None:
    """Process one chunk, waiting for a worker that holds it; None if it is already done."""
    with transaction.atomic():
        chunk = (
            RegenerationChunk.objects.select_for_update(of=("self",)).filter(pk=chunk_id).first()
        )
        if chunk is None or chunk.status == RegenerationChunk.Status.DONE:
            return None
        return _process_locked_chunk(chunk)


def _process_locked_chunk(chunk: RegenerationChunk) -> ChunkResult | None:
    request = RegenerationRequest.objects.get(pk=chunk.request_id)
    if request.status != Status.RUNNING:
        return None
    rows = list(
        students_of_request(request)
        .filter(id__gte=chunk.first_student_id, id__lte=chunk.last_student_id)
        .order_by("id")
        .select_for_update()
        .values_list("id", "grade", "default_password_encrypted")
    )
    staged, failures = _new_credentials(rows, reset=request.reset_current_passwords)
    now = timezone.now()
    _write_staged(staged, request=request, chunk=chunk, now=now)
    if failures:
        RegenerationOutcome.objects.bulk_create(
            RegenerationOutcome(
                request=request,
                student_id=student_id,
                status=RegenerationOutcome.Status.FAILED,
                error=error,
                processed_at=now,
            )
            for student_id, error in failures
        )
    RegenerationChunk.objects.filter(pk=chunk.pk).update(
        status=RegenerationChunk.Status.DONE, finished_at=now
    )
    reset = len(staged) if request.reset_current_passwords else 0
    RegenerationRequest.objects.filter(pk=request.pk).update(
        processed_count=F("processed_count") + len(staged),
        reset_count=F("reset_count") + reset,
        failed_count=F("failed_count") + len(failures),
        chunks_done=F("chunks_done") + 1,
        heartbeat_at=now,
    )
    return ChunkResult(changed=len(staged), reset=reset, failed=len(failures))


@sensitive_variables("decrypted", "readable", "previous", "new_passwords", "new_password")
def _new_credentials(rows, *, reset: bool) -> tuple[list[tuple], list[tuple[int, str]]]:
    """New encrypted defaults (and login credentials) for the rows; students whose current
    default cannot be decrypted are left unchanged and reported. The whole chunk is
    decrypted, generated and encrypted in batches: per student that costs about a tenth of
    doing it one by one (see ``crypto._BatchFernet`` and ``passwords._UniformDraw``)."""
    hash_now = reset and settings.REGENERATION_HASH_AT_REQUEST_TIME
    decrypted = decrypt_default_passwords([token for _, _, token in rows if token])
    readable: list[tuple[int, str, str | None]] = []
    failures: list[tuple[int, str]] = []
    position = 0
    for student_id, grade, token in rows:
        previous = None
        if token:
            previous = decrypted[position]
            position += 1
            if previous is None:
                failures.append((student_id, UNDECRYPTABLE_STUDENT))
                continue
        readable.append((student_id, grade, previous))
    new_passwords = generate_default_passwords(
        grades=[grade for _, grade, _ in readable],
        previous=[previous for _, _, previous in readable],
    )
    new_tokens = encrypt_default_passwords(new_passwords)
    staged: list[tuple[int, str, str | None]] = []
    for (student_id, _, _), new_password, new_token in zip(
        readable, new_passwords, new_tokens, strict=True
    ):
        login = None
        if reset:
            login = (
                make_password(new_password)
                if hash_now
                else EncryptedTemporaryPasswordHasher.encode_token(new_token)
            )
        staged.append((student_id, new_token, login))
    return staged, failures


UNDECRYPTABLE_STUDENT = (
    "The current default password could not be decrypted with DEFAULT_PASSWORD_KEYS; "
    "this student was not changed."
)


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
        _stage(cursor, staged)
        assignments = ["default_password_encrypted = s.token", "default_password_set_at = %s"]
        params: list = [at]
        if reset:
            assignments += [
                "password = s.login",
                "must_change_password = %s",
                "temporary_password_set_at = %s",
            ]
            params += [must_change, at]
        cursor.execute(
            f"UPDATE {student_table} SET {', '.join(assignments)} "
            f"FROM {STAGE_TABLE} s WHERE {student_table}.id = s.student_id "
            f"AND {student_table}.id BETWEEN %s AND %s",
            [*params, chunk.first_student_id, chunk.last_student_id],
        )
        cursor.execute(
            f"INSERT INTO {outcome_table} "
            "(request_id, student_id, status, password_reset, must_change_set, error, "
            "processed_at) "
            f"SELECT %s, s.student_id, %s, %s, %s, '', %s FROM {STAGE_TABLE} s",
            [request.pk, RegenerationOutcome.Status.CHANGED, reset, must_change, at],
        )


def _stage(cursor, staged: list[tuple]) -> None:
    """Put the chunk's rows in this session's staging table. Commit empties the table (on
    PostgreSQL), but it is emptied here too: chunks run inside one outer transaction (as in
    tests) would otherwise write the chunk before again."""
    columns = "(student_id, token, login)"
    if connection.vendor == "postgresql":
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} "
            "(student_id bigint PRIMARY KEY, token text NOT NULL, login text) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"DELETE FROM {STAGE_TABLE}")
        copy_sql = f"COPY {STAGE_TABLE} {columns} FROM STDIN"
        with _logged(cursor, copy_sql), cursor.cursor.copy(copy_sql) as copy:
            for row in staged:
                copy.write_row(row)
    else:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} "
            "(student_id integer PRIMARY KEY, token text NOT NULL, login text)"
        )
        cursor.execute(f"DELETE FROM {STAGE_TABLE}")
        cursor.executemany(f"INSERT INTO {STAGE_TABLE} {columns} VALUES (%s, %s, %s)", staged)


def _logged(cursor, sql: str):
    """Let Django's query log (and so query-count tests) see the raw COPY."""
    debug_sql = getattr(cursor, "debug_sql", None)
    return debug_sql(sql) if debug_sql else nullcontext()


# Finishing ----------------------------------------------------------------------------------


def request_finalize(*, request_id: int) -> bool:
    """Mark the request finished once no chunk is pending; notify the requester."""
    with transaction.atomic():
        request = RegenerationRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None or request.status != Status.RUNNING:
            return False
        if request.chunks.filter(status=RegenerationChunk.Status.PENDING).exists():
            return False
        request.status = Status.COMPLETED_WITH_ERRORS if request.failed_count else Status.COMPLETED
        request.finished_at = timezone.now()
        request.save(update_fields=["status", "finished_at"])
        _after_finish(request)
    logger.info(
        "Request %s %s: %s changed, %s failed",
        request_id,
        request.status,
        request.processed_count,
        request.failed_count,
    )
    return True


def request_fail(*, request_id: int, message: str) -> bool:
    with transaction.atomic():
        request = RegenerationRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None or request.is_finished:
            return False
        _mark_failed(request, message)
    logger.error("Request %s failed: %s", request_id, message)
    return True


def _mark_failed(request: RegenerationRequest, message: str) -> None:
    request.status = Status.FAILED
    request.finished_at = timezone.now()
    request.error_message = message
    request.save(update_fields=["status", "finished_at", "error_message"])
    _after_finish(request)


def _after_finish(request: RegenerationRequest) -> None:
    transaction.on_commit(partial(request_notify, request_id=request.pk))
    transaction.on_commit(partial(psu_dispatch_next, psu_id=request.psu_id))


def describe_failure(exc: BaseException) -> str:
    """A readable, single-line reason: never a row's values (PostgreSQL's DETAIL lines can
    hold them), never a password."""
    if isinstance(exc, DefaultPasswordDecryptionError):
        return str(exc)
    first_line = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"The request stopped on an unexpected error ({type(exc).__name__}: {first_line})."


def request_notify(*, request_id: int) -> None:
    """Email the requester that the request finished. Never holds a password."""
    request = RegenerationRequest.objects.select_related("requester", "psu").get(pk=request_id)
    if not request.requester.email:
        return
    subject = f"Request #{request.pk} for PSU {request.psu.code}: {request.get_status_display()}"
    lines = [
        f"Your request to regenerate student default passwords for PSU {request.psu.code} "
        f"is {request.get_status_display().lower()}.",
        "",
        f"Students targeted: {request.targeted_count:,}",
        f"Default passwords changed: {request.processed_count:,}",
        f"Login passwords reset: {request.reset_count:,}",
        f"Failed: {request.failed_count:,}",
    ]
    if request.error_message:
        lines += ["", request.error_message]
    lines += [
        "",
        f"Details: {settings.PORTAL_BASE_URL}{reverse('regeneration:detail', args=[request.pk])}",
    ]
    try:
        send_mail(subject, "\n".join(lines), None, [request.requester.email])
    except Exception as exc:  # the request is done; a mail failure must not undo that
        logger.warning(
            "Could not email request %s's requester (%s)", request_id, type(exc).__name__
        )


# Disclosures -------------------------------------------------------------------------------


def default_password_disclosure_record(
    *,
    actor,
    kind: str,
    psu_id: int,
    student: Student | None = None,
    request: RegenerationRequest | None = None,
    student_count: int = 1,
    scope: str = "",
    ip: str | None = None,
) -> DefaultPasswordDisclosure:
    """Record that ``actor`` was shown default passwords (never the passwords themselves)."""
    disclosure = DefaultPasswordDisclosure.objects.create(
        actor=actor,
        kind=kind,
        psu_id=psu_id,
        student=student,
        request=request,
        student_count=student_count,
        scope=scope[:200],
        ip=ip,
    )
    logger.info(
        "Default passwords shown (%s) to %s: %s student(s), psu_id %s%s",
        kind,
        actor.username,
        student_count,
        psu_id,
        f", request {request.pk}" if request else f", student {student.pk}",
    )
    return disclosure
