"""The password policy for generated default passwords.

Every password comes from ``secrets`` (the operating system's CSPRNG: ``secrets.token_bytes``,
every word, digit and symbol drawn uniformly) and holds nothing a child can misread: random
characters never include 0, O, o, 1, l, I or i; word passwords are small-letter words (the
middle tier capitalises the first, and no word starts with i, l or o, so there is never a
capital I, L or O) followed by digits 2 to 9, so every l, i and o in them can only be that
letter. Each grade gets a format a student of that age can type:

- early (grades -5 to -1 for pre-K, 0 for kindergarten, 1 and 2): two words and two
  digits, all small letters, like ``sunfrog47``: 22.0 bits.
- middle (grades 3, 4, 5 and -9, ungraded): a capitalised word, a word and four digits,
  like ``Tigerboat4827``: 28.0 bits.
- upper (grades 6 to 13): twelve random letters and digits, like ``Hq7tRb9xKm3p``:
  69.1 bits.

Words come from a list of 256 short, concrete words (``words.txt`` beside this module, 8 bits
each); digits from 2 to 9 (3 bits each); the upper tier draws 12 characters from 55 symbols
and keeps only passwords with a capital, a small letter and a digit (69.4 bits before that
rule, 69.1 after).
``PasswordTier.entropy_bits()`` computes these figures; a test holds them to this table.
NIST SP 800-63B rev. 3 (5.1.1.1) accepts randomly chosen secrets of 6 characters or more;
the short early-grade passwords rely on the compensating controls the README lists
(per-account throttling, forced change, expiry of unused temporary passwords).

A site may change the tiers with the ``REGENERATION_PASSWORD_TIERS`` setting (a list of
dicts with the fields of ``PasswordTier``).
"""

from __future__ import annotations

import math
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.password_validation import CommonPasswordValidator

DIGITS = "23456789"
LOWER = "".join(c for c in string.ascii_lowercase if c not in "ilo")
UPPER = "".join(c for c in string.ascii_uppercase if c not in "IO")
SYMBOLS = UPPER + LOWER + DIGITS

WORDS_FILE = Path(__file__).with_name("words.txt")
WORDS: tuple[str, ...] = tuple(WORDS_FILE.read_text().split())


class _UniformDraw:
    """Uniform, independent draws from ``size`` choices, for many passwords at once.

    One ``secrets.token_bytes`` call fills a whole batch; bytes at or above the largest multiple of
    ``size`` below 256 are rejected (dropped by ``bytes.translate`` in C) so every choice stays
    exactly equally likely, as with ``secrets.choice``; the rest map to ``byte % size``. This
    is ``secrets.choice`` without a system call and a Python-level loop per character, which
    made generation the largest cost of a district-wide request.
    """

    def __init__(self, size: int) -> None:
        if not 1 <= size <= 256:
            raise ValueError("A draw chooses among 1 to 256 values.")
        limit = 256 - 256 % size
        self._table = bytes(b % size if b < limit else 0 for b in range(256))
        self._rejected = bytes(range(limit, 256))
        self._acceptance = limit / 256

    def indices(self, count: int) -> bytes:
        """``count`` choices, each a byte value in ``range(size)``."""
        drawn = b""
        while len(drawn) < count:
            missing = count - len(drawn)
            raw = secrets.token_bytes(int(missing / self._acceptance) + 8)
            drawn += raw.translate(self._table, self._rejected)
        return drawn[:count]


@cache
def _draw(size: int) -> _UniformDraw:
    return _UniformDraw(size)


def _symbols(alphabet: str, count: int) -> str:
    """``count`` characters, each drawn uniformly from ``alphabet`` (ASCII)."""
    return _draw(len(alphabet)).indices(count).translate(_symbol_table(alphabet)).decode("ascii")


@cache
def _symbol_table(alphabet: str) -> bytes:
    return alphabet.encode("ascii").ljust(256, b"?")


