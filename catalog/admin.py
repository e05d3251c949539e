"""Roles in admin: superusers grant and revoke them here or on the user's page; Support staff
review them, read-only."""

from __future__ import annotations

from django.contrib import admin

from ncedcloud.admin import ReadOnlyForSupportAdmin, may_review
from people.admin import UserAdmin
from people.models import User

from .models import RoleAssignment


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyForSupportAdmin):
    """Superusers grant and revoke roles here (or on the user's page)."""

    list_display = ["user", "role", "psu", "granted_at", "granted_by"]
    list_filter = ["role", "psu"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "psu__code"]
    autocomplete_fields = ["user", "psu"]
    readonly_fields = ["granted_at", "granted_by"]
    list_select_related = ["user", "psu", "granted_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)


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


class UserWithRolesAdmin(UserAdmin):
    """The directory's user admin with the user's roles on the same page."""

    inlines = [RoleAssignmentInline]

    def save_formset(self, request, form, formset, change):
        for role in formset.save(commit=False):
            if role.pk is None:
                role.granted_by = request.user
            role.save()
        for role in formset.deleted_objects:
            role.delete()
        formset.save_m2m()


admin.site.unregister(User)
admin.site.register(User, UserWithRolesAdmin)
