"""The admin site: superusers manage everything; Support staff review, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import FieldListFilter, widgets
from django.contrib.admin.utils import get_fields_from_path
from django.db.models import Field
from django.http import HttpRequest
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables

DATE_HIERARCHY_PARTS = ("year", "month", "day")


def may_review(user) -> bool:
    """Superusers and Support staff; never an anonymous visitor (the admin's own sign-in
    page asks this too, before anyone has signed in)."""
    return user.is_authenticated and user.is_active and (user.is_superuser or user.is_support)


class FilterLookupsOnly:
    """For everyone but superusers, a changelist filters only as its own filters do.

    Django's ``ModelAdmin.lookup_allowed`` accepts any lookup on a model's own fields from the
    query string: ``?password__gte=...`` on students, answered with matching rows or none,
    recovers a stored hash a character at a time. Here the lookups allowed are exactly the
    parameters the admin's ``list_filter`` filters read (each filter's
    ``expected_parameters()``), its ``date_hierarchy``, the admin's own links
    (``link_lookups``) and the raw-id popups' ``limit_choices_to``. Search (``?q=``) reads only
    ``search_fields``. ``PortalAdminSite.register`` mixes this into every model admin,
    Django's and axes's included.
    """

    link_lookups: tuple[str, ...] = ()

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if request is not None and request.user.is_superuser:
            return super().lookup_allowed(lookup, value, request)
        return (
            lookup in self.link_lookups
            or lookup in self._date_hierarchy_lookups()
            or self._is_popup_lookup(lookup, value)
            or lookup in self.filter_lookups(request)
        )

    def filter_lookups(self, request: HttpRequest | None) -> set[str]:
        """Every query-string parameter this admin's filters read; ``field`` too where they
        read ``field__exact``, the same lookup spelt short."""
        lookups: set[str] = set()
        for list_filter in self.get_list_filter(request):
            lookups.update(self._filter_spec(list_filter, request).expected_parameters())
        return lookups | {lookup.removesuffix("__exact") for lookup in lookups}

    def _filter_spec(self, list_filter, request):
        """The filter as the changelist builds it (``ChangeList.get_filters``), unapplied."""
        if callable(list_filter):
            return list_filter(request, {}, self.model, self)
        field, filter_class = (
            list_filter
            if isinstance(list_filter, (list, tuple))
            else (list_filter, FieldListFilter.create)
        )
        field_path = None
        if not isinstance(field, Field):
            field_path = field
            field = get_fields_from_path(self.model, field_path)[-1]
        return filter_class(field, request, {}, self.model, self, field_path=field_path)

    def _date_hierarchy_lookups(self) -> set[str]:
        if not self.date_hierarchy:
            return set()
        return {f"{self.date_hierarchy}__{part}" for part in DATE_HIERARCHY_PARTS}

    def _is_popup_lookup(self, lookup: str, value: str) -> bool:
        """As Django allows: the raw-id popups of foreign keys with ``limit_choices_to``."""
        for fk_lookup in self.model._meta.related_fkey_lookups:
            if callable(fk_lookup):
                fk_lookup = fk_lookup()
            if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
                return True
        return False


class PortalAdminSite(admin.AdminSite):
    site_header = "NCEdCloud Portal administration"
    site_title = "NCEdCloud Portal"
    index_title = "Review and administration"

    def has_permission(self, request: HttpRequest) -> bool:
        return may_review(request.user)

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        """Every model admin, ours or an installed app's, filters only as its filters do."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, FilterLookupsOnly):
            admin_class = type(
                admin_class.__name__,
                (FilterLookupsOnly, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)

    # Passwords pass through these: hide every variable from error reports.
    @method_decorator(sensitive_variables())
    def login(self, request: HttpRequest, extra_context=None):
        return super().login(request, extra_context)

    @method_decorator(sensitive_variables())
    def password_change(self, request: HttpRequest, extra_context=None):
        return super().password_change(request, extra_context)


class ReadOnlyForSupportAdmin(FilterLookupsOnly, admin.ModelAdmin):
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
