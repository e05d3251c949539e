"""The request catalog: the request types a user may submit, each with who may see it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogEntry:
    title: str
    description: str
    url_name: str
    is_available_to: Callable[[object], bool]


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        title="Regenerate Student Default Passwords",
        description="Give every student of a PSU, campus or grade a new default password, "
        "and optionally reset their login passwords to it.",
        url_name="regeneration:new",
        is_available_to=lambda user: user.is_lea_admin,
    ),
    CatalogEntry(
        title="Regenerate Student Default Password (Single User)",
        description="Give one student, by UID, a new default password, and optionally reset "
        "their login password to it.",
        url_name="regeneration:new_single",
        is_available_to=lambda user: user.is_lea_admin,
    ),
    CatalogEntry(
        title="Regenerate Student Default Passwords (File Upload)",
        description="Give every student of a file of UIDs a new default password, and "
        "optionally reset their login passwords to it.",
        url_name="regeneration:new_file",
        is_available_to=lambda user: user.is_lea_admin,
    ),
)


def catalog_entries_for(user) -> list[CatalogEntry]:
    return [entry for entry in CATALOG if entry.is_available_to(user)]
