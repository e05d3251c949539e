"""The journey of issue 13 in headless Chromium: a teacher requests the LEA Administrator
role of PSU 920 with a reason; admin920 approves it under *Approvals*; the teacher's catalog
then offers *Regenerate Student Default Passwords*. A denial leaves the catalog as it was."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from catalog.models import RoleRequest

pytestmark = pytest.mark.browser

ENTRY = "Regenerate Student Default Passwords"
REASON = "Covering for Renee Whitaker while she is on leave this term."


def teacher_requests_lea_admin_of_920(page, browsing) -> RoleRequest:
    browsing.sign_in(page, "teacher")
    expect(page.get_by_role("link", name=ENTRY, exact=True)).to_have_count(0)
    page.get_by_role("link", name="Request a Privileged Role").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request a Privileged Role")
    browsing.check(page, "role-form")

    page.get_by_role("button", name="Request").click()  # nothing filled in
    expect(page.locator("#form-errors")).to_contain_text("The role was not requested.")
    browsing.check(page, "role-form-errors")

    page.get_by_label("LEA Administrator", exact=True).check()
    page.get_by_label("PSU Code").fill("920")
    page.get_by_label("Reason").fill(REASON)
    page.get_by_role("button", name="Request").click()
    role_request = RoleRequest.objects.get()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Role request #{role_request.pk}: LEA Administrator of PSU 920"
    )
    expect(page.get_by_role("status")).to_contain_text(
        f"Role request #{role_request.pk} is recorded"
    )
    expect(page.locator(".summary")).to_contain_text(REASON)
    expect(page.locator(".summary")).to_contain_text("Requested")
    browsing.check(page, "role-requested")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My requests").click()
    row = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=f"Role #{role_request.pk}")
    )
    expect(row).to_contain_text("LEA Administrator")
    expect(row).to_contain_text("Requested")
    browsing.check(page, "my-requests-with-role-request")
    return role_request


def admin920_decides(browsing, role_request: RoleRequest, button: str, comment: str = ""):
    page = browsing.new_page()
    browsing.sign_in(page, "admin920")
    approvals = page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile(r"^Approvals")
    )
    expect(approvals).to_have_text("Approvals 1 waiting")
    approvals.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approvals")
    waiting = page.get_by_role("article").filter(has_text=f"Role request #{role_request.pk}")
    expect(waiting).to_contain_text("asks for LEA Administrator of PSU 920")
    expect(waiting).to_contain_text(REASON)
    browsing.check(page, "approvals")
    if comment:
        waiting.get_by_label("Comment").fill(comment)
    waiting.get_by_role("button", name=button).click()
    expect(page.get_by_role("status")).to_contain_text(f"Role request #{role_request.pk} is")
    expect(page.get_by_text("Nothing waits for your decision.")).to_be_visible()
    browsing.check(page, f"approvals-after-{button.lower()}")
    return page


def test_teacher_requests_lea_admin_admin920_approves_and_the_request_appears(
    page, browsing, world
):
    role_request = teacher_requests_lea_admin_of_920(page, browsing)
    assert [m.to for m in mail.outbox] == [[world.admin920.email]]

    admin_page = admin920_decides(browsing, role_request, "Approve")
    row = admin_page.get_by_role("row").filter(
        has=admin_page.get_by_role("link", name=f"#{role_request.pk}")
    )
    expect(row).to_contain_text("teacher")  # now among the roles admin920 may revoke

    page.goto(browsing.url("/"))
    expect(page.get_by_role("link", name=ENTRY, exact=True)).to_be_visible()
    expect(page.locator(".site-header")).to_contain_text("LEA Administrator · PSU 920")
    browsing.check(page, "catalog-with-role")
    page.get_by_role("link", name=ENTRY, exact=True).click()
    expect(page.get_by_label("PSU Code")).to_have_value("920")
    role_request.refresh_from_db()
    assert role_request.status == RoleRequest.Status.GRANTED
    assert mail.outbox[-1].to == [world.teacher.email]
    assert mail.outbox[-1].subject.endswith("LEA Administrator of PSU 920 granted")


def test_a_denial_leaves_the_teachers_catalog_unchanged(page, browsing, world):
    role_request = teacher_requests_lea_admin_of_920(page, browsing)
    page.goto(browsing.url("/"))
    before = page.locator(".catalog__entry h2").all_inner_texts()

    admin920_decides(browsing, role_request, "Deny", comment="Ask your principal first.")

    page.goto(browsing.url("/"))
    assert (
        page.locator(".catalog__entry h2").all_inner_texts()
        == before
        == ["Request a Privileged Role"]
    )
    expect(page.get_by_role("link", name=ENTRY, exact=True)).to_have_count(0)
    page.goto(browsing.url(role_request.get_absolute_url()))
    expect(page.locator(".summary")).to_contain_text("Denied")
    expect(
        page.get_by_role("region", name=f"History of role request #{role_request.pk}")
    ).to_contain_text("Ask your principal first.")
    browsing.check(page, "role-denied")
