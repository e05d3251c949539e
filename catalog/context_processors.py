"""What every page's navigation needs about roles: *Approvals* and how many wait."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import may_approve_roles, role_requests_awaiting


def approvals(request: HttpRequest) -> dict:
    """``approvals_waiting``: None for a user who approves nothing, else the number of role
    requests waiting for them, counted only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not may_approve_roles(user):
        return {"approvals_waiting": None}
    return {"approvals_waiting": SimpleLazyObject(lambda: role_requests_awaiting(user).count())}
