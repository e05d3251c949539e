"""Pages people enjoy: live progress, the keyboard alone, a phone's width, a strict CSP."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.utils import formats, timezone
from playwright.sync_api import expect

from people.models import Student
from regeneration.lifecycle import regeneration_request_create
from regeneration.models import RegenerationRequest
from tests.browser.conftest import PHONE
from tests.factories import STAFF_PASSWORD, RegenerationRequestFactory

pytestmark = pytest.mark.browser

Status = RegenerationRequest.Status


def as_shown(moment: datetime) -> str:
    """A date and time as the portal's pages show it (local time, DATETIME_FORMAT)."""
    return formats.localize(timezone.template_localtime(moment))


def test_request_page_follows_progress_live_without_reloading(page, browsing, world):
    # A request no worker is told about: the test moves it along as a worker would.
    regeneration = RegenerationRequestFactory(
        requester=world.admin920,
        psu=world.psu920,
        reset_current_passwords=True,
        dispatched_at=timezone.now(),
    )
    browsing.sign_in(page, "admin920")
    page.goto(browsing.url(regeneration.get_absolute_url()))
    page.evaluate("() => { window.__sameDocument = true; }")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    status = page.locator("[data-status]")
    progress = page.get_by_role("progressbar", name=f"Progress of request #{regeneration.pk}")
    spoken = page.locator("#progress-text")
    times = page.locator("[aria-labelledby=status-heading] .summary")
    handout = page.get_by_role("region", name="Hand out the new passwords")
    downloads = (
        handout.get_by_role("link", name="Download CSV"),
        handout.get_by_role("link", name="Printable cards"),
    )
    students = page.get_by_role("region", name="Affected students")
    expect(status).to_have_text("Queued")
    expect(page.get_by_text("Queued; a worker will start it shortly.")).to_be_visible()
    expect(progress).to_have_attribute("aria-describedby", "progress-text")
    expect(spoken).to_have_attribute("role", "status")
    expect(spoken).to_have_attribute("aria-live", "polite")
    expect(times).to_contain_text(re.compile(r"Started\s*—\s*Finished\s*—\s*Duration\s*—"))
    pending = handout.get_by_text("When the request has completed, download the students'")
    expect(pending).to_be_visible()
    for link in downloads:
        expect(link).to_be_hidden()
    processed_note = students.get_by_text("Students appear here as they are processed")
    expect(processed_note).to_be_visible()
    browsing.check(page, "queued")

    started = timezone.now()
    RegenerationRequest.objects.filter(pk=regeneration.pk).update(
        status=Status.RUNNING,
        started_at=started,
        targeted_count=40,
        processed_count=10,
    )
    expect(status).to_have_text("Running")
    expect(spoken).to_have_text("25% · 10 of 40 students changed, 10 login passwords reset")
    expect(progress).to_have_js_property("value", 25)
    expect(page.get_by_text("Queued; a worker will start it shortly.")).to_be_hidden()
    expect(times).to_contain_text(
        re.compile(rf"Started\s*{re.escape(as_shown(started))}\s*Finished\s*—\s*Duration\s*\d")
    )
    for link in downloads:
        expect(link).to_be_hidden()
    browsing.check(page, "running")

    finished = started + timedelta(seconds=12.34)
    RegenerationRequest.objects.filter(pk=regeneration.pk).update(
        status=Status.COMPLETED, processed_count=40, finished_at=finished
    )
    expect(status).to_have_text("Completed")
    expect(spoken).to_have_text("100% · 40 of 40 students changed, 40 login passwords reset")
    expect(progress).to_have_js_property("value", 100)
    expect(times).to_contain_text(
        re.compile(rf"Finished\s*{re.escape(as_shown(finished))}\s*Duration\s*12\.3 s")
    )
    expect(
        handout.get_by_text("The passwords this request set for its 40 students became")
    ).to_be_visible()
    expect(handout.get_by_text("Right now 0 of them sign in")).to_be_visible()
    expect(pending).to_be_hidden()
    for link in downloads:
        expect(link).to_be_visible()
    expect(students.get_by_text("The request has finished: reload the page")).to_be_visible()
    expect(processed_note).to_be_hidden()
    assert navigations == []
    assert page.evaluate("() => window.__sameDocument") is True
    browsing.check(page, "completed")

    # What the script wrote is what the server renders: reload and compare.
    live = (times.inner_text(), handout.inner_text())
    page.reload()
    expect(status).to_have_text("Completed")
    assert (times.inner_text(), handout.inner_text()) == live


