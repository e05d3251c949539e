"""A default password that cannot be decrypted is an operator's problem, not a bug: every page
that meets one answers 503 with the one message naming ``DEFAULT_PASSWORD_KEYS``
(``credentials.crypto.undecryptable_message``), never a stack trace or the ciphertext.

The pages that show passwords (*Show*, the handouts) catch the error themselves and say what
it meant there; this middleware answers for any other view the error reaches.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .crypto import DefaultPasswordDecryptionError

logger = logging.getLogger(__name__)

TEMPLATE = "credentials/undecryptable.html"


class UndecryptablePasswordMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, DefaultPasswordDecryptionError):
            return None
        logger.error("%s %s refused. %s", request.method, request.path, exception)
        return undecryptable_response(request, str(exception))


def undecryptable_response(request: HttpRequest, message: str, **context) -> HttpResponse:
    """503 with ``message``; ``context`` for the page's link back."""
    return render(request, TEMPLATE, {"message": message, **context}, status=503)
