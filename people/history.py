"""One history per student: every change of their credentials and every time their password
was shown, with who and when, newest first, on the record in People and on the student's
admin page.

The directory's own events are its ``CredentialEvent`` rows and the reveals it recorded.
Higher layers add theirs through ``history_source`` (regeneration registers what its
requests did, and their downloads), so the directory never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from .models import CredentialEvent, DefaultPasswordDisclosure, Student
from .sign_in import expires_at, has_expired


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    what: str
    who: str = ""
    request_number: int | None = None


HistorySource = Callable[[Student], Iterable[HistoryEntry]]
_sources: list[HistorySource] = []


def history_source(source: HistorySource) -> HistorySource:
    """Register a function that lists a student's entries of another layer."""
    if source not in _sources:
        _sources.append(source)
    return source


def staff_name(user) -> str:
    return user.get_full_name() or user.username if user else ""


def student_history(student: Student) -> list[HistoryEntry]:
    """The student's whole history, newest first."""
    entries = [*_events(student), *_reveals(student), *_expiry(student)]
    for source in _sources:
        entries.extend(source(student))
    return sorted(entries, key=lambda entry: entry.at, reverse=True)


def _events(student: Student) -> Iterable[HistoryEntry]:
    for event in student.credential_events.select_related("actor"):
        what = event.get_kind_display()
        if event.kind == CredentialEvent.Kind.RESET_TO_DEFAULT:
            what += ", password change forced at the next sign-in" if event.must_change else ""
        if event.kind == CredentialEvent.Kind.FIRST_SIGN_IN:
            by = f"request #{event.request_number}" if event.request_number else "the account"
            what = f"First sign-in with the password set by {by}"
        who = staff_name(event.actor) if event.actor else "the student"
        yield HistoryEntry(event.at, what, who, event.request_number)


def _reveals(student: Student) -> Iterable[HistoryEntry]:
    reveals = student.default_password_disclosures.filter(
        kind=DefaultPasswordDisclosure.Kind.REVEAL
    ).select_related("actor")
    for reveal in reveals:
        yield HistoryEntry(reveal.at, "Default password shown in People", staff_name(reveal.actor))


def _expiry(student: Student) -> Iterable[HistoryEntry]:
    if has_expired(student):
        yield HistoryEntry(expires_at(student), "Login password expired, never used to sign in")
