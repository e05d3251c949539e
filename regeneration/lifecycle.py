"""A request's lifecycle: recorded at *Confirm*, dispatched to the task queue, started (its
chunks planned), run by the chunk engine, finished or failed, and its requester notified.
The periodic sweep dispatches again what no worker is known to be running.

Tasks are dispatched by name (``regeneration.tasks`` is a leaf that imports this module, never
the other way round). Tasks carry the request id only.
"""

from __future__ import annotations

import enum
import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from credentials.crypto import DefaultPasswordDecryptionError, decrypt_default_password
from ncedcloud.celery import app as celery_app
from ncedcloud.staging import StagingTable
from people.models import PSU

from . import engine
from .emails import request_notify
from .models import (
    RegenerationChunk,
    RegenerationOutcome,
    RegenerationRequest,
    RequestedStudent,
    UIDListDraft,
)
from .selectors import request_confirmed_with, students_matching, students_of_request
from .undo import undo_refusal

logger = logging.getLogger(__name__)

Status = RegenerationRequest.Status
T = TypeVar("T")
# Errors a retry can cure: the database restarted or the connection dropped mid-chunk. The
# chunk's transaction rolled back, so running it again is safe.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
RUN_REQUEST_TASK = "regeneration.run_request"
RUN_CHUNK_TASK = "regeneration.run_chunk"
# Requests a lane starts before its next chunk, at most: planning is a read of the request's
# student ids, and the lane's own chunk should not wait long behind a burst of confirms.
START_AT_ONCE = 20
START_BUDGET_SECONDS = 1.0
REQUESTED_STAGE = StagingTable(
    "regeneration_requested_stage", (("request_id", "bigint"), ("student_id", "bigint"))
)


class RunState(enum.Enum):
    MORE = "more"  # time budget used up; run again for the rest
    FAN_OUT = "fan_out"  # chunks are to be dispatched as separate tasks
    WAITING = "waiting"  # another request of the same PSU runs first
    FINISHED = "finished"
    GONE = "gone"


class RequestNotConfirmable(Exception):
    """A confirm that must not record a request; the message says why, for the requester."""


class RequestMatchesNobody(RequestNotConfirmable):
    def __init__(self) -> None:
        super().__init__("No student matches this request, so it cannot be confirmed.")


class RequestAlreadyConfirmed(RequestNotConfirmable):
    def __init__(self, request: RegenerationRequest) -> None:
        self.request = request
        super().__init__(f"Request #{request.pk} was already confirmed; nothing new was queued.")


class RequestCountNotTyped(RequestNotConfirmable):
    """A large request is confirmed only with its number of students typed."""

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(
            f"This request changes {count:,} students: type {count} in the box to confirm it."
        )


class RequestNotCancellable(Exception):
    pass


class RequestNotUndoable(RequestNotConfirmable):
    pass


# Recording and dispatching ----------------------------------------------------------------


