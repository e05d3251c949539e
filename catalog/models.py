"""Roles: who administers which PSU, and who reviews as Support."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class RoleAssignment(models.Model):
    """One role held by one staff user; LEA Administrator roles name their PSU."""

    class Role(models.TextChoices):
        LEA_ADMIN = "lea_admin", "LEA Administrator"
        SUPPORT = "support", "Support (read-only review)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    psu = models.ForeignKey(
        "people.PSU",
        verbose_name="PSU",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="role_assignments",
        help_text="Required for LEA Administrator; empty for Support.",
    )
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["user__username", "role", "psu__code"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role="lea_admin", psu__isnull=False) | Q(role="support", psu__isnull=True)
                ),
                name="role_psu_matches_role",
                violation_error_message=(
                    "An LEA Administrator role needs a PSU; the Support role has none."
                ),
            ),
            models.UniqueConstraint(
                fields=["user", "psu"],
                condition=Q(role="lea_admin"),
                name="one_lea_admin_role_per_user_and_psu",
                violation_error_message="This user is already LEA Administrator of that PSU.",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(role="support"),
                name="one_support_role_per_user",
                violation_error_message="This user already holds the Support role.",
            ),
        ]

    def __str__(self) -> str:
        if self.psu_id:
            return f"{self.user} — {self.get_role_display()} of PSU {self.psu.code}"
        return f"{self.user} — {self.get_role_display()}"
