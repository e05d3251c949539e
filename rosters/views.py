"""A teacher's *My Students* (their classes, a class's CSV and cards of the students' current
default passwords, and, where the PSU allows it, a reset to the default); the LEA
administrator's *Teachers* page (invites, the PSU setting); the superuser's roster import."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credentials.crypto import (
    DefaultPasswordDecryptionError,
    decrypt_default_passwords,
    undecryptable_count,
    undecryptable_message,
)
from ncedcloud.client_address import client_address
from ncedcloud.csv_export import csv_download
from ncedcloud.links import portal_url
from people.forms import ResetToDefaultForm
from people.models import PSU, DefaultPasswordDisclosure
from people.permissions import lea_admin_required, superuser_required, teacher_required
from people.services import (
    default_password_disclosure_record,
    psu_teachers_may_reset_set,
    student_reset_to_default,
)
from people.sign_in import current_default_signs_in

from .models import Class
from .oneroster import BundleError
from .roster_import import oneroster_import, result_lines
from .selectors import (
    HANDOUT_CSV_HEADER,
    class_students,
    class_teacher_names,
    classes_taught_by,
    classes_with_students,
    teachers_visible_to,
)
from .services import teachers_invite

logger = logging.getLogger(__name__)

CSV_HEADER = HANDOUT_CSV_HEADER
RESET_NOT_ALLOWED = (
    "Your district has not allowed teachers to reset students to the default password; ask "
    "your school's help desk."
)


@teacher_required
@require_GET
def my_students(request: HttpRequest) -> HttpResponse:
    return render(
        request, "rosters/my_students.html", {"classes": classes_with_students(request.user)}
    )


def _own_class(request: HttpRequest, pk: int) -> Class:
    """One of the signed-in teacher's classes; any other answers 404."""
    return get_object_or_404(classes_taught_by(request.user), pk=pk)


@sensitive_variables()
def _with_passwords(request: HttpRequest, roster_class: Class):
    """The class's students with their current default passwords and whether each signs in;
    a 503 page instead when any password cannot be decrypted (nothing is shown then)."""
    students = list(class_students(roster_class))
    tokens = [student.default_password_encrypted for student in students]
    count = undecryptable_count(tokens)
    if count:
        message = undecryptable_message(count, "Nothing was downloaded.")
        logger.error("Class %s handout refused. %s", roster_class.pk, message)
        return None, render(
            request, "credentials/undecryptable.html", {"message": message}, status=503
        )
    for student, password in zip(students, decrypt_default_passwords(tokens), strict=True):
        student.password_plain = password
        student.sign_in = current_default_signs_in(student)
    return students, None


def _record(request: HttpRequest, roster_class: Class, *, kind: str, count: int) -> None:
    default_password_disclosure_record(
        actor=request.user,
        kind=kind,
        psu_id=roster_class.psu_id,
        student_count=count,
        scope=f"Class {roster_class} at campus {roster_class.campus.code}",
        ip=client_address(request),
    )


