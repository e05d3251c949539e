"""Requests made and run directly through the services, as the tasks run them."""

from __future__ import annotations

from people.models import Student
from regeneration import lifecycle
from regeneration.models import RegenerationRequest
from tests.factories import RegenerationRequestFactory

Status = RegenerationRequest.Status


def make_request(world, **options) -> RegenerationRequest:
    return RegenerationRequestFactory(requester=world.admin920, psu=world.psu920, **options)


def whole_psu_values(psu_code: str = "920") -> dict:
    """The form's values for a default-only request of every campus and grade of a PSU."""
    return {
        "psu_code": psu_code,
        "campus_codes": [],
        "grade_levels": [],
        "reset_current_passwords": False,
        "force_password_change": False,
        "comments": "",
    }


def run(request: RegenerationRequest) -> RegenerationRequest:
    lifecycle.request_run(request_id=request.pk, budget_seconds=60)
    request.refresh_from_db()
    return request


def tokens(students=None) -> dict[int, str]:
    students = Student.objects.all() if students is None else students
    return dict(students.values_list("pk", "default_password_encrypted"))
