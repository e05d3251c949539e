"""Hostile input to the student import file and the student sign-in: arbitrary text,
Unicode, huge values, commas, quotes and whitespace in every place. Never a crash or a 500:
either the work is done or a clear error names the problem, and a bad file changes nothing."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from people.models import Student
from tests.people.test_import_students import HEADER, snapshot

HYPOTHESIS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CELL = st.one_of(
    st.sampled_from(["920", "010", "920304", "010304", "5", "-9", "14", "7000000999", ""]),
    st.text(max_size=20),
    st.text(alphabet=' ,"\n\t;=+-@', max_size=6),
    st.text(min_size=200, max_size=400),
)
GOOD_ROW = st.builds(
    lambda n, grade: [f"70000{n:05d}", "Lovelace", "Ada", f"ada{n}", "920", "920304", grade],
    st.integers(min_value=0, max_value=99_999),
    st.sampled_from(["-5", "0", "5", "13", "-9"]),
)
ROW = st.one_of(GOOD_ROW, st.lists(CELL, min_size=0, max_size=9))


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    buffer.write(HEADER + "\n")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


@pytest.mark.django_db
@HYPOTHESIS
@given(rows=st.lists(ROW, max_size=8), raw_tail=st.text(max_size=40))
def test_any_file_is_imported_whole_or_refused_whole_with_reasons(tmp_path, world, rows, raw_tail):
    path = tmp_path / "students.csv"
    path.write_text(csv_text(rows) + raw_tail, encoding="utf-8")
    before = snapshot()

    try:
        call_command("import_students", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    except CommandError as refused:
        message = str(refused)
        assert "nothing was changed" in message.lower() or "Nothing was changed" in message
        assert snapshot() == before
        return
    after = {s.student_number: s for s in Student.objects.all()}
    for row in rows:
        if row and row[0] in after and len(row) == 7:
            assert after[row[0]].username == row[3].strip().lower()


@pytest.mark.django_db
@HYPOTHESIS
@given(data=st.binary(max_size=300))
def test_a_file_that_is_not_utf8_text_is_refused_with_a_clear_reason(tmp_path, world, data):
    path = tmp_path / "students.csv"
    path.write_bytes(HEADER.encode() + b"\n" + data)
    before = snapshot()

    try:
        call_command("import_students", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    except CommandError as refused:
        assert "changed" in str(refused)  # says that nothing was changed
        assert snapshot() == before


@pytest.mark.django_db
@HYPOTHESIS
@given(
    username=st.one_of(st.text(max_size=80), st.sampled_from(["student1", " STUDENT1 ", "x" * 65])),
    password=st.one_of(st.text(max_size=80), st.text(min_size=5000, max_size=20000)),
)
def test_any_sign_in_attempt_gets_a_clear_answer_never_a_500(client, world, username, password):
    response = client.post(reverse("students:login"), {"username": username, "password": password})

    assert response.status_code in (200, 429), response.status_code
    if response.status_code == 200:
        assert response.context["form"].errors
    else:
        assert "locked" in response.content.decode()
    assert client.get(reverse("students:home")).status_code == 302  # nobody signed in
