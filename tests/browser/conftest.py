"""Browser tests: the user journeys in headless Chromium (Debian's package, never a
Playwright download), against the app served on a free port by pytest-django's
``live_server`` (so every test here runs on a transactional database).

Every page a test opens is watched: a Content-Security-Policy violation or a JavaScript error
in the console, a request to anything but the app, or a page served without a strict CSP
header fails the test. ``Browsing.check`` saves a screenshot of the step under
``test-artifacts/screenshots/<test>/`` (git-ignored) and runs axe-core on the page.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import STAFF_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# axe-core rules for WCAG 2.0, 2.1 and 2.2, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
TIMEOUT_MS = 15_000


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: the rest of the suite reports in seconds, and Playwright's
    event loop (below) is never running while a test that is not a browser test runs."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session; the tests skip where it is missing, except
    in CI, which installs it."""
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is missing: install Debian's package (apt-get install -y chromium) "
            "to run the browser tests; Playwright's own browser downloads are not used."
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, and Django refuses
    # ORM calls from a thread with a running loop. The tests call the ORM only between
    # Playwright calls, never from Playwright callbacks. Set here, not at import, so that
    # subprocesses of the tests that run before the browser tests (`check --deploy`) do not
    # inherit it.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
    if before is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE")
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        reason = f"{AXE_SCRIPT.relative_to(ROOT)} is missing: run `npm ci` in the repository."
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE_SCRIPT.read_text()


@dataclass
class PageWatch:
    """What a page did that it must not: CSP violations, script errors, foreign requests,
    documents without a strict Content-Security-Policy."""

    origin: str
    csp_violations: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    weak_csp_documents: list[str] = field(default_factory=list)
    document_urls: set[str] = field(default_factory=set)
    axe_running: bool = False
    refused_for_axe: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        page.on("request", self._request)
        page.on("response", self._response)

    def _console(self, message) -> None:
        url = message.location.get("url", "")
        if "Content Security Policy" in message.text and self.axe_running and not url:
            # axe's own probes (code from page.evaluate has no URL), not the page's doing.
            self.refused_for_axe.append(message.text)
        elif "Content Security Policy" in message.text:
            self.csp_violations.append(f"{url or 'page.evaluate'}: {message.text}")
        elif message.type == "error" and url not in self.document_urls:
            # A page answered with an error status (a 403 the test asserts) is logged as a
            # failed load; a failed stylesheet, script, icon or fetch is a problem.
            self.script_errors.append(f"{url}: {message.text}")

    def _request(self, request) -> None:
        if not request.url.startswith((self.origin + "/", "data:")):
            self.foreign_requests.append(request.url)

    def _response(self, response) -> None:
        if response.request.resource_type != "document":
            return
        self.document_urls.add(response.url)
        policy = response.headers.get("content-security-policy", "")
        if "script-src 'self'" not in policy or "'unsafe-inline'" in policy:
            self.weak_csp_documents.append(f"{response.url}: {policy or 'no CSP header'}")

    def problems(self) -> dict[str, list[str]]:
        found = {
            "CSP violations": self.csp_violations,
            "script errors": self.script_errors,
            "requests outside the app": self.foreign_requests,
            "documents without a strict CSP": self.weak_csp_documents,
        }
        return {kind: items for kind, items in found.items() if items}


class Browsing:
    """One test's browsing: its contexts and pages, numbered screenshots, axe checks."""

    def __init__(self, browser, base_url: str, axe_source: str, folder: Path) -> None:
        self.browser = browser
        self.base_url = base_url
        self.axe_source = axe_source
        self.folder = folder
        self.watch = PageWatch(origin=base_url)
        self.contexts = []
        self.pages_without_javascript = []
        self.steps = 0

    def new_page(self, **context_options):
        context_options.setdefault("viewport", LAPTOP)
        context = self.browser.new_context(locale="en-US", **context_options)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        self.watch.attach(page)
        if context_options.get("java_script_enabled") is False:
            self.pages_without_javascript.append(page)
        return page

    def url(self, path: str) -> str:
        return self.base_url + path

    def sign_in(self, page, username: str, password: str = STAFF_PASSWORD) -> None:
        """Sign in on the staff sign-in page, as a person would."""
        page.goto(self.url("/accounts/login/"))
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/accounts/login/"))

    def student_sign_in(
        self, page, username: str, password: str, *, expect_signed_in: bool = True
    ) -> None:
        """Sign in on the student sign-in page, as a student would. With
        ``expect_signed_in=False`` the attempt must be refused: the page answers with an alert
        (a wrong password, an expired one, a locked account) and signs nobody in."""
        page.goto(self.url("/student/login/"))
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        if expect_signed_in:
            expect(page).not_to_have_url(re.compile(r"/student/login/"))
        else:
            expect(page.get_by_role("alert")).to_be_visible()
            expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    def shot(self, page, label: str) -> Path:
        page.wait_for_load_state("load")
        self.steps += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.steps:02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def axe_violations(self, page) -> list[dict]:
        """axe-core's WCAG 2 A/AA violations on the page as it is now.

        axe is evaluated through the DevTools protocol (``page.evaluate``), which the page's
        Content-Security-Policy does not govern, so the check runs with the real policy on;
        ``add_script_tag(content=...)`` would be refused by that policy, and ``bypass_csp``
        would hide the violations this suite looks for. Test-only: users never get axe.
        """
        if page in self.pages_without_javascript:
            pytest.fail("axe-core needs JavaScript: check this page in a context that runs it")
        self.watch.axe_running = True
        try:
            if not page.evaluate("() => typeof window.axe === 'object'"):
                page.evaluate(self.axe_source)
            return self._axe_run(page)
        finally:
            self.watch.axe_running = False

    @staticmethod
    def _axe_run(page) -> list[dict]:
        return page.evaluate(
            """async (tags) => {
                const results = await axe.run(document, {
                    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
                });
                return results.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map((n) => n.target.join(" ") + " :: " + n.failureSummary),
                }));
            }""",
            WCAG_TAGS,
        )

    def check(self, page, label: str) -> None:
        """A step a person sees: screenshot it, and assert axe finds nothing on it."""
        path = self.shot(page, label)
        violations = self.axe_violations(page)
        assert violations == [], (
            f"axe found WCAG violations on {page.url} (screenshot {path.relative_to(ROOT)}):\n"
            + json.dumps(violations, indent=2)
        )

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser, live_server, axe_source, request) -> Iterator[Browsing]:
    """Pages for one test on the live app; at the end, nothing a page did may be wrong."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    browsing = Browsing(browser, live_server.url, axe_source, folder)
    yield browsing
    browsing.close()
    problems = browsing.watch.problems()
    assert problems == {}, json.dumps(problems, indent=2)


@pytest.fixture
def page(browsing):
    """A page at laptop size, JavaScript on."""
    return browsing.new_page()
