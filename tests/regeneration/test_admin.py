"""Request history in Django admin: support staff search, filter, read and export, and
change nothing; no password, encrypted or not, is shown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import RoleAssignment
from regeneration import lifecycle
from regeneration.models import RegenerationRequest
from tests.factories import RegenerationRequestFactory, UserFactory
from tests.helpers import page_text

CHANGELIST = reverse("admin:regeneration_regenerationrequest_changelist")


@pytest.fixture
def history(world):
    done = RegenerationRequestFactory(
        requester=world.admin920,
        psu=world.psu920,
        reset_current_passwords=True,
        comments='=HYPERLINK("http://evil.example","click")',
    )
    lifecycle.request_run(request_id=done.pk, budget_seconds=60)
    queued = RegenerationRequestFactory(
        requester=world.admin010, psu=world.psu010, comments="Grade 5 only"
    )
    done.refresh_from_db()
    return done, queued


@pytest.fixture
def support_client(client, world):
    client.force_login(world.support)
    return client


@pytest.mark.django_db
def test_support_finds_requests_by_psu_and_status(support_client, history):
    done, queued = history

    by_filter = support_client.get(
        CHANGELIST, {"psu__id__exact": done.psu_id, "status": "completed"}
    )
    by_search = support_client.get(CHANGELIST, {"q": "Grade 5"})
    by_requester = support_client.get(CHANGELIST, {"q": "admin010"})

    assert [r.pk for r in by_filter.context["cl"].result_list] == [done.pk]
    assert [r.pk for r in by_search.context["cl"].result_list] == [queued.pk]
    assert [r.pk for r in by_requester.context["cl"].result_list] == [queued.pk]


@pytest.mark.django_db
def test_support_reads_a_request_and_reaches_its_outcomes_but_changes_nothing(
    support_client, history
):
    done, _ = history
    change_url = reverse("admin:regeneration_regenerationrequest_change", args=[done.pk])

    page = support_client.get(change_url)
    outcomes = support_client.get(
        reverse("admin:regeneration_regenerationoutcome_changelist"),
        {"request__id__exact": done.pk},
    )
    posted = support_client.post(change_url, {"comments": "edited"})
    deleted = support_client.post(
        reverse("admin:regeneration_regenerationrequest_delete", args=[done.pk]), {"post": "yes"}
    )

    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert "17 outcome rows" in page_text(page)
    assert outcomes.context["cl"].result_count == 17
    assert posted.status_code == 403 and deleted.status_code == 403
    assert RegenerationRequest.objects.get(pk=done.pk).comments.startswith("=HYPERLINK")


@pytest.mark.django_db
def test_history_cannot_be_added_or_edited_even_by_a_superuser(client, history):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    done, _ = history

    assert client.get(reverse("admin:regeneration_regenerationrequest_add")).status_code == 403
    response = client.post(
        reverse("admin:regeneration_regenerationrequest_change", args=[done.pk]),
        {"comments": "rewritten"},
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_support_exports_the_request_history_as_csv_with_formulas_neutralised(
    support_client, history
):
    done, queued = history

    response = support_client.post(
        CHANGELIST,
        {"action": "export_history_csv", "_selected_action": [done.pk, queued.pk]},
    )

    body = b"".join(response.streaming_content).decode()
    lines = body.lstrip("\ufeff").splitlines()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert lines[0].startswith("id,requester,psu,campus_codes,grade_levels")
    assert len(lines) == 3
    assert lines[1].startswith(f"{done.pk},admin920,920,")
    assert "'=HYPERLINK" in lines[1]
    assert ",completed," in lines[1] and ",17,17,17,0," in lines[1]


@pytest.mark.django_db
def test_no_password_is_shown_to_support_staff_in_admin(support_client, world, history):
    student = world.students(world.psu920).first()
    pages = [
        support_client.get(reverse("admin:people_student_changelist")),
        support_client.get(reverse("admin:people_student_change", args=[student.pk])),
        support_client.get(reverse("admin:regeneration_regenerationoutcome_changelist")),
        support_client.get(reverse("admin:people_user_change", args=[world.admin920.pk])),
    ]

    for page in pages:
        assert page.status_code == 200
        assert "gAAAA" not in page.text  # no Fernet token
        assert "fernet_temp" not in page.text and "md5$" not in page.text  # no credential
    assert student.student_number in page_text(pages[1])


@pytest.mark.django_db
def test_lea_administrators_and_teachers_cannot_enter_admin(client, world):
    for user in (world.admin920, world.teacher):
        client.force_login(user)
        response = client.get(CHANGELIST)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_a_superuser_grants_the_lea_administrator_role_in_admin(client, world):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)

    response = client.post(
        reverse("admin:catalog_roleassignment_add"),
        {"user": world.teacher.pk, "role": "lea_admin", "psu": world.psu920.pk},
    )

    assert response.status_code == 302
    role = RoleAssignment.objects.get(user=world.teacher)
    assert (role.psu, role.granted_by) == (world.psu920, root)
    client.force_login(world.teacher)
    assert "Regenerate Student Default Passwords" in page_text(client.get("/"))


@pytest.mark.django_db
def test_support_cannot_grant_roles(support_client, world):
    response = support_client.post(
        reverse("admin:catalog_roleassignment_add"),
        {"user": world.teacher.pk, "role": "lea_admin", "psu": world.psu920.pk},
    )

    assert response.status_code == 403
    assert not RoleAssignment.objects.filter(user=world.teacher).exists()


@pytest.mark.django_db
def test_a_request_reads_plainly_in_admin(support_client, world):
    request = RegenerationRequestFactory(
        requester=world.admin920, psu=world.psu920, campus_codes=["920304", "920364"]
    )

    page = support_client.get(
        reverse("admin:regeneration_regenerationrequest_change", args=[request.pk])
    )
    text = page_text(page)

    assert "Campus codes: 920304, 920364" in text.replace(" :", ":")
    assert "Grade levels: All grades" in text.replace(" :", ":")
    assert "PSU:" in text.replace(" :", ":")
    assert "View on site" not in text  # Support cannot open the administrators' page
