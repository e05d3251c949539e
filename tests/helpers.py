"""Small helpers for asserting what a user reads on a page."""

from __future__ import annotations

import html
import re


def page_text(response) -> str:
    """The page's visible text: tags removed, entities decoded, whitespace collapsed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return re.sub(r"\s+", " ", text).strip()


def field_errors(response, field: str) -> list[str]:
    """The error messages shown next to one field of the page's form."""
    form = response.context["form"]
    return list(form.errors.get(field, []))


def request_through_views(client, *, psu_code: str, finish, **fields):
    """Fill in, confirm and finish a *Regenerate Student Default Passwords* request the way
    an administrator does (``client`` is signed in as one); returns the finished request.

    ``fields`` are the form's other fields, e.g. ``campus_codes="920304"``,
    ``reset_current_passwords="on"``, ``force_password_change="on"``."""
    from django.urls import reverse

    from regeneration.models import RegenerationRequest

    form = {"psu_code": psu_code, "campus_codes": "", "grade_levels": "", "comments": ""}
    response = client.post(reverse("regeneration:new"), {**form, **fields})
    assert response.status_code == 302, page_text(response)
    response = client.post(response["Location"])
    request_id = int(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    return finish(RegenerationRequest.objects.get(pk=request_id))


def current_nav_items(response) -> list[str]:
    """The main navigation's links marked as the current page (``aria-current="page"``)."""
    nav = re.search(r'<nav class="site-nav" aria-label="Main">(.*?)</nav>', response.text, re.S)
    assert nav, "the page has no main navigation"
    return re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]*)</a>', nav.group(1))
