from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from catalog.models import RoleAssignment
from ncedcloud.admin import ReadOnlyForSupportAdmin, may_review

from .models import PSU, Campus, Student, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    fields = ["role", "psu", "granted_at", "granted_by"]
    readonly_fields = ["granted_at", "granted_by"]
    autocomplete_fields = ["psu"]

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return may_review(request.user)


@admin.register(User)
class UserAdmin(ReadOnlyForSupportAdmin, DjangoUserAdmin):
    inlines = [RoleAssignmentInline]
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

    def save_formset(self, request, form, formset, change):
        for role in formset.save(commit=False):
            if role.pk is None:
                role.granted_by = request.user
            role.save()
        for role in formset.deleted_objects:
            role.delete()
        formset.save_m2m()


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
        "temporary_password_set_at",
        "last_login",
    ]
    readonly_fields = ["default_password_set_at", "temporary_password_set_at", "last_login"]
    raw_id_fields = ["campus"]
