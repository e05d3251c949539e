"""Handing out new passwords: a finished request's requester downloads the affected
students' current default passwords as CSV or as printable cards. Every download is
recorded (``DefaultPasswordDisclosure``); nobody but the requester gets them."""

from __future__ import annotations

import logging
from itertools import groupby

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET

from credentials.crypto import (
    decrypt_default_password,
    undecryptable_count,
    undecryptable_message,
)
from ncedcloud.client_address import client_address
from ncedcloud.csv_export import csv_download
from people.models import DefaultPasswordDisclosure
from people.permissions import lea_admin_required
from people.services import default_password_disclosure_record

from .models import RegenerationRequest
from .selectors import handout_campuses, handout_students, requests_visible_to

logger = logging.getLogger(__name__)

REQUESTER_ONLY = (
    "Only the administrator who made this request can download its students' passwords."
)
NOT_READY = (
    "The students' passwords can be handed out once the request has completed; "
    "this request is {status}."
)
CSV_HEADER = [
    "Student number",
    "Last name",
    "First name",
    "Campus code",
    "Campus",
    "Grade",
    "Username",
    "Default password",
]


def handout_state(regeneration: RegenerationRequest, user) -> str:
    """Which part of the request page's *Hand out the new passwords* section applies to
    ``user`` now: ``requester_only``, ``pending``, ``failed``, ``nothing`` or ``ready``. The
    page renders it, and its script switches to the state the progress JSON reports."""
    if regeneration.requester_id != user.pk:
        return "requester_only"
    if regeneration.passwords_can_be_handed_out:
        return "ready" if regeneration.processed_count else "nothing"
    return "failed" if regeneration.is_finished else "pending"


def _requested_by_user(request: HttpRequest, pk: int) -> RegenerationRequest:
    """The request, if the signed-in user made it and still administers its PSU."""
    regeneration = get_object_or_404(requests_visible_to(request.user), pk=pk)
    if regeneration.requester_id != request.user.pk:
        raise PermissionDenied(REQUESTER_ONLY)
    return regeneration


def _not_ready(request: HttpRequest, regeneration: RegenerationRequest) -> HttpResponse:
    status = regeneration.get_status_display().lower()
    messages.error(request, NOT_READY.format(status=status))
    return redirect(regeneration)


def _undecryptable(
    request: HttpRequest, regeneration: RegenerationRequest, count: int
) -> HttpResponse:
    message = undecryptable_message(count, "Nothing was downloaded.")
    logger.error("Handout of request %s refused. %s", regeneration.pk, message)
    return render(
        request,
        "regeneration/handout_error.html",
        {"regeneration": regeneration, "message": message},
        status=503,
    )


@lea_admin_required
@require_GET
@sensitive_variables()
def handout_csv(request: HttpRequest, pk: int) -> HttpResponse:
    regeneration = _requested_by_user(request, pk)
    if not regeneration.passwords_can_be_handed_out:
        return _not_ready(request, regeneration)
    students = handout_students(regeneration)
    # Check every password decrypts before the first byte goes out: a streamed file cannot
    # turn into an error page half-way.
    tokens = students.values_list("default_password_encrypted", flat=True)
    failures = undecryptable_count(tokens.iterator(chunk_size=5000))
    if failures:
        return _undecryptable(request, regeneration, failures)
    default_password_disclosure_record(
        actor=request.user,
        kind=DefaultPasswordDisclosure.Kind.CSV,
        psu_id=regeneration.psu_id,
        request_number=regeneration.pk,
        student_count=students.count(),
        scope="All students the request changed",
        ip=client_address(request),
    )
    columns = students.values_list(
        "student_number",
        "last_name",
        "first_name",
        "campus__code",
        "campus__name",
        "grade",
        "username",
        "default_password_encrypted",
    )
    rows = (
        [*row[:-1], decrypt_default_password(row[-1])] for row in columns.iterator(chunk_size=2000)
    )
    return csv_download(f"request-{regeneration.pk}-default-passwords.csv", CSV_HEADER, rows)


@lea_admin_required
@require_GET
@never_cache
@sensitive_variables()
def handout_cards(request: HttpRequest, pk: int) -> HttpResponse:
    """Printable cards, one group per campus and grade, each group on its own page. A
    request larger than HANDOUT_CARDS_MAX_STUDENTS is printed a campus (or, for a very large
    campus, a campus and a grade) at a time: the page offers the choice and shows no
    password."""
    regeneration = _requested_by_user(request, pk)
    if not regeneration.passwords_can_be_handed_out:
        return _not_ready(request, regeneration)
    campus_code = request.GET.get("campus", "")[:6]
    grade = request.GET.get("grade", "")[:2]
    students = handout_students(regeneration, campus_code=campus_code, grade=grade)
    total = students.count()
    # One campus's grade is the smallest group teachers hand out: it always prints.
    too_many = total > settings.HANDOUT_CARDS_MAX_STUDENTS and not (campus_code and grade)
    if not total or too_many:
        return _cards_chooser(request, regeneration, selected=total, campus_code=campus_code)
    rows = list(students)
    failures = undecryptable_count(s.default_password_encrypted for s in rows)
    if failures:
        return _undecryptable(request, regeneration, failures)
    default_password_disclosure_record(
        actor=request.user,
        kind=DefaultPasswordDisclosure.Kind.CARDS,
        psu_id=regeneration.psu_id,
        request_number=regeneration.pk,
        student_count=total,
        scope=_scope(campus_code, grade),
        ip=client_address(request),
    )
    return render(
        request,
        "regeneration/cards.html",
        {
            "regeneration": regeneration,
            "groups": _card_groups(rows),
            "total": total,
            "scope": _scope(campus_code, grade),
            "sign_in_url": settings.PORTAL_BASE_URL + reverse("students:login"),
        },
    )


def _scope(campus_code: str, grade: str) -> str:
    if campus_code and grade:
        return f"Campus {campus_code}, grade {grade}"
    if campus_code:
        return f"Campus {campus_code}"
    if grade:
        return f"Grade {grade}"
    return "All students the request changed"


@sensitive_variables()
def _card_groups(students) -> list[dict]:
    groups = []
    for (campus, grade), members in groupby(students, key=lambda s: (s.campus, s.grade)):
        cards = [
            {"student": s, "password": decrypt_default_password(s.default_password_encrypted)}
            for s in members
        ]
        groups.append({"campus": campus, "grade": grade, "cards": cards})
    return groups


def _cards_chooser(
    request: HttpRequest, regeneration: RegenerationRequest, *, selected: int, campus_code: str
) -> HttpResponse:
    return render(
        request,
        "regeneration/cards_choose.html",
        {
            "regeneration": regeneration,
            "campuses": handout_campuses(regeneration),
            "selected": selected,
            "campus_code": campus_code,
            "limit": settings.HANDOUT_CARDS_MAX_STUDENTS,
        },
    )
