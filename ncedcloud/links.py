"""The portal's own address, for the links people follow from an email or a printed card."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def portal_url(request: HttpRequest | None = None) -> str:
    """PORTAL_BASE_URL when it is set; otherwise the address ``request`` reached the portal
    at (scheme and host, no trailing slash); empty when there is neither."""
    if settings.PORTAL_BASE_URL:
        return settings.PORTAL_BASE_URL.rstrip("/")
    if request is None:
        return ""
    return request.build_absolute_uri("/").rstrip("/")
