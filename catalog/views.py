"""The request catalog, and the pages of role requests: request, follow, withdraw, approve or
deny (*Approvals*), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ncedcloud.links import portal_url

from .catalog import catalog_entries_for
from .forms import DecisionForm, RevokeForm, RoleRequestForm
from .selectors import (
    grants_revocable_by,
    may_approve_roles,
    may_decide,
    may_revoke,
    role_requests_awaiting,
    role_requests_visible_to,
)
from .services import (
    RoleRequestRefused,
    role_grant_revoke,
    role_request_approve,
    role_request_create,
    role_request_deny,
    role_request_withdraw,
)

APPROVERS_ONLY = (
    "Approvals are for LEA Administrators (of the PSU a role is requested for) and superusers."
)


@login_required
def catalog_index(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/index.html", {"entries": catalog_entries_for(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def role_request_new(request: HttpRequest) -> HttpResponse:
    """*Request a Privileged Role*: valid, it is recorded and the approvers are emailed."""
    form = RoleRequestForm(request.POST or None)
    if form.is_valid():
        data = form.cleaned_data
        try:
            role_request = role_request_create(
                user=request.user,
                role=data["role"],
                psu=data["psu_code"],
                campuses=data["campuses"],
                reason=data["reason"],
                ends_on=data["ends_on"],
                portal_url=portal_url(request),
            )
        except RoleRequestRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"Role request #{role_request.pk} is recorded; the approvers are emailed, "
                "and so are you when it is decided.",
            )
            return redirect(role_request)
    return render(request, "catalog/role_request_new.html", {"form": form})


@login_required
@require_GET
def role_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    role_request = get_object_or_404(role_requests_visible_to(request.user), pk=pk)
    return render(
        request,
        "catalog/role_request_detail.html",
        {
            "role_request": role_request,
            "may_decide": may_decide(request.user, role_request),
            "may_revoke": may_revoke(request.user, role_request),
            "may_withdraw": role_request.is_pending and role_request.user_id == request.user.pk,
            "decision_form": DecisionForm(),
            "revoke_form": RevokeForm(),
        },
    )


@login_required
@require_POST
def role_request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """*Approve* or *Deny*, by an approver other than the requester."""
    role_request = get_object_or_404(role_requests_visible_to(request.user), pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(role_request)
    decide = (
        role_request_approve if form.cleaned_data["decision"] == "approve" else role_request_deny
    )
    try:
        decide(
            role_request=role_request,
            by=request.user,
            comment=form.cleaned_data["comment"].strip(),
            portal_url=portal_url(request),
        )
    except RoleRequestRefused as refused:
        messages.error(request, str(refused))
        return redirect(role_request)
    messages.success(
        request,
        f"Role request #{role_request.pk} is {role_request.get_status_display().lower()}: "
        f"{role_request.user.get_full_name() or role_request.user.username} is emailed.",
    )
    return redirect("catalog:approvals")


@login_required
@require_POST
def role_request_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    role_request = get_object_or_404(role_requests_visible_to(request.user), pk=pk)
    try:
        role_request_withdraw(role_request=role_request, by=request.user)
    except RoleRequestRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Role request #{role_request.pk} is withdrawn.")
    return redirect(role_request)


@login_required
@require_POST
def role_grant_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    role_request = get_object_or_404(role_requests_visible_to(request.user), pk=pk)
    form = RevokeForm(request.POST)
    comment = form.cleaned_data["comment"].strip() if form.is_valid() else ""
    try:
        role_grant_revoke(
            role_request=role_request,
            by=request.user,
            comment=comment,
            portal_url=portal_url(request),
        )
    except RoleRequestRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            f"The {role_request.get_role_display()} role of "
            f"{role_request.user.get_full_name() or role_request.user.username} is revoked.",
        )
    return redirect(role_request)


@login_required
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    """*Approvals*: what waits for the user's decision, and the grants they may revoke."""
    if not may_approve_roles(request.user):
        raise PermissionDenied(APPROVERS_ONLY)
    return render(
        request,
        "catalog/approvals.html",
        {
            "waiting": role_requests_awaiting(request.user),
            "granted": grants_revocable_by(request.user),
            "decision_form": DecisionForm(),
        },
    )
