"""Writes of role requests: request, approve or deny, withdraw, revoke, expire, and the direct
grant in admin. Each transition is a conditional ``UPDATE ... WHERE status = ...`` whose row
count says whether it happened, so two approvers clicking at once, or the sweep meeting a
revoke, record one outcome. Emails go after commit (``catalog.emails``)."""

from __future__ import annotations

from datetime import date
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from people.models import PSU, Campus

from . import emails
from .models import Role, RoleAssignment, RoleRequest
from .selectors import may_decide, may_revoke, role_duplicate_of

Status = RoleRequest.Status


class RoleRequestRefused(Exception):
    """A transition that cannot happen, with the sentence that says why."""


def _duplicate_message(duplicate, role: str, psu: PSU) -> str:
    label = Role(role).label
    if isinstance(duplicate, RoleRequest):
        return (
            f"You have already requested {label} for PSU {psu.code} (role request "
            f"#{duplicate.pk}, waiting for approval); a second request is not needed."
        )
    return f"You already hold {label} for PSU {psu.code}; a second request is not needed."


def role_request_create(
    *,
    user,
    role: str,
    psu: PSU,
    reason: str,
    campuses: list[Campus] | None = None,
    ends_on: date | None = None,
    portal_url: str = "",
) -> RoleRequest:
    """Record a request for ``role`` of ``psu`` and email the people who may decide on it.
    A request repeating one that waits, or a role the user holds, is refused; the unique
    constraint on pending requests catches two made at once."""
    duplicate = role_duplicate_of(user=user, role=role, psu_id=psu.pk)
    if duplicate is not None:
        raise RoleRequestRefused(_duplicate_message(duplicate, role, psu))
    try:
        with transaction.atomic():
            role_request = RoleRequest.objects.create(
                user=user, role=role, psu=psu, reason=reason, ends_on=ends_on
            )
            role_request.campuses.set(campuses or [])
    except IntegrityError:
        duplicate = role_duplicate_of(user=user, role=role, psu_id=psu.pk)
        raise RoleRequestRefused(_duplicate_message(duplicate, role, psu)) from None
    _after_commit(emails.role_request_waiting_notify, role_request.pk, portal_url)
    return role_request


def _after_commit(notify, role_request_id: int, portal_url: str) -> None:
    transaction.on_commit(partial(notify, role_request_id=role_request_id, portal_url=portal_url))


def _move(role_request: RoleRequest, *, from_status: str, **changes) -> bool:
    """The conditional update of a transition; True when this call made it."""
    moved = RoleRequest.objects.filter(pk=role_request.pk, status=from_status).update(**changes)
    role_request.refresh_from_db()
    return moved == 1


def _no_longer(role_request: RoleRequest, what: str) -> RoleRequestRefused:
    role_request.refresh_from_db()
    return RoleRequestRefused(
        f"Role request #{role_request.pk} cannot be {what}: it is "
        f"{role_request.get_status_display().lower()}."
    )


@transaction.atomic
def role_request_approve(
    *, role_request: RoleRequest, by, comment: str = "", portal_url: str = ""
) -> RoleRequest:
    """Grant the role: the request becomes Granted and the role is in force at once, with
    its campuses and end date. Never by the requester, superusers included."""
    if role_request.user_id == by.pk:
        raise RoleRequestRefused("Nobody approves their own role request: another person must.")
    if not may_decide(by, role_request):
        raise _no_longer(role_request, "approved by you")
    held = RoleAssignment.objects.filter(
        user_id=role_request.user_id, role=role_request.role, psu_id=role_request.psu_id
    )
    if held.exists():  # granted directly in admin meanwhile: deny or leave it
        raise RoleRequestRefused(
            f"{role_request.user.get_username()} already holds this role for PSU "
            f"{role_request.psu.code}; deny the request, or remove that role first."
        )
    now = timezone.now()
    moved = _move(
        role_request,
        from_status=Status.REQUESTED,
        status=Status.GRANTED,
        decided_by=by,
        decided_at=now,
        decision_comment=comment,
    )
    if not moved:
        raise _no_longer(role_request, "approved")
    _assignment_create(role_request, granted_by=by)
    _after_commit(emails.role_request_outcome_notify, role_request.pk, portal_url)
    return role_request


def _assignment_create(role_request: RoleRequest, *, granted_by) -> RoleAssignment:
    assignment = RoleAssignment.objects.create(
        user_id=role_request.user_id,
        role=role_request.role,
        psu_id=role_request.psu_id,
        ends_on=role_request.ends_on,
        granted_by=granted_by,
        role_request=role_request,
    )
    assignment.campuses.set(role_request.campuses.all())
    return assignment


