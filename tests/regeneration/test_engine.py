"""The chunk engine: what a request does to each student, a chunk at a time; a chunk costs a
fixed number of queries whatever its size, and two lanes change every student exactly once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext

from bench.measure import chunk_query_counts
from credentials.crypto import decrypt_default_password
from people.models import Student
from regeneration import engine, lifecycle
from regeneration.models import RegenerationOutcome, RegenerationRequest
from regeneration.selectors import chunk_progress
from tests.factories import RegenerationRequestFactory, StudentFactory
from tests.regeneration.helpers import make_request, run, tokens

Status = RegenerationRequest.Status


on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="lanes run in parallel on PostgreSQL only"
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reset", "force"), [(False, False), (False, True), (True, False), (True, True)]
)
def test_each_combination_of_the_checkboxes_has_its_effect_on_students(world, reset, force):
    old_default = "oldpass42"  # every factory student's default and login password
    other_psu = tokens(world.students(world.psu010))
    regeneration = make_request(world, reset_current_passwords=reset, force_password_change=force)

    run(regeneration)

    assert regeneration.status == Status.COMPLETED
    assert regeneration.processed_count == regeneration.targeted_count == 17
    assert regeneration.reset_count == (17 if reset else 0)
    for student in world.students(world.psu920):
        new_default = decrypt_default_password(student.default_password_encrypted)
        assert new_default != old_default
        assert student.must_change_password is (reset and force)
        assert (student.temporary_password_set_at is not None) is reset
        if reset:
            assert not student.check_password(old_default)
            assert student.check_password(new_default)
        else:
            assert not student.check_password(new_default)
            assert student.check_password(old_default)
    assert tokens(world.students(world.psu010)) == other_psu
    outcome_flags = set(
        RegenerationOutcome.objects.filter(request=regeneration).values_list(
            "status", "password_reset", "must_change_set"
        )
    )
    assert outcome_flags == {("changed", reset, reset and force)}


@pytest.mark.django_db
def test_only_students_of_the_chosen_campuses_and_grades_are_changed(world):
    before = tokens()
    regeneration = make_request(world, campus_codes=["920364"], grade_levels=["-9"])

    run(regeneration)

    changed = {pk for pk, token in tokens().items() if token != before[pk]}
    expected = set(
        Student.objects.filter(campus=world.high, grade="-9").values_list("pk", flat=True)
    )
    assert changed == expected and len(expected) == 2
    assert regeneration.targeted_count == 2


@pytest.mark.django_db
def test_inactive_students_are_not_targeted(world):
    gone = world.students(world.psu920).first()
    Student.objects.filter(pk=gone.pk).update(is_active=False)

    regeneration = run(make_request(world))

    assert regeneration.targeted_count == 16
    assert tokens(Student.objects.filter(pk=gone.pk)) == {gone.pk: gone.default_password_encrypted}


@pytest.mark.django_db
def test_new_default_differs_from_the_previous_one_even_when_the_policy_repeats(world, monkeypatch):
    from credentials import policy

    draws = iter(["oldpass42", "oldpass42", "freshpass77"] * 100)
    monkeypatch.setattr(
        policy.PasswordTier,
        "generate_many",
        lambda self, count: [next(draws) for _ in range(count)],
    )
    student = world.students(world.psu920).first()

    run(make_request(world, campus_codes=[student.campus.code], grade_levels=[student.grade]))

    student.refresh_from_db()
    assert decrypt_default_password(student.default_password_encrypted) == "freshpass77"


@pytest.mark.django_db
def test_a_task_interrupted_half_way_and_run_again_changes_each_student_once(
    world, settings, monkeypatch
):
    settings.REGENERATION_CHUNK_SIZE = 5
    before = tokens()
    regeneration = make_request(world, reset_current_passwords=True, force_password_change=True)
    real_write = engine._write_staged
    calls = []

    def write_then_lose_the_database(staged, **kwargs):
        calls.append(len(staged))
        real_write(staged, **kwargs)
        if len(calls) == 3:  # the third chunk has written its students, then the DB goes
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(engine, "_write_staged", write_then_lose_the_database)
    with pytest.raises(OperationalError):
        lifecycle.request_run(request_id=regeneration.pk, budget_seconds=60)
    regeneration.refresh_from_db()
    after_interruption = tokens()
    changed_first = {pk for pk in before if after_interruption[pk] != before[pk]}
    assert regeneration.status == Status.RUNNING
    assert (chunk_progress(regeneration)[0], regeneration.processed_count) == (2, 10)
    assert len(changed_first) == 10  # the third chunk rolled back whole

    monkeypatch.setattr(engine, "_write_staged", real_write)
    run(regeneration)

    final = tokens()
    assert regeneration.status == Status.COMPLETED
    assert regeneration.processed_count == 17
    assert all(final[pk] == after_interruption[pk] for pk in changed_first)
    assert all(final[pk] != before[pk] for pk in tokens(world.students(world.psu920)))
    outcome_counts = RegenerationOutcome.objects.filter(request=regeneration).values_list(
        "student_id", flat=True
    )
    assert sorted(outcome_counts) == sorted(tokens(world.students(world.psu920)))


@pytest.mark.django_db
def test_a_student_whose_default_cannot_be_decrypted_is_reported_and_left_alone(world, settings):
    foreign = Fernet(Fernet.generate_key())
    broken = StudentFactory(
        campus=world.elementary,
        grade="5",
        default_password_encrypted=foreign.encrypt(b"whatever").decode(),
    )

    regeneration = run(make_request(world))

    assert regeneration.status == Status.COMPLETED_WITH_ERRORS
    assert (regeneration.processed_count, regeneration.failed_count) == (17, 1)
    outcome = RegenerationOutcome.objects.get(request=regeneration, student=broken)
    assert outcome.status == "failed"
    assert outcome.error == (
        "A default password cannot be decrypted with the keys in DEFAULT_PASSWORD_KEYS: the key "
        "that encrypted it is missing or wrong. This student was not changed. Ask the portal's "
        "operator to restore the key."
    )
    assert Student.objects.get(pk=broken.pk).default_password_encrypted == (
        broken.default_password_encrypted
    )


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_request_with_a_readable_message(world, monkeypatch):
    def broken_write(staged, **kwargs):
        raise ValueError("disk full\nDETAIL: Failing row contains (gAAAAsecret...)")

    monkeypatch.setattr(engine, "_write_staged", broken_write)

    regeneration = run(make_request(world))

    assert regeneration.status == Status.FAILED
    assert regeneration.error_message == (
        "The request stopped on an unexpected error (ValueError: disk full)."
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

    state = lifecycle.request_run(request_id=request.pk, budget_seconds=60)

    request.refresh_from_db()
    assert state is lifecycle.RunState.FINISHED
    assert request.status == RegenerationRequest.Status.COMPLETED
    assert (request.targeted_count, request.processed_count, request.reset_count) == (17, 17, 17)
    assert chunk_progress(request) == (9, 9)
    outcomes = RegenerationOutcome.objects.filter(request=request)
    assert sorted(outcomes.values_list("student_id", flat=True)) == sorted(before)
    for student in students.all():
        new_default = decrypt_default_password(student.default_password_encrypted)
        assert new_default != before[student.pk]
        assert student.must_change_password
        assert student.check_password(new_default)


# Sharing the lanes between running requests ---------------------------------------------------


def started(world, psu, **options) -> RegenerationRequest:
    requester = world.admin920 if psu == world.psu920 else world.admin010
    request = RegenerationRequestFactory(requester=requester, psu=psu, **options)
    lifecycle.request_start(request_id=request.pk)
    return request


@pytest.mark.django_db
def test_the_next_chunk_goes_to_the_request_with_the_fewest_students_left(world, settings):
    settings.REGENERATION_CHUNK_SIZE = 2
    large = started(world, world.psu920)  # 17 students, confirmed first
    small = started(world, world.psu010)  # 3 students

    served = [engine.chunk_process_fairest() for _ in range(3)]

    assert served == [small.pk, small.pk, large.pk]  # 010's two chunks before 920's first
    small.refresh_from_db()
    large.refresh_from_db()
    assert (small.processed_count, large.processed_count) == (3, 2)


@pytest.mark.django_db
def test_among_requests_with_as_many_students_left_the_earlier_confirmed_goes_first(
    world, settings
):
    settings.REGENERATION_CHUNK_SIZE = 2
    StudentFactory.create_batch(14, campus=world.campus010, grade="5")  # 010: 17 students too
    earlier = started(world, world.psu920)
    later = started(world, world.psu010)

    # Once it has started, the earlier one has fewer left: it keeps the lanes until done.
    assert [engine.chunk_process_fairest() for _ in range(10)] == [earlier.pk] * 9 + [later.pk]


@pytest.mark.django_db
def test_no_chunk_is_claimed_of_a_request_that_does_not_run(world, settings):
    settings.REGENERATION_CHUNK_SIZE = 2
    failed = started(world, world.psu920)
    lifecycle.request_fail(request_id=failed.pk, message="stopped")

    assert engine.chunk_process_fairest() is None
    assert not RegenerationOutcome.objects.exists()


@pytest.mark.django_db
def test_chunks_of_a_request_hashed_at_request_time_are_left_to_their_own_tasks(world, settings):
    settings.REGENERATION_HASH_AT_REQUEST_TIME = True
    started(world, world.psu920, reset_current_passwords=True)
    default_only = started(world, world.psu010)

    assert engine.chunk_process_fairest() == default_only.pk
    assert engine.chunk_process_fairest() is None


@pytest.mark.django_db
def test_a_failing_chunk_fails_its_own_request_not_the_one_whose_task_ran_it(
    world, settings, monkeypatch
):
    settings.REGENERATION_CHUNK_SIZE = 2
    large = started(world, world.psu920)
    small = started(world, world.psu010)
    real_write = engine._write_staged

    def write_failing_for_010(staged, *, request, **kwargs):
        if request.pk == small.pk:
            raise ValueError("disk full")
        return real_write(staged, request=request, **kwargs)

    monkeypatch.setattr(engine, "_write_staged", write_failing_for_010)

    assert run(large).status == Status.COMPLETED
    small.refresh_from_db()
    assert small.status == Status.FAILED
    assert (
        small.error_message == "The request stopped on an unexpected error (ValueError: disk full)."
    )
    assert not RegenerationOutcome.objects.filter(request=small).exists()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_lanes_of_one_task_finish_every_running_request_changing_each_student_once(world, settings):
    settings.REGENERATION_CHUNK_SIZE = 2
    settings.REGENERATION_PARALLEL_CHUNKS = 2
    before = tokens()
    large = started(world, world.psu920, reset_current_passwords=True)
    small = RegenerationRequestFactory(requester=world.admin010, psu=world.psu010)  # queued

    state = lifecycle.request_run(request_id=large.pk, budget_seconds=60)

    assert state is lifecycle.RunState.FINISHED
    large.refresh_from_db()
    small.refresh_from_db()
    assert (large.status, small.status) == (Status.COMPLETED, Status.COMPLETED)
    assert (large.processed_count, small.processed_count) == (17, 3)
    assert small.finished_at < large.finished_at
    assert RegenerationOutcome.objects.count() == 20
    after = tokens()
    assert all(after[pk] != before[pk] for pk in before)
    for student in world.students(world.psu920):
        assert student.check_password(decrypt_default_password(student.default_password_encrypted))


@pytest.mark.django_db
def test_a_request_that_waited_too_long_for_its_first_chunk_goes_ahead_of_smaller_ones(
    world, settings
):
    settings.REGENERATION_CHUNK_SIZE = 2
    settings.REGENERATION_FIRST_CHUNK_SECONDS = 5
    large = started(world, world.psu920)  # 17 students, confirmed 6 s ago, none changed yet
    RegenerationRequest.objects.filter(pk=large.pk).update(
        queued_at=large.queued_at - timedelta(seconds=6)
    )
    small = started(world, world.psu010)  # 3 students, just confirmed

    served = [engine.chunk_process_fairest() for _ in range(4)]

    # The overdue district gets one chunk, then fewest left first again.
    assert served == [large.pk, small.pk, small.pk, large.pk]


@pytest.mark.django_db
def test_the_express_lane_serves_only_requests_with_few_students_left(world, settings):
    settings.REGENERATION_CHUNK_SIZE = 2
    large = started(world, world.psu920)  # 17 students
    small = started(world, world.psu010)  # 3 students

    served = [engine.chunk_process_fairest(at_most_left=3) for _ in range(3)]

    assert served == [small.pk, small.pk, None]
    large.refresh_from_db()
    assert large.processed_count == 0
    assert not RegenerationOutcome.objects.filter(request=large).exists()


@pytest.mark.django_db
def test_small_work_is_waiting_while_a_small_request_is_queued_or_has_a_chunk_left(world, settings):
    settings.REGENERATION_CHUNK_SIZE = 2
    large = started(world, world.psu920)  # 17 students left
    assert not engine.small_work_waiting(3)

    queued = RegenerationRequestFactory(
        requester=world.admin010, psu=world.psu010, targeted_count=3
    )
    assert engine.small_work_waiting(3)
    assert not engine.small_work_waiting(2)  # it counts 3

    lifecycle.request_start(request_id=queued.pk)  # running, 3 left in two chunks
    assert engine.small_work_waiting(3)
    assert engine.chunk_process_fairest(at_most_left=3) == queued.pk  # 1 left
    assert engine.small_work_waiting(1)
    assert engine.chunk_process_fairest(at_most_left=3) == queued.pk  # none left
    assert not engine.small_work_waiting(3)
    assert engine.small_work_waiting(17)  # the large one counts once it is that small
    RegenerationRequest.objects.filter(pk=large.pk).update(status=Status.CANCELLED)
    assert not engine.small_work_waiting(17)


@pytest.mark.django_db
def test_the_express_lane_with_nothing_small_to_do_looks_with_one_query_and_claims_nothing(
    world, settings
):
    settings.REGENERATION_CHUNK_SIZE = 2
    large = started(world, world.psu920)
    hooks = engine.LaneHooks(
        before_express_claim=lambda at_most: lifecycle.request_start_waiting(
            at_most_students=at_most
        )
    )

    with CaptureQueriesContext(connection) as captured:
        engine._express_lane_run(3, time.monotonic() + 0.3, threading.Event(), hooks)

    assert len(captured) >= 3  # it looked every EXPRESS_POLL_SECONDS
    assert {query["sql"] for query in captured} == {captured[0]["sql"]}
    large.refresh_from_db()
    assert large.processed_count == 0


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_small_request_confirmed_while_every_lane_holds_a_district_chunk_is_done_at_once(
    world, settings, monkeypatch
):
    settings.REGENERATION_CHUNK_SIZE = 2
    settings.REGENERATION_PARALLEL_CHUNKS = 2
    settings.REGENERATION_EXPRESS_LANE_STUDENTS = 3
    district = started(world, world.psu920)
    in_hand = threading.Semaphore(0)
    release = threading.Event()
    real_chunk = engine._regenerate_chunk

    def slow_district_chunk(request, chunk, *, now):
        if request.pk == district.pk and not release.is_set():
            in_hand.release()
            release.wait(timeout=30)
        return real_chunk(request, chunk, now=now)

    monkeypatch.setattr(engine, "_regenerate_chunk", slow_district_chunk)

    def task():
        try:
            lifecycle.request_run(request_id=district.pk, budget_seconds=60)
        finally:
            connections.close_all()

    runner = threading.Thread(target=task)
    runner.start()
    try:
        assert in_hand.acquire(timeout=10) and in_hand.acquire(timeout=10)  # both lanes busy
        charter = RegenerationRequestFactory(
            requester=world.admin010, psu=world.psu010, targeted_count=3
        )  # confirmed now
        deadline = time.monotonic() + 10
        while charter.status != Status.COMPLETED and time.monotonic() < deadline:
            time.sleep(0.05)
            charter.refresh_from_db()
        district.refresh_from_db()
        assert (charter.status, charter.processed_count) == (Status.COMPLETED, 3)
        assert district.processed_count == 0  # its chunks are still in the lanes' hands
    finally:
        release.set()
        runner.join(timeout=60)
    district.refresh_from_db()
    assert (district.status, district.processed_count) == (Status.COMPLETED, 17)
    assert RegenerationOutcome.objects.count() == 20


def _student_updates() -> tuple[int, int]:
    """(rows updated, of them heap-only) in the student table, in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated(%s::regclass), "
            "pg_stat_get_xact_tuples_hot_updated(%s::regclass)",
            [Student._meta.db_table] * 2,
        )
        return cursor.fetchone()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="heap-only updates are PostgreSQL's")
@pytest.mark.django_db
def test_a_default_only_request_rewrites_its_students_without_touching_their_indexes(world):
    """Every student's new row version stays on its page (a heap-only update) because the
    table leaves room (people migration 0010) and the request changes no indexed column:
    fails if either is lost, and the UPDATE then writes all 13 indexes for every student."""
    request = make_request(world)
    students = world.students(world.psu920).count()
    updated, hot = _student_updates()

    assert run(request).processed_count == students

    updated_after, hot_after = _student_updates()
    assert updated_after - updated == students
    assert hot_after - hot == students
