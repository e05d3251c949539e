"""Handing out new passwords: a finished request's requester downloads, as CSV or as printable
cards, the passwords *that request* set (each outcome keeps its own, encrypted, for
HANDOUT_RETENTION_DAYS), and for each student whether that password signs in now and why not
(``people.sign_in``). A second download shows the same passwords as the first, whatever came
after. Every download is recorded (``DefaultPasswordDisclosure``); nobody but the requester
gets them."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from itertools import groupby

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import DateTimeField, Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET

from credentials.crypto import (
    decrypt_default_passwords,
    undecryptable_count,
    undecryptable_message,
)
from ncedcloud.client_address import client_address
from ncedcloud.csv_export import csv_download
from ncedcloud.db_functions import FastDateTime
from ncedcloud.links import portal_url
from people.models import DefaultPasswordDisclosure, Grade, Student
from people.permissions import help_desk_required
from people.services import default_password_disclosure_record
from people.sign_in import STATE_FIELDS, Reason, SignIn, password_signs_in, when
from rosters.selectors import HANDOUT_CSV_HEADER, classes_of_students, psu_has_classes

from .models import RegenerationOutcome, RegenerationRequest
from .selectors import handout_campuses, handout_outcomes, requests_visible_to

logger = logging.getLogger(__name__)

REQUESTER_ONLY = (
    "Only the administrator who made this request can download its students' passwords."
)
NOT_READY = (
    "The students' passwords can be handed out once the request has completed; "
    "this request is {status}."
)
REMOVED = (
    "The passwords this request set were removed on {date}, {days} days after it finished "
    "(HANDOUT_RETENTION_DAYS). A student's current default password is on their page in "
    "People."
)
NOT_KEPT = (
    "The password this request set was not kept: the request ran before the portal kept each "
    "request's passwords, and a later request changed the student's default."
)
CSV_HEADER = HANDOUT_CSV_HEADER
# The student's fields a handout reads (``campus__code`` becomes the attribute ``campus_code``).
STUDENT_FIELDS = (
    "id",
    "student_number",
    "last_name",
    "first_name",
    "username",
    "campus__code",
    "campus__name",
    "grade",
    *STATE_FIELDS,
)
ATTRIBUTES = tuple(field.replace("__", "_") for field in STUDENT_FIELDS)
DECRYPT_BATCH = 2000
# Why a card was left out, said of several students.
LEFT_OUT = {
    Reason.NOT_RESET: "their login password was not reset by this request (default only)",
    Reason.REPLACED: "their login password was replaced by a later request or reset",
    Reason.OWN_PASSWORD: "they chose their own password",
    Reason.EXPIRED: "the password expired unused",
    Reason.INACTIVE: "the account is inactive",
    Reason.UNDONE: "the request was undone for them",
}


class HandoutRow:
    """One student of a handout: directory data, the password the request set (None when it
    is no longer kept) and whether it signs in. It has the fields ``password_signs_in``
    reads, so no model instance is made per student."""

    __slots__ = ("classes", "password", "processed_at", "sign_in", *ATTRIBUTES)

    def __init__(self, values: tuple, processed_at, password: str | None) -> None:
        for name, value in zip(ATTRIBUTES, values, strict=True):
            setattr(self, name, value)
        self.processed_at = processed_at
        self.password = password
        self.classes: list[tuple[int, str, str]] = []  # (class id, class, teachers)

    @property
    def printable(self) -> bool:
        """On a card: the password is kept and signs in."""
        return self.password is not None and self.sign_in.signs_in

    def csv_cells(self) -> list:
        return [
            self.student_number,
            self.last_name,
            self.first_name,
            self.username,
            self.password or "",
            self.campus_code,
            self.grade,
            self.sign_in.word,
            self.sign_in.note if self.password is not None else NOT_KEPT,
            "; ".join(teachers for _, _, teachers in self.classes),
            "; ".join(title for _, title, _ in self.classes),
        ]


@sensitive_variables()
def handout_rows(outcomes: QuerySet[RegenerationOutcome], regeneration) -> Iterator[HandoutRow]:
    """The handout's students in order, read ``DECRYPT_BATCH`` at a time with their passwords
    decrypted in a batch: memory stays flat however large the request."""
    undo = undo_of(regeneration)
    if undo is not None:
        restored = RegenerationOutcome.objects.filter(
            request=undo,
            status=RegenerationOutcome.Status.CHANGED,
            student_id=OuterRef("student_id"),
        )
        outcomes = outcomes.annotate(undone=Exists(restored))
    columns = outcomes.values_list(
        "default_password_encrypted",
        FastDateTime("processed_at"),
        "undone" if undo is not None else "status",
        *(_column(f"student__{field}") for field in STUDENT_FIELDS),
    )
    now = timezone.now()
    rostered = psu_has_classes(regeneration.psu_id)
    batch: list[tuple] = []
    for values in columns.iterator(chunk_size=DECRYPT_BATCH):
        batch.append(values)
        if len(batch) == DECRYPT_BATCH:
            yield from _batch_rows(batch, regeneration, undo, now, rostered=rostered)
            batch = []
    yield from _batch_rows(batch, regeneration, undo, now, rostered=rostered)


def _column(path: str):
    """The field's column, a timestamp through ``FastDateTime``: a handout reads five a row."""
    name = path.removeprefix("student__")
    if "__" not in name and isinstance(Student._meta.get_field(name), DateTimeField):
        return FastDateTime(path)
    return path