def tab_to(page, target, *, limit: int = 40) -> None:
    """Press Tab until ``target`` has the focus, and check the focus can be seen there."""
    visited = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            outline = target.evaluate(
                "element => [getComputedStyle(element).outlineStyle,"
                " getComputedStyle(element).outlineWidth]"
            )
            assert outline[0] != "none" and outline[1] != "0px", f"focus not visible: {outline}"
            return
        visited.append(page.evaluate("() => document.activeElement.outerHTML.slice(0, 80)"))
    raise AssertionError(f"Tab never reached {target}; it visited:\n" + "\n".join(visited))


def test_keyboard_alone_signs_in_fills_the_form_and_confirms(
    page, browsing, world, finish_requests
):
    page.goto(browsing.url("/"))
    expect(page.get_by_label("Username")).to_be_focused()  # the sign-in form's autofocus
    page.keyboard.type("admin920")
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(STAFF_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Request catalog")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    browsing.shot(page, "skip-link")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the first stop after the skip link is the main content's
    entry = page.get_by_role("link", name="Regenerate Student Default Passwords", exact=True)
    expect(entry).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("PSU Code")).to_have_value("920")
    tab_to(page, page.get_by_label("Campus Codes"))
    page.keyboard.type("920304")
    tab_to(page, page.get_by_label("Grade Levels"))
    page.keyboard.type("14")
    page.keyboard.press("Enter")  # submits: the error comes back, focused, for the keyboard
    expect(page.locator("#form-errors")).to_be_focused()
    grade_levels = page.get_by_label("Grade Levels")
    tab_to(page, page.get_by_role("link", name="Grade Levels"))
    page.keyboard.press("Enter")
    expect(grade_levels).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    tab_to(page, page.get_by_label("Also Reset Current Passwords"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("Force Password Change at Next Login"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("Request Comments"))
    page.keyboard.type("Typed with the keyboard")
    browsing.shot(page, "form-filled-by-keyboard")
    tab_to(page, page.get_by_role("button", name="Request"))
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("match-total")).to_have_text("6")
    tab_to(page, page.get_by_role("button", name="Confirm"))
    browsing.shot(page, "confirm-focused")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/requests/\d+/$"))
    regeneration = finish_requests(RegenerationRequest.objects.get())
    assert (regeneration.campus_codes, regeneration.grade_levels) == (["920304"], ["5"])
    assert regeneration.reset_current_passwords and regeneration.force_password_change
    assert regeneration.comments == "Typed with the keyboard"
    expect(page.locator("[data-status]")).to_have_text("Completed")
    browsing.shot(page, "request-page")


def assert_no_horizontal_scrolling(page) -> None:
    page.wait_for_load_state("load")  # the stylesheet applied
    widths = page.evaluate(
        """() => ({
            viewport: document.documentElement.clientWidth,
            document: document.documentElement.scrollWidth,
            body: document.body.scrollWidth,
        })"""
    )
    assert widths["document"] <= widths["viewport"], widths
    assert widths["body"] <= widths["viewport"], widths


def test_pages_fit_a_phone_without_horizontal_scrolling(browsing, world, finish_requests):
    page = browsing.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(browsing.url("/accounts/login/"))
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "sign-in")
    browsing.sign_in(page, "admin920")
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "catalog")

    page.get_by_role("link", name="Regenerate Student Default Passwords", exact=True).click()
    page.get_by_label("Campus Codes").fill("920304, 010304, 9X")
    page.get_by_label("Grade Levels").fill("14, 0")
    page.get_by_role("button", name="Request").click()
    expect(page.locator(".errorlist")).to_have_count(2)
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "form-with-errors")

    page.get_by_label("Campus Codes").fill("")  # every campus: the widest count table
    page.get_by_label("Grade Levels").fill("")
    page.get_by_role("button", name="Request").click()
    expect(page.get_by_test_id("match-total")).to_have_text("17")
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "confirm")

    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/requests/\d+/$"))
    finish_requests(RegenerationRequest.objects.get())
    expect(page.locator("[data-status]")).to_have_text("Completed")
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "request")

    page.get_by_role("link", name="My requests").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My requests")
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "my-requests")


def test_people_and_handout_pages_fit_a_phone_without_horizontal_scrolling(
    browsing, world, finish_requests
):
    regeneration = regeneration_request_create(
        requester=world.admin920,
        values={
            "psu_code": "920",
            "campus_codes": [],
            "grade_levels": [],
            "reset_current_passwords": True,
            "force_password_change": True,
            "comments": "",
        },
        confirmation_key=uuid.uuid4(),
    )
    assert finish_requests(regeneration).status == Status.COMPLETED
    page = browsing.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    browsing.sign_in(page, "admin920")

    page.goto(browsing.url("/people/"))
    page.get_by_label("Search").fill("Student")
    page.get_by_label("Campus").select_option("920364")
    page.get_by_label("Grade").select_option("9")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_have_text("5 students.")
    table = page.get_by_role("region", name="Students, in name order")
    expect(table).to_have_attribute("tabindex", "0")  # scrolls sideways with the keyboard
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "people-search")

    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_role("button", name="Show")).to_be_visible()
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "student-record-masked")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#default-password")).to_be_visible()
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "student-record-revealed")

    page.goto(browsing.url(regeneration.get_absolute_url()))
    handout = page.get_by_role("region", name="Hand out the new passwords")
    handout.get_by_role("link", name="Printable cards").scroll_into_view_if_needed()
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "request-handout")

    handout.get_by_role("link", name="Printable cards").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password cards: 17 students")
    expect(page.locator(".login-card")).to_have_count(17)
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "cards")


