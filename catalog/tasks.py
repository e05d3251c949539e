"""Celery tasks of the roles: thin and named; the work is in ``services``.

This module is a leaf, as ``regeneration.tasks`` is: nothing imports it but the app's
``ready()`` (to register the task in every process) and the tests; Celery beat runs it by
name (``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="catalog.expire_role_grants")
def task_role_grants_expire() -> None:
    services.role_grants_expire()
