"""The People module: the students of a staff member's PSUs (LEA Administrator, LEA Student
Help Desk) and campuses (School Student Help Desk), nobody else's."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credentials.crypto import DefaultPasswordDecryptionError, decrypt_default_password
from ncedcloud.client_address import client_address
from ncedcloud.pagination import IdsFirstPaginator

from .forms import ResetToDefaultForm, StudentSearchForm
from .history import student_history
from .models import DefaultPasswordDisclosure, Student
from .permissions import help_desk_required
from .selectors import students_search, students_visible_to
from .services import default_password_disclosure_record, student_reset_to_default
from .sign_in import current_default_signs_in, expires_at

logger = logging.getLogger(__name__)

STUDENTS_PER_PAGE = 50


@help_desk_required
@require_GET
def people_list(request: HttpRequest) -> HttpResponse:
    form = StudentSearchForm(request.GET or None, user=request.user)
    page = None
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        students = students_search(
            user=request.user,
            text=data.get("q", ""),
            campus=data.get("campus"),
            grade=data.get("grade", ""),
            signed_in=data.get("signed_in", ""),
        )
        page = IdsFirstPaginator(students, STUDENTS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "people/list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@help_desk_required
@require_GET
def people_detail(request: HttpRequest, pk: int) -> HttpResponse:
    student = get_object_or_404(students_visible_to(request.user), pk=pk)
    return _detail(request, student)


@help_desk_required
@require_POST
@never_cache
@sensitive_variables()
def people_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the student's default password, once, and record that it was shown. A password
    no key decrypts answers 503, naming the setting to fix."""
    student = get_object_or_404(students_visible_to(request.user), pk=pk)
    try:
        password = decrypt_default_password(student.default_password_encrypted)
    except DefaultPasswordDecryptionError as exc:
        logger.error("Reveal of student %s refused. %s", pk, exc)
        return _detail(request, student, reveal_error=str(exc), status=503)
    default_password_disclosure_record(
        actor=request.user,
        kind=DefaultPasswordDisclosure.Kind.REVEAL,
        psu_id=student.psu_id,
        student=student,
        ip=client_address(request),
    )
    return _detail(request, student, revealed_password=password)


def _detail(
    request: HttpRequest,
    student: Student,
    *,
    revealed_password: str = "",
    reveal_error: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "people/detail.html",
        {
            "student": student,
            "temporary_expires_at": expires_at(student),
            "default_sign_in": current_default_signs_in(student),
            "history": student_history(student),
            "revealed_password": revealed_password,
            "reveal_error": reveal_error,
        },
        status=status,
    )


@help_desk_required
@require_http_methods(["GET", "POST"])
@sensitive_variables()
def people_reset_default(request: HttpRequest, pk: int) -> HttpResponse:
    """*Reset to default password*: a confirm page (GET), then the reset (POST). A default no
    key decrypts answers 503 on the confirm page, naming the setting to fix."""
    student = get_object_or_404(students_visible_to(request.user), pk=pk)
    form = ResetToDefaultForm(request.POST if request.method == "POST" else None)
    context = {"student": student, "form": form}
    if form.is_valid():
        try:
            student_reset_to_default(
                student=student,
                actor=request.user,
                force_change=form.cleaned_data["force_password_change"],
            )
        except DefaultPasswordDecryptionError as exc:
            logger.error("Reset to default of student %s refused. %s", pk, exc)
            context["reset_error"] = str(exc)
            return render(request, "people/reset_default.html", context, status=503)
        messages.success(
            request,
            f"{student.full_name}'s login password is now their default password; their "
            "sessions have ended.",
        )
        return redirect("people:detail", pk=student.pk)
    return render(request, "people/reset_default.html", context)
