"""Reads: which students a request targets, how many, and which requests a user may see."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from people.models import ALLOWED_GRADES, PSU, Campus, CredentialEvent, Student
from people.sign_in import signs_in_condition

from .models import (
    RegenerationChunk,
    RegenerationOutcome,
    RegenerationRequest,
    RequestedStudent,
)


def students_matching(
    *, psu: PSU | int, campus_codes: list[str], grade_levels: list[str]
) -> QuerySet[Student]:
    """Active students of the PSU, narrowed to the campuses and grades given (empty: all)."""
    psu_id = psu if isinstance(psu, int) else psu.pk
    students = Student.objects.filter(psu_id=psu_id, is_active=True)
    if campus_codes:
        campus_ids = Campus.objects.filter(psu_id=psu_id, code__in=campus_codes).values("id")
        students = students.filter(campus_id__in=campus_ids)
    if grade_levels:
        students = students.filter(grade__in=grade_levels)
    return students


def students_of_request(request: RegenerationRequest) -> QuerySet[Student]:
    """The students the request targets, as it chose them: by filters, by UID (one student
    or a file), or, for an undo, those the undone request changed. Students of another PSU
    never: a student who moved since is left alone."""
    Selection = RegenerationRequest.Selection
    if request.selection == Selection.FILTERS:
        return students_matching(
            psu=request.psu_id,
            campus_codes=request.campus_codes,
            grade_levels=request.grade_levels,
        )
    if request.selection == Selection.UNDO:
        changed = RegenerationOutcome.objects.filter(
            request_id=request.undo_of_id, status=RegenerationOutcome.Status.CHANGED
        )
        return Student.objects.filter(psu_id=request.psu_id, id__in=changed.values("student_id"))
    chosen = RequestedStudent.objects.filter(request=request).values("student_id")
    return Student.objects.filter(psu_id=request.psu_id, is_active=True, id__in=chosen)


def students_by_ids(*, psu: PSU | int, student_ids: list[int]) -> QuerySet[Student]:
    """Active students of the PSU among ``student_ids`` (a checked UID file's)."""
    psu_id = psu if isinstance(psu, int) else psu.pk
    return Student.objects.filter(psu_id=psu_id, is_active=True, id__in=student_ids)


@dataclass
class CampusCount:
    code: str
    name: str
    by_grade: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_grade.values())


@dataclass
class MatchCounts:
    campuses: list[CampusCount]
    grades: list[str]

    @property
    def total(self) -> int:
        return sum(campus.total for campus in self.campuses)

    def grade_total(self, grade: str) -> int:
        return sum(campus.by_grade.get(grade, 0) for campus in self.campuses)

    def rows(self) -> list[tuple[CampusCount, list[int]]]:
        return [(c, [c.by_grade.get(g, 0) for g in self.grades]) for c in self.campuses]

    def grade_totals(self) -> list[int]:
        return [self.grade_total(g) for g in self.grades]


def match_counts(*, psu: PSU, campus_codes: list[str], grade_levels: list[str]) -> MatchCounts:
    """How many students a request would target, per campus and grade, in one query.

    ``COUNT(*)``, not ``COUNT(id)``: every column the query reads is then in
    ``student_selection_idx`` (psu, campus, grade; active students), so PostgreSQL answers
    from that index alone, already in group order, instead of reading every student row.
    """
    students = students_matching(psu=psu, campus_codes=campus_codes, grade_levels=grade_levels)
    return counts_of([students])


def counts_of_ids(student_ids: list[int], *, psu: PSU | int, batch: int = 5000) -> MatchCounts:
    """``match_counts`` for a list of students (a UID file's), ``batch`` ids a query: a
    district's list is more ids than a query may carry."""
    return counts_of(
        students_by_ids(psu=psu, student_ids=student_ids[start : start + batch])
        for start in range(0, len(student_ids), batch)
    )


def counts_of(querysets) -> MatchCounts:
    """Students per campus and grade over one or more querysets of students."""
    per_campus: dict[int, dict[str, int]] = defaultdict(dict)
    for students in querysets:
        grouped = students.values("campus_id", "grade").annotate(n=Count("*")).order_by()
        for row in grouped:
            counts = per_campus[row["campus_id"]]
            counts[row["grade"]] = counts.get(row["grade"], 0) + row["n"]
    campuses = Campus.objects.filter(pk__in=per_campus).order_by("code")
    grades = [g for g in ALLOWED_GRADES if any(g in counts for counts in per_campus.values())]
    return MatchCounts(
        campuses=[CampusCount(c.code, c.name, per_campus[c.pk]) for c in campuses],
        grades=grades,
    )


