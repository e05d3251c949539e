"""Admin changelists filter only as their own filters do (``ncedcloud.admin.FilterLookupsOnly``).

Support reads every list in admin. Django lets a query string filter on any of a model's own
fields, so ``?password__gte=...`` answered "rows" or "no rows" and gave a student's stored
hash away a character at a time. Every field (and every field one relation away) of every
model admin is tried here with every lookup Django knows for it, as Support.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.db.models import ForeignKey, OneToOneField
from django.test import RequestFactory
from django.urls import reverse

from ncedcloud.admin import FilterLookupsOnly
from regeneration import lifecycle
from tests.factories import RegenerationRequestFactory, UserFactory
from tests.helpers import page_text


def is_credential(field) -> bool:
    """A stored password of any kind: a hash, or a Fernet token of one."""
    return field.name == "password" or "encrypted" in field.name


def field_paths(model):
    """(path, field) for every concrete field, and every field one foreign key away."""
    for field in model._meta.concrete_fields:
        yield field.name, field
        if isinstance(field, (ForeignKey, OneToOneField)):
            for related in field.related_model._meta.concrete_fields:
                yield f"{field.name}__{related.name}", related


def every_lookup(model):
    """Every query-string parameter naming a field path and one of its lookups."""
    for path, field in field_paths(model):
        yield path, field
        for lookup in field.get_lookups():
            yield f"{path}__{lookup}", field


def support_request(world):
    request = RequestFactory().get("/admin/")
    request.user = world.support
    return request


def accepted_lookups(model_admin, request) -> dict[str, object]:
    return {
        lookup: field
        for lookup, field in every_lookup(model_admin.model)
        if model_admin.lookup_allowed(lookup, "1", request)
    }


def first_part(lookup: str) -> str:
    return lookup.split("__", 1)[0]


@pytest.mark.django_db
def test_every_model_admin_has_the_rule(world):
    plain = [type(a).__name__ for a in admin.site._registry.values()]
    without = [
        type(a).__name__
        for a in admin.site._registry.values()
        if not isinstance(a, FilterLookupsOnly)
    ]

    assert len(plain) >= 10 and without == []


@pytest.mark.django_db
def test_support_can_filter_no_admin_on_a_credential_field(world):
    request = support_request(world)
    credential_filters = []
    tried = 0
    for model, model_admin in admin.site._registry.items():
        tried += sum(1 for _ in every_lookup(model))
        for lookup, field in accepted_lookups(model_admin, request).items():
            if is_credential(field):
                credential_filters.append(f"{model.__name__}: {lookup}")

    assert tried > 1000
    assert credential_filters == []


@pytest.mark.django_db
def test_support_filters_only_on_what_each_admin_offers_as_a_filter(world):
    """Every lookup accepted belongs to a field of the admin's list_filter, its
    date_hierarchy, or one of its own links."""
    request = support_request(world)
    outside = []
    for model, model_admin in admin.site._registry.items():
        offered = {model_admin.date_hierarchy, *model_admin.link_lookups}
        for item in model_admin.get_list_filter(request):
            if isinstance(item, type):
                offered.add(item.parameter_name)
            else:
                path = item[0] if isinstance(item, (list, tuple)) else item
                offered.add(path)
                get_fields_from_path(model, path)  # a real field path
        for lookup in accepted_lookups(model_admin, request):
            if not any(lookup == o or lookup.startswith(f"{o}__") for o in offered if o):
                outside.append(f"{model.__name__}: {lookup}")

    assert outside == []


@pytest.mark.django_db
def test_search_fields_never_reach_a_credential(world):
    searching_credentials = []
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.search_fields:
            path = name.lstrip("=^@")
            if is_credential(get_fields_from_path(model, path)[-1]):
                searching_credentials.append(f"{model.__name__}: {name}")

    assert searching_credentials == []


# Through the pages, as the review did it -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "password__gte={prefix}",
        "password__startswith={prefix}",
        "default_password_encrypted__startswith=gAAAAA",
        "password__regex=^fernet",
        "default_password_encrypted__contains=A",
    ],
)
def test_support_cannot_filter_students_on_their_hash_or_encrypted_default(client, world, query):
    student = world.students(world.psu920).first()
    client.force_login(world.support)
    url = reverse("admin:people_student_changelist")
    query = query.format(prefix=student.password[:8])

    response = client.get(f"{url}?id__exact={student.pk}&{query}")

    assert response.status_code == 400
    assert student.username not in response.content.decode()


@pytest.mark.django_db
def test_support_cannot_reach_a_hash_through_a_relation_either(client, world):
    client.force_login(world.support)
    url = reverse("admin:catalog_roleassignment_changelist")

    response = client.get(f"{url}?user__password__startswith=md5")

    assert response.status_code == 400


@pytest.mark.django_db
def test_the_filters_support_uses_still_filter(client, world):
    regeneration = RegenerationRequestFactory(requester=world.admin920, psu=world.psu920)
    lifecycle.request_run(request_id=regeneration.pk, budget_seconds=60)
    regeneration.refresh_from_db()
    client.force_login(world.support)

    students = client.get(
        reverse("admin:people_student_changelist"),
        {"psu__id__exact": world.psu010.pk, "grade__exact": "5"},
    )
    outcomes = client.get(
        reverse("admin:regeneration_regenerationoutcome_changelist"),
        {"request__id__exact": regeneration.pk, "status__exact": "changed"},
    )
    requests = client.get(
        reverse("admin:regeneration_regenerationrequest_changelist"),
        {
            "queued_at__year": regeneration.queued_at.year,
            "options": "default",
            "psu__id__exact": world.psu920.pk,
        },
    )

    assert sorted(s.pk for s in students.context["cl"].result_list) == sorted(
        world.students(world.psu010).values_list("pk", flat=True)
    )
    assert len(outcomes.context["cl"].result_list) == 17
    assert list(requests.context["cl"].result_list) == [regeneration]
    assert "Filter" in page_text(requests)


@pytest.mark.django_db
def test_a_superuser_still_filters_freely(client, world):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    student = world.students(world.psu920).first()

    response = client.get(
        reverse("admin:people_student_changelist"), {"last_name__startswith": student.last_name}
    )

    assert student in response.context["cl"].result_list
