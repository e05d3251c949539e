"""The email a requester gets when their request has finished. It never holds a password."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from .models import RegenerationRequest

logger = logging.getLogger(__name__)


def request_notify(*, request_id: int) -> None:
    """Email the requester that the request finished."""
    request = RegenerationRequest.objects.select_related("requester", "psu").get(pk=request_id)
    if not request.requester.email:
        return
    subject = f"Request #{request.pk} for PSU {request.psu.code}: {request.get_status_display()}"
    what = (
        f"undo of request #{request.undo_of_id}"
        if request.is_undo
        else "request to regenerate student default passwords"
    )
    lines = [
        f"Your {what} for PSU {request.psu.code} is {request.get_status_display().lower()}.",
        "",
        f"Students targeted: {request.targeted_count:,}",
    ]
    if request.is_undo:
        lines += [
            f"Given back their previous passwords: {request.processed_count:,}",
            f"Left alone (changed since): {request.skipped_count:,}",
        ]
    else:
        lines += [
            f"Default passwords changed: {request.processed_count:,}",
            f"Login passwords reset: {request.reset_count:,}",
        ]
    if request.status == RegenerationRequest.Status.CANCELLED:
        lines.append(f"Not changed (cancelled before them): {request.not_changed_count:,}")
    lines.append(f"Failed: {request.failed_count:,}")
    if request.error_message:
        lines += ["", request.error_message]
    lines += [
        "",
        f"Details: {settings.PORTAL_BASE_URL.rstrip('/') or request.portal_url}"
        f"{reverse('regeneration:detail', args=[request.pk])}",
    ]
    try:
        send_mail(subject, "\n".join(lines), None, [request.requester.email])
    except Exception as exc:  # the request is done; a mail failure must not undo that
        logger.warning(
            "Could not email request %s's requester (%s)", request_id, type(exc).__name__
        )
