"""The request's pages: form, confirm step, request page, progress, "My requests"."""

from __future__ import annotations

import io
import logging
import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from kombu.exceptions import OperationalError as BrokerError

from credentials.crypto import decrypt_default_password
from people.models import Student
from regeneration import engine, lifecycle
from regeneration.models import RegenerationRequest
from regeneration.tasks import task_run_request
from tests.factories import RegenerationRequestFactory, UserFactory, lea_admin
from tests.helpers import current_nav_items, page_text

Status = RegenerationRequest.Status
VALID = {"psu_code": "920", "campus_codes": "", "grade_levels": ""}


def request_step(client, **data):
    """POST the form; return the confirm page's URL."""
    response = client.post(reverse("regeneration:new"), {**VALID, **data})
    assert response.status_code == 302, page_text(response)
    return response["Location"]


@pytest.mark.django_db
def test_form_page_shows_the_help_texts_labels_and_request_button(admin920_client):
    response = admin920_client.get(reverse("regeneration:new"))
    text = page_text(response)

    for label in (
        "PSU Code",
        "Campus Codes",
        "Grade Levels",
        "Also Reset Current Passwords",
        "Force Password Change at Next Login",
        "Request Comments",
    ):
        assert label in text
    assert "Takes effect only if Also Reset Current Passwords is checked." in text
    assert "-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, -9" in text
    assert '<button type="submit" class="button">Request</button>' in response.text
    assert response.context["form"]["psu_code"].value() == "920"  # their only PSU


@pytest.mark.django_db
def test_errors_are_shown_next_to_their_fields_and_nothing_is_queued(admin920_client):
    response = admin920_client.post(
        reverse("regeneration:new"),
        {"psu_code": "920", "campus_codes": "010304", "grade_levels": "14"},
    )

    assert response.status_code == 200
    assert 'id="id_campus_codes_errors"' in response.text
    assert 'aria-describedby="id_campus_codes_errors id_campus_codes_help"' in response.text
    assert "Campus “010304” belongs to PSU 010, not to PSU 920." in page_text(response)
    assert "“14” is not an allowed grade level" in page_text(response)
    assert RegenerationRequest.objects.count() == 0


@pytest.mark.django_db
def test_confirm_page_shows_filters_options_and_counts_per_campus_and_grade(admin920_client):
    confirm = request_step(
        admin920_client,
        grade_levels="0, 9, 5",
        force_password_change="on",
        comments="<b>Spring</b> reset",
    )

    response = admin920_client.get(confirm)
    text = page_text(response)

    counts = response.context["counts"]
    assert counts.total == 15
    assert counts.grades == ["0", "5", "9"]
    assert [(c.code, c.by_grade) for c in counts.campuses] == [
        ("920304", {"0": 4, "5": 6}),
        ("920364", {"9": 5}),
    ]
    assert "15 students match" in text
    assert "All campuses of the PSU" in text
    assert "Asked, but not in effect" in text
    assert "&lt;b&gt;Spring&lt;/b&gt; reset" in response.text  # comments shown escaped
    assert RegenerationRequest.objects.count() == 0


@pytest.mark.django_db
def test_a_request_matching_nobody_cannot_be_confirmed(admin920_client):
    confirm = request_step(admin920_client, campus_codes="920304", grade_levels="12")

    page = admin920_client.get(confirm)
    posted = admin920_client.post(confirm)

    assert "0 students match" in page_text(page)
    assert "cannot be confirmed" in page_text(page)
    assert "Confirm</button>" not in page.text
    assert "No student matches this request" in page_text(posted)
    assert RegenerationRequest.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_confirming_twice_queues_one_request(admin920_client, finish_requests):
    confirm = request_step(admin920_client, reset_current_passwords="on")

    first = admin920_client.post(confirm)
    second = admin920_client.post(confirm)  # double click, or back button and resubmit
    again = admin920_client.post(confirm, follow=True)

    regeneration = finish_requests(RegenerationRequest.objects.get())
    assert first["Location"] == second["Location"] == regeneration.get_absolute_url()
    assert "was already confirmed; nothing new was queued" in page_text(again)
    assert regeneration.processed_count == 17


@pytest.mark.django_db
def test_confirm_rechecks_the_role_at_confirm_time(client, world):
    client.force_login(world.admin920)
    confirm = request_step(client)
    world.admin920.role_assignments.all().delete()

    response = client.post(confirm)

    assert response.status_code == 403
    assert RegenerationRequest.objects.count() == 0


