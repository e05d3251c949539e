"""The checks every browser test relies on catch what they are meant to catch."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_axe_check_reports_an_unlabelled_input(page, browsing, db):
    page.goto(browsing.url("/accounts/login/"))
    assert browsing.axe_violations(page) == []

    page.evaluate(
        """() => {
            const input = document.createElement("input");
            input.type = "text";
            document.querySelector("main").append(input);
        }"""
    )

    assert "label" in [violation["id"] for violation in browsing.axe_violations(page)]


def test_page_watch_reports_inline_script_and_style_refused_by_the_csp(page, browsing, db):
    page.goto(browsing.url("/accounts/login/"))

    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__inlineRan = true;";
            document.body.append(script);
            document.querySelector("main").insertAdjacentHTML(
                "beforeend", '<p style="color: red">inline style</p>');
        }"""
    )
    page.wait_for_function("() => true")  # let the console messages arrive

    assert page.evaluate("() => window.__inlineRan === undefined")
    refused = "\n".join(browsing.watch.csp_violations).lower()
    browsing.watch.csp_violations.clear()  # expected here; any other test fails on them
    assert "inline script" in refused and "script-src 'self'" in refused
    assert "inline style" in refused and "style-src 'self'" in refused
