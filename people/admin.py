"""The directory in admin: superusers change it, Support staff review it, read-only. The roles
on a user's page are added by ``catalog.admin``, which sits above the directory."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables

from ncedcloud.admin import HistoryAdmin, ReadOnlyForSupportAdmin

from .models import PSU, Campus, DefaultPasswordDisclosure, Student, User


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
        "temporary_password_set_at",
        "last_login",
    ]
    readonly_fields = [
        "default_password_set_at",
        "default_request_number",
        "temporary_password_set_at",
        "last_login",
    ]
    raw_id_fields = ["campus"]


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
