"""Key rotation: re-encrypt every stored password under the newest key of
DEFAULT_PASSWORD_KEYS, so that the old keys can then be removed.

The directory's own are the students' default passwords and unused temporary login passwords.
Higher layers that keep encrypted passwords too (a request's outcomes keep the defaults it
set and what the students had before) register their columns with ``rotation_target``, so
one command re-encrypts everything and the directory never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models, transaction

from credentials.crypto import DefaultPasswordDecryptionError, rotate_default_password_token
from credentials.hashers import TEMPORARY_PREFIX, is_temporary_login, temporary_login

from .models import Student


@dataclass(frozen=True)
class RotationTarget:
    """A model's columns holding Fernet tokens, and those holding login credentials (a token
    behind the temporary-password hasher, or a hash, which is left as it is)."""

    model: type[models.Model]
    tokens: tuple[str, ...]
    logins: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name_plural)


_targets: list[RotationTarget] = []


def rotation_target(target: RotationTarget) -> RotationTarget:
    if target not in _targets:
        _targets.append(target)
    return target


rotation_target(RotationTarget(Student, ("default_password_encrypted",), ("password",)))


def rotation_targets() -> list[RotationTarget]:
    return list(_targets)


@dataclass
class RotationReport:
    label: str
    total: int = 0
    rotated: int = 0
    undecryptable: list[int] = field(default_factory=list)


def default_passwords_rotate(
    *,
    batch_size: int = 2000,
    progress: Callable[[str], object] | None = None,
    target: RotationTarget | None = None,
) -> RotationReport:
    """Re-encrypt one target's rows (the students' by default), batch by batch in id order,
    each batch in one transaction. MultiFernet's rotate keeps the plaintext out of this code
    and preserves each token's timestamp."""
    target = target or _targets[0]
    columns = (*target.tokens, *target.logins)
    report = RotationReport(label=target.label, total=target.model.objects.count())
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(
                target.model.objects.select_for_update()
                .filter(pk__gt=last_id)
                .order_by("pk")
                .only("pk", *columns)[:batch_size]
            )
            if not batch:
                return report
            changed = [row for row in batch if _rotate(row, target, report)]
            target.model.objects.bulk_update(changed, list(columns))
        report.rotated += len(changed)
        last_id = batch[-1].pk
        if progress:
            progress(f"  {report.label}: {report.rotated:,} of {report.total:,} re-encrypted")


def _rotate(row, target: RotationTarget, report: RotationReport) -> bool:
    try:
        for name in target.tokens:
            token = getattr(row, name)
            if token:
                setattr(row, name, rotate_default_password_token(token))
        for name in target.logins:
            login = getattr(row, name)
            if login and is_temporary_login(login):
                token = login.removeprefix(TEMPORARY_PREFIX)
                setattr(row, name, temporary_login(rotate_default_password_token(token)))
    except DefaultPasswordDecryptionError:
        report.undecryptable.append(row.pk)
        return False
    return True
