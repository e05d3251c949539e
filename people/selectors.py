"""Reads for the People module: which students a staff member may see, and search."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Coalesce

from .models import Campus, Student

DIGITS = re.compile(r"[0-9]+")  # ASCII only, as student numbers are
NAME_ORDER = ("last_name", "first_name", "id")
# A search in the same order, by an expression no index gives (the same value: last names
# are never null), so that PostgreSQL finds the matches through the prefix indexes and sorts
# them. Ordered by the columns, it walked the name index from A until it had a page of
# matches, expecting them spread evenly: "Sm" read 130,000 of a 160,000-student PSU's rows
# for its first page (190 ms; 15 ms by the prefix indexes and a sort of its 2,425 matches).
SEARCH_ORDER = (Coalesce("last_name", Value("")), "first_name", "id")


def students_visible_to(user) -> QuerySet[Student]:
    """Students the user's roles in force cover now: every student of the PSUs they
    administer or help (LEA Student Help Desk), and those of the campuses they help (School
    Student Help Desk); nobody else's."""
    return Student.objects.filter(student_scope_condition(user)).select_related("psu", "campus")


def student_scope_condition(user, prefix: str = "") -> Q:
    """``students_visible_to`` as a condition on a student's fields (behind ``prefix``, e.g.
    ``"student__"``); matches nothing for a user without those roles."""
    return Q(**{f"{prefix}psu_id__in": user.people_psu_ids}) | Q(
        **{f"{prefix}campus_id__in": user.help_desk_campus_ids}
    )


def campuses_visible_to(user) -> QuerySet[Campus]:
    return Campus.objects.filter(
        Q(psu_id__in=user.people_psu_ids) | Q(pk__in=user.help_desk_campus_ids)
    ).select_related("psu")


def students_search(
    *,
    user,
    text: str = "",
    campus: Campus | None = None,
    grade: str = "",
    signed_in: str = "",
) -> QuerySet[Student]:
    """The user's students whose student number, username or name starts with ``text``,
    narrowed to a campus and a grade, in name order.

    Digits search student numbers; anything else searches usernames and names: one word
    matches the start of the username, the last name or the first name; two or more words
    match the start of the first and last names in either order ("Jordan Smith",
    "Smith, Jordan"). Prefix matches keep every search on an index (migration 0003).
    ``signed_in`` ("yes" or "no") keeps the students who have (or have not) signed in since
    the portal last set their login password (``Student.signed_in_since_reset``)."""
    students = students_visible_to(user)
    if campus is not None:
        students = students.filter(campus=campus)
    if grade:
        students = students.filter(grade=grade)
    if signed_in:
        students = students.filter(temporary_password_set_at__isnull=signed_in == "yes")
    text = text.strip()
    if not text:
        return students.order_by(*NAME_ORDER)
    return students.filter(student_text_condition(text)).order_by(*SEARCH_ORDER)


def student_text_condition(text: str, prefix: str = "") -> Q:
    """The search of ``students_search`` as a condition on a student's fields (behind
    ``prefix``, e.g. ``"student__"`` from a row that names a student)."""

    def q(**lookups) -> Q:
        return Q(**{prefix + name: value for name, value in lookups.items()})

    if DIGITS.fullmatch(text):
        return q(student_number__startswith=text)
    words = [w for w in re.split(r"[\s,]+", text) if w]
    if len(words) == 1:
        word = words[0]
        return (
            q(username__startswith=word.lower())
            | q(last_name__istartswith=word)
            | q(first_name__istartswith=word)
        )
    # Where the first name ends and the last name starts is unknown: try the two likely
    # splits ("Mary Ann" + "Smith", "Mary" + "Ann Smith"), in both orders.
    splits = {(words[0], " ".join(words[1:])), (" ".join(words[:-1]), words[-1])}
    condition = Q()
    for one, other in splits:
        condition |= q(first_name__istartswith=one, last_name__istartswith=other)
        condition |= q(last_name__istartswith=one, first_name__istartswith=other)
    return condition
