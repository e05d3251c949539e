"""The role request pages: the catalog entry and its form, *Approvals* with its count, the
request's page and its actions, *My requests*."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from catalog.models import Role, RoleAssignment, RoleRequest
from catalog.services import role_request_approve, role_request_create
from tests.factories import UserFactory
from tests.helpers import field_errors, page_text

Status = RoleRequest.Status
ENTRY = "Request a Privileged Role"
FORM = {
    "role": "lea_admin",
    "psu_code": "920",
    "campus_codes": "",
    "reason": "Covering",
    "ends_on": "",
}


def request_for(user, psu, role=Role.LEA_ADMIN, **options):
    return role_request_create(user=user, role=role, psu=psu, reason="Covering term 2", **options)


# The catalog -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "titles"),
    [
        ("teacher", [ENTRY]),
        ("support", [ENTRY]),
        ("helpdesk920", ["Regenerate Student Default Password (Single User)", ENTRY]),
        ("school920", ["Regenerate Student Default Password (Single User)", ENTRY]),
        (
            "admin920",
            [
                "Regenerate Student Default Passwords",
                "Regenerate Student Default Password (Single User)",
                "Regenerate Student Default Passwords (File Upload)",
                ENTRY,
            ],
        ),
    ],
)
def test_the_catalog_shows_each_entry_to_exactly_the_roles_that_may_use_it(
    client, world, username, titles
):
    client.force_login(getattr(world, username))

    response = client.get(reverse("catalog:index"))

    assert [entry.title for entry in response.context["entries"]] == titles
    for entry in response.context["entries"]:  # and every entry shown opens
        assert client.get(reverse(entry.url_name)).status_code == 200


# The form ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_teacher_requests_a_role_and_lands_on_its_page(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world.teacher)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("catalog:role_request_new"),
            {**FORM, "reason": "Covering for Renee"},
            follow=True,
        )

    role_request = RoleRequest.objects.get()
    assert (role_request.user, role_request.role, role_request.psu) == (
        world.teacher,
        "lea_admin",
        world.psu920,
    )
    assert response.redirect_chain[-1][0] == role_request.get_absolute_url()
    text = page_text(response)
    assert f"Role request #{role_request.pk} is recorded" in text
    assert "Covering for Renee" in text and "Requested" in text
    assert "Withdraw this request" in text
    assert [m.to for m in mail.outbox] == [[world.admin920.email]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"reason": "  "}, "reason", "This field is required."),
        ({"psu_code": "9x"}, "psu_code", "“9X” is not a PSU code"),
        ({"psu_code": "999"}, "psu_code", "There is no PSU “999”."),
        ({"role": "support"}, "role", "Select a valid choice."),
        ({"role": "school_help_desk"}, "campus_codes", "List the campuses you help"),
        (
            {"role": "school_help_desk", "campus_codes": "920304, 010304, 12, 999999"},
            "campus_codes",
            "Campus “010304” belongs to PSU 010, not to PSU 920.",
        ),
        (
            {"role": "school_help_desk", "campus_codes": "12"},
            "campus_codes",
            "“12” is not a campus code",
        ),
        (
            {"role": "school_help_desk", "campus_codes": "999999"},
            "campus_codes",
            "Campus code “999999” does not exist.",
        ),
        ({"campus_codes": "920304"}, "campus_codes", "Campus codes are for the School Student"),
        ({"ends_on": "2001-01-01"}, "ends_on", "The end date must be today or later."),
        (
            {"ends_on": (timezone.localdate() + timedelta(days=400)).isoformat()},
            "ends_on",
            "The end date can be at most one year ahead",
        ),
    ],
)
def test_the_form_names_what_is_wrong_and_records_nothing(client, world, changes, field, message):
    client.force_login(world.teacher)

    response = client.post(reverse("catalog:role_request_new"), {**FORM, **changes})

    assert response.status_code == 200
    assert any(message in error for error in field_errors(response, field)), field_errors(
        response, field
    )
    assert "The role was not requested." in page_text(response)
    assert RoleRequest.objects.count() == 0


@pytest.mark.django_db
def test_the_school_role_keeps_the_campuses_given(client, world):
    client.force_login(world.teacher)

    client.post(
        reverse("catalog:role_request_new"),
        {
            **FORM,
            "role": "school_help_desk",
            "campus_codes": "920364, 920304,920364",
            "ends_on": (timezone.localdate() + timedelta(days=365)).isoformat(),
        },
    )

    role_request = RoleRequest.objects.get()
    assert sorted(role_request.campuses.values_list("code", flat=True)) == ["920304", "920364"]
    assert role_request.ends_on == timezone.localdate() + timedelta(days=365)


@pytest.mark.django_db
def test_a_duplicate_is_refused_on_the_form_with_a_clear_message(client, world):
    first = request_for(world.teacher, world.psu920)
    client.force_login(world.teacher)

    response = client.post(reverse("catalog:role_request_new"), FORM)

    assert (
        f"You have already requested LEA Administrator for PSU 920 (role request #{first.pk}"
        in page_text(response)
    )
    assert RoleRequest.objects.count() == 1


# Approvals ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_approvals_shows_the_number_waiting_in_the_navigation(client, world):
    request_for(world.teacher, world.psu920)
    request_for(world.helpdesk920, world.psu920)
    request_for(world.support, world.psu010)
    client.force_login(world.admin920)

    response = client.get(reverse("catalog:index"))

    assert "Approvals 2 waiting" in page_text(response)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["teacher", "support", "helpdesk920", "school920"])
def test_approvals_is_not_offered_to_who_approves_nothing(client, world, username):
    client.force_login(getattr(world, username))

    assert "Approvals" not in page_text(client.get(reverse("catalog:index")))
    response = client.get(reverse("catalog:approvals"))
    assert response.status_code == 403
    assert "Approvals are for LEA Administrators" in page_text(response)


@pytest.mark.django_db
def test_approvals_lists_what_waits_and_approving_grants_it(
    client, world, django_capture_on_commit_callbacks
):
    role_request = request_for(world.teacher, world.psu920)
    client.force_login(world.admin920)

    page = client.get(reverse("catalog:approvals"))
    assert f"Role request #{role_request.pk}" in page_text(page)
    assert "Covering term 2" in page_text(page)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("catalog:role_request_decide", args=[role_request.pk]),
            {"decision": "approve", "comment": ""},
            follow=True,
        )

    role_request.refresh_from_db()
    assert role_request.status == Status.GRANTED
    assert f"Role request #{role_request.pk} is granted" in page_text(response)
    assert "Nothing waits for your decision." in page_text(response)
    assert [m.to for m in mail.outbox] == [[world.teacher.email]]


@pytest.mark.django_db
def test_denying_needs_a_comment(client, world):
    role_request = request_for(world.teacher, world.psu920)
    client.force_login(world.admin920)
    url = reverse("catalog:role_request_decide", args=[role_request.pk])

    refused = client.post(url, {"decision": "deny", "comment": " "}, follow=True)
    role_request.refresh_from_db()
    assert role_request.status == Status.REQUESTED
    assert "Say why you deny the request" in page_text(refused)

    client.post(url, {"decision": "deny", "comment": "Not this term"})
    role_request.refresh_from_db()
    assert (role_request.status, role_request.decision_comment) == (Status.DENIED, "Not this term")


@pytest.mark.django_db
def test_the_requester_cannot_approve_their_own_request_through_the_page(client, world):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    role_request = request_for(root, world.psu920)
    client.force_login(root)

    page = client.get(role_request.get_absolute_url())
    assert "Approve" not in page_text(page)
    response = client.post(
        reverse("catalog:role_request_decide", args=[role_request.pk]),
        {"decision": "approve"},
        follow=True,
    )

    role_request.refresh_from_db()
    assert role_request.status == Status.REQUESTED
    assert "Nobody approves their own role request" in page_text(response)


@pytest.mark.django_db
def test_withdraw_and_revoke_through_the_page(client, world):
    pending = request_for(world.teacher, world.psu010)
    granted = request_for(world.teacher, world.psu920)
    role_request_approve(role_request=granted, by=world.admin920)
    client.force_login(world.teacher)
    client.post(reverse("catalog:role_request_withdraw", args=[pending.pk]))
    client.force_login(world.admin920)

    page = client.get(reverse("catalog:approvals"))
    assert f"#{granted.pk}" in page_text(page)
    response = client.post(
        reverse("catalog:role_grant_revoke", args=[granted.pk]), {"comment": "Moved"}, follow=True
    )

    pending.refresh_from_db()
    granted.refresh_from_db()
    assert pending.status == Status.WITHDRAWN
    assert granted.status == Status.REVOKED
    assert "is revoked" in page_text(response)
    assert not RoleAssignment.objects.filter(user=world.teacher).exists()


@pytest.mark.django_db
def test_another_psus_administrator_and_the_help_desks_do_not_see_the_request(client, world):
    role_request = request_for(world.teacher, world.psu920)

    for user in (world.admin010, world.helpdesk920, world.school920, world.support):
        client.force_login(user)
        assert client.get(role_request.get_absolute_url()).status_code == 404
        response = client.post(
            reverse("catalog:role_request_decide", args=[role_request.pk]), {"decision": "approve"}
        )
        assert response.status_code == 404
    role_request.refresh_from_db()
    assert role_request.status == Status.REQUESTED


# My requests -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_my_requests_lists_role_requests_beside_regeneration_requests(client, world):
    role_request = request_for(
        world.teacher, world.psu920, ends_on=timezone.localdate() + timedelta(days=9)
    )
    client.force_login(world.teacher)

    response = client.get(reverse("regeneration:list"))

    text = page_text(response)
    assert f"Role #{role_request.pk} LEA Administrator 920 All Requested" in text
    assert "You have not made any password request yet." in text
    assert reverse("regeneration:new") not in response.text  # no role for it yet


@pytest.mark.django_db
def test_approvals_runs_as_many_queries_whatever_waits(client, world, django_assert_num_queries):
    client.force_login(world.admin920)
    request_for(world.teacher, world.psu920, role=Role.SCHOOL_HELP_DESK, campuses=[world.high])
    # session, user, roles (Support among them), the count in the navigation, the teacher
    # role (header), the requests waiting, their campuses, the grants in force (none), and
    # saving the session (savepoint, update, release)
    with django_assert_num_queries(11) as one:
        client.get(reverse("catalog:approvals"))
    for username in ("w1", "w2", "w3", "w4"):
        request_for(
            UserFactory(username=username),
            world.psu920,
            role=Role.SCHOOL_HELP_DESK,
            campuses=[world.elementary],
        )
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(reverse("catalog:approvals"))

    assert len(response.context["waiting"]) == 5
