"""What a request does to students, run through the services the task calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core import mail
from django.db import OperationalError
from django.utils import timezone

from people.models import Student
from regeneration import services
from regeneration.crypto import decrypt_default_password
from regeneration.models import RegenerationOutcome, RegenerationRequest
from regeneration.tasks import task_run_request
from tests.factories import RegenerationRequestFactory, StudentFactory

Status = RegenerationRequest.Status


def make_request(world, **options) -> RegenerationRequest:
    return RegenerationRequestFactory(requester=world.admin920, psu=world.psu920, **options)


def run(request: RegenerationRequest) -> RegenerationRequest:
    services.request_run(request_id=request.pk, budget_seconds=60)
    request.refresh_from_db()
    return request


def tokens(students=None) -> dict[int, str]:
    students = Student.objects.all() if students is None else students
    return dict(students.values_list("pk", "default_password_encrypted"))


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
    from regeneration import passwords

    draws = iter(["oldpass42", "oldpass42", "freshpass77"] * 100)
    monkeypatch.setattr(
        passwords.PasswordTier,
        "generate_many",
        lambda self, count: [next(draws) for _ in range(count)],
    )
    student = world.students(world.psu920).first()

    run(make_request(world, campus_codes=[student.campus.code], grade_levels=[student.grade]))

    student.refresh_from_db()
    assert decrypt_default_password(student.default_password_encrypted) == "freshpass77"


@pytest.mark.django_db
def test_statuses_and_timestamps_follow_the_request(world):
    regeneration = make_request(world)
    assert regeneration.status == Status.QUEUED and regeneration.started_at is None

    run(regeneration)

    assert regeneration.status == Status.COMPLETED
    assert regeneration.queued_at <= regeneration.started_at <= regeneration.finished_at
    assert regeneration.chunks_done == regeneration.chunk_count == 1
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
    assert regeneration.chunk_count == 4
    assert regeneration.processed_count == 17
    assert RegenerationOutcome.objects.filter(request=regeneration).count() == 17


@pytest.mark.django_db
def test_a_task_interrupted_half_way_and_run_again_changes_each_student_once(
    world, settings, monkeypatch
):
    settings.REGENERATION_CHUNK_SIZE = 5
    before = tokens()
    regeneration = make_request(world, reset_current_passwords=True, force_password_change=True)
    real_write = services._write_staged
    calls = []

    def write_then_lose_the_database(staged, **kwargs):
        calls.append(len(staged))
        real_write(staged, **kwargs)
        if len(calls) == 3:  # the third chunk has written its students, then the DB goes
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "_write_staged", write_then_lose_the_database)
    with pytest.raises(OperationalError):
        services.request_run(request_id=regeneration.pk, budget_seconds=60)
    regeneration.refresh_from_db()
    after_interruption = tokens()
    changed_first = {pk for pk in before if after_interruption[pk] != before[pk]}
    assert regeneration.status == Status.RUNNING
    assert (regeneration.chunks_done, regeneration.processed_count) == (2, 10)
    assert len(changed_first) == 10  # the third chunk rolled back whole

    monkeypatch.setattr(services, "_write_staged", real_write)
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
def test_a_time_budget_splits_the_work_into_slices_that_resume(world, settings):
    settings.REGENERATION_CHUNK_SIZE = 5
    regeneration = make_request(world)

    first = services.request_run(request_id=regeneration.pk, budget_seconds=0)
    regeneration.refresh_from_db()
    assert first is services.RunState.MORE
    assert regeneration.chunks_done == 1

    assert services.request_run(request_id=regeneration.pk, budget_seconds=60) is (
        services.RunState.FINISHED
    )
    regeneration.refresh_from_db()
    assert regeneration.status == Status.COMPLETED and regeneration.processed_count == 17


@pytest.mark.django_db
def test_requests_of_one_psu_run_one_after_another(world):
    first = make_request(world)
    second = make_request(world, reset_current_passwords=True)
    assert services.request_start(request_id=first.pk) is None  # first is running

    assert services.request_run(request_id=second.pk, budget_seconds=60) is (
        services.RunState.WAITING
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
    services.request_start(request_id=RegenerationRequest.objects.get().pk)
    other = RegenerationRequestFactory(requester=world.admin010, psu=world.psu010)

    assert run(other).status == Status.COMPLETED


@pytest.mark.django_db
def test_wrong_encryption_key_fails_the_request_and_changes_nothing(world, settings):
    before = tokens()
    settings.DEFAULT_PASSWORD_KEYS = [Fernet.generate_key().decode()]

    regeneration = run(make_request(world, reset_current_passwords=True))

    assert regeneration.status == Status.FAILED
    assert regeneration.error_message.startswith(
        "A stored default password could not be decrypted with the keys in DEFAULT_PASSWORD_KEYS"
    )
    assert "gAAAA" not in regeneration.error_message  # no ciphertext
    assert tokens() == before
    assert not RegenerationOutcome.objects.exists()


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
        "The current default password could not be decrypted with DEFAULT_PASSWORD_KEYS; "
        "this student was not changed."
    )
    assert Student.objects.get(pk=broken.pk).default_password_encrypted == (
        broken.default_password_encrypted
    )


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_request_with_a_readable_message(world, monkeypatch):
    def broken_write(staged, **kwargs):
        raise ValueError("disk full\nDETAIL: Failing row contains (gAAAAsecret...)")

    monkeypatch.setattr(services, "_write_staged", broken_write)

    regeneration = run(make_request(world))

    assert regeneration.status == Status.FAILED
    assert regeneration.error_message == (
        "The request stopped on an unexpected error (ValueError: disk full)."
    )


@pytest.mark.django_db
def test_requester_is_emailed_the_outcome_without_any_password(world):
    regeneration = run(make_request(world, reset_current_passwords=True))
    new_defaults = [
        decrypt_default_password(s.default_password_encrypted) for s in world.students(world.psu920)
    ]

    services.request_notify(request_id=regeneration.pk)

    message = mail.outbox[-1]
    assert message.to == ["admin920@example.org"]
    assert message.subject == f"Request #{regeneration.pk} for PSU 920: Completed"
    assert "Default passwords changed: 17" in message.body
    assert f"/requests/{regeneration.pk}/" in message.body
    assert not any(password in message.body for password in new_defaults)


@pytest.mark.django_db
def test_sweep_leaves_a_request_alone_while_its_worker_is_alive(world):
    running = make_request(world)
    services.request_start(request_id=running.pk)
    RegenerationRequest.objects.filter(pk=running.pk).update(dispatched_at=timezone.now())
    fresh = RegenerationRequestFactory(requester=world.admin010, psu=world.psu010)

    assert services.requests_sweep() == []
    assert services.requests_sweep(now=fresh.queued_at + timedelta(seconds=1)) == []
