"""The password policy: formats per grade, documented entropy, never the previous password."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from regeneration import passwords
from regeneration.passwords import (
    DIGITS,
    SYMBOLS,
    generate_default_passwords,
)

FORMATS = {
    "0": re.compile(rf"^[a-z]{{6,10}}[{DIGITS}]{{2}}$"),
    "5": re.compile(rf"^[A-Z][a-z]{{2,4}}[a-z]{{3,5}}[{DIGITS}]{{4}}$"),
    "9": re.compile(rf"^[{SYMBOLS}]{{12}}$"),
}


@pytest.mark.parametrize("grade", sorted(FORMATS))
def test_batch_passwords_have_the_format_of_their_grade(grade):
    generated = generate_default_passwords(grades=[grade] * 300, previous=[None] * 300)

    assert all(FORMATS[grade].match(p) for p in generated), generated[:5]
    if grade == "9":
        assert all(re.search("[A-Z]", p) and re.search("[a-z]", p) for p in generated)
        assert all(re.search(f"[{DIGITS}]", p) for p in generated)


def test_batch_keeps_each_student_in_place_and_draws_again_on_the_previous_password(
    monkeypatch,
):
    repeats = iter(["sunfrog47", "sunfrog47", "catdog23"])
    early = passwords.tier_for_grade("0")
    monkeypatch.setattr(
        type(early),
        "generate_many",
        lambda self, count: (
            [next(repeats) for _ in range(count)] if self is early else ["Hq7tRb9xKm3p"] * count
        ),
    )

    generated = generate_default_passwords(grades=["0", "9"], previous=["sunfrog47", None])

    assert generated == ["catdog23", "Hq7tRb9xKm3p"]


def test_uniform_draw_covers_every_choice_and_nothing_else():
    drawn = Counter(passwords._draw(55).indices(55 * 400))

    assert set(drawn) == set(range(55))
    assert min(drawn.values()) > 250  # 400 expected each; a fair draw is never this far off