def regeneration_request_create(
    *,
    requester,
    values: dict,
    confirmation_key: uuid.UUID,
    portal_url: str = "",
    student_ids: list[int] | None = None,
    typed_count: int | None = None,
) -> RegenerationRequest:
    """Record a confirmed request as queued and dispatch it once the row is committed.

    ``values`` are the form's (``selection`` says how it chose its students: by filters, or
    one student or a file of UIDs, whose ``student_ids`` are given). The confirmation key
    makes this idempotent: a second confirm of the same draft (double click, back button,
    resubmit) raises ``RequestAlreadyConfirmed`` with the request already made, also when two
    confirms race (the key is unique). A request matching nobody raises
    ``RequestMatchesNobody``; one of more than REGENERATION_CONFIRM_TYPING_THRESHOLD students
    needs its count typed (``RequestCountNotTyped``). ``portal_url`` is where the requester
    reached the portal: the links of the request's email and cards."""
    _refuse_if_confirmed(confirmation_key)
    psu = PSU.objects.get(code=values["psu_code"])
    selection = values.get("selection", RegenerationRequest.Selection.FILTERS)
    count = _target_count(psu, values, student_ids)
    _refuse_unconfirmable(count, typed_count)
    try:
        with transaction.atomic():
            request = RegenerationRequest.objects.create(
                requester=requester,
                psu=psu,
                selection=selection,
                campus_codes=values.get("campus_codes", []),
                grade_levels=values.get("grade_levels", []),
                uid_file_name=values.get("uid_file_name", "")[:200],
                reset_current_passwords=values["reset_current_passwords"],
                force_password_change=values["force_password_change"],
                comments=values["comments"],
                confirmation_key=confirmation_key,
                portal_url=portal_url,
                targeted_count=count,  # as confirmed; the start counts again
            )
            if student_ids is not None:
                _students_record(request, student_ids)
            transaction.on_commit(partial(request_dispatch, request_id=request.pk))
    except IntegrityError:
        _refuse_if_confirmed(confirmation_key)  # the other confirm won the race
        raise
    logger.info("Request %s queued by %s for PSU %s", request.pk, requester.username, psu.code)
    return request


def _target_count(psu: PSU, values: dict, student_ids: list[int] | None) -> int:
    if student_ids is not None:
        return len(student_ids)
    return students_matching(
        psu=psu, campus_codes=values["campus_codes"], grade_levels=values["grade_levels"]
    ).count()


def _refuse_unconfirmable(count: int, typed_count: int | None) -> None:
    if not count:
        raise RequestMatchesNobody()
    if count > settings.REGENERATION_CONFIRM_TYPING_THRESHOLD and typed_count != count:
        raise RequestCountNotTyped(count)


def _students_record(request: RegenerationRequest, student_ids: list[int]) -> None:
    """The request's students, chosen by UID (a set-based write: a file holds a district)."""
    rows = [(request.pk, student_id) for student_id in student_ids]
    table = RequestedStudent._meta.db_table
    with connection.cursor() as cursor:
        REQUESTED_STAGE.fill(cursor, rows)
        cursor.execute(
            f"INSERT INTO {table} (request_id, student_id) "
            f"SELECT request_id, student_id FROM {REQUESTED_STAGE.name}"
        )


def undo_request_create(
    *, requester, undone: RegenerationRequest, confirmation_key: uuid.UUID, portal_url: str = ""
) -> RegenerationRequest:
    """Record the undo of ``undone`` ("Undo of #N") as a request of its own, queued and
    dispatched like any other; raises ``RequestNotUndoable`` with the reason when it cannot
    be undone (``undo.undo_refusal``)."""
    _refuse_if_confirmed(confirmation_key)
    with transaction.atomic():
        locked = RegenerationRequest.objects.select_for_update().get(pk=undone.pk)
        refusal = undo_refusal(locked, requester)
        if refusal:
            raise RequestNotUndoable(refusal)
        request = RegenerationRequest.objects.create(
            requester=requester,
            psu_id=locked.psu_id,
            selection=RegenerationRequest.Selection.UNDO,
            undo_of=locked,
            reset_current_passwords=locked.reset_current_passwords,
            force_password_change=locked.force_password_change,
            comments=f"Undo of request #{locked.pk}",
            confirmation_key=confirmation_key,
            portal_url=portal_url,
        )
        transaction.on_commit(partial(request_dispatch, request_id=request.pk))
    logger.info("Request %s (undo of %s) queued by %s", request.pk, locked.pk, requester.username)
    return request


