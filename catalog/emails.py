"""The emails of role requests: to the people who may decide when one waits, and to the
requester when it is approved, denied, expires or is revoked. Sent after the transition
commits; a mail failure is logged, never undoes the transition."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from .models import RoleRequest
from .selectors import approvers_of

logger = logging.getLogger(__name__)


def _load(role_request_id: int) -> RoleRequest:
    return (
        RoleRequest.objects.select_related("user", "psu", "decided_by", "ended_by")
        .prefetch_related("campuses")
        .get(pk=role_request_id)
    )


def _link(role_request: RoleRequest, portal_url: str) -> str:
    base = settings.PORTAL_BASE_URL.rstrip("/") or portal_url
    return f"{base}{role_request.get_absolute_url()}"


def _send(subject: str, template: str, context: dict, recipients: list[str]) -> None:
    if not recipients:
        return
    body = render_to_string(template, context)
    try:
        send_mail(subject, body, None, recipients)
    except Exception as exc:  # the transition stands; the page shows it
        logger.warning("Could not send %r (%s)", subject, type(exc).__name__)


def role_request_waiting_notify(*, role_request_id: int, portal_url: str = "") -> None:
    """Email the approvers (``selectors.approvers_of``) that a request waits for them."""
    role_request = _load(role_request_id)
    approvers = approvers_of(role_request)
    subject = (
        f"Role request #{role_request.pk} waits for your approval: "
        f"{role_request.get_role_display()} of PSU {role_request.psu.code}"
    )
    context = {"role_request": role_request, "link": _link(role_request, portal_url)}
    _send(
        subject,
        "catalog/emails/role_request_waiting.txt",
        context,
        [user.email for user in approvers if user.email],
    )


def role_request_outcome_notify(*, role_request_id: int, portal_url: str = "") -> None:
    """Email the requester what became of their request: granted, denied, expired, revoked."""
    role_request = _load(role_request_id)
    subject = (
        f"Role request #{role_request.pk}: {role_request.get_role_display()} of PSU "
        f"{role_request.psu.code} {role_request.get_status_display().lower()}"
    )
    context = {"role_request": role_request, "link": _link(role_request, portal_url)}
    recipients = [role_request.user.email] if role_request.user.email else []
    _send(subject, "catalog/emails/role_request_outcome.txt", context, recipients)