@pytest.mark.django_db
def test_an_unknown_confirm_key_sends_back_to_the_form(admin920_client):
    response = admin920_client.post(
        reverse("regeneration:confirm", args=["0b7c2f0e-3a51-4f0e-9d55-1d1a2d9f4c11"]), follow=True
    )

    assert "no longer waiting for confirmation" in page_text(response)
    assert RegenerationRequest.objects.count() == 0


@pytest.mark.django_db
def test_an_administrator_of_010_cannot_submit_for_920(client, world):
    client.force_login(world.admin010)

    response = client.post(reverse("regeneration:new"), VALID)

    assert response.status_code == 200
    assert "You are not an LEA Administrator of PSU “920”" in page_text(response)
    assert RegenerationRequest.objects.count() == 0


@pytest.mark.django_db
def test_an_administrator_of_010_cannot_open_920s_request_or_its_progress(client, world):
    regeneration = RegenerationRequestFactory(requester=world.admin920, psu=world.psu920)
    client.force_login(world.admin010)

    for url in (
        reverse("regeneration:detail", args=[regeneration.pk]),
        reverse("regeneration:progress", args=[regeneration.pk]),
    ):
        assert client.get(url).status_code == 404
    listing = client.get(reverse("regeneration:list"))
    assert f"#{regeneration.pk}" not in page_text(listing)


@pytest.mark.django_db
def test_a_draft_for_920_cannot_be_confirmed_by_an_administrator_of_010(client, world):
    key = "0b7c2f0e-3a51-4f0e-9d55-1d1a2d9f4c11"
    client.force_login(world.admin010)
    session = client.session
    session["regeneration_drafts"] = {
        key: {
            **VALID,
            "campus_codes": [],
            "grade_levels": [],
            "comments": "",
            "reset_current_passwords": True,
            "force_password_change": False,
        }
    }
    session.save()

    response = client.post(reverse("regeneration:confirm", args=[key]))

    assert "You are not an LEA Administrator of PSU “920”" in page_text(response)
    assert RegenerationRequest.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["new", "new_file"])
def test_request_pages_need_sign_in_and_the_role(client, world, name):
    url = reverse(f"regeneration:{name}")

    assert client.get(url)["Location"].startswith(reverse("login"))
    client.force_login(world.teacher)
    assert client.get(url).status_code == 403
    client.force_login(world.support)
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_request_page_shows_filters_options_status_and_affected_students(admin920_client, world):
    regeneration = RegenerationRequestFactory(
        requester=world.admin920,
        psu=world.psu920,
        campus_codes=["920364"],
        force_password_change=True,
        comments="Term start",
    )
    lifecycle.request_run(request_id=regeneration.pk, budget_seconds=60)

    response = admin920_client.get(regeneration.get_absolute_url())
    text = page_text(response)

    assert "Status: Completed" in text
    assert "100% · 7 of 7 students changed" in text
    assert "Campus Codes 920364" in text
    assert "Asked, but not in effect" in text
    assert "Term start" in text
    assert 'role="status"' in response.text and "<progress" in response.text
    shown = [o.student.student_number for o in response.context["page"]]
    assert shown == list(
        Student.objects.filter(campus=world.high)
        .order_by("id")
        .values_list("student_number", flat=True)
    )
    assert "Default changed" in text
    for student in Student.objects.filter(campus=world.high):
        assert decrypt_default_password(student.default_password_encrypted) not in text


@pytest.mark.django_db
def test_progress_reports_counts_from_the_database(admin920_client, world, settings):
    settings.REGENERATION_CHUNK_SIZE = 5
    regeneration = RegenerationRequestFactory(requester=world.admin920, psu=world.psu920)
    lifecycle.request_start(request_id=regeneration.pk)
    engine.chunk_process_next(request_id=regeneration.pk)

    data = admin920_client.get(reverse("regeneration:progress", args=[regeneration.pk])).json()

    assert {k: data[k] for k in ("status", "finished", "percent", "targeted", "processed")} == {
        "status": "running",
        "finished": False,
        "percent": 29,
        "targeted": 17,
        "processed": 5,
    }


