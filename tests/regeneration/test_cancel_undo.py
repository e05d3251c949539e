"""Cancel, undo, and the guard on large requests."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from credentials.crypto import decrypt_default_password
from people.models import Student
from people.services import student_password_change
from regeneration import engine, lifecycle
from regeneration.models import RegenerationOutcome, RegenerationRequest
from tests.factories import UserFactory, lea_admin
from tests.helpers import page_text
from tests.regeneration.helpers import make_request, run, whole_psu_values

Status = RegenerationRequest.Status


def state() -> dict[int, tuple]:
    """Every student's credentials, as stored."""
    return {
        pk: rest
        for pk, *rest in Student.objects.values_list(
            "pk",
            "default_password_encrypted",
            "password",
            "must_change_password",
            "default_request_number",
            "login_source",
            "login_request_number",
        )
    }


# Cancel ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_queued_request_cancelled_changes_nobody(admin920_client, world):
    before = state()
    regeneration = make_request(world, reset_current_passwords=True)

    response = admin920_client.post(
        reverse("regeneration:cancel", args=[regeneration.pk]), follow=True
    )
    run(regeneration)

    assert regeneration.status == Status.CANCELLED
    assert state() == before
    assert "Cancelled by" in page_text(
        response
    ) and "0 students changed, 0 not changed" in page_text(response)


@pytest.mark.django_db
def test_cancel_while_running_stops_after_the_chunk_in_hand(admin920_client, world, settings):
    settings.REGENERATION_CHUNK_SIZE = 5
    regeneration = make_request(world, reset_current_passwords=True)
    lifecycle.request_start(request_id=regeneration.pk)
    assert engine.chunk_process_next(request_id=regeneration.pk)  # one chunk of 5 done

    admin920_client.post(reverse("regeneration:cancel", args=[regeneration.pk]))
    assert not engine.chunk_process_next(request_id=regeneration.pk)  # no chunk starts now
    run(regeneration)

    assert regeneration.status == Status.CANCELLED
    assert (regeneration.processed_count, regeneration.not_changed_count) == (5, 12)
    assert RegenerationOutcome.objects.filter(request=regeneration).count() == 5
    page = admin920_client.get(regeneration.get_absolute_url())
    assert "5 students changed, 12 not changed" in page_text(page)
    csv = admin920_client.get(reverse("regeneration:handout_csv", args=[regeneration.pk]))
    assert len(b"".join(csv.streaming_content).decode().strip().splitlines()) == 6


@pytest.mark.django_db
def test_only_the_requester_cancels(client, world):
    regeneration = make_request(world)
    colleague = lea_admin(UserFactory(username="admin920b"), world.psu920)

    client.force_login(colleague)
    assert client.post(reverse("regeneration:cancel", args=[regeneration.pk])).status_code == 403
    client.force_login(world.admin010)
    assert client.post(reverse("regeneration:cancel", args=[regeneration.pk])).status_code == 404
    regeneration.refresh_from_db()
    assert regeneration.status == Status.QUEUED


@pytest.mark.django_db
def test_a_finished_request_cannot_be_cancelled(admin920_client, world):
    regeneration = run(make_request(world))

    response = admin920_client.post(
        reverse("regeneration:cancel", args=[regeneration.pk]), follow=True
    )

    assert "only a queued or running request can be cancelled" in page_text(response)
    regeneration.refresh_from_db()
    assert regeneration.status == Status.COMPLETED


# Undo ------------------------------------------------------------------------------------------


def undo(client, regeneration) -> RegenerationRequest:
    page = client.get(reverse("regeneration:undo", args=[regeneration.pk]))
    key = page.context["key"]
    response = client.post(reverse("regeneration:undo", args=[regeneration.pk]), {"key": key})
    assert response.status_code == 302
    return run(RegenerationRequest.objects.get(undo_of=regeneration))


