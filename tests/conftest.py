"""Shared fixtures. The suite runs in two modes:

- embedded (no CELERY_BROKER_URL): SQLite or PostgreSQL, tasks run in process;
- broker (CELERY_BROKER_URL and DATABASE_URL set): a real Celery worker is started as a
  subprocess against Redis and the test database, and tests that confirm requests wait for
  it to finish them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from people.models import PSU, Campus, Student, User
from regeneration.models import RegenerationRequest
from tests.factories import (
    CampusFactory,
    PSUFactory,
    StudentFactory,
    UserFactory,
    help_desk,
    lea_admin,
    school_help_desk,
    support,
)
from tooling.worker import CeleryProcess, database_url

TEST_CHUNK_SIZE = 25
BROKER_MODE = not django_settings.CELERY_TASK_ALWAYS_EAGER
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # A fast preferred hasher keeps staff sign-ins quick; the temporary-password hasher
    # stays last, as in production, so its upgrade path is exercised for real.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "credentials.hashers.EncryptedTemporaryPasswordHasher",
    ]
    settings.REGENERATION_CHUNK_SIZE = TEST_CHUNK_SIZE
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@dataclass
class World:
    """Two districts: 920 (two campuses) and 010 (one campus), and staff of each role: the
    help-desk roles of 920 for the whole PSU and for each of its two campuses."""

    psu920: PSU
    psu010: PSU
    elementary: Campus  # 920304, grades 0 and 5
    high: Campus  # 920364, grades 9 and -9
    campus010: Campus  # 010304
    admin920: User
    admin010: User
    adminmulti: User
    support: User
    teacher: User
    helpdesk920: User  # LEA Student Help Desk of 920
    school920: User  # School Student Help Desk of 920304 (elementary)
    school920high: User  # School Student Help Desk of 920364 (high): another campus of 920

    def students(self, psu: PSU | None = None):
        students = Student.objects.order_by("id")
        return students.filter(psu=psu) if psu else students


@pytest.fixture
def world(db) -> World:
    psu920 = PSUFactory(code="920", name="Wake County Schools")
    psu010 = PSUFactory(code="010", name="Alamance-Burlington Schools")
    psu32b = PSUFactory(code="32B", name="Kestrel Heights Charter")
    elementary = CampusFactory(code="920304", name="Apex Elementary", psu=psu920)
    high = CampusFactory(code="920364", name="Enloe High", psu=psu920)
    campus010 = CampusFactory(code="010304", name="Alexander Wilson Elementary", psu=psu010)
    CampusFactory(code="32B000", name="Kestrel Heights School", psu=psu32b)
    for grade, count in (("0", 4), ("5", 6)):
        StudentFactory.create_batch(count, campus=elementary, grade=grade)
    for grade, count in (("9", 5), ("-9", 2)):
        StudentFactory.create_batch(count, campus=high, grade=grade)
    StudentFactory.create_batch(3, campus=campus010, grade="5")
    return World(
        psu920=psu920,
        psu010=psu010,
        elementary=elementary,
        high=high,
        campus010=campus010,
        admin920=lea_admin(UserFactory(username="admin920"), psu920),
        admin010=lea_admin(UserFactory(username="admin010"), psu010),
        adminmulti=lea_admin(UserFactory(username="adminmulti"), psu010, psu32b),
        support=support(UserFactory(username="support")),
        teacher=UserFactory(username="teacher"),
        helpdesk920=help_desk(UserFactory(username="helpdesk920"), psu920),
        school920=school_help_desk(UserFactory(username="school920"), elementary),
        school920high=school_help_desk(UserFactory(username="school920high"), high),
    )


@pytest.fixture
def admin920_client(client, world):
    client.force_login(world.admin920)
    return client


# The real worker (broker mode) --------------------------------------------------------------


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A Celery worker subprocess on the test database (broker mode), else None."""
    if not BROKER_MODE:
        yield None
        return
    from django.db import connection

    from ncedcloud.celery import app

    app.control.purge()
    worker = CeleryProcess(
        "worker",
        env={
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict),
            "REGENERATION_CHUNK_SIZE": str(TEST_CHUNK_SIZE),
            "REGENERATION_TASK_BUDGET_SECONDS": "1",
        },
        log_path=tmp_path_factory.mktemp("worker") / "worker.log",
        name=f"pytest-{os.getpid()}",
        concurrency=2,
    ).start()
    yield worker
    worker.terminate(timeout=30)


@pytest.fixture
def finish_requests(celery_worker):
    """Wait until a confirmed request is finished: at once in process, or by the worker."""

    def wait(request: RegenerationRequest, timeout: float = 90) -> RegenerationRequest:
        deadline = time.monotonic() + timeout
        while True:
            request.refresh_from_db()
            if request.is_finished or time.monotonic() > deadline:
                return request
            time.sleep(0.1)

    return wait
