"""A Django password hasher for temporary login passwords set by a reset.

A reset makes the student's login password equal to the new default password, which is
already stored encrypted (``credentials.crypto``). This hasher stores the login credential
the same way, ``fernet_temp$<token>``, and verifies it in constant time. It is never the
preferred hasher, so Django's own upgrade path (``check_password`` with a setter) re-hashes
the password with the preferred hasher at the student's first successful sign-in. No cheap
hash is ever stored; see the README ("Why reset passwords are encrypted, not hashed, at
request time").
"""

from __future__ import annotations

import logging

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_noop as _
from django.views.decorators.debug import sensitive_variables

from .crypto import (
    DefaultPasswordDecryptionError,
    decrypt_default_password,
    encrypt_default_password,
)

logger = logging.getLogger(__name__)

ALGORITHM = "fernet_temp"
TEMPORARY_PREFIX = f"{ALGORITHM}$"


def temporary_login(token: str) -> str:
    """The stored login credential for an already encrypted default password."""
    return TEMPORARY_PREFIX + token


def is_temporary_login(encoded: str) -> bool:
    return encoded.startswith(TEMPORARY_PREFIX)


class EncryptedTemporaryPasswordHasher(BasePasswordHasher):
    algorithm = ALGORITHM

    def salt(self) -> str:
        return ""  # Fernet uses a random IV per token.

    # All variables, not only the password's name: Django's error reports apply the nearest
    # decorator's names to every frame below it, so a callee's argument would show.
    @sensitive_variables()
    def encode(self, password: str, salt: str) -> str:
        return temporary_login(encrypt_default_password(password))

    def decode(self, encoded: str) -> dict:
        algorithm, token = encoded.split("$", 1)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": token, "salt": ""}

    @sensitive_variables()
    def verify(self, password: str, encoded: str) -> bool:
        token = self.decode(encoded)["hash"]
        try:
            expected = decrypt_default_password(token)
        except DefaultPasswordDecryptionError as exc:
            logger.error("A temporary login password was refused. %s", exc)
            return False
        return constant_time_compare(password, expected)

    def safe_summary(self, encoded: str) -> dict:
        return {_("algorithm"): self.algorithm, _("hash"): mask_hash(self.decode(encoded)["hash"])}

    def must_update(self, encoded: str) -> bool:
        return True

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass
