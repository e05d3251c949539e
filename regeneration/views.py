"""The request's pages: the form, the confirm step, the request page and "My requests"."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from catalog.permissions import lea_admin_required

from .forms import RegenerationRequestForm
from .handout import handout_state
from .models import RegenerationRequest
from .selectors import match_counts, requests_visible_to
from .services import regeneration_request_create

DRAFTS_SESSION_KEY = "regeneration_drafts"
MAX_DRAFTS = 10


@lea_admin_required
@require_http_methods(["GET", "POST"])
def regeneration_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = RegenerationRequestForm(request.POST, user=request.user)
        if form.is_valid():
            key = _draft_save(request, form.request_values())
            return redirect("regeneration:confirm", key=key)
    else:
        form = RegenerationRequestForm(user=request.user, initial=_initial(request))
    return render(request, "regeneration/new.html", {"form": form})


@lea_admin_required
@require_http_methods(["GET", "POST"])
def regeneration_confirm(request: HttpRequest, key: uuid.UUID) -> HttpResponse:
    existing = requests_visible_to(request.user).filter(confirmation_key=key).first()
    if existing is not None:
        messages.info(
            request, f"Request #{existing.pk} was already confirmed; nothing new was queued."
        )
        return redirect(existing)
    values = _drafts(request).get(str(key))
    if values is None:
        messages.error(
            request, "This request is no longer waiting for confirmation. Fill in the form again."
        )
        return redirect("regeneration:new")
    form = RegenerationRequestForm(_form_data(values), user=request.user)
    if not form.is_valid():  # e.g. the role or a campus changed since the form was filled in
        messages.error(request, "The request is no longer valid; correct it and request again.")
        return render(request, "regeneration/new.html", {"form": form}, status=200)
    values = form.request_values()
    counts = match_counts(
        psu=form.cleaned_data["psu_code"],
        campus_codes=values["campus_codes"],
        grade_levels=values["grade_levels"],
    )
    if request.method == "POST" and counts.total:
        regeneration, created = regeneration_request_create(
            requester=request.user, values=values, confirmation_key=key
        )
        _draft_discard(request, key)
        if created:
            messages.success(
                request, f"Request #{regeneration.pk} is queued for {counts.total:,} students."
            )
        else:
            messages.info(
                request,
                f"Request #{regeneration.pk} was already confirmed; nothing new was queued.",
            )
        return redirect(regeneration)
    if request.method == "POST":
        messages.error(request, "No student matches this request, so it cannot be confirmed.")
    return render(
        request,
        "regeneration/confirm.html",
        {"values": values, "psu": form.cleaned_data["psu_code"], "counts": counts, "key": key},
    )


@lea_admin_required
@require_GET
def regeneration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    regeneration = get_object_or_404(requests_visible_to(request.user), pk=pk)
    outcomes = regeneration.outcomes.select_related("student__campus").order_by("id")
    page = Paginator(outcomes, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "regeneration/detail.html",
        {
            "regeneration": regeneration,
            "page": page,
            "waiting": _waiting_note(regeneration),
            "handout": handout_state(regeneration, request.user),
        },
    )


@lea_admin_required
@require_GET
@never_cache
def regeneration_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """The request's progress for the page's live progress bar, read from the database.
    Times come as ISO 8601 and as the page shows them; ``handout`` says which part of the
    *Hand out the new passwords* section applies now (see ``handout_state``)."""
    regeneration = get_object_or_404(requests_visible_to(request.user), pk=pk)
    duration = regeneration.duration
    return JsonResponse(
        {
            **_moment("started_at", regeneration.started_at),
            **_moment("finished_at", regeneration.finished_at),
            "status": regeneration.status,
            "status_display": regeneration.get_status_display(),
            "finished": regeneration.is_finished,
            "percent": regeneration.percent_done,
            "targeted": regeneration.targeted_count,
            "processed": regeneration.processed_count,
            "reset": regeneration.reset_count,
            "failed": regeneration.failed_count,
            "duration_seconds": round(duration.total_seconds(), 1) if duration else None,
            "error": regeneration.error_message,
            "waiting": _waiting_note(regeneration),
            "handout": handout_state(regeneration, request.user),
        }
    )


def _moment(name: str, value: datetime | None) -> dict[str, str | None]:
    """``value`` as ISO 8601 and as a template renders it (local time, DATETIME_FORMAT)."""
    if value is None:
        return {name: None, f"{name}_display": "—"}
    shown = formats.localize(timezone.template_localtime(value))
    return {name: value.isoformat(), f"{name}_display": shown}


@lea_admin_required
@require_GET
def regeneration_list(request: HttpRequest) -> HttpResponse:
    mine = requests_visible_to(request.user).filter(requester=request.user)
    page = Paginator(mine, 25).get_page(request.GET.get("page"))
    return render(request, "regeneration/list.html", {"page": page})


def _waiting_note(regeneration: RegenerationRequest) -> str:
    if regeneration.status != RegenerationRequest.Status.QUEUED:
        return ""
    ahead = (
        RegenerationRequest.objects.filter(
            psu_id=regeneration.psu_id, status=RegenerationRequest.Status.RUNNING
        )
        .values_list("pk", flat=True)
        .first()
    )
    if ahead:
        return (
            f"Waiting for request #{ahead} of the same PSU to finish; requests of one PSU "
            "run one at a time."
        )
    if regeneration.dispatched_at is None:
        return (
            "Recorded, and waiting for the task queue, which cannot be reached right now. "
            "It starts by itself as soon as the queue is back; nothing is lost."
        )
    return "Queued; a worker will start it shortly."


def _drafts(request: HttpRequest) -> dict:
    return request.session.get(DRAFTS_SESSION_KEY, {})


def _draft_save(request: HttpRequest, values: dict) -> uuid.UUID:
    key = uuid.uuid4()
    drafts = _drafts(request)
    drafts[str(key)] = values
    request.session[DRAFTS_SESSION_KEY] = dict(list(drafts.items())[-MAX_DRAFTS:])
    return key


def _draft_discard(request: HttpRequest, key: uuid.UUID) -> None:
    drafts = _drafts(request)
    drafts.pop(str(key), None)
    request.session[DRAFTS_SESSION_KEY] = drafts


def _form_data(values: dict) -> dict:
    data = {
        "psu_code": values["psu_code"],
        "campus_codes": ", ".join(values["campus_codes"]),
        "grade_levels": ", ".join(values["grade_levels"]),
        "comments": values["comments"],
    }
    for flag in ("reset_current_passwords", "force_password_change"):
        if values[flag]:
            data[flag] = "on"
    return data


def _initial(request: HttpRequest) -> dict:
    """Edit a draft (``?draft=<key>``) or, for a single-PSU administrator, prefill the PSU."""
    values = _drafts(request).get(request.GET.get("draft", ""))
    if values:
        return _form_data(values)
    codes = request.user.administered_psu_codes
    return {"psu_code": codes[0]} if len(codes) == 1 else {}
