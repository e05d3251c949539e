"""Reads about role requests: whose a user sees, which wait for them, who decides one."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from people.models import User

from .models import Role, RoleAssignment, RoleRequest


def _with_related(requests: QuerySet[RoleRequest]) -> QuerySet[RoleRequest]:
    return requests.select_related("user", "psu", "decided_by", "ended_by").prefetch_related(
        "campuses"
    )


def role_requests_of(user) -> QuerySet[RoleRequest]:
    """The user's own role requests, newest first (their *My requests*)."""
    return _with_related(RoleRequest.objects.filter(user_id=user.pk))


def role_requests_visible_to(user) -> QuerySet[RoleRequest]:
    """Role requests a user may open: their own; those of the PSUs they administer; every
    one for a superuser."""
    if user.is_superuser:
        return _with_related(RoleRequest.objects.all())
    scope = Q(user_id=user.pk) | Q(psu_id__in=user.administered_psu_ids)
    return _with_related(RoleRequest.objects.filter(scope))


def _decidable_by(user) -> Q:
    """Requests ``user`` may decide on: any PSU for a superuser, else the PSUs they
    administer; never their own (two people, always)."""
    if user.is_superuser:
        return ~Q(user_id=user.pk)
    return Q(psu_id__in=user.administered_psu_ids) & ~Q(user_id=user.pk)


def may_approve_roles(user) -> bool:
    """Whether *Approvals* is for this user at all: LEA Administrators and superusers."""
    return user.is_authenticated and (user.is_superuser or user.is_lea_admin)


def role_requests_awaiting(user) -> QuerySet[RoleRequest]:
    """Pending requests waiting for ``user``'s decision, oldest first."""
    if not may_approve_roles(user):
        return RoleRequest.objects.none()
    waiting = RoleRequest.objects.filter(_decidable_by(user), status=RoleRequest.Status.REQUESTED)
    return _with_related(waiting).order_by("requested_at", "id")


def grants_revocable_by(user) -> QuerySet[RoleRequest]:
    """Grants in force that ``user`` may revoke, by PSU and role."""
    if not may_approve_roles(user):
        return RoleRequest.objects.none()
    granted = RoleRequest.objects.filter(_decidable_by(user), status=RoleRequest.Status.GRANTED)
    return _with_related(granted).order_by("psu__code", "role", "user__username")


def may_decide(user, role_request: RoleRequest) -> bool:
    """Approve or deny: someone other than the requester, an LEA Administrator of the PSU in
    force now or a superuser, while the request waits."""
    return role_request.is_pending and _may_act_on(user, role_request)


def may_revoke(user, role_request: RoleRequest) -> bool:
    return role_request.is_in_force and _may_act_on(user, role_request)


def _may_act_on(user, role_request: RoleRequest) -> bool:
    if role_request.user_id == user.pk:
        return False
    return user.is_superuser or role_request.psu_id in user.administered_psu_ids


def approvers_of(role_request: RoleRequest) -> list[User]:
    """Who is asked to decide: the PSU's LEA Administrators in force, the requester aside;
    superusers when the PSU has none."""
    today = timezone.localdate()
    admins = User.objects.filter(
        Q(role_assignments__ends_on__isnull=True) | Q(role_assignments__ends_on__gte=today),
        is_active=True,
        role_assignments__role=Role.LEA_ADMIN,
        role_assignments__psu_id=role_request.psu_id,
    ).exclude(pk=role_request.user_id)
    found = list(admins.distinct().order_by("username"))
    if found:
        return found
    superusers = User.objects.filter(is_active=True, is_superuser=True)
    return list(superusers.exclude(pk=role_request.user_id).order_by("username"))


def role_duplicate_of(
    *, user, role: str, psu_id: int | None
) -> RoleRequest | RoleAssignment | None:
    """The pending request or the role in force that a new request for ``role`` of the PSU
    would repeat, if any."""
    pending = RoleRequest.objects.filter(
        user_id=user.pk, role=role, psu_id=psu_id, status=RoleRequest.Status.REQUESTED
    ).first()
    if pending is not None:
        return pending
    today = timezone.localdate()
    return (
        RoleAssignment.objects.filter(user_id=user.pk, role=role, psu_id=psu_id)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .first()
    )
