"""Reads for the People module: which students a staff member may see, and search."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Campus, Student

DIGITS = re.compile(r"[0-9]+")  # ASCII only, as student numbers are


def students_visible_to(user) -> QuerySet[Student]:
    """Students of the PSUs the user administers now; nobody else's."""
    return Student.objects.filter(psu_id__in=user.administered_psu_ids).select_related(
        "psu", "campus"
    )


def campuses_visible_to(user) -> QuerySet[Campus]:
    return Campus.objects.filter(psu_id__in=user.administered_psu_ids).select_related("psu")


def students_search(
    *, user, text: str = "", campus: Campus | None = None, grade: str = ""
) -> QuerySet[Student]:
    """The user's students whose student number, username or name starts with ``text``,
    narrowed to a campus and a grade, in name order.

    Digits search student numbers; anything else searches usernames and names: one word
    matches the start of the username, the last name or the first name; two or more words
    match the start of the first and last names in either order ("Jordan Smith",
    "Smith, Jordan"). Prefix matches keep every search on an index (migration 0003)."""
    students = students_visible_to(user)
    if campus is not None:
        students = students.filter(campus=campus)
    if grade:
        students = students.filter(grade=grade)
    text = text.strip()
    if text:
        students = students.filter(_text_condition(text))
    return students.order_by("last_name", "first_name", "id")


def _text_condition(text: str) -> Q:
    if DIGITS.fullmatch(text):
        return Q(student_number__startswith=text)
    words = [w for w in re.split(r"[\s,]+", text) if w]
    if len(words) == 1:
        word = words[0]
        return (
            Q(username__startswith=word.lower())
            | Q(last_name__istartswith=word)
            | Q(first_name__istartswith=word)
        )
    # Where the first name ends and the last name starts is unknown: try the two likely
    # splits ("Mary Ann" + "Smith", "Mary" + "Ann Smith"), in both orders.
    splits = {(words[0], " ".join(words[1:])), (" ".join(words[:-1]), words[-1])}
    condition = Q()
    for one, other in splits:
        condition |= Q(first_name__istartswith=one, last_name__istartswith=other)
        condition |= Q(last_name__istartswith=one, first_name__istartswith=other)
    return condition


def temporary_password_expires_at(student: Student) -> datetime | None:
    """When the student's unused temporary login password stops working; None when there is
    none or temporary passwords never expire (TEMPORARY_PASSWORD_EXPIRY_DAYS = 0)."""
    days = settings.TEMPORARY_PASSWORD_EXPIRY_DAYS
    if student.temporary_password_set_at is None or days <= 0:
        return None
    return student.temporary_password_set_at + timedelta(days=days)


def temporary_password_has_expired(student: Student, *, now: datetime | None = None) -> bool:
    expires_at = temporary_password_expires_at(student)
    return expires_at is not None and expires_at <= (now or timezone.now())
