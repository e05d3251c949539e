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

from ncedcloud.links import portal_url
from people.permissions import lea_admin_required

from .drafts import draft_discard, draft_form_data, draft_get, draft_save
from .forms import RegenerationRequestForm
from .handout import handout_state, removed_message
from .lifecycle import (
    RequestAlreadyConfirmed,
    RequestMatchesNobody,
    regeneration_request_create,
)
from .models import RegenerationRequest
from .selectors import (
    match_counts,
    request_confirmed_with,
    request_sign_in_count,
    request_signs_in_count,
    requests_visible_to,
)


@lea_admin_required
@require_http_methods(["GET", "POST"])
def regeneration_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = RegenerationRequestForm(request.POST, user=request.user)
        if form.is_valid():
            key = draft_save(request, form.request_values())
            return redirect("regeneration:confirm", key=key)
    else:
        form = RegenerationRequestForm(user=request.user, initial=_initial(request))
    return render(request, "regeneration/new.html", {"form": form})


@lea_admin_required
@require_http_methods(["GET", "POST"])
def regeneration_confirm(request: HttpRequest, key: uuid.UUID) -> HttpResponse:
    values = draft_get(request, key)
    if values is None:
        return _no_draft(request, key)
    form = RegenerationRequestForm(draft_form_data(values), user=request.user)
    if not form.is_valid():  # e.g. the role or a campus changed since the form was filled in
        messages.error(request, "The request is no longer valid; correct it and request again.")
        return render(request, "regeneration/new.html", {"form": form}, status=200)
    values = form.request_values()
    counts = match_counts(
        psu=form.cleaned_data["psu_code"],
        campus_codes=values["campus_codes"],
        grade_levels=values["grade_levels"],
    )
    if request.method == "POST":
        try:
            regeneration = regeneration_request_create(
                requester=request.user,
                values=values,
                confirmation_key=key,
                portal_url=portal_url(request),
            )
        except RequestAlreadyConfirmed as refused:
            draft_discard(request, key)
            messages.info(request, str(refused))
            return redirect(refused.request)
        except RequestMatchesNobody as refused:
            messages.error(request, str(refused))
        else:
            draft_discard(request, key)
            # The request page shows the banner, with the request's live status in it.
            request.session[CONFIRMED_SESSION_KEY] = [regeneration.pk, counts.total]
            return redirect(regeneration)
    return render(
        request,
        "regeneration/confirm.html",
        {"values": values, "psu": form.cleaned_data["psu_code"], "counts": counts, "key": key},
    )


def _no_draft(request: HttpRequest, key: uuid.UUID) -> HttpResponse:
    """The draft is gone: confirmed already (back button, double click), or too old."""
    confirmed = request_confirmed_with(key)
    if confirmed is not None and confirmed.psu_id in request.user.administered_psu_ids:
        messages.info(request, str(RequestAlreadyConfirmed(confirmed)))
        return redirect(confirmed)
    messages.error(
        request, "This request is no longer waiting for confirmation. Fill in the form again."
    )
    return redirect("regeneration:new")


CONFIRMED_SESSION_KEY = "regeneration_confirmed"


@lea_admin_required
@require_GET
def regeneration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    regeneration = get_object_or_404(requests_visible_to(request.user), pk=pk)
    outcomes = regeneration.outcomes.select_related("student__campus").order_by("id")
    page = Paginator(outcomes, 50).get_page(request.GET.get("page"))
    handout = handout_state(regeneration, request.user)
    return render(
        request,
        "regeneration/detail.html",
        {
            "regeneration": regeneration,
            "page": page,
            "waiting": _waiting_note(regeneration),
            "handout": handout,
            "confirmed_count": _just_confirmed(request, regeneration),
            "sign_ins": _sign_ins(regeneration),
            "removed_message": removed_message(regeneration) if handout == "removed" else "",
        },
    )


def _just_confirmed(request: HttpRequest, regeneration: RegenerationRequest) -> int | None:
    """The number of students the requester confirmed, on the first view after *Confirm*
    (the page's banner then follows the request's live status)."""
    confirmed = request.session.get(CONFIRMED_SESSION_KEY)
    if not confirmed or confirmed[0] != regeneration.pk:
        return None
    del request.session[CONFIRMED_SESSION_KEY]
    return confirmed[1]


def _sign_ins(regeneration: RegenerationRequest) -> dict | None:
    """Of a finished request's students: how many have signed in with its password, and
    how many it still signs in now."""
    if not regeneration.passwords_can_be_handed_out or not regeneration.processed_count:
        return None
    return {
        "signed_in": request_sign_in_count(regeneration),
        "signs_in_now": request_signs_in_count(regeneration),
    }


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
            "sign_ins": _sign_ins(regeneration),
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


def _initial(request: HttpRequest) -> dict:
    """Edit a draft (``?draft=<key>``) or, for a single-PSU administrator, prefill the PSU."""
    values = draft_get(request, request.GET.get("draft", ""))
    if values:
        return draft_form_data(values)
    codes = request.user.administered_psu_codes
    return {"psu_code": codes[0]} if len(codes) == 1 else {}
