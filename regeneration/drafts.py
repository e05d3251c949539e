"""Confirm drafts: a validated form's values, kept in the session under a random key between
*Request* and *Confirm*. The key becomes the request's confirmation key, which makes
confirming twice harmless (``lifecycle.regeneration_request_create``). A UID file's students
are too many for a session: they wait in a ``UIDListDraft`` row under the same key."""

from __future__ import annotations

import uuid

from django.http import HttpRequest

from .models import UIDListDraft

DRAFTS_SESSION_KEY = "regeneration_drafts"
MAX_DRAFTS = 10


def _drafts(request: HttpRequest) -> dict:
    return request.session.get(DRAFTS_SESSION_KEY, {})


def draft_get(request: HttpRequest, key: uuid.UUID | str) -> dict | None:
    return _drafts(request).get(str(key))


def draft_save(
    request: HttpRequest, values: dict, *, student_ids: list[int] | None = None
) -> uuid.UUID:
    """Keep the values (and a UID file's students); the newest MAX_DRAFTS drafts are kept."""
    key = uuid.uuid4()
    if student_ids is not None:
        UIDListDraft.objects.create(key=key, requester=request.user, student_ids=student_ids)
        values = {**values, "uid_count": len(student_ids)}
    drafts = _drafts(request)
    drafts[str(key)] = values
    request.session[DRAFTS_SESSION_KEY] = dict(list(drafts.items())[-MAX_DRAFTS:])
    return key


def draft_student_ids(request: HttpRequest, key: uuid.UUID) -> list[int] | None:
    """The students of a UID file's draft; None when it is gone."""
    draft = UIDListDraft.objects.filter(key=key, requester=request.user).first()
    return draft.student_ids if draft else None


def draft_discard(request: HttpRequest, key: uuid.UUID) -> None:
    drafts = _drafts(request)
    drafts.pop(str(key), None)
    request.session[DRAFTS_SESSION_KEY] = drafts
    UIDListDraft.objects.filter(key=key).delete()


def draft_form_data(values: dict) -> dict:
    """A filters draft's values as the form's POST data, to check them again or edit them."""
    data = {
        "psu_code": values["psu_code"],
        "campus_codes": ", ".join(values.get("campus_codes", [])),
        "grade_levels": ", ".join(values.get("grade_levels", [])),
        "comments": values["comments"],
    }
    for flag in ("reset_current_passwords", "force_password_change"):
        if values[flag]:
            data[flag] = "on"
    return data