def requests_visible_to(user) -> QuerySet[RegenerationRequest]:
    """Requests of the PSUs the user administers now (whoever made them); for the help-desk
    roles, the user's own requests while the role still covers them: of a PSU they help
    (LEA Student Help Desk), or for a student of a campus they help (School Student Help
    Desk; an undo by the student of the request it undid)."""
    scope = Q(psu_id__in=user.administered_psu_ids) | Q(
        requester_id=user.pk, psu_id__in=user.help_desk_psu_ids
    )
    if user.help_desk_campus_ids:
        of_campus = RequestedStudent.objects.filter(
            student__campus_id__in=user.help_desk_campus_ids
        )
        scope |= Q(requester_id=user.pk) & (
            Exists(of_campus.filter(request_id=OuterRef("pk")))
            | Exists(of_campus.filter(request_id=OuterRef("undo_of_id")))
        )
    return RegenerationRequest.objects.filter(scope).select_related("psu", "requester")


def request_confirmed_with(confirmation_key: uuid.UUID) -> RegenerationRequest | None:
    """The request a draft was already confirmed as, if any."""
    return RegenerationRequest.objects.filter(confirmation_key=confirmation_key).first()


def chunk_progress(request: RegenerationRequest) -> tuple[int, int]:
    """(chunks done, chunks planned) of the request, in one query."""
    counts = RegenerationChunk.objects.filter(request=request).aggregate(
        done=Count("id", filter=Q(status=RegenerationChunk.Status.DONE)), total=Count("id")
    )
    return counts["done"], counts["total"]


def grade_order(field: str = "grade") -> Case:
    """The help text's grade order (-5 ... 13, then -9), for sorting ``field`` in the database."""
    whens = [When(**{field: grade}, then=Value(n)) for n, grade in enumerate(ALLOWED_GRADES)]
    return Case(*whens, output_field=IntegerField())


def handout_outcomes(
    regeneration: RegenerationRequest, *, campus_code: str = "", grade: str = ""
) -> QuerySet[RegenerationOutcome]:
    """What the request changed, one outcome per student still in its PSU, by campus, grade
    and name: what the requester hands out (each outcome keeps the password it set)."""
    outcomes = RegenerationOutcome.objects.filter(
        request=regeneration,
        status=RegenerationOutcome.Status.CHANGED,
        student__psu_id=regeneration.psu_id,
    )
    if campus_code:
        outcomes = outcomes.filter(student__campus__code=campus_code)
    if grade:
        outcomes = outcomes.filter(student__grade=grade)
    return outcomes.annotate(grade_order=grade_order("student__grade")).order_by(
        "student__campus__code",
        "grade_order",
        "student__last_name",
        "student__first_name",
        "student_id",
    )


def request_sign_in_count(regeneration: RegenerationRequest) -> int:
    """How many of the request's students have signed in with the password it set."""
    return CredentialEvent.objects.filter(
        kind=CredentialEvent.Kind.FIRST_SIGN_IN, request_number=regeneration.pk
    ).count()


def request_signs_in_count(regeneration: RegenerationRequest) -> int:
    """How many of the request's students' login passwords are, right now, the password it
    set (``people.sign_in``'s rule, in the database)."""
    signs_in = signs_in_condition(generation=regeneration.pk, prefix="student__")
    return handout_outcomes(regeneration).filter(signs_in).order_by().count()


@dataclass
class HandoutCampus:
    code: str
    name: str
    by_grade: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(n for _, n in self.by_grade)


def handout_campuses(regeneration: RegenerationRequest) -> list[HandoutCampus]:
    """How many students the request changed per campus and grade, in one query."""
    grouped = (
        handout_outcomes(regeneration)
        .values("student__campus__code", "student__campus__name", "student__grade", "grade_order")
        .annotate(n=Count("id"))
        .order_by("student__campus__code", "grade_order")
    )
    campuses: dict[str, HandoutCampus] = {}
    for row in grouped:
        code = row["student__campus__code"]
        campus = campuses.setdefault(code, HandoutCampus(code, row["student__campus__name"]))
        campus.by_grade.append((row["student__grade"], row["n"]))
    return list(campuses.values())