@teacher_required
@require_GET
@sensitive_variables()
def class_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The class's students and their current default passwords, with *Signs in* and why
    not, as the request handouts show it."""
    roster_class = _own_class(request, pk)
    students, refused = _with_passwords(request, roster_class)
    if refused:
        return refused
    _record(
        request, roster_class, kind=DefaultPasswordDisclosure.Kind.CLASS_CSV, count=len(students)
    )
    teachers = class_teacher_names(roster_class)
    rows = (
        [s.student_number, s.last_name, s.first_name, s.username, s.password_plain,
         s.campus.code, s.grade, s.sign_in.word, s.sign_in.note, teachers, str(roster_class)]
        for s in students
    )  # fmt: skip
    filename = f"class-{roster_class.pk}-default-passwords.csv"
    return csv_download(filename, CSV_HEADER, rows)


@teacher_required
@require_GET
@never_cache
@sensitive_variables()
def class_cards(request: HttpRequest, pk: int) -> HttpResponse:
    """Printable cards of the class's students whose current default password signs in;
    the page says how many got none and why."""
    roster_class = _own_class(request, pk)
    students, refused = _with_passwords(request, roster_class)
    if refused:
        return refused
    printed = [student for student in students if student.sign_in.signs_in]
    _record(
        request, roster_class, kind=DefaultPasswordDisclosure.Kind.CLASS_CARDS, count=len(printed)
    )
    return render(
        request,
        "rosters/cards.html",
        {
            "roster_class": roster_class,
            "teachers": class_teacher_names(roster_class),
            "cards": printed,
            "left_out": [student for student in students if not student.sign_in.signs_in],
            "sign_in_url": portal_url(request) + reverse("students:login"),
        },
    )


@teacher_required
@require_http_methods(["GET", "POST"])
@sensitive_variables()
def class_student_reset(request: HttpRequest, pk: int, student_pk: int) -> HttpResponse:
    """*Reset to default password* for one student of the teacher's class, where the PSU
    allows teachers to (``PSU.teachers_may_reset``)."""
    roster_class = _own_class(request, pk)
    student = get_object_or_404(class_students(roster_class), pk=student_pk)
    if not roster_class.psu.teachers_may_reset:
        raise PermissionDenied(RESET_NOT_ALLOWED)
    form = ResetToDefaultForm(request.POST if request.method == "POST" else None)
    context = {"student": student, "form": form, "roster_class": roster_class}
    if form.is_valid():
        try:
            student_reset_to_default(
                student=student,
                actor=request.user,
                force_change=form.cleaned_data["force_password_change"],
            )
        except DefaultPasswordDecryptionError as exc:
            context["reset_error"] = str(exc)
            return render(request, "rosters/reset_default.html", context, status=503)
        messages.success(
            request,
            f"{student.full_name}'s login password is now their default password; their "
            "sessions have ended.",
        )
        return redirect("rosters:my_students")
    return render(request, "rosters/reset_default.html", context)


class TeachersMayResetForm(forms.Form):
    teachers_may_reset = forms.BooleanField(
        label="Teachers may reset to the default password",
        required=False,
        help_text="A teacher may reset one of their own students to the default password.",
    )


@lea_admin_required
@require_GET
def teachers(request: HttpRequest) -> HttpResponse:
    psus = PSU.objects.filter(pk__in=request.user.administered_psu_ids)
    return render(
        request,
        "rosters/teachers.html",
        {
            "teachers": teachers_visible_to(request.user),
            "psus": [
                (psu, TeachersMayResetForm(initial={"teachers_may_reset": psu.teachers_may_reset}))
                for psu in psus
            ],
        },
    )


@lea_admin_required
@require_POST
def teachers_invite_view(request: HttpRequest) -> HttpResponse:
    """Invite one teacher (``teacher``) or every teacher of a PSU (``psu``) of the user's."""
    visible = teachers_visible_to(request.user)
    teacher = request.POST.get("teacher", "")
    if teacher:
        chosen = visible.filter(pk=int(teacher) if teacher.isdigit() else 0)
        if not chosen:
            raise Http404("No such teacher.")
    else:
        chosen = visible.filter(psu__code=request.POST.get("psu", "")[:3])
    count = teachers_invite(teachers=chosen, portal=portal_url(request), actor=request.user)
    messages.success(
        request, f"{count} teacher{'s' if count != 1 else ''} invited to set a password."
    )
    return redirect("rosters:teachers")


@lea_admin_required
@require_POST
def psu_settings(request: HttpRequest, code: str) -> HttpResponse:
    psu = get_object_or_404(PSU, code=code, pk__in=request.user.administered_psu_ids)
    form = TeachersMayResetForm(request.POST)
    if form.is_valid():
        allowed = form.cleaned_data["teachers_may_reset"]
        psu_teachers_may_reset_set(psu=psu, allowed=allowed, actor=request.user)
        state = "may now" if allowed else "may no longer"
        messages.success(
            request, f"Teachers of PSU {psu.code} {state} reset to the default password."
        )
    return redirect("rosters:teachers")


class RosterUploadForm(forms.Form):
    bundle = forms.FileField(label="OneRoster 1.1 CSV bundle (.zip)")
    check_only = forms.BooleanField(label="Check only; change nothing", required=False)


@superuser_required
@require_http_methods(["GET", "POST"])
def roster_import(request: HttpRequest) -> HttpResponse:
    """The import of ``manage.py import_oneroster``, for superusers, from a page."""
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    context = {"form": form}
    if form.is_valid():
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bundle.zip"
            with path.open("wb") as handle:
                for chunk in form.cleaned_data["bundle"].chunks():
                    handle.write(chunk)
            try:
                result = oneroster_import(path, check=form.cleaned_data["check_only"])
            except BundleError as exc:
                context["bundle_error"] = f"{exc} Nothing was changed."
            else:
                context.update(result=result, lines=result_lines(result))
    return render(request, "rosters/import.html", context)
