"""The whole request through the browser-facing views and the task (a real worker in the
PostgreSQL + Redis run)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from credentials.crypto import decrypt_default_password
from people.models import Student
from regeneration.models import RegenerationOutcome, RegenerationRequest
from tests.helpers import page_text


def defaults(students) -> dict[int, str]:
    return {s.pk: decrypt_default_password(s.default_password_encrypted) for s in students}


@pytest.mark.django_db(transaction=True)
def test_lea_admin_requests_confirms_and_every_matching_student_gets_a_new_default(
    client, world, finish_requests
):
    client.force_login(world.admin920)
    before = defaults(Student.objects.all())

    response = client.post(
        reverse("regeneration:new"),
        {
            "psu_code": "920",
            "campus_codes": " 920304 ",
            "grade_levels": "5, 0",
            "reset_current_passwords": "on",
            "force_password_change": "on",
            "comments": "Start of term",
        },
    )
    confirm_url = response["Location"]
    page = client.get(confirm_url)
    assert RegenerationRequest.objects.count() == 0  # nothing is queued before Confirm
    assert "10 students match" in page_text(page)

    response = client.post(confirm_url)
    regeneration = finish_requests(RegenerationRequest.objects.get())

    assert response["Location"] == regeneration.get_absolute_url()
    assert regeneration.status == RegenerationRequest.Status.COMPLETED
    assert (regeneration.targeted_count, regeneration.processed_count) == (10, 10)
    assert regeneration.reset_count == 10 and regeneration.failed_count == 0
    after = defaults(Student.objects.all())
    targeted = set(Student.objects.filter(campus=world.elementary).values_list("pk", flat=True))
    assert {pk for pk in after if after[pk] != before[pk]} == targeted
    for student in Student.objects.filter(pk__in=targeted):
        assert student.must_change_password
        assert student.check_password(after[student.pk])
        assert not student.check_password(before[student.pk])
    assert RegenerationOutcome.objects.filter(request=regeneration).count() == 10
    assert mail.outbox[-1].to == ["admin920@example.org"] if mail.outbox else True
