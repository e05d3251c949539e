"""Roles: who administers which PSU, who helps its students (a whole PSU or listed campuses),
who reviews as Support; and the role requests that record how each grant came and went."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class Role(models.TextChoices):
    """The portal's roles. The first three name a PSU; Support names none."""

    LEA_ADMIN = "lea_admin", "LEA Administrator"
    LEA_HELP_DESK = "lea_help_desk", "LEA Student Help Desk"
    SCHOOL_HELP_DESK = "school_help_desk", "School Student Help Desk"
    SUPPORT = "support", "Support (read-only review)"


PSU_ROLES = (Role.LEA_ADMIN, Role.LEA_HELP_DESK, Role.SCHOOL_HELP_DESK)
# What a staff user may ask for in the catalog; Support is granted in admin only.
REQUESTABLE_ROLES = PSU_ROLES


class RoleAssignment(models.Model):
    """One role held by one staff user now: PSU roles name their PSU, the School Student Help
    Desk role also its campuses. A grant that ends (expired, revoked) is removed here; its
    story stays on its ``RoleRequest``."""

    Role = Role

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
        help_text="Required for the LEA and school roles; empty for Support.",
    )
    campuses = models.ManyToManyField(
        "people.Campus",
        blank=True,
        related_name="role_assignments",
        help_text="School Student Help Desk only: the campuses of the PSU it covers.",
    )
    ends_on = models.DateField(
        "ends on",
        null=True,
        blank=True,
        help_text="The last day the role is in force; empty: until revoked.",
    )
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    role_request = models.OneToOneField(
        "RoleRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignment",
        help_text="The request (or the direct grant in admin) this role came from.",
    )

    class Meta:
        ordering = ["user__username", "role", "psu__code"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role__in=PSU_ROLES, psu__isnull=False) | Q(role="support", psu__isnull=True)
                ),
                name="role_psu_matches_role",
                violation_error_message=(
                    "The LEA and school roles need a PSU; the Support role has none."
                ),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "psu"],
                condition=Q(role__in=PSU_ROLES),
                name="one_psu_role_per_user_role_and_psu",
                violation_error_message="This user already holds this role for that PSU.",
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


class RoleRequest(models.Model):
    """A staff user's request for a role, and what became of it: Requested, then Granted,
    Denied or Withdrawn; a grant later Expired (at its end date, by the hourly sweep) or
    Revoked. A superuser's direct grant in admin is recorded as one too, granted at once."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        GRANTED = "granted", "Granted"
        DENIED = "denied", "Denied"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="role_requests",
        help_text="Who asked for the role (and holds it once granted).",
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    psu = models.ForeignKey(
        "people.PSU",
        verbose_name="PSU",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_requests",
    )
    campuses = models.ManyToManyField("people.Campus", blank=True, related_name="role_requests")
    reason = models.TextField()
    ends_on = models.DateField("ends on", null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField(default=timezone.now)
    granted_directly = models.BooleanField(
        default=False, help_text="Granted by a superuser in admin, without a request."
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who approved or denied it.",
    )
    decision_comment = models.TextField(blank=True)
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was withdrawn, or its grant expired or revoked."
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who withdrew or revoked it; empty when it expired.",
    )
    end_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # A second request for a role already waiting is refused by the service with a
            # message; this keeps two simultaneous clicks from making two.
            models.UniqueConstraint(
                fields=["user", "role", "psu"],
                condition=Q(status="requested"),
                name="one_pending_role_request_per_user_role_and_psu",
                violation_error_message="This role is already requested for that PSU.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "psu"], name="role_request_status_psu_idx"),
            models.Index(fields=["status", "ends_on"], name="role_request_status_end_idx"),
        ]

    def __str__(self) -> str:
        where = f" of PSU {self.psu.code}" if self.psu_id else ""
        return f"Role request #{self.pk}: {self.get_role_display()}{where} for {self.user}"

    def get_absolute_url(self) -> str:
        return reverse("catalog:role_request_detail", args=[self.pk])

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.REQUESTED

    @property
    def is_in_force(self) -> bool:
        return self.status == self.Status.GRANTED