@pytest.mark.django_db
def test_an_undo_gives_back_what_the_students_had_except_to_those_changed_since(
    admin920_client, world
):
    before = state()
    defaults_before = {
        s.pk: decrypt_default_password(s.default_password_encrypted) for s in Student.objects.all()
    }
    regeneration = run(
        make_request(
            world, campus_codes=["920304"], reset_current_passwords=True, force_password_change=True
        )
    )
    chose = Student.objects.filter(campus=world.elementary, grade="5").first()
    replaced = Student.objects.filter(campus=world.elementary, grade="0").first()
    student_password_change(student=chose, new_password="Their-own-2026!")
    later = run(make_request(world, campus_codes=["920304"], grade_levels=[replaced.grade]))

    page = admin920_client.get(reverse("regeneration:undo", args=[regeneration.pk]))
    text = page_text(page)
    restorable = (
        10 - 1 - Student.objects.filter(campus=world.elementary, grade=replaced.grade).count()
    )
    assert f"{restorable} students get back what they had before" in text
    assert "The student chose their own password on" in text
    assert f"The default was changed since, by request #{later.pk}." in text
    the_undo = undo(admin920_client, regeneration)

    assert the_undo.status == Status.COMPLETED
    assert the_undo.title == f"Undo of request #{regeneration.pk}"
    assert (the_undo.processed_count, the_undo.skipped_count) == (restorable, 10 - restorable)
    after = state()
    restored = RegenerationOutcome.objects.filter(request=the_undo, status="changed")
    for outcome in restored:
        assert after[outcome.student_id] == before[outcome.student_id]
        student = Student.objects.get(pk=outcome.student_id)
        assert (
            decrypt_default_password(student.default_password_encrypted)
            == defaults_before[student.pk]
        )
        assert student.check_password("oldpass42")
    assert Student.objects.get(pk=chose.pk).check_password("Their-own-2026!")
    assert after[replaced.pk][3] == later.pk  # its default is still the later request's
    left = RegenerationOutcome.objects.filter(request=the_undo, status="skipped")
    assert {o.student_id for o in left} >= {chose.pk, replaced.pk}
    page = admin920_client.get(the_undo.get_absolute_url())
    assert f"Request #{the_undo.pk}: Undo of request #{regeneration.pk}" in page_text(page)
    assert "Left alone: The student chose their own password on" in page_text(page)


@pytest.mark.django_db
def test_an_undo_touches_only_the_undone_request_s_students_still_in_its_psu(
    admin920_client, world
):
    """Students between the undone request's own (same ids range, another grade) and a
    student who moved to another PSU since keep what they have now."""
    regeneration = run(make_request(world, grade_levels=["0", "9"], reset_current_passwords=True))
    moved = Student.objects.filter(campus=world.elementary, grade="0").first()
    Student.objects.filter(pk=moved.pk).update(psu=world.psu010, campus=world.campus010)
    changed = set(
        RegenerationOutcome.objects.filter(request=regeneration).values_list(
            "student_id", flat=True
        )
    )
    before = state()
    the_undo = undo(admin920_client, regeneration)

    after = state()
    assert the_undo.processed_count == len(changed) - 1
    assert not RegenerationOutcome.objects.filter(request=the_undo, student_id=moved.pk).exists()
    assert after[moved.pk] == before[moved.pk]
    untouched = [pk for pk in before if pk not in changed]
    assert untouched and all(after[pk] == before[pk] for pk in untouched)
    assert all(after[pk] != before[pk] for pk in changed - {moved.pk})
    assert all(after[pk][3] is None for pk in changed - {moved.pk})  # the first default back


@pytest.mark.django_db
def test_previous_credentials_are_kept_as_they_were_never_in_plaintext(world):
    before = state()

    regeneration = run(make_request(world, reset_current_passwords=True))

    for outcome in RegenerationOutcome.objects.filter(request=regeneration):
        default, password, must_change, *_ = before[outcome.student_id]
        assert outcome.previous_default_encrypted == default
        assert outcome.previous_password == password
        assert outcome.previous_must_change is must_change
        assert "oldpass42" not in (outcome.previous_default_encrypted + outcome.previous_password)


@pytest.mark.django_db
def test_undo_is_offered_for_the_undo_days_then_its_data_is_removed(
    admin920_client, world, settings
):
    settings.REGENERATION_UNDO_DAYS = 7
    regeneration = run(make_request(world))
    page = admin920_client.get(regeneration.get_absolute_url())
    assert "Undo this request" in page_text(page)

    RegenerationRequest.objects.filter(pk=regeneration.pk).update(
        finished_at=timezone.now() - timedelta(days=8)
    )
    assert lifecycle.undo_data_expire() == 1

    page = admin920_client.get(regeneration.get_absolute_url())
    refused = admin920_client.get(reverse("regeneration:undo", args=[regeneration.pk]), follow=True)
    assert "Undo this request" not in page_text(page)
    assert "(7 days after it finished)" in page_text(refused)
    assert (
        not RegenerationOutcome.objects.filter(request=regeneration)
        .exclude(previous_default_encrypted="")
        .exists()
    )


