"""Student sign-in, the signed-in page, the (forced) password change and sign-out."""

from __future__ import annotations

from axes.conf import settings as axes_settings
from axes.utils import reset as axes_reset
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from .backends import axes_username
from .forms import StudentLoginForm, StudentPasswordChangeForm
from .services import student_password_change, student_signed_in
from .student_auth import (
    student_required,
    student_session_end,
    student_session_refresh,
    student_session_start,
)


@sensitive_post_parameters("password")
@sensitive_variables()
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def student_login(request: HttpRequest) -> HttpResponse:
    if request.student:
        return redirect("students:home")
    form = StudentLoginForm(request, data=request.POST if request.method == "POST" else None)
    if form.is_valid():
        student = form.student
        student_signed_in(student=student)
        _forget_failures(request, student)
        student_session_start(request, student)
        return redirect(_next_url(request))
    return render(request, "students/login.html", {"form": form})


def _forget_failures(request: HttpRequest, student) -> None:
    """The right password resets the account's count, as for staff (Django's
    user_logged_in signal, which axes listens to, is for staff only)."""
    if axes_settings.AXES_RESET_ON_SUCCESS:
        axes_reset(username=axes_username(request, {"student_username": student.username}))


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next", "")
    if target.startswith("/student/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "students:home"


@student_required
@require_http_methods(["GET"])
def student_home(request: HttpRequest) -> HttpResponse:
    return render(request, "students/home.html", {"student": request.student})


@sensitive_post_parameters("current_password", "new_password1", "new_password2")
@sensitive_variables()
@csrf_protect
@never_cache
@student_required(allow_must_change=True)
@require_http_methods(["GET", "POST"])
def student_password(request: HttpRequest) -> HttpResponse:
    student = request.student
    form = StudentPasswordChangeForm(
        request, student, data=request.POST if request.method == "POST" else None
    )
    if form.is_valid():
        _forget_failures(request, student)
        student_password_change(student=student, new_password=form.cleaned_data["new_password2"])
        student_session_refresh(request, student)
        messages.success(request, "Your new password is set. Use it the next time you sign in.")
        return redirect("students:home")
    return render(
        request,
        "students/password_change.html",
        {"form": form, "student": student, "forced": student.must_change_password},
    )


@require_POST
def student_logout(request: HttpRequest) -> HttpResponse:
    student_session_end(request)
    messages.info(request, "You are signed out.")
    return redirect("students:login")