@pytest.mark.django_db
def test_a_finished_request_s_progress_counts_its_sign_ins_once_per_interval(
    admin920_client, world, settings
):
    settings.REGENERATION_SIGN_IN_COUNTS_SECONDS = 30
    regeneration = RegenerationRequestFactory(
        requester=world.admin920, psu=world.psu920, reset_current_passwords=True
    )
    lifecycle.request_run(request_id=regeneration.pk, budget_seconds=60)
    url = reverse("regeneration:progress", args=[regeneration.pk])
    first = admin920_client.get(url).json()["sign_ins"]

    with CaptureQueriesContext(connection) as queries:
        again = admin920_client.get(url).json()["sign_ins"]

    assert first == again == {"signed_in": 0, "signs_in_now": 17}
    assert not [q for q in queries.captured_queries if "regenerationoutcome" in q["sql"]]
    # The request page itself counts live.
    Student.objects.filter(psu=world.psu920).update(login_source=Student.LoginSource.OWN)
    page = page_text(admin920_client.get(regeneration.get_absolute_url()))
    assert "Right now 0 of them sign in with the password this request set" in page


@pytest.mark.django_db
def test_progress_gives_start_and_finish_times_as_the_page_shows_them_and_the_handout_state(
    admin920_client, world, settings
):
    settings.REGENERATION_CHUNK_SIZE = 5
    regeneration = RegenerationRequestFactory(requester=world.admin920, psu=world.psu920)
    url = reverse("regeneration:progress", args=[regeneration.pk])

    def progress() -> dict:
        data = admin920_client.get(url).json()
        keys = ("started_at", "started_at_display", "finished_at", "finished_at_display")
        return {k: data[k] for k in (*keys, "duration_seconds", "handout")}

    assert progress() == {
        "started_at": None,
        "started_at_display": "—",
        "finished_at": None,
        "finished_at_display": "—",
        "duration_seconds": None,
        "handout": "pending",
    }

    lifecycle.request_start(request_id=regeneration.pk)
    engine.chunk_process_next(request_id=regeneration.pk)
    running = progress()
    regeneration.refresh_from_db()
    assert running["started_at"] == regeneration.started_at.isoformat()
    assert f"Started {running['started_at_display']} Finished —" in page_text(
        admin920_client.get(regeneration.get_absolute_url())
    )
    assert (running["finished_at"], running["handout"]) == (None, "pending")

    lifecycle.request_run(request_id=regeneration.pk, budget_seconds=60)
    finished = progress()
    regeneration.refresh_from_db()
    assert finished["finished_at"] == regeneration.finished_at.isoformat()
    assert finished["duration_seconds"] == round(regeneration.duration.total_seconds(), 1)
    assert finished["handout"] == "ready"
    page = page_text(admin920_client.get(regeneration.get_absolute_url()))
    assert (
        f"Started {finished['started_at_display']} "
        f"Finished {finished['finished_at_display']}" in page
    )
    colleague = lea_admin(UserFactory(username="admin920b"), world.psu920)
    admin920_client.force_login(colleague)
    assert progress()["handout"] == "requester_only"


@pytest.mark.django_db
def test_request_page_of_a_running_request_holds_the_handout_and_notes_for_its_script(
    admin920_client, world
):
    regeneration = RegenerationRequestFactory(
        requester=world.admin920, psu=world.psu920, status=Status.RUNNING
    )

    html = admin920_client.get(regeneration.get_absolute_url()).text

    def tag(attribute: str) -> str:
        found = re.search(rf"<[a-z]+ {attribute}[^>]*>", html)
        assert found, attribute
        return found.group(0)

    assert "hidden" not in tag('data-handout-state="pending"')
    for state in ("ready", "failed", "nothing"):
        assert tag(f'data-handout-state="{state}"').endswith(" hidden>")
    csv_url = reverse("regeneration:handout_csv", args=[regeneration.pk])
    assert html.index('data-handout-state="ready"') < html.index(f'href="{csv_url}"')
    assert "<noscript> Reload the page to see the downloads.</noscript>" in html
    assert "hidden" not in tag('data-students-note="pending"')
    for state in ("finished", "none"):
        assert tag(f'data-students-note="{state}"').endswith(" hidden>")


@pytest.mark.django_db
def test_header_marks_my_requests_on_request_pages_but_not_on_the_form_or_its_confirm_page(
    admin920_client, world
):
    regeneration = RegenerationRequestFactory(requester=world.admin920, psu=world.psu920)
    confirm = request_step(admin920_client)

    assert current_nav_items(admin920_client.get(reverse("catalog:index"))) == ["Request catalog"]
    assert current_nav_items(admin920_client.get(reverse("regeneration:new"))) == []
    assert current_nav_items(admin920_client.get(confirm)) == []
    for url in (reverse("regeneration:list"), regeneration.get_absolute_url()):
        assert current_nav_items(admin920_client.get(url)) == ["My requests"]


