"""The user journeys of issue 5, each a test in headless Chromium.

In the SQLite run tasks run in process, so a confirmed request may be complete when its page
loads; in the PostgreSQL + Redis run the real Celery worker (``finish_requests`` depends on
it) changes the students while the page watches.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from people.models import Student
from regeneration.lifecycle import regeneration_request_create
from regeneration.models import RegenerationRequest
from tests.factories import RegenerationRequestFactory

pytestmark = pytest.mark.browser

WORKER_TIMEOUT_MS = 90_000
CHOSEN_PASSWORD = "Purple-Giraffe-Kite-72"


def field_of(page, label: str):
    """The ``.field`` block that holds the input labelled ``label``."""
    return page.locator(".field").filter(has=page.get_by_label(label, exact=True))


def test_lea_admin_corrects_the_form_confirms_and_watches_the_request_complete(
    page, browsing, world, finish_requests
):
    page.goto(browsing.url("/"))
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    browsing.check(page, "sign-in")

    browsing.sign_in(page, "admin920")
    expect(page.get_by_role("heading", level=1)).to_have_text("Request catalog")
    header = page.locator(".site-header")
    expect(header).to_contain_text(world.admin920.get_full_name())
    expect(header).to_contain_text("LEA Administrator · PSU 920")
    entry = page.get_by_role("link", name="Regenerate Student Default Passwords", exact=True)
    expect(entry).to_be_visible()
    browsing.check(page, "catalog")

    entry.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Regenerate Student Default Passwords"
    )
    expect(page.get_by_label("PSU Code")).to_have_value("920")  # the only PSU they administer
    page.get_by_label("Campus Codes").fill("010304")
    page.get_by_label("Grade Levels").fill("14")
    page.get_by_role("button", name="Request").click()

    expect(page.locator("#form-errors")).to_contain_text("Correct the 2 fields marked below")
    expect(page.locator("#form-errors")).to_be_focused()
    for label, message in (
        ("Campus Codes", "Campus “010304” belongs to PSU 010, not to PSU 920."),
        ("Grade Levels", "“14” is not an allowed grade level, so nothing was requested."),
    ):
        box = page.get_by_label(label, exact=True)
        errors = field_of(page, label).locator(".errorlist")
        expect(errors).to_contain_text(message)
        expect(box).to_have_attribute("aria-invalid", "true")
        expect(box).to_have_attribute("aria-describedby", re.compile(errors.get_attribute("id")))
    expect(page.get_by_label("PSU Code")).not_to_have_attribute("aria-invalid", "true")
    assert RegenerationRequest.objects.count() == 0
    browsing.check(page, "form-with-errors")

    page.get_by_label("Campus Codes").fill("920304")
    page.get_by_label("Grade Levels").fill("5, 0")
    page.get_by_label("Also Reset Current Passwords").check()
    page.get_by_label("Force Password Change at Next Login").check()
    page.get_by_label("Request Comments").fill("Start of term <b>not bold</b>")
    browsing.shot(page, "form-corrected")
    page.get_by_role("button", name="Request").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Confirm: Regenerate Student Default Passwords"
    )
    expect(page.get_by_test_id("match-total")).to_have_text("10")
    expect(page.get_by_role("heading", level=2, name="10 students match")).to_be_visible()
    expect(page.get_by_role("row", name="All campuses 4 6 10")).to_be_visible()
    expect(page.locator(".summary")).to_contain_text("Start of term <b>not bold</b>")
    assert RegenerationRequest.objects.count() == 0  # nothing is queued before Confirm
    browsing.check(page, "confirm")

    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/requests/\d+/$"))
    page.evaluate("() => { window.__sameDocument = true; }")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    regeneration = RegenerationRequest.objects.get()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Request #{regeneration.pk}: Regenerate Student Default Passwords"
    )
    browsing.shot(page, "request-page-loaded")

    status = page.locator("[data-status]")
    expect(status).to_have_text("Completed", timeout=WORKER_TIMEOUT_MS)
    assert navigations == []
    assert page.evaluate("() => window.__sameDocument") is True
    progress = page.get_by_role("progressbar", name=f"Progress of request #{regeneration.pk}")
    expect(progress).to_have_js_property("value", 100)
    expect(page.get_by_role("status").filter(has_text="students changed")).to_have_text(
        "100% · 10 of 10 students changed, 10 login passwords reset"
    )
    assert finish_requests(regeneration).status == RegenerationRequest.Status.COMPLETED
    browsing.check(page, "request-completed")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My requests").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"#{regeneration.pk}"))
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text("10 / 10")
    browsing.check(page, "my-requests")


def test_teacher_sees_no_entry_and_how_to_get_the_role_and_the_form_answers_403(
    page, browsing, world
):
    browsing.sign_in(page, "teacher")

    expect(page.get_by_role("heading", level=1)).to_have_text("Request catalog")
    expect(
        page.get_by_role("link", name="Regenerate Student Default Passwords", exact=True)
    ).to_have_count(0)
    expect(page.get_by_role("link", name="People")).to_have_count(0)
    notice = page.get_by_role("region", name="There are no password requests you can submit yet")
    expect(notice).to_contain_text("You need the LEA Administrator role for your PSU")
    expect(notice.get_by_role("link", name="Request a Privileged Role")).to_be_visible()
    browsing.check(page, "catalog-without-role")

    for path in ("/requests/regenerate/", "/people/"):
        response = page.goto(browsing.url(path))
        assert response.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "You don't have access to this page"
        )
        expect(page.get_by_role("main")).to_contain_text("This page needs the LEA Administrator")
        expect(page.get_by_role("main")).to_contain_text("To obtain it, Request a Privileged Role")
    browsing.check(page, "forbidden")
    assert RegenerationRequest.objects.count() == 0


def test_student_signs_in_with_the_password_shown_in_people_must_choose_one_and_uses_it(
    page, browsing, world, finish_requests
):
    maya = world.students(world.psu920).filter(campus=world.elementary, grade="5").first()
    Student.objects.filter(pk=maya.pk).update(
        first_name="Maya", last_name="Okafor", username="mokafor"
    )
    browsing.sign_in(page, "admin920")
    page.get_by_role("link", name="Regenerate Student Default Passwords", exact=True).click()
    page.get_by_label("Campus Codes").fill("920304")
    page.get_by_label("Grade Levels").fill("5")
    page.get_by_label("Also Reset Current Passwords").check()
    page.get_by_label("Force Password Change at Next Login").check()
    page.get_by_role("button", name="Request").click()
    expect(page.get_by_test_id("match-total")).to_have_text("6")
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/requests/\d+/$"))
    regeneration = finish_requests(RegenerationRequest.objects.get())
    assert regeneration.status == RegenerationRequest.Status.COMPLETED
    expect(page.locator("[data-status]")).to_have_text("Completed", timeout=WORKER_TIMEOUT_MS)
    expect(page.get_by_role("link", name="Printable cards")).to_be_visible()  # no reload
    browsing.shot(page, "request-completed")

    # The administrator finds Maya in People and shows her new default password.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="People").click()
    expect(nav.get_by_role("link", name="People")).to_have_attribute("aria-current", "page")
    page.get_by_label("Search").fill("Okafor")
    page.get_by_label("Campus").select_option("920304")
    page.get_by_label("Grade").select_option("5")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_have_text("1 student.")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Okafor, Maya"))
    expect(row).to_contain_text("mokafor")
    expect(row.get_by_role("cell").last).to_have_text("Yes")  # must change password
    browsing.check(page, "people-search")

    row.get_by_role("link", name="Okafor, Maya").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Maya Okafor")
    account = page.get_by_role("region", name="Account")
    expect(account).to_contain_text("Yes: the student must choose a new password")
    default = page.get_by_role("region", name="Default password")
    expect(default).to_contain_text(f"by request #{regeneration.pk}")
    expect(default).to_match_aria_snapshot(  # the mask is not read out as bullets
        """
        - term: Default password
        - definition:
          - text: Hidden
          - button "Show"
        """
    )
    browsing.check(page, "student-record-masked")
    default.get_by_role("button", name="Show").click()
    shown = page.locator("#default-password")
    expect(shown).to_be_visible()
    password = shown.inner_text().strip()  # as the administrator reads it, not from the database
    assert password and password != "oldpass42"
    browsing.check(page, "student-record-revealed")

    # Maya signs in on her own browser: the old password is refused, the new one admits her
    # to the change page only.
    student = browsing.new_page()
    browsing.student_sign_in(student, "mokafor", "oldpass42", expect_signed_in=False)
    expect(student.get_by_role("alert")).to_have_text(
        "That username and password do not match. Check them and try again."
    )
    browsing.check(student, "student-sign-in-refused")
    browsing.student_sign_in(student, "mokafor", password)
    expect(student).to_have_url(browsing.url("/student/password/"))
    expect(student.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    for elsewhere in ("/student/", "/student/login/"):
        student.goto(browsing.url(elsewhere))
        expect(student).to_have_url(browsing.url("/student/password/"))
    browsing.shot(student, "forced-change")

    def change_password(current: str, new: str) -> None:
        student.get_by_label("Current password").fill(current)
        student.get_by_label(re.compile(r"^New password(?! again)")).fill(new)
        student.get_by_label("New password again").fill(new)
        student.get_by_role("button", name="Save my new password").click()

    change_password(password, password)  # the default the teacher handed out
    summary = student.locator("#form-errors")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Your password was not changed. Correct the 1 field marked")
    expect(summary.get_by_role("link", name="New password again")).to_be_visible()
    errors = student.locator(".errorlist")
    expect(errors).to_have_text(re.compile("must be different from the password your teacher"))
    again = student.get_by_label("New password again")
    expect(again).to_have_attribute("aria-invalid", "true")
    expect(again).to_have_attribute("aria-describedby", re.compile(errors.get_attribute("id")))
    expect(student).to_have_url(browsing.url("/student/password/"))
    browsing.check(student, "forced-change-refuses-the-default")

    change_password(password, CHOSEN_PASSWORD)
    expect(student).to_have_url(browsing.url("/student/"))
    expect(student.get_by_role("heading", level=1)).to_have_text("Hello, Maya!")
    expect(student.get_by_role("status")).to_have_text(
        "Your new password is set. Use it the next time you sign in."
    )
    browsing.check(student, "signed-in")

    student.get_by_role("button", name="Sign out").click()
    expect(student).to_have_url(browsing.url("/student/login/"))
    expect(student.get_by_role("status")).to_have_text("You are signed out.")
    browsing.shot(student, "signed-out")
    browsing.student_sign_in(student, "mokafor", password, expect_signed_in=False)
    browsing.shot(student, "the-default-no-longer-signs-in")
    browsing.student_sign_in(student, "mokafor", CHOSEN_PASSWORD)
    expect(student).to_have_url(browsing.url("/student/"))
    expect(student.get_by_role("heading", level=1)).to_have_text("Hello, Maya!")
    expect(student.get_by_text("You are signed in as mokafor.")).to_be_visible()
    browsing.shot(student, "signed-in-with-the-chosen-password")
    maya.refresh_from_db()
    assert not maya.must_change_password
    assert maya.check_password(CHOSEN_PASSWORD)


def test_support_finds_the_request_in_admin_sees_its_outcomes_and_cannot_change_it(
    page, browsing, world, finish_requests
):
    regeneration = regeneration_request_create(
        requester=world.admin920,
        values={
            "psu_code": "920",
            "campus_codes": ["920364"],
            "grade_levels": [],
            "reset_current_passwords": True,
            "force_password_change": True,
            "comments": "High schools, spring term",
        },
        confirmation_key=uuid.uuid4(),
    )
    assert finish_requests(regeneration).status == RegenerationRequest.Status.COMPLETED
    # Decoys the filters must leave out: another PSU, and another status of the same PSU.
    RegenerationRequestFactory(
        requester=world.admin010, psu=world.psu010, status=RegenerationRequest.Status.COMPLETED
    )
    RegenerationRequestFactory(
        requester=world.admin920, psu=world.psu920, status=RegenerationRequest.Status.FAILED
    )
    browsing.sign_in(page, "support")
    expect(page.get_by_role("region", name="Review requests")).to_contain_text("read-only")
    browsing.check(page, "catalog-support")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Review in admin").click()
    page.get_by_role("link", name="Regeneration requests").first.click()
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    filters = page.get_by_role("navigation", name="Filter")
    for title, choice in (("By status", "Completed"), ("By PSU", "920 Wake County Schools")):
        section = filters.locator("details").filter(has=page.get_by_text(title, exact=True))
        section.get_by_role("link", name=choice, exact=True).click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Completed")
    expect(page.get_by_role("link", name="Add regeneration request")).to_have_count(0)
    browsing.check(page, "admin-filtered")

    rows.get_by_role("link", name=str(regeneration.pk), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("View regeneration request")
    form = page.locator("#content-main form")
    expect(form).to_contain_text("High schools, spring term")
    expect(form.locator("input[type=submit], button[type=submit]")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete")).to_have_count(0)
    change_url = page.url
    token = form.locator("input[name=csrfmiddlewaretoken]").input_value()
    browsing.check(page, "admin-request")

    page.get_by_role("link", name="7 outcome rows").click()
    outcome_rows = page.locator("#result_list tbody tr")
    expect(outcome_rows).to_have_count(7)
    for student in world.high.students.all():
        expect(outcome_rows.filter(has_text=student.student_number)).to_contain_text("Changed")
    browsing.check(page, "admin-outcomes")

    answer = page.request.post(
        change_url,
        form={"csrfmiddlewaretoken": token, "comments": "edited by support", "_save": "Save"},
    )
    assert answer.status == 403
    assert "CSRF" not in answer.text()  # refused for the permission, not the token
    answer = page.request.post(
        change_url.replace("/change/", "/delete/"),
        form={"csrfmiddlewaretoken": token, "post": "yes"},
    )
    assert answer.status == 403
    regeneration.refresh_from_db()
    assert regeneration.comments == "High schools, spring term"
    assert RegenerationRequest.objects.count() == 3


def test_force_change_waits_for_reset_and_the_form_works_without_javascript(
    page, browsing, world, finish_requests
):
    browsing.sign_in(page, "admin920")
    page.goto(browsing.url("/requests/regenerate/"))
    reset = page.get_by_label("Also Reset Current Passwords")
    force = page.get_by_label("Force Password Change at Next Login")
    expect(force).to_be_disabled()
    expect(force).not_to_be_checked()
    browsing.shot(page, "force-disabled")
    reset.check()
    expect(force).to_be_enabled()
    force.check()
    browsing.shot(page, "force-enabled")
    reset.uncheck()
    expect(force).to_be_disabled()
    expect(force).not_to_be_checked()

    # axe needs JavaScript, so these pages are only screenshotted; journey 1 checks them.
    no_js = browsing.new_page(java_script_enabled=False)
    browsing.sign_in(no_js, "admin920")
    no_js.goto(browsing.url("/requests/regenerate/"))
    force = no_js.get_by_label("Force Password Change at Next Login")
    expect(force).to_be_enabled()  # nothing disables it without JavaScript; the server decides
    no_js.get_by_label("Campus Codes").fill("920364")
    no_js.get_by_label("Also Reset Current Passwords").check()
    force.check()
    browsing.shot(no_js, "no-js-form")
    no_js.get_by_role("button", name="Request").click()
    expect(no_js.get_by_test_id("match-total")).to_have_text("7")
    browsing.shot(no_js, "no-js-confirm")
    no_js.get_by_role("button", name="Confirm").click()
    expect(no_js).to_have_url(re.compile(r"/requests/\d+/$"))

    regeneration = finish_requests(RegenerationRequest.objects.get())
    no_js.reload()
    expect(no_js.get_by_role("heading", level=1)).to_have_text(
        f"Request #{regeneration.pk}: Regenerate Student Default Passwords"
    )
    expect(no_js.locator("[data-status]")).to_have_text("Completed")
    expect(no_js.get_by_role("status").filter(has_text="students changed")).to_have_text(
        "100% · 7 of 7 students changed, 7 login passwords reset"
    )
    expect(no_js.get_by_role("region", name="Filters and options")).to_contain_text(
        "Yes: students must choose a new password at their next sign-in"
    )
    handout = no_js.get_by_role("region", name="Hand out the new passwords")
    expect(handout.get_by_role("link", name="Printable cards")).to_be_visible()
    expect(handout.get_by_text("When the request has completed")).to_have_count(0)
    browsing.shot(no_js, "no-js-request-completed")
    assert regeneration.status == RegenerationRequest.Status.COMPLETED
    assert regeneration.reset_current_passwords and regeneration.force_password_change
    assert regeneration.campus_codes == ["920364"]
    assert all(s.must_change_password for s in world.high.students.all())