def test_student_pages_fit_a_phone_without_horizontal_scrolling(browsing, world):
    maya, classmate = world.students(world.psu920)[:2]
    Student.objects.filter(pk=maya.pk).update(must_change_password=True)
    page = browsing.new_page(viewport=PHONE, is_mobile=True, has_touch=True)

    browsing.student_sign_in(page, maya.username, "not-her-password", expect_signed_in=False)
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "sign-in-refused")

    browsing.student_sign_in(page, maya.username, "oldpass42")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    page.get_by_label("Current password").fill("oldpass42")
    page.get_by_label(re.compile(r"^New password(?! again)")).fill("short")
    page.get_by_label("New password again").fill("short")
    page.get_by_role("button", name="Save my new password").click()
    expect(page.locator(".errorlist")).to_contain_text("This password is too short.")
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "forced-change-refused")

    page.get_by_label("Current password").fill("oldpass42")
    page.get_by_label(re.compile(r"^New password(?! again)")).fill("Purple-Giraffe-Kite-72")
    page.get_by_label("New password again").fill("Purple-Giraffe-Kite-72")
    page.get_by_role("button", name="Save my new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {maya.first_name}!")
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "signed-in")
    page.get_by_role("button", name="Sign out").click()

    for _ in range(settings.AXES_FAILURE_LIMIT):
        browsing.student_sign_in(page, classmate.username, "wrong", expect_signed_in=False)
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many failed sign-ins")
    expect(page.get_by_role("alert")).to_contain_text("This account is locked for 15 minutes")
    assert_no_horizontal_scrolling(page)
    browsing.check(page, "locked-out")


def test_pages_send_a_strict_csp_and_load_only_the_apps_own_files(page, browsing, world):
    loaded = []
    page.on("response", lambda response: loaded.append((response.url, response.status)))

    response = page.goto(browsing.url("/accounts/login/"))

    policy = response.headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'"):
        assert directive in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assets = page.evaluate(
        """() => [...document.querySelectorAll("link[href], script[src]")]
            .map((element) => element.href || element.src)"""
    )
    origin = browsing.url("/static/")
    assert sorted(assets) == [
        origin + "css/portal.css",
        origin + "img/favicon.svg",
        origin + "js/portal.js",
    ]
    page.wait_for_load_state("networkidle")
    for url in (origin + "css/portal.css", origin + "js/portal.js"):
        assert (url, 200) in loaded


def test_pickers_fill_the_text_fields_and_a_large_request_needs_its_count_typed(
    page, browsing, world, settings
):
    settings.REGENERATION_CONFIRM_TYPING_THRESHOLD = 10
    browsing.sign_in(page, "admin920")
    page.goto(browsing.url("/requests/regenerate/"))

    page.get_by_label("Apex Elementary (920304)").check()
    page.get_by_label("Enloe High (920364)").check()
    page.get_by_label("Kindergarten (0)").check()
    expect(page.get_by_label("Campus Codes")).to_have_value("920304, 920364")
    expect(page.get_by_label("Grade Levels")).to_have_value("0")
    page.get_by_label("Grade Levels").fill("0, 9")
    expect(page.get_by_label("Grade 9", exact=True)).to_be_checked()
    browsing.check(page, "form-with-pickers")
    page.get_by_role("button", name="Request").click()

    confirm = page.get_by_role("button", name="Confirm")
    expect(page.get_by_test_id("match-total")).to_have_text("9")
    page.goto(browsing.url("/requests/regenerate/"))
    page.get_by_role("button", name="Request").click()
    expect(page.get_by_test_id("match-total")).to_have_text("17")
    expect(confirm).to_be_disabled()
    page.get_by_label("This request changes 17 students: type 17 to confirm").fill("71")
    expect(confirm).to_be_disabled()
    page.get_by_label("This request changes 17 students: type 17 to confirm").fill("17")
    expect(confirm).to_be_enabled()
    browsing.check(page, "confirm-typed")
    confirm.click()
    expect(page.get_by_text("was confirmed")).to_be_visible()
