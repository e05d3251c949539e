"""The confirm step: a draft checked again (the role, the campuses or the student may have
changed since the form), with the counts per campus and grade it would change."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.http import HttpRequest

from people.models import PSU, Campus, Grade, Student
from people.selectors import student_scope_condition

from .drafts import draft_form_data, draft_student_ids
from .forms import RegenerationRequestForm
from .models import RegenerationRequest
from .selectors import MatchCounts, counts_of, counts_of_ids, match_counts, students_by_ids

Selection = RegenerationRequest.Selection


@dataclass(frozen=True)
class Confirmation:
    selection: str
    psu: PSU
    values: dict
    counts: MatchCounts
    student: Student | None = None
    student_ids: list[int] | None = None

    @property
    def title(self) -> str:
        return RegenerationRequest(selection=self.selection).title


def confirmation_of(request: HttpRequest, key: uuid.UUID, values: dict) -> Confirmation | None:
    """The draft as it would be confirmed now; None when it no longer holds."""
    selection = values.get("selection", Selection.FILTERS)
    if selection == Selection.FILTERS:
        form = RegenerationRequestForm(draft_form_data(values), user=request.user)
        if not form.is_valid():
            return None
        values, psu = form.request_values(), form.cleaned_data["psu_code"]
        counts = match_counts(
            psu=psu, campus_codes=values["campus_codes"], grade_levels=values["grade_levels"]
        )
        return Confirmation(selection, psu, values, counts)
    allowed = (
        [psu_id for _, _, psu_id in request.user.psu_roles]
        if selection == Selection.STUDENT
        else request.user.administered_psu_ids
    )
    psu = PSU.objects.filter(code=values["psu_code"], pk__in=allowed).first()
    if psu is None:
        return None
    if selection == Selection.STUDENT:
        student = (
            students_by_ids(psu=psu, student_ids=[values["student_id"]])
            .filter(student_scope_condition(request.user))
            .select_related("campus")
            .first()
        )
        if student is None:
            return None
        counts = counts_of([Student.objects.filter(pk=student.pk)])
        return Confirmation(selection, psu, values, counts, student, [student.pk])
    student_ids = draft_student_ids(request, key)
    if student_ids is None:
        return None
    return Confirmation(
        selection, psu, values, counts_of_ids(student_ids, psu=psu), student_ids=student_ids
    )


@dataclass(frozen=True)
class PSUCampuses:
    code: str
    name: str
    campuses: list[tuple[str, str]]


def campus_choices(user) -> dict:
    """What the PSU form's pickers offer: each administered PSU's campuses by name, and the
    grades with their names. They fill the form's text fields (which stay its interface)."""
    psus = {
        psu.pk: PSUCampuses(psu.code, psu.name, [])
        for psu in PSU.objects.filter(pk__in=user.administered_psu_ids).order_by("code")
    }
    for psu_id, code, name in (
        Campus.objects.filter(psu_id__in=psus)
        .order_by("code")
        .values_list("psu_id", "code", "name")
    ):
        psus[psu_id].campuses.append((code, name))
    return {"psus": list(psus.values()), "grades": Grade.choices}
