"""Printed cards, read back: Chromium prints the cards page to a Letter PDF, and the text pypdf
extracts from it holds every username and password unbroken, 12 cards a sheet (30 labels a
sheet in the Avery 5160 layout)."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from regeneration.handout import handout_outcomes, handout_rows
from tests.browser.conftest import ROOT
from tests.factories import StudentFactory
from tests.regeneration.helpers import make_request, run

pytestmark = pytest.mark.browser

CLASS_SIZE = 35
PDF_FOLDER = ROOT / "test-artifacts" / "pdf"


@pytest.fixture
def a_class(world):
    """35 third graders at 920304, some with long usernames, reset by a real request (so
    their passwords are the policy's own)."""
    for n in range(CLASS_SIZE):
        username = f"jamearth{2263 + n}" if n % 3 else f"kendrawashington.{n:02d}"
        StudentFactory(campus=world.elementary, grade="3", username=username)
    regeneration = run(
        make_request(
            world, campus_codes=["920304"], grade_levels=["3"], reset_current_passwords=True
        )
    )
    rows = list(handout_rows(handout_outcomes(regeneration), regeneration))
    assert len(rows) == CLASS_SIZE and all(row.printable for row in rows)
    return regeneration, {row.username: row.password for row in rows}


def printed_pages(page, url: str, name: str) -> list[str]:
    page.goto(url)
    expect(page.locator(".login-card").first).to_be_visible()
    page.evaluate("() => document.fonts.ready")
    page.emulate_media(media="print")
    pdf = page.pdf(format="Letter", prefer_css_page_size=True)
    PDF_FOLDER.mkdir(parents=True, exist_ok=True)
    (PDF_FOLDER / f"{name}.pdf").write_bytes(pdf)
    return [sheet.extract_text() for sheet in PdfReader(io.BytesIO(pdf)).pages]


def lines_of(text: str) -> list[str]:
    """The sheet's lines, spaces removed (pypdf may space out the letters of a word)."""
    return [re.sub(r"\s+", "", line) for line in text.splitlines()]


def on_one_line(value: str, lines: list[str]) -> bool:
    return any(value in line for line in lines)


def test_printed_cards_hold_every_username_and_password_unbroken_twelve_a_sheet(
    page, browsing, a_class
):
    regeneration, passwords = a_class
    browsing.sign_in(page, "admin920")

    sheets = printed_pages(page, browsing.url(f"/requests/{regeneration.pk}/cards/"), "cards")

    every_line = [line for sheet in sheets for line in lines_of(sheet)]
    for username, password in passwords.items():
        assert on_one_line(username, every_line), f"{username} is broken or missing"
        assert on_one_line(password, every_line), f"{password} is broken or missing"
    on_first_sheet = [u for u in passwords if on_one_line(u, lines_of(sheets[0]))]
    assert len(on_first_sheet) >= 12
    assert len(sheets) == -(-CLASS_SIZE // 12)  # 35 cards: 3 sheets of 12
    assert "Kindergarten" not in sheets[0] and "Grade 3" in sheets[0]
    assert not re.search(r"\b9\d{9}\b", "".join(sheets))  # no student numbers
    assert browsing.url("/student/login/") in re.sub(r"\s+", "", "".join(sheets))
    page.emulate_media(media="screen")
    browsing.check(page, "cards")


def test_printed_labels_fill_an_avery_5160_sheet_with_thirty(page, browsing, a_class):
    regeneration, passwords = a_class
    browsing.sign_in(page, "admin920")

    sheets = printed_pages(
        page, browsing.url(f"/requests/{regeneration.pk}/cards/?layout=labels"), "labels"
    )

    on_first_sheet = [u for u in passwords if on_one_line(u, lines_of(sheets[0]))]
    assert len(on_first_sheet) == 30
    assert len(sheets) == 2
    every_line = [line for sheet in sheets for line in lines_of(sheet)]
    assert all(on_one_line(password, every_line) for password in passwords.values())
