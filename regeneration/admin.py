"""Request history for support staff: searchable, filterable, read-only, exportable."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from ncedcloud.admin import HistoryAdmin
from ncedcloud.csv_export import csv_download
from people.models import Campus, Grade
from people.selectors import student_text_condition

from .lifecycle import RequestNotCancellable, request_cancel
from .models import RegenerationOutcome, RegenerationRequest
from .selectors import chunk_progress


class OptionFilter(admin.SimpleListFilter):
    title = "options"
    parameter_name = "options"

    def lookups(self, request, model_admin):
        return [
            ("default", "Default password only"),
            ("reset", "Reset, no forced change"),
            ("reset_force", "Reset and force change"),
            ("force_not_in_effect", "Force asked without reset (not in effect)"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "default":
            return queryset.filter(reset_current_passwords=False)
        if value == "reset":
            return queryset.filter(reset_current_passwords=True, force_password_change=False)
        if value == "reset_force":
            return queryset.filter(reset_current_passwords=True, force_password_change=True)
        if value == "force_not_in_effect":
            return queryset.filter(reset_current_passwords=False, force_password_change=True)
        return queryset


class CampusFilter(admin.SimpleListFilter):
    """Requests that targeted a campus, those that targeted every campus of its PSU included."""

    title = "campus"
    parameter_name = "campus"

    def lookups(self, request, model_admin):
        return [(c.code, f"{c.code} {c.name}") for c in Campus.objects.order_by("code")]

    def queryset(self, request, queryset):
        code = self.value()
        if not code:
            return queryset
        psu_id = Campus.objects.filter(code=code).values_list("psu_id", flat=True).first()
        # The codes are stored as a JSON list: a quoted code matches exactly one element.
        return queryset.filter(psu_id=psu_id).filter(
            Q(campus_codes=[]) | Q(campus_codes__icontains=f'"{code}"')
        )


class GradeFilter(admin.SimpleListFilter):
    """Requests that targeted a grade, those that targeted every grade included."""

    title = "grade"
    parameter_name = "grade"

    def lookups(self, request, model_admin):
        return Grade.choices

    def queryset(self, request, queryset):
        grade = self.value()
        if not grade:
            return queryset
        return queryset.filter(Q(grade_levels=[]) | Q(grade_levels__icontains=f'"{grade}"'))


HISTORY_COLUMNS = [
    "id",
    "requester",
    "psu",
    "campus_codes",
    "grade_levels",
    "reset_current_passwords",
    "force_password_change",
    "force_in_effect",
    "comments",
    "status",
    "queued_at",
    "started_at",
    "finished_at",
    "targeted",
    "processed",
    "reset",
    "failed",
    "error",
]


@admin.action(description="Export selected requests as CSV", permissions=["view"])
def export_history_csv(modeladmin, request: HttpRequest, queryset: QuerySet):
    rows = (
        [
            r.pk,
            r.requester.username,
            r.psu.code,
            " ".join(r.campus_codes),
            " ".join(r.grade_levels),
            r.reset_current_passwords,
            r.force_password_change,
            r.force_change_in_effect,
            r.comments,
            r.status,
            r.queued_at,
            r.started_at,
            r.finished_at,
            r.targeted_count,
            r.processed_count,
            r.reset_count,
            r.failed_count,
            r.error_message,
        ]
        for r in queryset.select_related("requester", "psu").order_by("id").iterator()
    )
    return csv_download("regeneration-requests.csv", HISTORY_COLUMNS, rows)


@admin.register(RegenerationRequest)
class RegenerationRequestAdmin(HistoryAdmin):
    list_display = [
        "id",
        "requester_name",
        "psu",
        "status",
        "options",
        "targeted_count",
        "processed_count",
        "failed_count",
        "queued_at",
        "finished_at",
    ]
    list_filter = [
        "status",
        "selection",
        "psu",
        CampusFilter,
        GradeFilter,
        OptionFilter,
        "reset_current_passwords",
        "force_password_change",
        "queued_at",
    ]
    search_fields = [
        "=id",
        "requester__username",
        "requester__first_name",
        "requester__last_name",
        "psu__code",
        "psu__name",
        "comments",
    ]
    date_hierarchy = "queued_at"
    list_select_related = ["requester", "psu"]
    view_on_site = False  # the request page is for the PSU's administrators, not Support
    fields = [
        "requester",
        "psu",
        "selection",
        "students_chosen",
        "campuses",
        "grades",
        "reset_current_passwords",
        "force_password_change",
        "force_in_effect",
        "comments",
        "status",
        "queued_at",
        "dispatched_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "targeted_count",
        "processed_count",
        "reset_count",
        "failed_count",
        "skipped_count",
        "chunks",
        "error_message",
        "cancelled_by",
        "outcomes_link",
    ]
    readonly_fields = fields
    # Superusers may stop a request that runs; nobody edits the history.
    actions = [export_history_csv, "cancel_requests"]

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    @admin.action(
        description="Cancel the selected queued or running requests", permissions=["cancel"]
    )
    def cancel_requests(self, request: HttpRequest, queryset: QuerySet) -> None:
        cancelled = 0
        for regeneration in queryset.filter(status__in=["queued", "running"]):
            try:
                request_cancel(request_id=regeneration.pk, by=request.user)
            except RequestNotCancellable:
                continue  # it finished meanwhile
            cancelled += 1
        self.message_user(request, f"{cancelled} request(s) cancelled.")

    @admin.display(description="students chosen")
    def students_chosen(self, obj: RegenerationRequest) -> str:
        if obj.is_undo:
            return f"Undo of request #{obj.undo_of_id}"
        if obj.selection == RegenerationRequest.Selection.FILTERS:
            return "By PSU, campus codes and grade levels (below)"
        count = obj.requested_students.count()
        named = f": {obj.uid_file_name}" if obj.uid_file_name else ""
        return (
            f"{obj.get_selection_display()}{named} ({count:,} student{'s' if count != 1 else ''})"
        )

    @admin.display(description="requester", ordering="requester__last_name")
    def requester_name(self, obj: RegenerationRequest) -> str:
        return f"{obj.requester.get_full_name() or obj.requester.username} ({obj.requester})"

    @admin.display(description="options")
    def options(self, obj: RegenerationRequest) -> str:
        if not obj.reset_current_passwords:
            return "Default only" + (" (force not in effect)" if obj.force_password_change else "")
        return "Reset + force change" if obj.force_password_change else "Reset"

    @admin.display(description="campus codes")
    def campuses(self, obj: RegenerationRequest) -> str:
        return ", ".join(obj.campus_codes) or "All campuses of the PSU"

    @admin.display(description="grade levels")
    def grades(self, obj: RegenerationRequest) -> str:
        return ", ".join(obj.grade_levels) or "All grades"

    @admin.display(boolean=True, description="force change in effect")
    def force_in_effect(self, obj: RegenerationRequest) -> bool:
        return obj.force_change_in_effect

    @admin.display(description="chunks done")
    def chunks(self, obj: RegenerationRequest) -> str:
        done, total = chunk_progress(obj)
        return f"{done:,} of {total:,}"

    @admin.display(description="outcomes")
    def outcomes_link(self, obj: RegenerationRequest) -> str:
        url = reverse("admin:regeneration_regenerationoutcome_changelist")
        return format_html(
            '<a href="{}?request__id__exact={}">{} outcome rows</a>',
            url,
            obj.pk,
            obj.processed_count + obj.failed_count + obj.skipped_count,
        )


@admin.register(RegenerationOutcome)
class RegenerationOutcomeAdmin(HistoryAdmin):
    list_display = [
        "request",
        "student_number",
        "student_name",
        "campus",
        "grade",
        "status",
        "password_reset",
        "must_change_set",
        "error",
        "processed_at",
    ]
    list_filter = ["status", "password_reset", "must_change_set", "request__psu"]
    search_fields = [
        "=request__id",
        "student__student_number",
        "student__username",
        "student__last_name",
    ]
    list_select_related = ["request__psu", "student__campus"]
    # The "outcome rows" link of a request's page (``RegenerationRequestAdmin.outcomes_link``).
    link_lookups = ("request__id__exact",)
    show_full_result_count = False
    fields = list_display
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        """A search of two or more words ("Jordan Smith", "Smith, Jordan") is a student's
        name, as People searches it; otherwise Django's search of ``search_fields``."""
        words = [word for word in search_term.replace(",", " ").split() if word]
        if len(words) >= 2:
            return queryset.filter(student_text_condition(search_term, "student__")), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="student number", ordering="student__student_number")
    def student_number(self, obj: RegenerationOutcome) -> str:
        return obj.student.student_number

    @admin.display(description="student")
    def student_name(self, obj: RegenerationOutcome) -> str:
        return f"{obj.student.last_name}, {obj.student.first_name}"

    @admin.display(description="campus")
    def campus(self, obj: RegenerationOutcome) -> str:
        return obj.student.campus.code

    @admin.display(description="grade")
    def grade(self, obj: RegenerationOutcome) -> str:
        return obj.student.grade
