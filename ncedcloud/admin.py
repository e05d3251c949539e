"""The admin site: superusers manage everything; Support staff review, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest


def may_review(user) -> bool:
    """Superusers and Support staff; never an anonymous visitor (the admin's own sign-in
    page asks this too, before anyone has signed in)."""
    return user.is_authenticated and user.is_active and (user.is_superuser or user.is_support)


class PortalAdminSite(admin.AdminSite):
    site_header = "NCEdCloud Portal administration"
    site_title = "NCEdCloud Portal"
    index_title = "Review and administration"

    def has_permission(self, request: HttpRequest) -> bool:
        return may_review(request.user)


class ReadOnlyForSupportAdmin(admin.ModelAdmin):
    """Superusers may change; Support staff may only look."""

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return may_review(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


class HistoryAdmin(ReadOnlyForSupportAdmin):
    """Records of what happened: nobody edits or deletes them, not even a superuser."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