@dataclass(frozen=True)
class PasswordTier:
    """One format: ``words`` words then ``digits`` digits, or ``length`` random symbols."""

    name: str
    grades: tuple[str, ...]
    words: int = 0
    digits: int = 0
    capitalize: bool = False
    length: int = 0

    def generate_many(self, count: int) -> list[str]:
        """``count`` independent passwords of this format."""
        if self.length:
            return _random_mixed(self.length, count)
        words = [WORDS[i] for i in _draw(len(WORDS)).indices(count * self.words)]
        digits = _symbols(DIGITS, count * self.digits)
        passwords = []
        for n in range(count):
            chosen = words[n * self.words : (n + 1) * self.words]
            if self.capitalize and chosen:
                chosen[0] = chosen[0].capitalize()
            passwords.append("".join(chosen) + digits[n * self.digits : (n + 1) * self.digits])
        return passwords

    def entropy_bits(self) -> float:
        if self.length:
            return math.log2(_mixed_count(self.length))
        return self.words * math.log2(len(WORDS)) + self.digits * math.log2(len(DIGITS))


_UPPER_SET, _LOWER_SET, _DIGIT_SET = frozenset(UPPER), frozenset(LOWER), frozenset(DIGITS)


def _random_mixed(length: int, count: int) -> list[str]:
    """``count`` strings of ``length`` symbols holding a capital, a small letter and a digit:
    uniform strings, those lacking a class drawn again (so uniform over the valid ones)."""
    passwords: list[str] = []
    while len(passwords) < count:
        missing = count - len(passwords)
        drawn = _symbols(SYMBOLS, missing * length)
        for n in range(missing):
            candidate = drawn[n * length : (n + 1) * length]
            if not (
                _UPPER_SET.isdisjoint(candidate)
                or _LOWER_SET.isdisjoint(candidate)
                or _DIGIT_SET.isdisjoint(candidate)
            ):
                passwords.append(candidate)
    return passwords


def _mixed_count(length: int) -> int:
    """How many strings of ``length`` symbols hold a capital, a small letter and a digit
    (inclusion-exclusion over the three classes)."""
    u, lo, d = len(UPPER), len(LOWER), len(DIGITS)
    return (
        (u + lo + d) ** length
        - (lo + d) ** length
        - (u + d) ** length
        - (u + lo) ** length
        + u**length
        + lo**length
        + d**length
    )


DEFAULT_TIERS: tuple[PasswordTier, ...] = (
    PasswordTier(
        name="early",
        grades=("-5", "-4", "-3", "-2", "-1", "0", "1", "2"),
        words=2,
        digits=2,
    ),
    PasswordTier(
        name="middle",
        grades=("3", "4", "5", "-9"),
        words=2,
        digits=4,
        capitalize=True,
    ),
    PasswordTier(
        name="upper",
        grades=("6", "7", "8", "9", "10", "11", "12", "13"),
        length=12,
    ),
)


def password_tiers() -> tuple[PasswordTier, ...]:
    configured = settings.REGENERATION_PASSWORD_TIERS
    if not configured:
        return DEFAULT_TIERS
    return tuple(PasswordTier(**{**tier, "grades": tuple(tier["grades"])}) for tier in configured)


def tier_for_grade(grade: str) -> PasswordTier:
    for tier in password_tiers():
        if grade in tier.grades:
            return tier
    return password_tiers()[-1]


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(CommonPasswordValidator().passwords)


def generate_default_password(*, grade: str, previous: str | None = None) -> str:
    """A new default password for a student of ``grade``, never equal to ``previous`` and
    never one of Django's 20,000 common passwords."""
    return generate_default_passwords(grades=[grade], previous=[previous])[0]


def generate_default_passwords(
    *, grades: Sequence[str], previous: Sequence[str | None]
) -> list[str]:
    """``generate_default_password`` for many students at once (same rules, same odds):
    position ``i`` is for a student of ``grades[i]`` whose current password is
    ``previous[i]``. Students of one tier are drawn together."""
    if len(grades) != len(previous):
        raise ValueError("grades and previous must be as long as each other.")
    common = _common_passwords()
    passwords: list[str] = [""] * len(grades)
    tier_of = {grade: tier_for_grade(grade) for grade in set(grades)}
    by_tier: dict[PasswordTier, list[int]] = {}
    for position, grade in enumerate(grades):
        by_tier.setdefault(tier_of[grade], []).append(position)
    for tier, positions in by_tier.items():
        while positions:
            retry = []
            for position, candidate in zip(
                positions, tier.generate_many(len(positions)), strict=True
            ):
                if candidate == previous[position] or candidate.lower() in common:
                    retry.append(position)
                else:
                    passwords[position] = candidate
            positions = retry
    return passwords