def request_cancel(*, request_id: int, by) -> RegenerationRequest:
    """Cancel a queued or running request: no chunk starts after this (each chunk reads the
    status when it starts; a chunk in flight commits whole or rolls back whole, as always);
    the students it changed keep what it gave them, and its handouts work for them. Raises
    ``RequestNotCancellable``."""
    with transaction.atomic():
        request = RegenerationRequest.objects.select_for_update().get(pk=request_id)
        if request.status not in (Status.QUEUED, Status.RUNNING):
            raise RequestNotCancellable(
                f"Request #{request.pk} is {request.get_status_display().lower()}: only a "
                "queued or running request can be cancelled."
            )
        request.status = Status.CANCELLED
        request.finished_at = timezone.now()
        request.cancelled_by = by
        request.save(update_fields=["status", "finished_at", "cancelled_by"])
    _chunks_in_flight_wait(request_id)
    request.refresh_from_db()
    with transaction.atomic():
        _after_finish(request)
    logger.info("Request %s cancelled by %s", request_id, by.username)
    return request


def _chunks_in_flight_wait(request_id: int, *, timeout: float = 60) -> None:
    """Until no chunk of the request is in flight (a chunk holds its row's lock until it
    commits), so that the counts the page and the email give are final. It never waits on a
    lock: it looks at which rows are locked, and looks again."""
    deadline = time.monotonic() + timeout
    pending = RegenerationChunk.objects.filter(
        request_id=request_id, status=RegenerationChunk.Status.PENDING
    )
    while time.monotonic() < deadline:
        with transaction.atomic():
            free = len(pending.select_for_update(skip_locked=True).values_list("pk", flat=True))
            if free == pending.count():
                return
        time.sleep(0.05)


def _refuse_if_confirmed(confirmation_key: uuid.UUID) -> None:
    existing = request_confirmed_with(confirmation_key)
    if existing is not None:
        raise RequestAlreadyConfirmed(existing)


def _task(name: str):
    return celery_app.tasks[name]


def request_dispatch(*, request_id: int) -> bool:
    """Hand the request to the task queue. If the broker cannot be reached the request
    stays queued and the periodic sweep dispatches it later; the caller is never held up."""
    try:
        _task(RUN_REQUEST_TASK).apply_async(kwargs={"request_id": request_id}, retry=False)
    except Exception as exc:  # kombu, redis and socket errors share no base class
        logger.warning(
            "Task queue unreachable for request %s (%s); it stays queued for the sweep.",
            request_id,
            type(exc).__name__,
        )
        return False
    RegenerationRequest.objects.filter(pk=request_id).update(dispatched_at=timezone.now())
    return True


