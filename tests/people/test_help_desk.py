"""The two help-desk roles wherever their actions live: People (list, a student's page,
*Show*, *Reset to default password*), the single-user request (form, confirm, its page, its
handout), and what they may not do (the PSU-wide and file requests, another campus)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import RoleAssignment
from people.models import CredentialEvent, DefaultPasswordDisclosure, Student
from people.selectors import students_visible_to
from regeneration.models import RegenerationRequest
from tests.helpers import field_errors, page_text


def student_of(campus) -> Student:
    return Student.objects.filter(campus=campus).order_by("id").first()


# Scope -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_help_desk_sees_exactly_the_students_its_role_covers(world):
    elementary = set(Student.objects.filter(campus=world.elementary).values_list("pk", flat=True))
    high = set(Student.objects.filter(campus=world.high).values_list("pk", flat=True))

    assert set(students_visible_to(world.helpdesk920).values_list("pk", flat=True)) == (
        elementary | high
    )
    assert set(students_visible_to(world.school920).values_list("pk", flat=True)) == elementary
    assert set(students_visible_to(world.school920high).values_list("pk", flat=True)) == high
    assert not students_visible_to(world.teacher).exists()


@pytest.mark.django_db
def test_a_campus_of_another_psu_named_on_a_school_role_covers_nobody(world):
    role = RoleAssignment.objects.get(user=world.school920)
    role.campuses.add(world.campus010)  # only admin could; the role's PSU is 920

    assert list(
        students_visible_to(world.school920).order_by().values_list("campus", flat=True).distinct()
    ) == [world.elementary.pk]


@pytest.mark.django_db
def test_a_help_desk_role_past_its_end_date_shows_nothing(client, world):
    RoleAssignment.objects.filter(user=world.school920).update(
        ends_on=timezone.localdate() - timedelta(days=1)
    )
    client.force_login(world.school920)

    assert client.get(reverse("people:list")).status_code == 403
    assert client.get(reverse("regeneration:new_single")).status_code == 403


# People ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_school_help_desk_lists_its_campus_only_and_says_so(client, world):
    client.force_login(world.school920)

    response = client.get(reverse("people:list"))

    text = page_text(response)
    assert "Students of campus 920304." in text
    assert "Student Help Desk · campus 920304" in text
    shown = {s.pk for s in response.context["page"]}
    assert shown == set(
        Student.objects.filter(campus=world.elementary).values_list("pk", flat=True)
    )
    other_campus = client.get(reverse("people:list"), {"campus": "920364"})
    assert "Choose one of your own campuses" in page_text(other_campus)


@pytest.mark.django_db
def test_the_school_help_desk_shows_and_resets_its_campus_student(client, world):
    student = student_of(world.elementary)
    client.force_login(world.school920)

    shown = client.post(reverse("people:reveal", args=[student.pk]))
    reset = client.post(reverse("people:reset_default", args=[student.pk]), {}, follow=True)

    assert shown.context["revealed_password"] == "oldpass42"
    assert DefaultPasswordDisclosure.objects.get().actor == world.school920
    assert "login password is now their default password" in page_text(reset)
    event = CredentialEvent.objects.get(student=student)
    assert (event.kind, event.actor) == (CredentialEvent.Kind.RESET_TO_DEFAULT, world.school920)


@pytest.mark.django_db
def test_the_school_help_desk_of_another_campus_sees_and_changes_nothing_of_it(client, world):
    student = student_of(world.elementary)
    before = Student.objects.filter(pk=student.pk).values_list("password", "login_source").get()
    client.force_login(world.school920high)

    for name, method in (
        ("people:detail", "get"),
        ("people:reveal", "post"),
        ("people:reset_default", "get"),
        ("people:reset_default", "post"),
    ):
        response = getattr(client, method)(reverse(name, args=[student.pk]))
        assert response.status_code == 404, name
    assert student.username not in client.get(reverse("people:list"), {"q": student.last_name}).text

    assert (
        Student.objects.filter(pk=student.pk).values_list("password", "login_source").get()
        == before
    )
    assert not DefaultPasswordDisclosure.objects.exists()


@pytest.mark.django_db
def test_the_lea_help_desk_resets_any_student_of_its_psu_and_none_of_another(client, world):
    client.force_login(world.helpdesk920)

    for campus in (world.elementary, world.high):
        response = client.post(reverse("people:reset_default", args=[student_of(campus).pk]))
        assert response.status_code == 302
    other = client.get(reverse("people:detail", args=[student_of(world.campus010).pk]))
    assert other.status_code == 404


# The single-user request -------------------------------------------------------------------------


def single(client, student, psu_code="920"):
    return client.post(
        reverse("regeneration:new_single"),
        {
            "psu_code": psu_code,
            "student_uid": student.student_number,
            "reset_current_passwords": "on",
        },
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("username", ["helpdesk920", "school920"])
def test_a_help_desk_regenerates_one_student_and_follows_the_request(
    client, world, finish_requests, username
):
    user = getattr(world, username)
    student = student_of(world.elementary)
    client.force_login(user)

    form = client.get(reverse("regeneration:new_single"))
    assert form.context["form"].initial == {"psu_code": "920"}
    draft = single(client, student)
    assert draft.status_code == 302, page_text(draft)
    confirmed = client.post(draft["Location"])
    regeneration = finish_requests(RegenerationRequest.objects.get())

    assert confirmed["Location"] == regeneration.get_absolute_url()
    assert (regeneration.requester, regeneration.status) == (user, "completed")
    page = client.get(regeneration.get_absolute_url())
    assert "Regenerate Student Default Password (Single User)" in page_text(page)
    assert (
        client.get(reverse("regeneration:handout_csv", args=[regeneration.pk])).status_code == 200
    )
    listed = client.get(reverse("regeneration:list"))
    assert f"#{regeneration.pk}" in page_text(listed)
    # Another campus's help desk, the PSU's help desk (not theirs) and another PSU: nothing.
    for other in (world.school920high, world.admin010, world.helpdesk920, world.school920):
        if other == user:
            continue
        client.force_login(other)
        assert client.get(regeneration.get_absolute_url()).status_code == 404
    client.force_login(world.admin920)  # the PSU's administrator reviews every request of it
    assert client.get(regeneration.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_the_school_help_desk_cannot_request_for_a_student_of_another_campus(client, world):
    client.force_login(world.school920high)

    response = single(client, student_of(world.elementary))

    assert field_errors(response, "student_uid") == [
        f"The student “{student_of(world.elementary).student_number}” is not a student of a "
        "campus you help, so you cannot request for them."
    ]


@pytest.mark.django_db
def test_a_help_desk_cannot_request_for_another_psu(client, world):
    client.force_login(world.helpdesk920)

    response = single(client, student_of(world.campus010), psu_code="010")

    assert field_errors(response, "psu_code") == [
        "You hold no role for PSU “010” that allows this request (LEA Administrator, LEA "
        "Student Help Desk or School Student Help Desk)."
    ]


@pytest.mark.django_db
def test_a_draft_confirmed_after_the_role_ended_is_no_longer_valid(client, world):
    client.force_login(world.school920)
    draft = single(client, student_of(world.elementary))
    RoleAssignment.objects.get(user=world.school920).campuses.set([world.high])

    response = client.post(draft["Location"], follow=True)

    assert "The request is no longer valid" in page_text(response)
    assert not RegenerationRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["helpdesk920", "school920"])
@pytest.mark.parametrize("name", ["regeneration:new", "regeneration:new_file"])
def test_the_help_desks_may_not_use_the_psu_wide_or_file_requests(client, world, username, name):
    client.force_login(getattr(world, username))

    response = client.get(reverse(name))

    assert response.status_code == 403
    assert "This page needs the LEA Administrator role" in page_text(response)
