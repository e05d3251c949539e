"""The recipe for a student's credentials: a default password, kept encrypted, and the login
credential that holds the same password until the student first signs in.

Everything that makes credentials uses these two functions: the imports and the demo data
for new students, the request engine for new defaults, the drills, the benchmark and the
test factories. The login credential is the encrypted token behind the temporary-password
hasher (``credentials.hashers``), re-hashed at full strength at the first sign-in; with
``hash_login`` it is a full-strength hash at once (``REGENERATION_HASH_AT_REQUEST_TIME``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.views.decorators.debug import sensitive_variables

from .crypto import encrypt_default_passwords
from .hashers import temporary_login
from .policy import generate_default_passwords


@dataclass(frozen=True)
class Credentials:
    """A default password, encrypted, and a login credential holding the same password."""

    default_token: str
    login: str


@sensitive_variables()
def credentials_from_passwords(
    passwords: Sequence[str], *, hash_login: bool = False
) -> list[Credentials]:
    """Credentials for passwords already chosen, in their order."""
    tokens = encrypt_default_passwords(passwords)
    if hash_login:
        logins = [make_password(password) for password in passwords]
    else:
        logins = [temporary_login(token) for token in tokens]
    return [Credentials(token, login) for token, login in zip(tokens, logins, strict=True)]


@sensitive_variables()
def credentials_new(
    *,
    grades: Sequence[str],
    previous: Sequence[str | None] | None = None,
    hash_login: bool = False,
) -> list[Credentials]:
    """New credentials for students of ``grades``: each a generated default password of the
    grade's format, never equal to ``previous`` at its position."""
    passwords = generate_default_passwords(
        grades=grades, previous=previous if previous is not None else [None] * len(grades)
    )
    return credentials_from_passwords(passwords, hash_login=hash_login)


def credentials_for_password(password: str) -> Credentials:
    """Credentials for one chosen password (the test factories' known default)."""
    return credentials_from_passwords([password])[0]
