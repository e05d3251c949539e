from django.contrib import admin

from ncedcloud.admin import ReadOnlyForSupportAdmin

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
