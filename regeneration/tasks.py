"""Celery tasks: thin, named, keyword-only ids; the work is in ``lifecycle``.

This module is a leaf: nothing imports it; the lifecycle dispatches these tasks by name. A
request runs as short task slices (``lifecycle.request_run_slice``), so no task comes near
Redis's one-hour visibility timeout. Database errors that a retry cures (PostgreSQL
restarted, a dropped connection) are retried with back-off; the chunk in flight rolled back.
"""

from __future__ import annotations

from celery import shared_task

from . import lifecycle

RETRY_OPTIONS = {
    "bind": True,
    "autoretry_for": lifecycle.TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": False,
    "max_retries": 10,
}


@shared_task(name=lifecycle.RUN_REQUEST_TASK, **RETRY_OPTIONS)
def task_run_request(self, *, request_id: int) -> None:
    lifecycle.request_run_slice(request_id=request_id)


@shared_task(name=lifecycle.RUN_CHUNK_TASK, **RETRY_OPTIONS)
def task_run_chunk(self, *, request_id: int, chunk_id: int) -> None:
    lifecycle.chunk_run(request_id=request_id, chunk_id=chunk_id)


@shared_task(name="regeneration.sweep")
def task_sweep() -> None:
    lifecycle.requests_sweep()


@shared_task(name="regeneration.expire_kept_credentials")
def task_kept_credentials_expire() -> None:
    lifecycle.kept_credentials_expire()