@pytest.mark.django_db
def test_my_requests_lists_the_users_own_requests_newest_first(admin920_client, world):
    older = RegenerationRequestFactory(requester=world.admin920, psu=world.psu920)
    newer = RegenerationRequestFactory(
        requester=world.admin920,
        psu=world.psu920,
        reset_current_passwords=True,
        queued_at=older.queued_at + timedelta(minutes=1),
    )
    RegenerationRequestFactory(requester=world.admin010, psu=world.psu010)

    response = admin920_client.get(reverse("regeneration:list"))

    assert [r.pk for r in response.context["page"]] == [newer.pk, older.pk]
    assert "Reset" in page_text(response)


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_confirm_answers_at_once_and_the_sweep_runs_it_later(
    admin920_client, monkeypatch, finish_requests
):
    confirm = request_step(admin920_client)

    def broker_down(*args, **kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(task_run_request, "apply_async", broker_down)
    started = time.monotonic()
    response = admin920_client.post(confirm, follow=True)
    elapsed = time.monotonic() - started

    regeneration = RegenerationRequest.objects.get()
    assert elapsed < 2
    assert regeneration.status == Status.QUEUED and regeneration.dispatched_at is None
    assert "waiting for the task queue" in page_text(response)
    assert "nothing is lost" in page_text(response)

    monkeypatch.undo()  # the broker is back
    dispatched = lifecycle.requests_sweep(now=regeneration.queued_at + timedelta(seconds=10))

    assert dispatched == [regeneration.pk]
    assert finish_requests(regeneration).status == Status.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_the_sweep_resumes_a_request_whose_worker_died(world, settings, finish_requests):
    settings.REGENERATION_CHUNK_SIZE = 5
    regeneration = RegenerationRequestFactory(requester=world.admin920, psu=world.psu920)
    lifecycle.request_start(request_id=regeneration.pk)
    engine.chunk_process_next(request_id=regeneration.pk)  # then the worker is killed
    long_ago = regeneration.queued_at - timedelta(minutes=5)
    RegenerationRequest.objects.filter(pk=regeneration.pk).update(
        heartbeat_at=long_ago, dispatched_at=long_ago
    )

    assert lifecycle.requests_sweep() == [regeneration.pk]

    regeneration = finish_requests(regeneration)
    assert regeneration.status == Status.COMPLETED
    assert regeneration.processed_count == 17
    assert regeneration.outcomes.count() == 17


@pytest.fixture
def captured_logs():
    """Every record logged during the test, as text. A handler of its own rather than
    ``caplog``, which does not exist when pytest runs with ``-p no:logging``."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.django_db(transaction=True)
def test_no_plaintext_password_reaches_the_logs(
    admin920_client, captured_logs, finish_requests, celery_worker
):
    confirm = request_step(admin920_client, reset_current_passwords="on")

    admin920_client.post(confirm)
    regeneration = finish_requests(RegenerationRequest.objects.get())

    assert regeneration.status == Status.COMPLETED
    logs = captured_logs.getvalue()
    if celery_worker is not None:
        # The worker logs the end just after committing it: give its log that moment.
        deadline = time.monotonic() + 10
        while f"Request {regeneration.pk} completed" not in celery_worker.log():
            assert time.monotonic() < deadline, "the worker never logged the request's end"
            time.sleep(0.1)
        logs += celery_worker.log()
    passwords = [
        decrypt_default_password(s.default_password_encrypted) for s in Student.objects.all()
    ]
    assert len(passwords) == 20
    assert not [p for p in passwords if p in logs]
    assert f"Request {regeneration.pk} completed" in logs


@pytest.mark.django_db(transaction=True)
def test_the_banner_after_confirm_follows_the_live_status(admin920_client, finish_requests):
    confirm = request_step(admin920_client, reset_current_passwords="on")

    response = admin920_client.post(confirm)
    regeneration = finish_requests(RegenerationRequest.objects.get())
    page = admin920_client.get(response["Location"])
    reload = admin920_client.get(response["Location"])

    text = page_text(page)
    assert f"Request #{regeneration.pk} for 17 students was confirmed. It is completed" in text
    assert "is queued" not in text
    assert "data-status-word" in page.content.decode()
    assert "was confirmed" not in page_text(reload)  # shown once, after Confirm
