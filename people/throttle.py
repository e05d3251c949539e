"""The sign-in throttles: django-axes locks an account after ``AXES_FAILURE_LIMIT`` failures;
beside it every client address has a budget of ``SIGNIN_ADDRESS_FAILURE_LIMIT`` failures an
hour, against guessing one password on each of many accounts from one place.

Both count the same attempts: every ``django.contrib.auth.authenticate`` that fails, that is
staff sign-in (the portal's and admin's), student sign-in and the current password on the
student's change-password page. Over the budget, every sign-in from the address is refused,
even with the right password, until enough of the hour's failures have aged out; refused
attempts are not counted (as with the per-account lockout, ``AXES_RESET_COOL_OFF_ON_FAILURE_
DURING_LOCKOUT = False``), so the time the page names holds.

The budget hooks into axes where axes allows it: ``PortalAxesHandler`` (``AXES_HANDLER``)
adds the address to axes's lockout check and records each failure, ``lockout_response``
(``AXES_LOCKOUT_CALLABLE``) says which of the two throttles refused. The failures are rows of
``SignInFailure``, a table, so every web process of every worker sees the same count, on
SQLite as on PostgreSQL (Django's cache is per process unless a shared one is configured).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .models import SignInFailure

WINDOW = timedelta(hours=1)
ADDRESS_TEMPLATE = "registration/address_throttled.html"


def address_retry_at(address: str | None, *, now: datetime | None = None) -> datetime | None:
    """When sign-ins from ``address`` are accepted again, if its failures of the last hour
    have used up the budget; None while they have not. One indexed query: the budget's
    oldest failure still inside the hour is the one whose ageing out frees a place."""
    limit = settings.SIGNIN_ADDRESS_FAILURE_LIMIT
    if not address or limit <= 0:
        return None
    now = now or timezone.now()
    recent = SignInFailure.objects.filter(address=address, at__gt=now - WINDOW).order_by("-at")
    freeing = list(recent.values_list("at", flat=True)[limit - 1 : limit])
    return freeing[0] + WINDOW if freeing else None


def sign_in_failure_record(*, address: str | None, now: datetime | None = None) -> None:
    """Count a failure against ``address``, and forget the failures that left the hour."""
    if not address:
        return
    now = now or timezone.now()
    SignInFailure.objects.create(address=address, at=now)
    SignInFailure.objects.filter(at__lte=now - WINDOW).delete()


class PortalAxesHandler(AxesDatabaseHandler):
    """axes's database handler, with the address's budget beside the account's count."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        retry_at = address_retry_at(request.axes_ip_address)
        if retry_at is None:
            return False
        request.address_retry_at = retry_at
        return True

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        # An attempt a throttle refused is not a failure: counting it would push the time
        # the page names further away with every try.
        refused = request is not None and getattr(request, "axes_locked_out", False)
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is not None and not refused:
            sign_in_failure_record(address=request.axes_ip_address)


def lockout_response(
    request: HttpRequest, original_response=None, credentials: dict | None = None
) -> HttpResponse:
    """429, with the page of whichever throttle refused: the address's says until when."""
    retry_at = getattr(request, "address_retry_at", None)
    if retry_at is None:
        return render(
            request,
            settings.AXES_LOCKOUT_TEMPLATE,
            {
                "failure_limit": get_failure_limit(request, credentials),
                "username": get_client_username(request, credentials) or "",
                "cooloff_timedelta": get_cool_off(request),
            },
            status=429,
        )
    seconds = max(1, math.ceil((retry_at - timezone.now()).total_seconds()))
    response = render(
        request,
        ADDRESS_TEMPLATE,
        {
            "retry_at": retry_at,
            "minutes": math.ceil(seconds / 60),
            "limit": settings.SIGNIN_ADDRESS_FAILURE_LIMIT,
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
