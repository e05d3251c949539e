"""Key rotation: re-encrypt the students' stored default passwords (and unused temporary
login passwords) under the newest key of DEFAULT_PASSWORD_KEYS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from credentials.crypto import DefaultPasswordDecryptionError, rotate_default_password_token
from credentials.hashers import TEMPORARY_PREFIX, is_temporary_login, temporary_login

from .models import Student


@dataclass
class RotationReport:
    total: int = 0
    rotated: int = 0
    undecryptable: list[int] = field(default_factory=list)


def default_passwords_rotate(
    *, batch_size: int = 2000, progress: Callable[[str], object] | None = None
) -> RotationReport:
    """Re-encrypt, batch by batch in id order, each batch in one transaction. MultiFernet's
    rotate keeps the plaintext out of this code and preserves each token's timestamp."""
    report = RotationReport(total=Student.objects.count())
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(
                Student.objects.select_for_update()
                .filter(pk__gt=last_id)
                .order_by("pk")
                .only("pk", "default_password_encrypted", "password")[:batch_size]
            )
            if not batch:
                return report
            changed = [student for student in batch if _rotate(student, report)]
            Student.objects.bulk_update(changed, ["default_password_encrypted", "password"])
        report.rotated += len(changed)
        last_id = batch[-1].pk
        if progress:
            progress(f"  {report.rotated:,} of {report.total:,} re-encrypted")


def _rotate(student: Student, report: RotationReport) -> bool:
    try:
        student.default_password_encrypted = rotate_default_password_token(
            student.default_password_encrypted
        )
        if is_temporary_login(student.password):
            token = student.password.removeprefix(TEMPORARY_PREFIX)
            student.password = temporary_login(rotate_default_password_token(token))
    except DefaultPasswordDecryptionError:
        report.undecryptable.append(student.pk)
        return False
    return True
