"""The request catalog: the request types a user may submit, each shown to exactly the roles
whose pages accept it (the same predicates as the views' decorators, ``people.permissions``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from people.permissions import may_help_students, may_regenerate_many


@dataclass(frozen=True)
class CatalogEntry:
    title: str
    description: str
    url_name: str
    is_available_to: Callable[[object], bool]


def _any_staff(user) -> bool:
    return user.is_authenticated


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        title="Regenerate Student Default Passwords",
        description="Give every student of a PSU, campus or grade a new default password, "
        "and optionally reset their login passwords to it.",
        url_name="regeneration:new",
        is_available_to=may_regenerate_many,
    ),
    CatalogEntry(
        title="Regenerate Student Default Password (Single User)",
        description="Give one student, by UID, a new default password, and optionally reset "
        "their login password to it.",
        url_name="regeneration:new_single",
        is_available_to=may_help_students,
    ),
    CatalogEntry(
        title="Regenerate Student Default Passwords (File Upload)",
        description="Give every student of a file of UIDs a new default password, and "
        "optionally reset their login passwords to it.",
        url_name="regeneration:new_file",
        is_available_to=may_regenerate_many,
    ),
    CatalogEntry(
        title="Request a Privileged Role",
        description="Ask for the LEA Administrator, LEA Student Help Desk or School Student "
        "Help Desk role of a PSU; another person approves it.",
        url_name="catalog:role_request_new",
        is_available_to=_any_staff,
    ),
)


def catalog_entries_for(user) -> list[CatalogEntry]:
    return [entry for entry in CATALOG if entry.is_available_to(user)]
