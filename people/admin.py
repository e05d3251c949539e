"""The directory in admin: superusers change it, Support staff review it, read-only. The roles
on a user's page are added by ``catalog.admin``, which sits above the directory."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.views.decorators.debug import sensitive_variables

from ncedcloud.admin import HistoryAdmin, ReadOnlyForSupportAdmin

from .history import student_history
from .models import PSU, Campus, CredentialEvent, DefaultPasswordDisclosure, Student, User
from .sign_in import current_default_signs_in


@admin.register(User)
class UserAdmin(ReadOnlyForSupportAdmin, DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "is_active", "is_superuser"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # Support staff never see a credential, not even a masked hash.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "password"]})
            for name, options in fieldsets
        ]

    # A superuser types passwords on these two pages: hide every variable from error reports.
    @method_decorator(sensitive_variables())
    def add_view(self, request, form_url="", extra_context=None):
        return super().add_view(request, form_url, extra_context)

    @method_decorator(sensitive_variables())
    def user_change_password(self, request, id, form_url=""):
        return super().user_change_password(request, id, form_url)


@admin.register(PSU)
class PSUAdmin(ReadOnlyForSupportAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Campus)
class CampusAdmin(ReadOnlyForSupportAdmin):
    list_display = ["code", "name", "psu"]
    list_filter = ["psu"]
    search_fields = ["code", "name"]
    list_select_related = ["psu"]


@admin.register(Student)
class StudentAdmin(ReadOnlyForSupportAdmin):
    """Directory data only: neither the default password (encrypted or not) nor the login
    credential is ever shown here."""

    list_display = [
        "student_number",
        "last_name",
        "first_name",
        "username",
        "psu",
        "campus",
        "grade",
        "must_change_password",
        "is_active",
        "last_login",
    ]
    list_filter = ["psu", "grade", "must_change_password", "is_active"]
    search_fields = ["student_number", "username", "last_name", "first_name"]
    list_select_related = ["psu", "campus"]
    show_full_result_count = False
    fields = [
        "student_number",
        "first_name",
        "last_name",
        "username",
        "psu",
        "campus",
        "grade",
        "is_active",
        "must_change_password",
        "default_password_set_at",
        "default_request_number",
        "default_signs_in",
        "login_source",
        "login_request_number",
        "login_set_at",
        "own_password_set_at",
        "temporary_password_set_at",
        "last_login",
        "history",
    ]
    readonly_fields = [
        "default_password_set_at",
        "default_request_number",
        "default_signs_in",
        "login_source",
        "login_request_number",
        "login_set_at",
        "own_password_set_at",
        "temporary_password_set_at",
        "last_login",
        "history",
    ]
    raw_id_fields = ["campus"]

    @admin.display(description="default password signs in now")
    def default_signs_in(self, obj: Student) -> str:
        answer = current_default_signs_in(obj)
        return f"{answer.word.capitalize()}. {answer.note}".strip()

    @admin.display(description="history (newest first)")
    def history(self, obj: Student) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((entry.at, entry.what, entry.who or "—") for entry in student_history(obj)),
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>What</th><th>Who</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )


@admin.register(DefaultPasswordDisclosure)
class DefaultPasswordDisclosureAdmin(HistoryAdmin):
    """Who was shown default passwords, whose, when and from where; never the passwords."""

    list_display = [
        "at",
        "actor",
        "kind",
        "psu",
        "student",
        "request_number",
        "student_count",
        "scope",
        "ip",
    ]
    list_filter = ["kind", "psu", "at"]
    search_fields = [
        "actor__username",
        "actor__first_name",
        "actor__last_name",
        "student__student_number",
        "student__username",
        "student__last_name",
        "=request_number",
        "=ip",
    ]
    date_hierarchy = "at"
    list_select_related = ["actor", "psu", "student"]
    show_full_result_count = False
    fields = list_display
    readonly_fields = fields


@admin.register(CredentialEvent)
class CredentialEventAdmin(HistoryAdmin):
    """Resets to the default password, first sign-ins and students' own password changes."""

    list_display = ["at", "kind", "student", "actor", "request_number", "must_change"]
    list_filter = ["kind", "must_change", "at"]
    search_fields = [
        "student__student_number",
        "student__username",
        "student__last_name",
        "actor__username",
        "=request_number",
    ]
    date_hierarchy = "at"
    list_select_related = ["student", "actor"]
    show_full_result_count = False
    fields = list_display
    readonly_fields = fields
