"""The client's address, for the sign-in throttles (axes calls it through
``AXES_CLIENT_IP_CALLABLE``) and the disclosure audit: one rule for both.

``REMOTE_ADDR`` is the address that connected. Behind ``TRUSTED_PROXY_COUNT`` proxies of our
own, each appending the address it was reached from to ``X-Forwarded-For``, the client is the
entry that many places from the right: what the outermost proxy saw. Entries further left
are whatever the client wrote, so they are never read; with no trusted proxy (the default) the
header is ignored entirely. A header shorter than the chain, or an entry that is not an
address, means the request did not come through our proxies: ``REMOTE_ADDR`` then.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(entries) < proxies:
        return remote
    candidate = entries[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
