"""A request's lifecycle: started, run in slices, one PSU at a time, finished or failed, and
swept up again when its worker is gone."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse
from django.utils import timezone

from credentials.crypto import decrypt_default_password
from people.models import Student
from regeneration import lifecycle
from regeneration.models import RegenerationOutcome, RegenerationRequest
from regeneration.selectors import chunk_progress
from regeneration.tasks import task_run_request
from tests.factories import RegenerationRequestFactory
from tests.regeneration.helpers import make_request, run, tokens, whole_psu_values

Status = RegenerationRequest.Status


@pytest.mark.django_db
def test_statuses_and_timestamps_follow_the_request(world):
    regeneration = make_request(world)
    assert regeneration.status == Status.QUEUED and regeneration.started_at is None

    run(regeneration)

    assert regeneration.status == Status.COMPLETED
    assert regeneration.queued_at <= regeneration.started_at <= regeneration.finished_at
    assert chunk_progress(regeneration) == (1, 1)
    assert regeneration.percent_done == 100


@pytest.mark.django_db
def test_a_task_run_twice_changes_each_student_once(world, settings):
    settings.REGENERATION_CHUNK_SIZE = 5
    regeneration = make_request(world, reset_current_passwords=True)

    task_run_request.apply(kwargs={"request_id": regeneration.pk})
    after_first = tokens()
    task_run_request.apply(kwargs={"request_id": regeneration.pk})

    regeneration.refresh_from_db()
    assert tokens() == after_first
    assert regeneration.status == Status.COMPLETED
    assert chunk_progress(regeneration) == (4, 4)
    assert regeneration.processed_count == 17
    assert RegenerationOutcome.objects.filter(request=regeneration).count() == 17


@pytest.mark.django_db
def test_a_time_budget_splits_the_work_into_slices_that_resume(world, settings):
    settings.REGENERATION_CHUNK_SIZE = 5
    regeneration = make_request(world)

    first = lifecycle.request_run(request_id=regeneration.pk, budget_seconds=0)
    regeneration.refresh_from_db()
    assert first is lifecycle.RunState.MORE
    assert chunk_progress(regeneration)[0] == 1

    assert lifecycle.request_run(request_id=regeneration.pk, budget_seconds=60) is (
        lifecycle.RunState.FINISHED
    )
    regeneration.refresh_from_db()
    assert regeneration.status == Status.COMPLETED and regeneration.processed_count == 17


@pytest.mark.django_db
def test_requests_of_one_psu_run_one_after_another(world):
    first = make_request(world)
    second = make_request(world, reset_current_passwords=True)
    assert lifecycle.request_start(request_id=first.pk) is None  # first is running

    assert lifecycle.request_run(request_id=second.pk, budget_seconds=60) is (
        lifecycle.RunState.WAITING
    )
    second.refresh_from_db()
    assert second.status == Status.QUEUED

    run(first)
    run(second)
    assert (first.status, second.status) == (Status.COMPLETED, Status.COMPLETED)
    assert first.finished_at <= second.started_at
    for student in world.students(world.psu920):
        assert student.check_password(decrypt_default_password(student.default_password_encrypted))


@pytest.mark.django_db
def test_a_request_of_another_psu_is_not_held_up(world):
    make_request(world)
    lifecycle.request_start(request_id=RegenerationRequest.objects.get().pk)
    other = RegenerationRequestFactory(requester=world.admin010, psu=world.psu010)

    assert run(other).status == Status.COMPLETED


@pytest.mark.django_db
def test_wrong_encryption_key_fails_the_request_and_changes_nothing(world, settings):
    before = tokens()
    settings.DEFAULT_PASSWORD_KEYS = [Fernet.generate_key().decode()]

    regeneration = run(make_request(world, reset_current_passwords=True))

    assert regeneration.status == Status.FAILED
    assert regeneration.error_message == (
        "A default password cannot be decrypted with the keys in DEFAULT_PASSWORD_KEYS: the key "
        "that encrypted it is missing or wrong. Nothing was shown or changed. Ask the portal's "
        "operator to restore the key."
    )
    assert "gAAAA" not in regeneration.error_message  # no ciphertext
    assert tokens() == before
    assert not RegenerationOutcome.objects.exists()


@pytest.mark.django_db
def test_wrong_encryption_key_fails_the_request_even_when_its_first_student_has_no_default(
    world, settings
):
    first = Student.objects.filter(psu=world.psu920).order_by("id").first()
    Student.objects.filter(pk=first.pk).update(default_password_encrypted="")
    before = tokens()
    settings.DEFAULT_PASSWORD_KEYS = [Fernet.generate_key().decode()]

    regeneration = run(make_request(world))

    assert regeneration.status == Status.FAILED
    assert "cannot be decrypted with the keys in DEFAULT_PASSWORD_KEYS" in (
        regeneration.error_message
    )
    assert tokens() == before
    assert not RegenerationOutcome.objects.exists()


@pytest.mark.django_db
def test_sweep_leaves_a_request_alone_while_its_worker_is_alive(world):
    running = make_request(world)
    lifecycle.request_start(request_id=running.pk)
    RegenerationRequest.objects.filter(pk=running.pk).update(dispatched_at=timezone.now())
    fresh = RegenerationRequestFactory(requester=world.admin010, psu=world.psu010)

    assert lifecycle.requests_sweep() == []
    assert lifecycle.requests_sweep(now=fresh.queued_at + timedelta(seconds=1)) == []


@pytest.mark.django_db
def test_a_request_confirmed_while_every_worker_is_busy_is_started_and_done_by_their_lanes(
    world, settings
):
    settings.REGENERATION_CHUNK_SIZE = 3  # 010's three students are one chunk
    large = make_request(world)
    lifecycle.request_run(request_id=large.pk, budget_seconds=0)  # one chunk, then more
    small = RegenerationRequestFactory(requester=world.admin010, psu=world.psu010)

    assert lifecycle.request_run(request_id=large.pk, budget_seconds=0) is (lifecycle.RunState.MORE)

    small.refresh_from_db()
    large.refresh_from_db()
    assert small.status == Status.COMPLETED and small.processed_count == 3
    assert large.status == Status.RUNNING and large.processed_count == 3
    assert small.queued_at <= small.started_at <= small.finished_at


@pytest.mark.django_db
def test_the_task_of_a_request_done_by_other_lanes_changes_nobody_again(world, settings):
    settings.REGENERATION_CHUNK_SIZE = 3
    large = make_request(world)
    lifecycle.request_run(request_id=large.pk, budget_seconds=0)
    small = RegenerationRequestFactory(requester=world.admin010, psu=world.psu010)
    lifecycle.request_run(request_id=large.pk, budget_seconds=0)  # its lane does small's chunks
    after_lanes = tokens()

    small.refresh_from_db()
    assert small.status == Status.COMPLETED

    task_run_request.apply(kwargs={"request_id": small.pk})  # small's own task, delivered late

    assert tokens() == after_lanes
    assert RegenerationOutcome.objects.filter(request=small).count() == 3


@pytest.mark.django_db
def test_lanes_start_a_waiting_request_of_a_psu_only_after_the_one_running_there(world, settings):
    settings.REGENERATION_CHUNK_SIZE = 2
    first = make_request(world)
    lifecycle.request_start(request_id=first.pk)
    second = make_request(world, reset_current_passwords=True)
    other = RegenerationRequestFactory(requester=world.admin010, psu=world.psu010)

    lifecycle.request_start_waiting()  # 920 runs: only 010's request may start
    second.refresh_from_db()
    other.refresh_from_db()
    assert (second.status, other.status) == (Status.QUEUED, Status.RUNNING)

    run(other)
    run(first)  # then second starts: by a lane, or dispatched when first finishes
    run(second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Status.COMPLETED, Status.COMPLETED)
    assert first.finished_at <= second.started_at
    for student in world.students(world.psu920):
        assert student.check_password(decrypt_default_password(student.default_password_encrypted))


@pytest.mark.django_db
def test_lanes_start_the_smallest_waiting_request_first(world):
    district = RegenerationRequestFactory(
        requester=world.admin920, psu=world.psu920, targeted_count=17
    )
    charter = RegenerationRequestFactory(
        requester=world.admin010, psu=world.psu010, targeted_count=3
    )

    assert lifecycle.request_start_waiting(at_most=1) == 1

    district.refresh_from_db()
    charter.refresh_from_db()
    assert (charter.status, district.status) == (Status.RUNNING, Status.QUEUED)


@pytest.mark.django_db
def test_a_small_request_behind_a_larger_one_of_its_psu_waits_and_holds_up_no_other_psu(world):
    larger = RegenerationRequestFactory(
        requester=world.admin920, psu=world.psu920, targeted_count=17
    )
    smaller = RegenerationRequestFactory(
        requester=world.admin920, psu=world.psu920, targeted_count=1
    )
    other = RegenerationRequestFactory(requester=world.admin010, psu=world.psu010, targeted_count=3)

    assert lifecycle.request_start_waiting() == 2

    statuses = {
        r.pk: r.status
        for r in RegenerationRequest.objects.filter(pk__in=[larger.pk, smaller.pk, other.pk])
    }
    assert statuses == {
        other.pk: Status.RUNNING,
        larger.pk: Status.RUNNING,
        smaller.pk: Status.QUEUED,
    }


@pytest.mark.django_db
def test_a_queued_request_shows_how_many_students_were_confirmed(world, admin920_client):
    values = whole_psu_values()
    request = lifecycle.regeneration_request_create(
        requester=world.admin920, values=values, confirmation_key=uuid.uuid4()
    )

    page = admin920_client.get(reverse("regeneration:detail", args=[request.pk]))

    assert request.status == Status.QUEUED
    count = world.students(world.psu920).count()
    assert f"0 of {count} students changed" in page.content.decode()


@pytest.mark.django_db
def test_the_express_lane_starts_only_small_requests_and_one_behind_a_larger_of_its_psu_waits(
    world,
):
    district = RegenerationRequestFactory(
        requester=world.admin920, psu=world.psu920, targeted_count=17
    )
    behind = RegenerationRequestFactory(
        requester=world.admin920, psu=world.psu920, targeted_count=1
    )
    charter = RegenerationRequestFactory(
        requester=world.admin010, psu=world.psu010, targeted_count=3
    )

    assert lifecycle.request_start_waiting(at_most_students=3) == 1

    statuses = dict(
        RegenerationRequest.objects.filter(pk__in=[district.pk, behind.pk, charter.pk]).values_list(
            "pk", "status"
        )
    )
    assert statuses == {
        charter.pk: Status.RUNNING,
        district.pk: Status.QUEUED,
        behind.pk: Status.QUEUED,  # small, but its PSU's larger request comes first
    }