def undo_of(regeneration: RegenerationRequest) -> RegenerationRequest | None:
    """The undo that gave the request's students back what they had, if one ran."""
    return regeneration.undos.filter(
        status__in=[
            RegenerationRequest.Status.COMPLETED,
            RegenerationRequest.Status.COMPLETED_WITH_ERRORS,
            RegenerationRequest.Status.CANCELLED,
        ]
    ).first()


@sensitive_variables()
def _batch_rows(
    batch: list[tuple], regeneration, undo, now, *, rostered: bool
) -> Iterator[HandoutRow]:
    passwords = iter(decrypt_default_passwords([values[0] for values in batch if values[0]]))
    classes = classes_of_students(values[3] for values in batch) if rostered else {}
    for token, processed_at, undone, *student in batch:
        row = HandoutRow(tuple(student), processed_at, next(passwords) if token else None)
        row.classes = classes.get(row.id, [])
        row.sign_in = password_signs_in(
            row, generation=regeneration.pk, made_at=processed_at, now=now
        )
        if undone is True:
            row.sign_in = SignIn(
                Reason.UNDONE,
                f"Undone by request #{undo.pk} on {when(undo.finished_at)}: the student has "
                "what they had before this request back.",
            )
        yield row


def handout_state(regeneration: RegenerationRequest, user) -> str:
    """Which part of the request page's *Hand out the new passwords* section applies to
    ``user`` now: ``requester_only``, ``pending``, ``failed``, ``nothing``, ``removed``,
    ``undo`` or ``ready``. The page renders it, and its script switches to the state the
    progress JSON reports."""
    if regeneration.requester_id != user.pk:
        return "requester_only"
    if regeneration.is_undo:
        return "undo"
    if regeneration.passwords_can_be_handed_out:
        if regeneration.handout_removed_at is not None:
            return "removed"
        return "ready" if regeneration.processed_count else "nothing"
    return "failed" if regeneration.is_finished else "pending"


def removed_message(regeneration: RegenerationRequest) -> str:
    return REMOVED.format(
        date=when(regeneration.handout_removed_at), days=settings.HANDOUT_RETENTION_DAYS
    )


def _requested_by_user(request: HttpRequest, pk: int) -> RegenerationRequest:
    """The request, if the signed-in user made it and still administers its PSU."""
    regeneration = get_object_or_404(requests_visible_to(request.user), pk=pk)
    if regeneration.requester_id != request.user.pk:
        raise PermissionDenied(REQUESTER_ONLY)
    return regeneration


def _refusal(request: HttpRequest, regeneration: RegenerationRequest) -> HttpResponse | None:
    """Why nothing can be handed out now, as a message on the request page; None when the
    passwords can be."""
    if not regeneration.passwords_can_be_handed_out:
        status = regeneration.get_status_display().lower()
        messages.error(request, NOT_READY.format(status=status))
        return redirect(regeneration)
    if regeneration.handout_removed_at is not None:
        messages.error(request, removed_message(regeneration))
        return redirect(regeneration)
    return None


def _undecryptable_refusal(
    request: HttpRequest, regeneration: RegenerationRequest, outcomes: QuerySet
) -> HttpResponse | None:
    """Check every password decrypts before anything is shown: a streamed file cannot turn
    into an error page half-way. None when they all do."""
    tokens = (
        outcomes.exclude(default_password_encrypted="")
        .order_by()  # in any order: sorting a district by campus, grade and name costs seconds
        .values_list("default_password_encrypted", flat=True)
    )
    count = undecryptable_count(tokens.iterator(chunk_size=DECRYPT_BATCH))
    if not count:
        return None
    message = undecryptable_message(count, "Nothing was downloaded.")
    logger.error("Handout of request %s refused. %s", regeneration.pk, message)
    return render(
        request,
        "regeneration/handout_error.html",
        {"regeneration": regeneration, "message": message},
        status=503,
    )


def _record(request: HttpRequest, regeneration, *, kind: str, count: int, scope: str) -> None:
    default_password_disclosure_record(
        actor=request.user,
        kind=kind,
        psu_id=regeneration.psu_id,
        request_number=regeneration.pk,
        student_count=count,
        scope=scope,
        ip=client_address(request),
    )


