"""Demo data: the directory's PSUs, campuses and students (``people.demo``), and one staff
account per role with its grants (the help-desk roles included).

Running it twice changes nothing: existing rows are kept as they are (passwords included) and
only what is missing is created.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from people.demo import directory_seed
from people.models import PSU, Campus, User

from .models import RoleAssignment

DEFAULT_DEMO_PASSWORD = "Portal-Demo-2026"

DEMO_STAFF = (
    # username, first, last, PSUs administered, support, superuser
    ("admin920", "Renee", "Whitaker", ("920",), False, False),
    ("admin010", "Marcus", "Lyles", ("010",), False, False),
    ("adminmulti", "Dana", "Okafor", ("010", "32B"), False, False),
    ("support", "Sam", "Rivera", (), True, False),
    ("teacher", "Terry", "Hughes", (), False, False),
    ("root", "Portal", "Superuser", (), False, True),
)
# The help-desk roles: username, first, last, role, PSU, campuses (School Student Help Desk).
DEMO_HELP_DESK = (
    ("helpdesk920", "Jamie", "Pruitt", RoleAssignment.Role.LEA_HELP_DESK, "920", ()),
    ("school920304", "Alex", "Moreno", RoleAssignment.Role.SCHOOL_HELP_DESK, "920", ("920304",)),
)


@dataclass
class SeedCounts:
    psus: int = 0
    campuses: int = 0
    students: int = 0
    users: int = 0


@transaction.atomic
def demo_seed(*, password: str = DEFAULT_DEMO_PASSWORD) -> SeedCounts:
    """Create whatever demo data is missing; set the demo accounts' password."""
    directory = directory_seed()
    created = SeedCounts(directory.psus, directory.campuses, directory.students)
    for username, first, last, psu_codes, support, superuser in DEMO_STAFF:
        created.users += _seed_staff(username, first, last, psu_codes, support, superuser, password)
    for username, first, last, role, psu_code, campus_codes in DEMO_HELP_DESK:
        created.users += _seed_staff(username, first, last, (), False, False, password)
        _seed_help_desk(username, role, psu_code, campus_codes)
    return created


def _seed_help_desk(username, role, psu_code, campus_codes) -> None:
    assignment, _ = RoleAssignment.objects.get_or_create(
        user=User.objects.get(username=username), role=role, psu=PSU.objects.get(code=psu_code)
    )
    assignment.campuses.add(*Campus.objects.filter(code__in=campus_codes, psu__code=psu_code))


def _seed_staff(username, first, last, psu_codes, support, superuser, password) -> int:
    user, new = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@example.org",
            "is_staff": superuser,
            "is_superuser": superuser,
        },
    )
    if new or not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    for code in psu_codes:
        RoleAssignment.objects.get_or_create(
            user=user, role=RoleAssignment.Role.LEA_ADMIN, psu=PSU.objects.get(code=code)
        )
    if support:
        RoleAssignment.objects.get_or_create(user=user, role=RoleAssignment.Role.SUPPORT)
    return int(new)
