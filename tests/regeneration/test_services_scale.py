"""The chunked run of a request, called directly: a chunk costs a fixed number of queries
whatever its size, and two lanes change every student exactly once."""

from __future__ import annotations

import pytest
from django.db import connection

from people.models import Student
from regeneration import services
from regeneration.benchmark import chunk_query_counts
from regeneration.crypto import decrypt_default_password
from regeneration.models import RegenerationOutcome, RegenerationRequest
from tests.factories import RegenerationRequestFactory

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="lanes run in parallel on PostgreSQL only"
)


def queries_per_chunk(world, settings, *, chunk_size: int, reset: bool, force: bool) -> list[int]:
    """Run a request over PSU 920 chunk by chunk, counting each chunk's queries."""
    settings.REGENERATION_CHUNK_SIZE = chunk_size
    request = RegenerationRequestFactory(
        requester=world.admin920,
        psu=world.psu920,
        reset_current_passwords=reset,
        force_password_change=force,
    )
    return chunk_query_counts(request_id=request.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(("reset", "force"), [(False, False), (True, False), (True, True)])
def test_chunk_queries_do_not_grow_with_chunk_size(world, settings, reset, force):
    per_size = {
        size: queries_per_chunk(world, settings, chunk_size=size, reset=reset, force=force)
        for size in (2, 5, 17)
    }

    assert [len(counts) for counts in per_size.values()] == [9, 4, 1]  # 17 students in 920
    assert len({count for counts in per_size.values() for count in counts}) == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_request_run_in_two_lanes_changes_every_student_once(world, settings):
    settings.REGENERATION_CHUNK_SIZE = 2
    settings.REGENERATION_PARALLEL_CHUNKS = 2
    students = Student.objects.filter(psu=world.psu920)
    before = {s.pk: decrypt_default_password(s.default_password_encrypted) for s in students}
    request = RegenerationRequestFactory(
        requester=world.admin920,
        psu=world.psu920,
        reset_current_passwords=True,
        force_password_change=True,
    )

    state = services.request_run(request_id=request.pk, budget_seconds=60)

    request.refresh_from_db()
    assert state is services.RunState.FINISHED
    assert request.status == RegenerationRequest.Status.COMPLETED
    assert (request.targeted_count, request.processed_count, request.reset_count) == (17, 17, 17)
    assert (request.chunk_count, request.chunks_done) == (9, 9)
    outcomes = RegenerationOutcome.objects.filter(request=request)
    assert sorted(outcomes.values_list("student_id", flat=True)) == sorted(before)
    for student in students.all():
        new_default = decrypt_default_password(student.default_password_encrypted)
        assert new_default != before[student.pk]
        assert student.must_change_password
        assert student.check_password(new_default)
