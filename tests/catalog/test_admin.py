"""Roles in admin: a superuser's direct grant and removal are recorded as role requests;
the history is read-only for everybody, Support included."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import Role, RoleAssignment, RoleRequest
from catalog.services import role_request_approve, role_request_create
from tests.factories import UserFactory
from tests.helpers import page_text

Status = RoleRequest.Status


@pytest.fixture
def root_client(client, db):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    client.root = root
    return client


@pytest.mark.django_db
def test_a_direct_grant_in_admin_is_recorded_as_a_granted_request(root_client, world):
    response = root_client.post(
        reverse("admin:catalog_roleassignment_add"),
        {
            "user": world.teacher.pk,
            "role": Role.SCHOOL_HELP_DESK,
            "psu": world.psu920.pk,
            "campuses": [world.high.pk],
            "ends_on": "",
        },
    )

    assert response.status_code == 302, page_text(response)
    assignment = RoleAssignment.objects.get(user=world.teacher)
    record = assignment.role_request
    assert (record.status, record.granted_directly, record.decided_by) == (
        Status.GRANTED,
        True,
        root_client.root,
    )
    assert list(record.campuses.all()) == [world.high]
    assert record.reason == "Granted directly in admin by root."


@pytest.mark.django_db
def test_admin_refuses_school_campuses_of_another_psu(root_client, world):
    response = root_client.post(
        reverse("admin:catalog_roleassignment_add"),
        {
            "user": world.teacher.pk,
            "role": Role.SCHOOL_HELP_DESK,
            "psu": world.psu920.pk,
            "campuses": [world.campus010.pk],
        },
    )

    assert "Not campuses of PSU 920: 010304." in page_text(response)
    assert not RoleAssignment.objects.filter(user=world.teacher).exists()


@pytest.mark.django_db
def test_removing_a_role_in_admin_records_it_revoked(root_client, world):
    role_request = role_request_create(
        user=world.teacher, role=Role.LEA_ADMIN, psu=world.psu920, reason="Term 2"
    )
    role_request_approve(role_request=role_request, by=world.admin920)
    assignment = RoleAssignment.objects.get(user=world.teacher)

    root_client.post(
        reverse("admin:catalog_roleassignment_delete", args=[assignment.pk]), {"post": "yes"}
    )

    role_request.refresh_from_db()
    assert role_request.status == Status.REVOKED
    assert (role_request.ended_by, role_request.end_comment) == (
        root_client.root,
        "Removed in admin.",
    )
    assert not RoleAssignment.objects.filter(user=world.teacher).exists()


@pytest.mark.django_db
def test_support_reads_the_whole_history_and_changes_nothing(client, world):
    role_request = role_request_create(
        user=world.teacher, role=Role.LEA_ADMIN, psu=world.psu920, reason="Covering for Renee"
    )
    role_request_approve(role_request=role_request, by=world.admin920, comment="Fine")
    client.force_login(world.support)

    listed = client.get(reverse("admin:catalog_rolerequest_changelist"))
    detail = client.get(reverse("admin:catalog_rolerequest_change", args=[role_request.pk]))
    changed = client.post(
        reverse("admin:catalog_rolerequest_change", args=[role_request.pk]), {"reason": "x"}
    )
    grant = client.post(
        reverse("admin:catalog_roleassignment_add"),
        {"user": world.support.pk, "role": Role.LEA_ADMIN, "psu": world.psu920.pk},
    )

    assert "teacher" in page_text(listed) and "Granted" in page_text(listed)
    text = page_text(detail)
    assert "Covering for Renee" in text and "admin920" in text and "Fine" in text
    assert changed.status_code == 403 and grant.status_code == 403
    role_request.refresh_from_db()
    assert role_request.reason == "Covering for Renee"
    assert not RoleAssignment.objects.filter(user=world.support, role=Role.LEA_ADMIN).exists()


@pytest.mark.django_db
def test_nobody_edits_a_role_request_not_even_a_superuser(root_client, world):
    role_request = role_request_create(
        user=world.teacher, role=Role.LEA_ADMIN, psu=world.psu920, reason="Term 2"
    )

    response = root_client.post(
        reverse("admin:catalog_rolerequest_change", args=[role_request.pk]),
        {"status": "granted"},
    )
    deleted = root_client.post(
        reverse("admin:catalog_rolerequest_delete", args=[role_request.pk]), {"post": "yes"}
    )

    role_request.refresh_from_db()
    assert role_request.status == Status.REQUESTED
    assert response.status_code == 403 and deleted.status_code == 403


def change_form_data(response) -> dict:
    """The user's admin change form as the browser would post it back, unchanged."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if hasattr(field.widget, "decompress"):
            for i, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{i}"] = "" if part is None else str(part)
        elif isinstance(value, (list, tuple)) or hasattr(value, "all"):
            data[name] = [
                getattr(v, "pk", v) for v in (value.all() if hasattr(value, "all") else value)
            ]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
    return data


@pytest.mark.django_db
def test_a_grant_on_the_users_admin_page_is_recorded_as_well(root_client, world):
    url = reverse("admin:people_user_change", args=[world.teacher.pk])
    data = change_form_data(root_client.get(url))
    prefix = "role_assignments"
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-0-role": Role.LEA_HELP_DESK,
            f"{prefix}-0-psu": world.psu920.pk,
            f"{prefix}-0-ends_on": "",
        }
    )

    response = root_client.post(url, data)

    assert response.status_code == 302, page_text(response)[:2000]
    assignment = RoleAssignment.objects.get(user=world.teacher)
    assert assignment.role == Role.LEA_HELP_DESK and assignment.granted_by == root_client.root
    assert assignment.role_request.granted_directly
    assert assignment.role_request.status == Status.GRANTED
