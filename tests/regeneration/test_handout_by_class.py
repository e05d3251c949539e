"""Handouts by class: a request's CSV names each student's teacher and class, and its cards
can be grouped one class a page set, so each teacher gets their own class's cards."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import UserFactory, class_taught

from .test_handout import csv_rows, finished  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_classes(world):
    kindergarten = list(world.elementary.students.filter(grade="0"))
    fifth = list(world.elementary.students.filter(grade="5"))
    world.teacher.first_name, world.teacher.last_name = "Terry", "Hughes"
    world.teacher.save()
    colleague = UserFactory(username="colleague", first_name="Marisol", last_name="Alvarez")
    return (
        class_taught(world.teacher, world.elementary, kindergarten + fifth[:1], "Kindergarten A"),
        class_taught(colleague, world.elementary, fifth, "Grade 5 Math"),
    )


def test_csv_gains_teacher_and_class_columns(client, world, finished, two_classes):  # noqa: F811
    client.force_login(world.admin920)

    rows = csv_rows(client.get(reverse("regeneration:handout_csv", args=[finished.pk])))

    header, *rows = rows
    assert header[-2:] == ["Teacher", "Class"]
    by_username = {row[3]: row for row in rows}
    kindergartner = world.elementary.students.filter(grade="0").first()
    assert by_username[kindergartner.username][-2:] == ["Terry Hughes", "Class Kindergarten A"]
    # The first fifth-grader is in both classes: both, by class title.
    both = world.elementary.students.filter(grade="5").first()
    assert by_username[both.username][-2:] == [
        "Marisol Alvarez; Terry Hughes",
        "Class Grade 5 Math; Class Kindergarten A",
    ]
    high = world.high.students.first()
    assert by_username[high.username][-2:] == ["", ""]


def test_cards_by_class_give_each_class_its_page_set(client, world, finished, two_classes):  # noqa: F811
    client.force_login(world.admin920)

    response = client.get(reverse("regeneration:handout_cards", args=[finished.pk]) + "?by=class")

    html = response.content.decode()
    headings = re.findall(r'<h2 id="group-\d+" class="card-group__title">(.*?)</h2>', html)
    assert headings == [
        "Class Grade 5 Math · Marisol Alvarez · Apex Elementary · 6 students",
        "Class Kindergarten A · Terry Hughes · Apex Elementary · 5 students",
        "No class · Enloe High · 7 students",
    ]
    # A student of two classes has a card in each.
    assert html.count('class="login-card"') == 18
    assert "each class starts on a new sheet" in html