def chunks_dispatch(*, request_id: int) -> None:
    """Fan the request's pending chunks out as tasks, over every worker."""
    for chunk_id in engine.pending_chunk_ids(request_id=request_id):
        _task(RUN_CHUNK_TASK).apply_async(kwargs={"request_id": request_id, "chunk_id": chunk_id})


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
    following = (
        RegenerationRequest.objects.filter(psu_id=psu_id, status=Status.QUEUED)
        .order_by("queued_at", "id")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        request_dispatch(request_id=following)


def kept_credentials_expire(*, now=None) -> None:
    """The hourly clean-up: the passwords kept for handouts, the previous credentials kept
    for undos, and UID-file drafts nobody confirmed."""
    now = now or timezone.now()
    handouts_expire(now=now)
    undo_data_expire(now=now)
    UIDListDraft.objects.filter(created_at__lt=now - timedelta(days=1)).delete()


def undo_data_expire(*, now=None) -> int:
    """Remove the previous credentials kept for the undo of requests that finished more than
    REGENERATION_UNDO_DAYS ago; returns how many requests were emptied."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.REGENERATION_UNDO_DAYS)
    due = RegenerationRequest.objects.filter(
        status__in=RegenerationRequest.FINISHED_STATUSES,
        finished_at__lt=cutoff,
        undo_data_removed_at__isnull=True,
    ).values_list("pk", flat=True)
    emptied = 0
    for request_id in due:
        with transaction.atomic():
            RegenerationOutcome.objects.filter(request_id=request_id).exclude(
                previous_default_encrypted="", previous_password=""
            ).update(previous_default_encrypted="", previous_password="", previous_must_change=None)
            RegenerationRequest.objects.filter(pk=request_id).update(undo_data_removed_at=now)
        emptied += 1
    return emptied


def handouts_expire(*, now=None) -> int:
    """Remove the passwords kept for handouts of the requests that finished more than
    HANDOUT_RETENTION_DAYS ago; returns how many requests were emptied. Each request's
    outcomes are emptied in one statement and the request marked, so its handouts then say
    when and why."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.HANDOUT_RETENTION_DAYS)
    due = RegenerationRequest.objects.filter(
        status__in=RegenerationRequest.FINISHED_STATUSES,
        finished_at__lt=cutoff,
        handout_removed_at__isnull=True,
    ).values_list("pk", flat=True)
    emptied = 0
    for request_id in due:
        with transaction.atomic():
            RegenerationOutcome.objects.filter(request_id=request_id).exclude(
                default_password_encrypted=""
            ).update(default_password_encrypted="")
            RegenerationRequest.objects.filter(pk=request_id).update(handout_removed_at=now)
        logger.info("Request %s: the passwords kept for its handouts were removed", request_id)
        emptied += 1
    return emptied


# Running ------------------------------------------------------------------------------------


def run_or_fail(request_id: int, work: Callable[[], T]) -> T | None:
    """The one policy for a request's work: a transient database error propagates (the task
    retries it; the chunk in flight rolled back), any other error fails the request with a
    readable reason and returns None."""
    try:
        return work()
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        request_fail(request_id=request_id, message=describe_failure(exc))
        return None


def request_run(*, request_id: int, budget_seconds: float) -> RunState:
    """Start the request if it is queued, then process its chunks until none is left
    (finish it) or the time budget is used (the caller runs it again)."""
    state = request_start(request_id=request_id)
    if state is not None:
        return state
    request = RegenerationRequest.objects.only("reset_current_passwords").get(pk=request_id)
    if engine.hashes_at_request_time(request):
        return RunState.FAN_OUT
    deadline = time.monotonic() + budget_seconds
    finished = run_or_fail(
        request_id,
        lambda: engine.chunks_run(request_id=request_id, deadline=deadline, hooks=LANE_HOOKS),
    )
    if finished is None:
        return RunState.FINISHED
    if not finished:
        return RunState.MORE
    request_finalize(request_id=request_id)
    return RunState.FINISHED


def request_run_slice(*, request_id: int) -> RunState:
    """One task's share of a request: run it for REGENERATION_TASK_BUDGET_SECONDS, then hand
    the rest to a new task (so no task nears the broker's visibility timeout), or fan the
    chunks out as tasks when they hash at full strength."""
    state = request_run(
        request_id=request_id, budget_seconds=settings.REGENERATION_TASK_BUDGET_SECONDS
    )
    if state is RunState.MORE:
        request_dispatch(request_id=request_id)
    elif state is RunState.FAN_OUT:
        chunks_dispatch(request_id=request_id)
    return state


def chunk_run(*, request_id: int, chunk_id: int) -> None:
    """One fanned-out chunk, then the request's end if it was the last."""
    if run_or_fail(request_id, lambda: engine.chunk_process(chunk_id=chunk_id)) is not None:
        request_finalize(request_id=request_id)


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
        chunks = engine.chunks_plan(request, students)
        RegenerationChunk.objects.bulk_create(chunks)
        now = timezone.now()
        request.status = Status.RUNNING
        request.started_at = request.heartbeat_at = now
        request.targeted_count = sum(chunk.size for chunk in chunks)
        request.save(update_fields=["status", "started_at", "heartbeat_at", "targeted_count"])
    logger.info("Request %s started: %s students", request_id, request.targeted_count)
    return None


def request_start_waiting(
    *,
    at_most: int = START_AT_ONCE,
    budget_seconds: float = START_BUDGET_SECONDS,
    at_most_students: int | None = None,
) -> int:
    """Start the queued requests that nothing holds up (no earlier request of their PSU is
    queued or running), smallest first (by the count confirmed), ``at_most`` of them and
    for at most ``budget_seconds``; how many it started. With ``at_most_students``, only
    those of at most that many students (the express lane's).

    Lanes call this before each chunk they claim, so a request confirmed while every worker
    is busy starts within a chunk, instead of waiting for its own task's turn in the queue
    behind the slices of every running request, and the fairest chunk is chosen among all
    of them. Smallest first because a start reads every student id of its request: a
    charter school confirmed after several districts then does not wait for their planning.
    Its task, when its turn comes, finds it running (or done) and joins in; the start itself
    is ``request_start``'s, with its PSU lock."""
    deadline = time.monotonic() + budget_seconds
    started = 0
    for waiting in _startable_requests(at_most_students=at_most_students)[:at_most]:
        run_or_fail(waiting, partial(request_start, request_id=waiting))
        started += 1
        if time.monotonic() >= deadline:
            break
    return started


def _startable_requests(*, at_most_students: int | None = None) -> list[int]:
    """The first queued request of every PSU with none running, smallest first; with
    ``at_most_students``, those of at most that many students (a smaller one queued behind
    a larger one of its PSU still waits for it)."""
    running_psus = RegenerationRequest.objects.filter(status=Status.RUNNING).values("psu_id")
    queued = (
        RegenerationRequest.objects.filter(status=Status.QUEUED)
        .exclude(psu_id__in=running_psus)
        .order_by("queued_at", "id")
        .values_list("pk", "psu_id", "targeted_count")
    )
    first_of_psu: dict[int, tuple[int, int]] = {}
    for pk, psu_id, count in queued:
        first_of_psu.setdefault(psu_id, (count, pk))
    return [
        pk
        for count, pk in sorted(first_of_psu.values())
        if at_most_students is None or count <= at_most_students
    ]


def _chunk_failed(request_id: int, error: Exception) -> None:
    """A chunk of ``request_id`` raised: the policy of ``run_or_fail``, for that request
    (not for the request whose task ran the lane)."""

    def reraise() -> None:
        raise error

    run_or_fail(request_id, reraise)


def _earlier_request_pending(request: RegenerationRequest) -> bool:
    others = RegenerationRequest.objects.filter(psu_id=request.psu_id).exclude(pk=request.pk)
    return others.filter(
        Q(status=Status.RUNNING)
        | Q(status=Status.QUEUED, queued_at__lt=request.queued_at)
        | Q(status=Status.QUEUED, queued_at=request.queued_at, pk__lt=request.pk)
    ).exists()


def _check_keys_decrypt(students) -> None:
    """Fail before changing anything when the configured keys cannot read the passwords:
    one student's default (any one that has a default) is decrypted.

    Any, not the first by id: "the first by id" made PostgreSQL walk the primary key from
    the table's start until it reached the PSU, 0.3 s here for a PSU at the end of a state's
    1.5 million students, paid by every start while the lanes wait (``bench state``)."""
    token = next(
        iter(
            students.exclude(default_password_encrypted="")
            .order_by()
            .values_list("default_password_encrypted", flat=True)[:1]
        ),
        None,
    )
    if token:
        decrypt_default_password(token)


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


LANE_HOOKS = engine.LaneHooks(
    before_claim=request_start_waiting,
    before_express_claim=lambda at_most: request_start_waiting(at_most_students=at_most),
    request_drained=lambda request_id: request_finalize(request_id=request_id),
    chunk_failed=_chunk_failed,
)


def describe_failure(exc: BaseException) -> str:
    """A readable, single-line reason: never a row's values (PostgreSQL's DETAIL lines can
    hold them), never a password."""
    if isinstance(exc, DefaultPasswordDecryptionError):
        return str(exc)
    first_line = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"The request stopped on an unexpected error ({type(exc).__name__}: {first_line})."
