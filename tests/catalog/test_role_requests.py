"""Role requests, service by service: every transition, the two-person rule, duplicates,
withdrawal, expiry by the sweep, and the emails each sends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from catalog.models import Role, RoleAssignment, RoleRequest
from catalog.selectors import approvers_of, role_requests_awaiting
from catalog.services import (
    RoleRequestRefused,
    role_grant_revoke,
    role_grants_expire,
    role_request_approve,
    role_request_create,
    role_request_deny,
    role_request_withdraw,
)
from catalog.tasks import task_role_grants_expire
from people.models import PSU, User
from tests.factories import PSUFactory, UserFactory, lea_admin

Status = RoleRequest.Status


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def request_for(user, psu, role=Role.LEA_ADMIN, **options):
    return role_request_create(user=user, role=role, psu=psu, reason="Covering term 2", **options)


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)  # role properties are cached per instance


# Requested -> Granted, Denied, Withdrawn ---------------------------------------------------------


@pytest.mark.django_db
def test_a_request_waits_and_grants_nothing_until_approved(world):
    role_request = request_for(world.teacher, world.psu920)

    assert role_request.status == Status.REQUESTED
    assert not fresh(world.teacher).is_lea_admin
    assert list(role_requests_awaiting(world.admin920)) == [role_request]
    assert list(role_requests_awaiting(world.admin010)) == []  # another PSU's administrator


@pytest.mark.django_db
def test_approval_grants_the_role_with_its_end_date_and_records_who_and_when(world):
    ends = timezone.localdate() + timedelta(days=30)
    role_request = request_for(world.teacher, world.psu920, ends_on=ends)

    role_request_approve(role_request=role_request, by=world.admin920, comment="Welcome")

    role_request.refresh_from_db()
    assert role_request.status == Status.GRANTED
    assert role_request.decided_by == world.admin920
    assert role_request.decided_at is not None
    assert role_request.decision_comment == "Welcome"
    assignment = RoleAssignment.objects.get(role_request=role_request)
    assert (assignment.user, assignment.role, assignment.psu) == (
        world.teacher,
        Role.LEA_ADMIN,
        world.psu920,
    )
    assert assignment.ends_on == ends and assignment.granted_by == world.admin920
    assert fresh(world.teacher).administered_psu_codes == ["920"]


@pytest.mark.django_db
def test_a_school_help_desk_grant_covers_exactly_its_campuses(world):
    role_request = request_for(
        world.teacher, world.psu920, role=Role.SCHOOL_HELP_DESK, campuses=[world.high]
    )

    role_request_approve(role_request=role_request, by=world.admin920)

    teacher = fresh(world.teacher)
    assert teacher.help_desk_campus_ids == [world.high.pk]
    assert teacher.help_desk_psu_ids == [] and not teacher.is_lea_admin
    assert teacher.is_help_desk


@pytest.mark.django_db
def test_denial_grants_nothing_and_records_the_comment(world):
    role_request = request_for(world.teacher, world.psu920)

    role_request_deny(role_request=role_request, by=world.admin920, comment="Ask your principal")

    role_request.refresh_from_db()
    assert role_request.status == Status.DENIED
    assert role_request.decision_comment == "Ask your principal"
    assert not RoleAssignment.objects.filter(user=world.teacher).exists()


@pytest.mark.django_db
def test_the_requester_withdraws_a_pending_request_and_it_no_longer_waits(world):
    role_request = request_for(world.teacher, world.psu920)

    role_request_withdraw(role_request=role_request, by=world.teacher)

    role_request.refresh_from_db()
    assert role_request.status == Status.WITHDRAWN
    assert role_request.ended_by == world.teacher
    assert list(role_requests_awaiting(world.admin920)) == []
    with pytest.raises(RoleRequestRefused, match="it is withdrawn"):
        role_request_approve(role_request=role_request, by=world.admin920)


@pytest.mark.django_db
def test_only_the_requester_withdraws_and_only_while_it_waits(world):
    role_request = request_for(world.teacher, world.psu920)
    with pytest.raises(RoleRequestRefused, match="Only the person who made"):
        role_request_withdraw(role_request=role_request, by=world.admin920)

    role_request_approve(role_request=role_request, by=world.admin920)
    with pytest.raises(RoleRequestRefused, match="cannot be withdrawn: it is granted"):
        role_request_withdraw(role_request=role_request, by=world.teacher)


@pytest.mark.django_db
def test_a_decided_request_cannot_be_decided_again(world):
    role_request = request_for(world.teacher, world.psu920)
    role_request_deny(role_request=role_request, by=world.admin920, comment="No")
    other = lea_admin_of_920("second920")

    with pytest.raises(RoleRequestRefused, match="it is denied"):
        role_request_approve(role_request=role_request, by=other)

    assert not RoleAssignment.objects.filter(user=world.teacher).exists()


def lea_admin_of_920(username: str) -> User:
    return lea_admin(UserFactory(username=username), PSU.objects.get(code="920"))


@pytest.mark.django_db
def test_approving_a_role_granted_meanwhile_in_admin_is_refused(world):
    role_request = request_for(world.teacher, world.psu920)
    lea_admin(world.teacher, world.psu920)

    with pytest.raises(RoleRequestRefused, match="teacher already holds this role for PSU 920"):
        role_request_approve(role_request=role_request, by=world.admin920)

    role_request.refresh_from_db()
    assert role_request.status == Status.REQUESTED


# The two-person rule -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_nobody_approves_their_own_request_not_even_a_superuser(world, root):
    own = request_for(world.admin920, world.psu010)  # admin920 asks for another PSU
    root_own = request_for(root, world.psu920)

    with pytest.raises(RoleRequestRefused, match="Nobody approves their own"):
        role_request_approve(role_request=root_own, by=root)
    with pytest.raises(RoleRequestRefused, match="Nobody decides on their own"):
        role_request_deny(role_request=root_own, by=root, comment="x")

    assert root_own not in role_requests_awaiting(root)
    assert own in role_requests_awaiting(root)
    root_own.refresh_from_db()
    assert root_own.status == Status.REQUESTED


@pytest.mark.django_db
def test_an_lea_administrator_asking_for_their_own_psus_help_desk_role_needs_another(world):
    role_request = request_for(world.admin920, world.psu920, role=Role.LEA_HELP_DESK)

    with pytest.raises(RoleRequestRefused):
        role_request_approve(role_request=role_request, by=world.admin920)
    second = lea_admin_of_920("second920")
    role_request_approve(role_request=role_request, by=second)

    assert role_request.status == Status.GRANTED


@pytest.mark.django_db
def test_an_administrator_of_another_psu_cannot_decide(world):
    role_request = request_for(world.teacher, world.psu920)

    with pytest.raises(RoleRequestRefused, match="approved by you"):
        role_request_approve(role_request=role_request, by=world.admin010)
    with pytest.raises(RoleRequestRefused, match="denied by you"):
        role_request_deny(role_request=role_request, by=world.helpdesk920, comment="x")


@pytest.mark.django_db
def test_a_psu_without_an_lea_administrator_falls_to_superusers(world, root):
    lonely = PSUFactory(code="777", name="No Admin Schools")
    role_request = request_for(world.teacher, lonely)

    assert approvers_of(role_request) == [root]
    assert role_request in role_requests_awaiting(root)
    role_request_approve(role_request=role_request, by=root)
    assert fresh(world.teacher).administered_psu_codes == ["777"]


@pytest.mark.django_db
def test_approvers_are_the_psus_lea_administrators_in_force_not_the_requester(world, root):
    role_request = request_for(world.admin920, world.psu920, role=Role.LEA_HELP_DESK)
    second = lea_admin_of_920("second920")

    assert approvers_of(role_request) == [second]
    RoleAssignment.objects.filter(user=second).update(
        ends_on=timezone.localdate() - timedelta(days=1)
    )
    assert approvers_of(role_request) == [root]  # the only other one is past its end date


# Duplicates --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_second_request_for_a_pending_role_is_refused_with_a_clear_message(world):
    first = request_for(world.teacher, world.psu920)

    with pytest.raises(RoleRequestRefused) as refused:
        request_for(world.teacher, world.psu920)

    assert str(refused.value) == (
        f"You have already requested LEA Administrator for PSU 920 (role request #{first.pk}, "
        "waiting for approval); a second request is not needed."
    )
    assert RoleRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_request_for_a_role_already_held_is_refused(world):
    with pytest.raises(RoleRequestRefused, match="You already hold LEA Administrator for PSU 920"):
        request_for(world.admin920, world.psu920)


@pytest.mark.django_db
def test_another_role_or_psu_is_no_duplicate_and_a_denied_role_may_be_asked_again(world):
    first = request_for(world.teacher, world.psu920)
    request_for(world.teacher, world.psu010)
    request_for(world.teacher, world.psu920, role=Role.LEA_HELP_DESK)
    role_request_deny(role_request=first, by=world.admin920, comment="Not yet")

    again = request_for(world.teacher, world.psu920)

    assert again.status == Status.REQUESTED
    assert RoleRequest.objects.filter(user=world.teacher).count() == 4


# Revoked, Expired --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_revoking_ends_the_role_now_and_records_who_and_why(world):
    role_request = request_for(world.teacher, world.psu920)
    role_request_approve(role_request=role_request, by=world.admin920)

    role_grant_revoke(role_request=role_request, by=world.admin920, comment="Left the district")

    role_request.refresh_from_db()
    assert role_request.status == Status.REVOKED
    assert (role_request.ended_by, role_request.end_comment) == (
        world.admin920,
        "Left the district",
    )
    assert not fresh(world.teacher).is_lea_admin
    assert not RoleAssignment.objects.filter(user=world.teacher).exists()


@pytest.mark.django_db
def test_only_another_lea_administrator_of_the_psu_or_a_superuser_revokes(world, root):
    role_request = request_for(world.teacher, world.psu920)
    role_request_approve(role_request=role_request, by=world.admin920)

    with pytest.raises(RoleRequestRefused):
        role_grant_revoke(role_request=role_request, by=world.admin010)
    with pytest.raises(RoleRequestRefused, match="Another person must revoke"):
        role_grant_revoke(role_request=role_request, by=fresh(world.teacher))
    role_grant_revoke(role_request=role_request, by=root)

    assert role_request.status == Status.REVOKED


@pytest.mark.django_db
def test_a_grant_past_its_end_date_is_not_in_force_even_before_the_sweep(world):
    role_request = request_for(world.teacher, world.psu920, ends_on=timezone.localdate())
    role_request_approve(role_request=role_request, by=world.admin920)
    assert fresh(world.teacher).is_lea_admin  # in force through its end date

    RoleAssignment.objects.filter(user=world.teacher).update(
        ends_on=timezone.localdate() - timedelta(days=1)
    )

    assert not fresh(world.teacher).is_lea_admin


@pytest.mark.django_db
def test_the_sweep_expires_grants_past_their_end_date_only_and_emails_the_holder(
    world, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    ending = request_for(world.teacher, world.psu920, ends_on=today)
    lasting = request_for(world.teacher, world.psu010, ends_on=today + timedelta(days=1))
    open_ended = request_for(world.teacher, world.psu920, role=Role.LEA_HELP_DESK)
    for role_request in (ending, open_ended):
        role_request_approve(role_request=role_request, by=world.admin920)
    role_request_approve(role_request=lasting, by=world.admin010)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        expired = role_grants_expire(today=today + timedelta(days=1))

    assert expired == 1
    for role_request in (ending, lasting, open_ended):
        role_request.refresh_from_db()
    assert ending.status == Status.EXPIRED and ending.ended_by is None
    assert (lasting.status, open_ended.status) == (Status.GRANTED, Status.GRANTED)
    assert not RoleAssignment.objects.filter(role_request=ending).exists()
    assert [m.to for m in mail.outbox] == [[world.teacher.email]]
    assert mail.outbox[0].subject == (
        f"Role request #{ending.pk}: LEA Administrator of PSU 920 expired"
    )
    assert "The role ended on" in mail.outbox[0].body
    assert role_grants_expire(today=today + timedelta(days=1)) == 0  # nothing twice


@pytest.mark.django_db
def test_the_hourly_task_runs_the_sweep(world):
    role_request = request_for(world.teacher, world.psu920, ends_on=timezone.localdate())
    role_request_approve(role_request=role_request, by=world.admin920)
    RoleRequest.objects.filter(pk=role_request.pk).update(
        ends_on=timezone.localdate() - timedelta(days=1)
    )

    task_role_grants_expire.apply()

    role_request.refresh_from_db()
    assert role_request.status == Status.EXPIRED


def test_the_sweep_is_scheduled_hourly_beside_the_regeneration_sweeps(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["expire-role-grants"]

    assert schedule == {"task": "catalog.expire_role_grants", "schedule": 3600.0}


# Emails ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_approvers_are_emailed_when_a_request_waits_for_them(
    world, django_capture_on_commit_callbacks
):
    second = lea_admin_of_920("second920")

    with django_capture_on_commit_callbacks(execute=True):
        role_request = role_request_create(
            user=world.teacher,
            role=Role.SCHOOL_HELP_DESK,
            psu=world.psu920,
            campuses=[world.elementary],
            reason="Front office at Apex",
            portal_url="https://portal.example.org",
        )

    (message,) = mail.outbox
    assert sorted(message.to) == sorted([world.admin920.email, second.email])
    assert message.subject == (
        f"Role request #{role_request.pk} waits for your approval: School Student Help Desk of "
        "PSU 920"
    )
    assert "Front office at Apex" in message.body
    assert "920304 Apex Elementary" in message.body
    assert f"https://portal.example.org/roles/{role_request.pk}/" in message.body


@pytest.mark.django_db
@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_the_requester_is_emailed_the_decision(world, django_capture_on_commit_callbacks, decision):
    role_request = request_for(world.teacher, world.psu920)

    with django_capture_on_commit_callbacks(execute=True):
        if decision == "approve":
            role_request_approve(role_request=role_request, by=world.admin920, comment="OK")
        else:
            role_request_deny(role_request=role_request, by=world.admin920, comment="Ask HR")

    (message,) = mail.outbox
    word = "granted" if decision == "approve" else "denied"
    assert message.to == [world.teacher.email]
    assert (
        message.subject == f"Role request #{role_request.pk}: LEA Administrator of PSU 920 {word}"
    )
    assert f"is {word}." in message.body
    assert ("Comment: OK" if decision == "approve" else "Comment: Ask HR") in message.body


@pytest.mark.django_db
def test_a_withdrawal_emails_nobody_and_a_revoke_emails_the_holder(
    world, django_capture_on_commit_callbacks
):
    withdrawn = request_for(world.teacher, world.psu010)
    granted = request_for(world.teacher, world.psu920)
    role_request_approve(role_request=granted, by=world.admin920)

    with django_capture_on_commit_callbacks(execute=True):
        role_request_withdraw(role_request=withdrawn, by=world.teacher)
        role_grant_revoke(role_request=granted, by=world.admin920, comment="Term over")

    (message,) = mail.outbox
    assert message.subject.endswith("LEA Administrator of PSU 920 revoked")
    assert "Comment: Term over" in message.body
