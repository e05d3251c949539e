"""Sessions that a poll does not renew.

Every request renews the staff session's idle timeout (``SESSION_SAVE_EVERY_REQUEST``, 30
minutes of ``SESSION_COOKIE_AGE``): a write transaction per request. An open request page
polls its progress every second while the request runs, and a poll is not the user doing
anything, so views marked ``@not_renewing_session`` leave the session as it is unless they
changed it. Measured on the progress answer: about half its time was the session's UPDATE
and its commit (README, "The web tier under load")."""

from __future__ import annotations

from functools import wraps

from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware

NOT_RENEWING = "_session_not_renewed"


def not_renewing_session(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        setattr(request, NOT_RENEWING, True)
        return view(request, *args, **kwargs)

    return wrapped


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except that a view marked ``@not_renewing_session`` saves the session only
    when it changed it."""

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if getattr(request, NOT_RENEWING, False) and session is not None and not session.modified:
            return response
        return super().process_response(request, response)