@help_desk_required
@require_GET
@sensitive_variables()
def handout_csv(request: HttpRequest, pk: int) -> HttpResponse:
    regeneration = _requested_by_user(request, pk)
    refused = _refusal(request, regeneration)
    if refused:
        return refused
    outcomes = handout_outcomes(regeneration)
    refused = _undecryptable_refusal(request, regeneration, outcomes)
    if refused:
        return refused
    count = outcomes.order_by().count()
    _record(
        request,
        regeneration,
        kind=DefaultPasswordDisclosure.Kind.CSV,
        count=count,
        scope="All students the request changed",
    )
    rows = (row.csv_cells() for row in handout_rows(outcomes, regeneration))
    return csv_download(f"request-{regeneration.pk}-default-passwords.csv", CSV_HEADER, rows)


@help_desk_required
@require_GET
@never_cache
@sensitive_variables()
def handout_cards(request: HttpRequest, pk: int) -> HttpResponse:
    """Printable cards of the students whose password from this request signs in, one group
    per campus and grade, each on its own sheet (or 30 to an Avery 5160 label sheet with
    ``?layout=labels``). A request larger than HANDOUT_CARDS_MAX_STUDENTS is printed a campus
    (or, for a very large campus, a campus and a grade) at a time: the page offers the choice
    and shows no password."""
    regeneration = _requested_by_user(request, pk)
    refused = _refusal(request, regeneration)
    if refused:
        return refused
    campus_code = request.GET.get("campus", "")[:6]
    grade = request.GET.get("grade", "")[:2]
    outcomes = handout_outcomes(regeneration, campus_code=campus_code, grade=grade)
    total = outcomes.order_by().count()
    # One campus's grade is the smallest group teachers hand out: it always prints.
    too_many = total > settings.HANDOUT_CARDS_MAX_STUDENTS and not (campus_code and grade)
    if not total or too_many:
        return _cards_chooser(request, regeneration, selected=total, campus_code=campus_code)
    refused = _undecryptable_refusal(request, regeneration, outcomes)
    if refused:
        return refused
    rows = list(handout_rows(outcomes, regeneration))
    printed = [row for row in rows if row.printable]
    scope = _scope(campus_code, grade)
    _record(
        request,
        regeneration,
        kind=DefaultPasswordDisclosure.Kind.CARDS,
        count=len(printed),
        scope=scope,
    )
    labels = request.GET.get("layout") == "labels"
    by_class = request.GET.get("by") == "class"
    return render(
        request,
        "regeneration/cards.html",
        {
            "regeneration": regeneration,
            "groups": _class_groups(printed) if by_class else _card_groups(printed),
            "by_class": by_class,
            "printed": len(printed),
            "left_out": _left_out(rows),
            "left_out_count": len(rows) - len(printed),
            "scope": scope,
            "labels": labels,
            "show_numbers": request.GET.get("numbers") == "1",
            "sign_in_url": portal_url(request) + reverse("students:login"),
            "query": request.GET.urlencode(),
        },
    )


def _scope(campus_code: str, grade: str) -> str:
    if campus_code and grade:
        return f"Campus {campus_code}, {Grade(grade).label if grade in Grade.values else grade}"
    if campus_code:
        return f"Campus {campus_code}"
    if grade:
        return Grade(grade).label if grade in Grade.values else f"Grade {grade}"
    return "All students the request changed"


@sensitive_variables()
def _card_groups(rows: list[HandoutRow]) -> list[dict]:
    groups = []
    for (code, name, grade), members in groupby(
        rows, key=lambda r: (r.campus_code, r.campus_name, r.grade)
    ):
        cards = list(members)
        groups.append(
            {"campus_code": code, "campus_name": name, "grade": Grade(grade).label, "cards": cards}
        )
    return groups


NO_CLASS = "No class"


@sensitive_variables()
def _class_groups(rows: list[HandoutRow]) -> list[dict]:
    """One group a class, by class title, so each teacher gets their own class's cards: a
    student of two classes has a card in each; students of no class come last."""
    groups: dict[int | None, dict] = {}
    for row in rows:
        for class_id, title, teachers in row.classes or [(None, NO_CLASS, "")]:
            group = groups.setdefault(
                class_id,
                {"title": title, "teachers": teachers, "campus_code": row.campus_code,
                 "campus_name": row.campus_name, "cards": []},
            )  # fmt: skip
            group["cards"].append(row)
    ordered = sorted(groups.items(), key=lambda item: (item[0] is None, item[1]["title"]))
    return [group for _, group in ordered]


def _left_out(rows: list[HandoutRow]) -> list[tuple[int, str]]:
    """How many students got no card, and why, most first."""
    reasons = Counter(
        LEFT_OUT[row.sign_in.reason] if row.password is not None else NOT_KEPT
        for row in rows
        if not row.printable
    )
    return [(count, reason) for reason, count in reasons.most_common()]


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
