"""Celery tasks: thin, named, keyword-only ids; the work is in ``services``.

A request runs as short task slices: each runs chunks for at most
REGENERATION_TASK_BUDGET_SECONDS, then re-enqueues itself, so no task comes near Redis's
one-hour visibility timeout. Database errors that a retry cures (PostgreSQL restarted, a
dropped connection) are retried with back-off; the chunk in flight rolled back.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import services

RETRY_OPTIONS = {
    "bind": True,
    "autoretry_for": services.TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": False,
    "max_retries": 10,
}


@shared_task(name="regeneration.run_request", **RETRY_OPTIONS)
def task_run_request(self, *, request_id: int) -> None:
    state = services.request_run(
        request_id=request_id, budget_seconds=settings.REGENERATION_TASK_BUDGET_SECONDS
    )
    if state is services.RunState.MORE:
        services.request_dispatch(request_id=request_id)
    elif state is services.RunState.FAN_OUT:
        for chunk_id in services.pending_chunk_ids(request_id=request_id):
            task_run_chunk.apply_async(kwargs={"request_id": request_id, "chunk_id": chunk_id})


@shared_task(name="regeneration.run_chunk", **RETRY_OPTIONS)
def task_run_chunk(self, *, request_id: int, chunk_id: int) -> None:
    try:
        services.chunk_process(chunk_id=chunk_id)
    except services.TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        services.request_fail(request_id=request_id, message=services.describe_failure(exc))
        return
    services.request_finalize(request_id=request_id)


@shared_task(name="regeneration.sweep")
def task_sweep() -> None:
    services.requests_sweep()
