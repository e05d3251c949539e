"""A teacher's journey: `teacher` signs in, opens *My Students*, prints one class's cards
(Chromium prints the page to a Letter PDF, pypdf reads it back) and sees only that class."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_cards import lines_of, on_one_line, printed_pages
from tests.factories import StudentFactory, UserFactory, class_taught

pytestmark = pytest.mark.browser


@pytest.fixture
def two_classes(world):
    """`teacher` teaches Reading (14 second graders) and Math (5 others) at 920304; a
    colleague teaches a class of their own. Every student has their own default password."""

    def students(prefix: str, count: int, grade: str):
        return [
            StudentFactory(
                campus=world.elementary,
                grade=grade,
                username=f"{prefix}{n:02d}",
                # Short: its token must fit the login column (128 characters).
                default_password=f"Kite-{prefix[:2]}-{n:02d}-{grade}",
            )
            for n in range(count)
        ]

    world.teacher.first_name, world.teacher.last_name = "Terry", "Hughes"
    world.teacher.save()
    reading = students("reader", 14, "2")
    math = students("counter", 5, "3")
    other = students("other", 3, "3")
    class_taught(world.teacher, world.elementary, reading, "Grade 2 Reading")
    class_taught(world.teacher, world.elementary, math, "Grade 3 Math")
    class_taught(UserFactory(username="colleague"), world.elementary, other, "Art")
    return reading, math + other + list(world.students().exclude(campus__code="920304"))


def test_teacher_opens_my_students_and_prints_one_class_only(page, browsing, two_classes):
    reading, not_in_reading = two_classes
    browsing.sign_in(page, "teacher")

    page.get_by_role("link", name="My Students").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My Students")
    expect(page.get_by_role("heading", level=2)).to_have_text(
        ["Class Grade 2 Reading", "Class Grade 3 Math"]
    )
    expect(page.get_by_text("other00")).to_have_count(0)
    browsing.check(page, "my-students")

    section = page.locator("section").filter(has_text="Class Grade 2 Reading")
    section.get_by_role("link", name="Print cards").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Class Grade 2 Reading, 14")
    browsing.check(page, "cards")

    sheets = printed_pages(page, page.url, "my-students-reading")
    every_line = [line for sheet in sheets for line in lines_of(sheet)]
    for student in reading:
        password = f"Kite-re-{student.username[-2:]}-2"  # as the fixture made it
        assert on_one_line(student.username, every_line), f"{student.username} is missing"
        assert on_one_line(password, every_line), f"{password} is broken or missing"
    text = re.sub(r"\s+", "", "".join(sheets))
    assert not [s.username for s in not_in_reading if s.username in text]
    assert len(sheets) == 2  # 14 cards: a sheet of 12 and one of 2
    assert "GradeReading" not in text and "ClassGrade2Reading" in text
    page.emulate_media(media="screen")
