"""Roles in admin: superusers grant roles directly here or on the user's page (each grant is
recorded as a role request granted at once, each removal as revoked); role requests with
their whole history; Support staff review both, read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from ncedcloud.admin import HistoryAdmin, ReadOnlyForSupportAdmin, may_review
from people.admin import UserAdmin
from people.models import User

from .models import PSU_ROLES, Role, RoleAssignment, RoleRequest
from .services import role_grant_record_direct, role_grant_record_removed


class RoleAssignmentForm(forms.ModelForm):
    """The campuses of a School Student Help Desk role belong to its PSU; no other role has
    campuses."""

    class Meta:
        model = RoleAssignment
        fields = ["user", "role", "psu", "campuses", "ends_on"]

    def clean(self) -> dict:
        cleaned = super().clean()
        role, psu = cleaned.get("role"), cleaned.get("psu")
        campuses = list(cleaned.get("campuses") or [])
        if role == Role.SCHOOL_HELP_DESK:
            if not campuses:
                self.add_error("campuses", "The School Student Help Desk role needs campuses.")
            foreign = [c.code for c in campuses if psu is not None and c.psu_id != psu.pk]
            if foreign:
                self.add_error("campuses", f"Not campuses of PSU {psu.code}: {', '.join(foreign)}.")
        elif campuses:
            self.add_error("campuses", "Only the School Student Help Desk role has campuses.")
        if role in PSU_ROLES and psu is None:
            self.add_error("psu", "This role needs a PSU.")
        if role == Role.SUPPORT and psu is not None:
            self.add_error("psu", "The Support role has no PSU.")
        return cleaned


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyForSupportAdmin):
    """Roles in force. Superusers grant (add) and remove (delete) here; a role is never
    edited in place, so its record stays true: remove it and grant another."""

    form = RoleAssignmentForm
    list_display = ["user", "role", "psu", "ends_on", "granted_at", "granted_by", "role_request"]
    list_filter = ["role", "psu"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "psu__code"]
    autocomplete_fields = ["user", "psu", "campuses"]
    readonly_fields = ["granted_at", "granted_by", "role_request"]
    list_select_related = ["user", "psu", "granted_by", "role_request"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            role_grant_record_direct(assignment=form.instance, by=request.user)

    def delete_model(self, request, obj):
        role_grant_record_removed(assignment=obj, by=request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            role_grant_record_removed(assignment=assignment, by=request.user)
        super().delete_queryset(request, queryset)


@admin.register(RoleRequest)
class RoleRequestAdmin(HistoryAdmin):
    """Every role request and direct grant: who asked, who decided, when, why, and how it
    ended. Nobody edits it, not even a superuser."""

    list_display = [
        "id",
        "user",
        "role",
        "psu",
        "status",
        "requested_at",
        "decided_by",
        "decided_at",
        "ends_on",
        "ended_at",
        "granted_directly",
    ]
    list_filter = ["status", "role", "granted_directly", "psu"]
    search_fields = ["user__username", "user__last_name", "decided_by__username", "psu__code"]
    date_hierarchy = "requested_at"
    list_select_related = ["user", "psu", "decided_by"]
    fields = [
        "user",
        "role",
        "psu",
        "campus_codes",
        "reason",
        "ends_on",
        "status",
        "requested_at",
        "granted_directly",
        "decided_by",
        "decided_at",
        "decision_comment",
        "ended_by",
        "ended_at",
        "end_comment",
    ]
    readonly_fields = fields

    @admin.display(description="campuses")
    def campus_codes(self, obj: RoleRequest) -> str:
        return ", ".join(obj.campuses.order_by("code").values_list("code", flat=True)) or "—"


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    form = RoleAssignmentForm
    fk_name = "user"
    extra = 0
    fields = ["role", "psu", "campuses", "ends_on", "granted_at", "granted_by"]
    readonly_fields = ["granted_at", "granted_by"]
    autocomplete_fields = ["psu", "campuses"]

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return may_review(request.user)


class UserWithRolesAdmin(UserAdmin):
    """The directory's user admin with the user's roles on the same page."""

    inlines = [RoleAssignmentInline]

    def save_formset(self, request, form, formset, change):
        added = []
        for role in formset.save(commit=False):
            if role.pk is None:
                role.granted_by = request.user
                added.append(role)
            role.save()
        for role in formset.deleted_objects:
            role_grant_record_removed(assignment=role, by=request.user)
            role.delete()
        formset.save_m2m()
        for role in added:
            role_grant_record_direct(assignment=role, by=request.user)


admin.site.unregister(User)
admin.site.register(User, UserWithRolesAdmin)
