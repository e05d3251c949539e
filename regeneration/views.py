"""The request's pages: the form, the confirm step, the request page and "My requests"."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.selectors import role_requests_of
from ncedcloud.links import portal_url
from ncedcloud.sessions import not_renewing_session
from people.permissions import help_desk_required, lea_admin_required, may_regenerate_many

from .confirming import campus_choices, confirmation_of
from .drafts import draft_discard, draft_form_data, draft_get, draft_save
from .forms import RegenerationRequestForm, SingleStudentForm, UIDFileForm
from .handout import handout_state, removed_message
from .lifecycle import (
    RequestAlreadyConfirmed,
    RequestNotCancellable,
    RequestNotConfirmable,
    regeneration_request_create,
    request_cancel,
    undo_request_create,
)
from .models import RegenerationRequest
from .selectors import (
    request_confirmed_with,
    request_sign_in_count,
    request_signs_in_count,
    requests_visible_to,
)
from .undo import undo_deadline, undo_preview, undo_refusal

FORMS = {
    RegenerationRequest.Selection.FILTERS: (RegenerationRequestForm, "regeneration/new.html"),
    RegenerationRequest.Selection.STUDENT: (SingleStudentForm, "regeneration/new_single.html"),
    RegenerationRequest.Selection.LIST: (UIDFileForm, "regeneration/new_file.html"),
}


FORM_URLS = {
    RegenerationRequest.Selection.FILTERS: "regeneration:new",
    RegenerationRequest.Selection.STUDENT: "regeneration:new_single",
    RegenerationRequest.Selection.LIST: "regeneration:new_file",
}


def _request_form(request: HttpRequest, selection: str) -> HttpResponse:
    """The form of one kind of request; valid, it becomes a draft and goes to Confirm."""
    form_class, template = FORMS[selection]
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            check = getattr(form, "check", None)
            key = draft_save(
                request, form.request_values(), student_ids=check.student_ids if check else None
            )
            return redirect("regeneration:confirm", key=key)
    else:
        form = form_class(user=request.user, initial=_initial(request, form_class))
    context = {"form": form, "threshold": settings.REGENERATION_CONFIRM_TYPING_THRESHOLD}
    if selection == RegenerationRequest.Selection.FILTERS:
        context["psu_choices"] = campus_choices(request.user)
    return render(request, template, context)


@lea_admin_required
@require_http_methods(["GET", "POST"])
def regeneration_new(request: HttpRequest) -> HttpResponse:
    return _request_form(request, RegenerationRequest.Selection.FILTERS)


@help_desk_required
@require_http_methods(["GET", "POST"])
def regeneration_new_single(request: HttpRequest) -> HttpResponse:
    return _request_form(request, RegenerationRequest.Selection.STUDENT)


@lea_admin_required
@require_http_methods(["GET", "POST"])
def regeneration_new_file(request: HttpRequest) -> HttpResponse:
    return _request_form(request, RegenerationRequest.Selection.LIST)


@help_desk_required
@require_http_methods(["GET", "POST"])
def regeneration_confirm(request: HttpRequest, key: uuid.UUID) -> HttpResponse:
    values = draft_get(request, key)
    if values is None:
        return _no_draft(request, key)
    confirmation = confirmation_of(request, key, values)
    if confirmation is None:  # e.g. the role, a campus or the student changed since
        return _no_longer_valid(request, values)
    if request.method == "POST":
        try:
            regeneration = regeneration_request_create(
                requester=request.user,
                values=confirmation.values,
                confirmation_key=key,
                portal_url=portal_url(request),
                student_ids=confirmation.student_ids,
                typed_count=_typed_count(request),
            )
        except RequestAlreadyConfirmed as refused:
            draft_discard(request, key)
            messages.info(request, str(refused))
            return redirect(refused.request)
        except RequestNotConfirmable as refused:
            messages.error(request, str(refused))
        else:
            draft_discard(request, key)
            # The request page shows the banner, with the request's live status in it.
            request.session[CONFIRMED_SESSION_KEY] = [regeneration.pk, confirmation.counts.total]
            return redirect(regeneration)
    return render(
        request,
        "regeneration/confirm.html",
        {
            "confirmation": confirmation,
            "values": confirmation.values,
            "psu": confirmation.psu,
            "counts": confirmation.counts,
            "key": key,
            "typing_needed": confirmation.counts.total
            > settings.REGENERATION_CONFIRM_TYPING_THRESHOLD,
            "undo_days": settings.REGENERATION_UNDO_DAYS,
        },
    )


def _no_longer_valid(request: HttpRequest, values: dict) -> HttpResponse:
    messages.error(request, "The request is no longer valid; correct it and request again.")
    selection = values.get("selection", RegenerationRequest.Selection.FILTERS)
    if selection != RegenerationRequest.Selection.FILTERS:
        return redirect(FORM_URLS[selection])
    form = RegenerationRequestForm(draft_form_data(values), user=request.user)
    form.is_valid()  # shows what no longer holds, next to its field
    return render(
        request,
        "regeneration/new.html",
        {"form": form, "psu_choices": campus_choices(request.user)},
    )


def _typed_count(request: HttpRequest) -> int | None:
    typed = request.POST.get("confirm_count", "").replace(",", "").strip()
    return int(typed) if typed.isdigit() and len(typed) <= 9 else None


def _no_draft(request: HttpRequest, key: uuid.UUID) -> HttpResponse:
    """The draft is gone: confirmed already (back button, double click), or too old."""
    confirmed = request_confirmed_with(key)
    if confirmed is not None and requests_visible_to(request.user).filter(pk=confirmed.pk).exists():
        messages.info(request, str(RequestAlreadyConfirmed(confirmed)))
        return redirect(confirmed)
    messages.error(
        request, "This request is no longer waiting for confirmation. Fill in the form again."
    )
    return redirect(
        "regeneration:new" if may_regenerate_many(request.user) else "regeneration:new_single"
    )


CONFIRMED_SESSION_KEY = "regeneration_confirmed"


@help_desk_required
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
            "may_cancel": _may_cancel(regeneration, request.user),
            "undo_refusal": undo_refusal(regeneration, request.user),
            "undo_deadline": undo_deadline(regeneration),
            "sign_ins": _sign_ins(regeneration),
            "removed_message": removed_message(regeneration) if handout == "removed" else "",
        },
    )


def _may_cancel(regeneration: RegenerationRequest, user) -> bool:
    waiting = (RegenerationRequest.Status.QUEUED, RegenerationRequest.Status.RUNNING)
    return regeneration.status in waiting and (
        regeneration.requester_id == user.pk or user.is_superuser
    )


@help_desk_required
@require_POST
def regeneration_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """*Cancel this request*: its requester stops it; what it changed stays changed."""
    regeneration = get_object_or_404(requests_visible_to(request.user), pk=pk)
    if regeneration.requester_id != request.user.pk and not request.user.is_superuser:
        raise PermissionDenied("Only the administrator who made a request can cancel it.")
    try:
        regeneration = request_cancel(request_id=regeneration.pk, by=request.user)
    except RequestNotCancellable as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            f"Request #{regeneration.pk} is cancelled: no further student will be changed.",
        )
    return redirect(regeneration)


@help_desk_required
@require_http_methods(["GET", "POST"])
def regeneration_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """*Undo this request*: a confirm page (who would get back what they had, who would be
    left alone and why), then the undo, a request of its own."""
    regeneration = get_object_or_404(requests_visible_to(request.user), pk=pk)
    refusal = undo_refusal(regeneration, request.user)
    if refusal and request.method == "GET":
        messages.error(request, refusal)
        return redirect(regeneration)
    if request.method == "POST":
        key = _confirmation_key(request)
        try:
            undo = undo_request_create(
                requester=request.user,
                undone=regeneration,
                confirmation_key=key,
                portal_url=portal_url(request),
            )
        except RequestAlreadyConfirmed as refused:
            messages.info(request, str(refused))
            return redirect(refused.request)
        except RequestNotConfirmable as refused:
            messages.error(request, str(refused))
            return redirect(regeneration)
        request.session[CONFIRMED_SESSION_KEY] = [undo.pk, regeneration.processed_count]
        return redirect(undo)
    return render(
        request,
        "regeneration/undo_confirm.html",
        {
            "regeneration": regeneration,
            "preview": undo_preview(regeneration),
            "key": uuid.uuid4(),
            "deadline": undo_deadline(regeneration),
        },
    )


def _confirmation_key(request: HttpRequest) -> uuid.UUID:
    """The undo's confirmation key from its confirm page (a double click records one undo)."""
    try:
        return uuid.UUID(request.POST.get("key", ""))
    except ValueError:
        return uuid.uuid4()


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


