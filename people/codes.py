"""The directory's code formats, defined once: the model validators, the database's check
constraints, the request forms and the imports all read them from here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from django.core.validators import RegexValidator
from django.db.models import Q


@dataclass(frozen=True)
class CodeFormat:
    """A code's pattern (matched whole) and the sentence that says what it looks like."""

    pattern: str
    description: str

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)

    def matches(self, value: str) -> bool:
        return self.regex.fullmatch(value) is not None

    def validator(self) -> RegexValidator:
        return RegexValidator(f"^{self.pattern}$", self.description)

    def condition(self, field: str) -> Q:
        """The check constraint's condition on ``field``."""
        return Q(**{f"{field}__regex": f"^{self.pattern}$"})


# NC charter PSUs carry a letter (32B), so letters are accepted beside digits.
PSU_CODE = CodeFormat(
    r"[0-9A-Z]{3}", "A PSU code is 3 digits or capital letters, such as 920 or 32B."
)
CAMPUS_CODE = CodeFormat(
    r"[0-9A-Z]{6}", "A campus code is 6 digits or capital letters, such as 920304."
)
# ASCII digits only: ``\d`` would also take other scripts' digits.
STUDENT_NUMBER = CodeFormat(r"[0-9]{1,10}", "A student number is up to 10 digits.")