@pytest.mark.django_db
def test_a_request_is_undone_once_by_its_requester_only(client, world):
    regeneration = run(make_request(world))
    colleague = lea_admin(UserFactory(username="admin920b"), world.psu920)
    client.force_login(colleague)
    refused = client.get(reverse("regeneration:undo", args=[regeneration.pk]), follow=True)
    assert "Only the administrator who made a request can undo it." in page_text(refused)

    client.force_login(world.admin920)
    undo(client, regeneration)
    again = client.get(reverse("regeneration:undo", args=[regeneration.pk]), follow=True)

    assert "already undone by request #" in page_text(again)
    assert RegenerationRequest.objects.filter(undo_of=regeneration).count() == 1


@pytest.mark.django_db
def test_an_undo_of_an_undo_and_of_another_psu_are_refused(client, world):
    regeneration = run(make_request(world))
    client.force_login(world.admin920)
    the_undo = undo(client, regeneration)

    again = client.get(reverse("regeneration:undo", args=[the_undo.pk]), follow=True)
    client.force_login(world.admin010)
    foreign = client.get(reverse("regeneration:undo", args=[regeneration.pk]))

    assert "An undo cannot itself be undone." in page_text(again)
    assert foreign.status_code == 404


# The guard on large requests -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_large_request_is_confirmed_only_with_its_count_typed(admin920_client, settings):
    settings.REGENERATION_CONFIRM_TYPING_THRESHOLD = 10
    response = admin920_client.post(reverse("regeneration:new"), {"psu_code": "920"})
    confirm = response["Location"]

    page = admin920_client.get(confirm)
    wrong = admin920_client.post(confirm, {"confirm_count": "71"})
    assert RegenerationRequest.objects.count() == 0
    right = admin920_client.post(confirm, {"confirm_count": "17"})

    assert "This request changes 17 students: type 17 to confirm" in page_text(page)
    assert 'data-confirm-count="17"' in page.text
    assert "What cannot be taken back: nothing: this request leaves the students' login" in (
        page_text(page)
    )
    assert "You can undo this request for 7 days after it finishes" in page_text(page)
    assert "type 17 in the box to confirm it" in page_text(wrong)
    assert right.status_code == 302
    assert RegenerationRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_small_request_needs_no_typing(admin920_client, settings):
    settings.REGENERATION_CONFIRM_TYPING_THRESHOLD = 1000
    response = admin920_client.post(
        reverse("regeneration:new"), {"psu_code": "920", "reset_current_passwords": "on"}
    )

    page = admin920_client.get(response["Location"])
    confirmed = admin920_client.post(response["Location"])

    assert "confirm_count" not in page.text
    assert "What cannot be taken back: the students' open sessions end at once" in page_text(page)
    assert confirmed.status_code == 302


@pytest.mark.django_db
def test_the_service_refuses_an_untyped_large_request_too(world, settings):
    settings.REGENERATION_CONFIRM_TYPING_THRESHOLD = 10
    values = whole_psu_values()

    with pytest.raises(lifecycle.RequestCountNotTyped):
        lifecycle.regeneration_request_create(
            requester=world.admin920, values=values, confirmation_key=uuid.uuid4()
        )
    assert RegenerationRequest.objects.count() == 0


# The friendlier PSU form -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_form_lists_the_psu_s_campuses_and_the_grades_by_name(admin920_client):
    page = admin920_client.get(reverse("regeneration:new"))

    html = page.content.decode()
    assert "data-pickers hidden" in html  # shown by the script; the text fields stay the form
    assert "Apex Elementary" in html and 'value="920304" data-fills="id_campus_codes"' in html
    assert 'value="0" data-fills="id_grade_levels"' in html and "Kindergarten" in html
    assert "010304" not in html  # another PSU's campus


@pytest.mark.django_db
def test_after_an_undo_the_undone_request_s_handout_says_so(admin920_client, world):
    regeneration = run(make_request(world, campus_codes=["920364"], reset_current_passwords=True))
    the_undo = undo(admin920_client, regeneration)

    response = admin920_client.get(reverse("regeneration:handout_csv", args=[regeneration.pk]))
    rows = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()[1:]
    page = admin920_client.get(the_undo.get_absolute_url())

    assert len(rows) == 7
    assert all(f',no,"Undone by request #{the_undo.pk} on ' in row for row in rows), rows[0]
    assert "An undo sets no new password" in page_text(page)