@transaction.atomic
def role_request_deny(
    *, role_request: RoleRequest, by, comment: str, portal_url: str = ""
) -> RoleRequest:
    if role_request.user_id == by.pk:
        raise RoleRequestRefused("Nobody decides on their own role request: another person must.")
    if not may_decide(by, role_request):
        raise _no_longer(role_request, "denied by you")
    moved = _move(
        role_request,
        from_status=Status.REQUESTED,
        status=Status.DENIED,
        decided_by=by,
        decided_at=timezone.now(),
        decision_comment=comment,
    )
    if not moved:
        raise _no_longer(role_request, "denied")
    _after_commit(emails.role_request_outcome_notify, role_request.pk, portal_url)
    return role_request


@transaction.atomic
def role_request_withdraw(*, role_request: RoleRequest, by) -> RoleRequest:
    """The requester takes back a request that still waits."""
    if role_request.user_id != by.pk:
        raise RoleRequestRefused("Only the person who made a role request can withdraw it.")
    moved = _move(
        role_request,
        from_status=Status.REQUESTED,
        status=Status.WITHDRAWN,
        ended_by=by,
        ended_at=timezone.now(),
    )
    if not moved:
        raise _no_longer(role_request, "withdrawn")
    return role_request


@transaction.atomic
def role_grant_revoke(
    *, role_request: RoleRequest, by, comment: str = "", portal_url: str = ""
) -> RoleRequest:
    """End a grant now: the role is no longer in force, the request says Revoked."""
    if not may_revoke(by, role_request):
        if role_request.user_id == by.pk:
            raise RoleRequestRefused("Another person must revoke a role you hold.")
        raise _no_longer(role_request, "revoked by you")
    return _grant_end(role_request, Status.REVOKED, by=by, comment=comment, portal_url=portal_url)


def _grant_end(role_request, status: str, *, by, comment: str, portal_url: str) -> RoleRequest:
    moved = _move(
        role_request,
        from_status=Status.GRANTED,
        status=status,
        ended_by=by,
        ended_at=timezone.now(),
        end_comment=comment,
    )
    if not moved:
        raise _no_longer(role_request, "ended")
    RoleAssignment.objects.filter(role_request=role_request).delete()
    _after_commit(emails.role_request_outcome_notify, role_request.pk, portal_url)
    return role_request


def role_grants_expire(*, today: date | None = None) -> int:
    """The hourly sweep: every grant whose end date has passed becomes Expired, its role
    removed, its holder emailed. Returns how many expired. (The role properties stop
    honouring such a grant at its end date already; this records it.)"""
    today = today or timezone.localdate()
    due = RoleRequest.objects.filter(status=Status.GRANTED, ends_on__lt=today)
    expired = 0
    for role_request in due.order_by("id"):
        try:
            with transaction.atomic():
                _grant_end(
                    role_request,
                    Status.EXPIRED,
                    by=None,
                    comment=f"Ended on {role_request.ends_on:%Y-%m-%d}.",
                    portal_url="",
                )
        except RoleRequestRefused:
            continue  # revoked meanwhile
        expired += 1
    return expired


@transaction.atomic
def role_grant_record_direct(*, assignment: RoleAssignment, by) -> RoleRequest:
    """A superuser's grant in admin, recorded as a role request granted at once."""
    now = timezone.now()
    role_request = RoleRequest.objects.create(
        user_id=assignment.user_id,
        role=assignment.role,
        psu_id=assignment.psu_id,
        ends_on=assignment.ends_on,
        reason=f"Granted directly in admin by {by.get_username()}.",
        status=Status.GRANTED,
        granted_directly=True,
        requested_at=now,
        decided_by=by,
        decided_at=now,
    )
    role_request.campuses.set(assignment.campuses.all())
    RoleAssignment.objects.filter(pk=assignment.pk).update(role_request=role_request)
    assignment.role_request = role_request
    return role_request


@transaction.atomic
def role_grant_record_removed(*, assignment: RoleAssignment, by) -> None:
    """A superuser deleted a role in admin: its request (if it has one) says Revoked."""
    if assignment.role_request_id is None:
        return
    RoleRequest.objects.filter(pk=assignment.role_request_id, status=Status.GRANTED).update(
        status=Status.REVOKED,
        ended_by=by,
        ended_at=timezone.now(),
        end_comment="Removed in admin.",
    )
