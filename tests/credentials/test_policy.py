"""The password policy: CSPRNG, unambiguous, grade-appropriate, documented entropy, many at
once and never the previous password."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from credentials import policy
from credentials.policy import (
    DEFAULT_TIERS,
    DIGITS,
    SYMBOLS,
    generate_default_password,
    generate_default_passwords,
    tier_for_grade,
)

AMBIGUOUS = set("0Oo1lIi")

FORMATS = {
    "0": re.compile(rf"^[a-z]{{6,10}}[{DIGITS}]{{2}}$"),
    "5": re.compile(rf"^[A-Z][a-z]{{2,4}}[a-z]{{3,5}}[{DIGITS}]{{4}}$"),
    "9": re.compile(rf"^[{SYMBOLS}]{{12}}$"),
}


@pytest.mark.parametrize(
    ("grade", "pattern"),
    [
        ("-5", r"[a-z]{6,10}[2-9]{2}"),
        ("0", r"[a-z]{6,10}[2-9]{2}"),
        ("2", r"[a-z]{6,10}[2-9]{2}"),
        ("3", r"[A-Z][a-z]{5,9}[2-9]{4}"),
        ("-9", r"[A-Z][a-z]{5,9}[2-9]{4}"),
        ("6", r"[A-Za-z2-9]{12}"),
        ("13", r"[A-Za-z2-9]{12}"),
    ],
)
def test_each_grade_gets_its_format_without_characters_a_child_could_misread(grade, pattern):
    for _ in range(300):
        password = generate_default_password(grade=grade)
        assert re.fullmatch(pattern, password), password
        if tier_for_grade(grade).length:  # random characters: none of the look-alikes
            assert not AMBIGUOUS & set(password)
        else:  # words: no digit 0 or 1 and no capital I, L or O beside small l, i, o
            assert not set("01IOL") & set(password)


def test_a_kindergartner_gets_two_short_words_and_two_digits():
    password = generate_default_password(grade="0")
    words = re.fullmatch(r"([a-z]+)([2-9]{2})", password).group(1)

    assert any(words == first + second for first in policy.WORDS for second in policy.WORDS)


def test_upper_grades_always_mix_capitals_small_letters_and_digits():
    for _ in range(500):
        password = generate_default_password(grade="9")
        assert re.search(r"[A-Z]", password) and re.search(r"[a-z]", password)
        assert re.search(r"[2-9]", password)


def test_the_new_password_always_differs_from_the_previous_one(monkeypatch):
    draws = iter(["sunfrog47", "sunfrog47", "sunfrog47", "bearcake22"])
    monkeypatch.setattr(
        policy.PasswordTier,
        "generate_many",
        lambda self, count: [next(draws) for _ in range(count)],
    )

    assert generate_default_password(grade="0", previous="sunfrog47") == "bearcake22"


def test_a_common_password_is_never_handed_out(monkeypatch):
    draws = iter(["Password1234", "Hq7tRb9xKm3p"])
    monkeypatch.setattr(
        policy.PasswordTier,
        "generate_many",
        lambda self, count: [next(draws) for _ in range(count)],
    )

    assert generate_default_password(grade="12") == "Hq7tRb9xKm3p"


def test_passwords_are_not_repeated_across_many_draws():
    drawn = [generate_default_password(grade="12") for _ in range(5000)]

    assert len(set(drawn)) == 5000


def test_word_list_has_256_unambiguous_distinct_words():
    assert len(policy.WORDS) == len(set(policy.WORDS)) == 256
    assert all(w[0] not in "ilo" and w.isalpha() and w.islower() for w in policy.WORDS)


def test_documented_entropy_matches_the_policy():
    entropy = {tier.name: round(tier.entropy_bits(), 1) for tier in DEFAULT_TIERS}

    assert entropy == {"early": 22.0, "middle": 28.0, "upper": 69.1}
    for figure in ("22.0 bits", "28.0 bits", "69.1 bits"):
        assert figure in policy.__doc__


def test_every_allowed_grade_has_exactly_one_tier():
    from people.models import ALLOWED_GRADES

    for grade in ALLOWED_GRADES:
        assert sum(grade in tier.grades for tier in DEFAULT_TIERS) == 1
        assert tier_for_grade(grade) in DEFAULT_TIERS


def test_a_site_can_configure_its_own_tiers(settings):
    settings.REGENERATION_PASSWORD_TIERS = [
        {"name": "all", "grades": ["0", "5"], "length": 16},
    ]

    password = generate_default_password(grade="5")

    assert len(password) == 16


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
    early = policy.tier_for_grade("0")
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
    drawn = Counter(policy._draw(55).indices(55 * 400))

    assert set(drawn) == set(range(55))
    assert min(drawn.values()) > 250  # 400 expected each; a fair draw is never this far off
