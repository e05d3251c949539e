"""The passwords a request's outcomes keep (the default it set, for handouts; what the
student had before, for an undo) are re-encrypted by ``manage.py
rotate_default_password_keys`` with the students' own: registered here with
``people.key_rotation``."""

from __future__ import annotations

from people.key_rotation import RotationTarget, rotation_target

from .models import RegenerationOutcome

OUTCOME_PASSWORDS = rotation_target(
    RotationTarget(
        RegenerationOutcome,
        ("default_password_encrypted", "previous_default_encrypted"),
        ("previous_password",),
    )
)