def _sign_ins_recent(regeneration: RegenerationRequest) -> dict | None:
    """``_sign_ins`` for the progress answer, counted at most once every
    REGENERATION_SIGN_IN_COUNTS_SECONDS per request: counting a district's students is a
    join over all its outcomes (a third of a second at 50,000), and an open page polls a
    request until the answer that says it finished; the request page itself counts live."""
    if regeneration.finished_at is None:
        return _sign_ins(regeneration)
    key = f"regeneration:sign-ins:{regeneration.pk}:{regeneration.finished_at.timestamp()}"
    return cache.get_or_set(
        key, partial(_sign_ins, regeneration), settings.REGENERATION_SIGN_IN_COUNTS_SECONDS
    )


@help_desk_required
@require_GET
@never_cache
@not_renewing_session
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
            "skipped": regeneration.skipped_count,
            "undo": regeneration.is_undo,
            "duration_seconds": round(duration.total_seconds(), 1) if duration else None,
            "error": regeneration.error_message,
            "waiting": _waiting_note(regeneration),
            "handout": handout_state(regeneration, request.user),
            "sign_ins": _sign_ins_recent(regeneration),
        }
    )


def _moment(name: str, value: datetime | None) -> dict[str, str | None]:
    """``value`` as ISO 8601 and as a template renders it (local time, DATETIME_FORMAT)."""
    if value is None:
        return {name: None, f"{name}_display": "—"}
    shown = formats.localize(timezone.template_localtime(value))
    return {name: value.isoformat(), f"{name}_display": shown}


@login_required
@require_GET
def regeneration_list(request: HttpRequest) -> HttpResponse:
    """*My requests*: the user's role requests, then their regeneration requests (of the
    PSUs and campuses their roles still cover)."""
    mine = requests_visible_to(request.user).filter(requester=request.user)
    page = Paginator(mine, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "regeneration/list.html",
        {"page": page, "role_requests": role_requests_of(request.user)},
    )


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


def _initial(request: HttpRequest, form_class) -> dict:
    """Edit a draft (``?draft=<key>``) or, for a user whose roles allow the request for one
    PSU only, prefill the PSU."""
    values = draft_get(request, request.GET.get("draft", ""))
    if values:
        return draft_form_data(values)
    codes = form_class(user=request.user).allowed_psu_codes()
    return {"psu_code": codes[0]} if len(codes) == 1 else {}
