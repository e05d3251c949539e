"""Regeneration requests, the chunks they run in, and one outcome per student."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class RegenerationRequest(models.Model):
    """One *Regenerate Student Default Passwords* request, as confirmed by its requester.

    Progress and completion are read from these counters, which each chunk's transaction
    advances; Celery results are never consulted.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        COMPLETED_WITH_ERRORS = "completed_with_errors", "Completed with errors"
        FAILED = "failed", "Failed"

    FINISHED_STATUSES = (Status.COMPLETED, Status.COMPLETED_WITH_ERRORS, Status.FAILED)

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="regeneration_requests"
    )
    psu = models.ForeignKey(
        "people.PSU",
        on_delete=models.PROTECT,
        related_name="regeneration_requests",
        verbose_name="PSU",
    )
    campus_codes = models.JSONField(default=list, blank=True, help_text="Empty: every campus.")
    grade_levels = models.JSONField(default=list, blank=True, help_text="Empty: every grade.")
    reset_current_passwords = models.BooleanField("also reset current passwords", default=False)
    force_password_change = models.BooleanField(
        "force password change at next login", default=False
    )
    comments = models.TextField("request comments", blank=True)
    confirmation_key = models.UUIDField(unique=True, editable=False)
    portal_url = models.URLField(
        "portal address",
        blank=True,
        editable=False,
        help_text="Where the requester reached the portal: the links of its email and cards.",
    )

    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    queued_at = models.DateTimeField(default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    targeted_count = models.PositiveIntegerField(default=0)
    processed_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    handout_removed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the passwords it set were removed from its outcomes "
        "(HANDOUT_RETENTION_DAYS after it finished).",
    )

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [models.Index(fields=["psu", "status"], name="request_psu_status_idx")]

    def __str__(self) -> str:
        return f"Request #{self.pk} for PSU {self.psu.code}"

    def get_absolute_url(self) -> str:
        return reverse("regeneration:detail", args=[self.pk])

    @property
    def force_change_in_effect(self) -> bool:
        """The help text: force change takes effect only with reset."""
        return self.reset_current_passwords and self.force_password_change

    @property
    def reset_count(self) -> int:
        """Login passwords reset: every student changed, when the request resets."""
        return self.processed_count if self.reset_current_passwords else 0

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES

    @property
    def passwords_can_be_handed_out(self) -> bool:
        """Completed (with or without errors): the students' new passwords are final."""
        return self.status in (self.Status.COMPLETED, self.Status.COMPLETED_WITH_ERRORS)

    @property
    def percent_done(self) -> int:
        if self.is_finished and self.status != self.Status.FAILED:
            return 100
        if not self.targeted_count:
            return 0
        done = self.processed_count + self.failed_count
        return min(100, done * 100 // self.targeted_count)

    @property
    def duration(self):
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at


class RegenerationChunk(models.Model):
    """A slice of a request's students, in the stable (id) order, done in one transaction."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"

    request = models.ForeignKey(
        RegenerationRequest, on_delete=models.CASCADE, related_name="chunks"
    )
    index = models.PositiveIntegerField()
    first_student_id = models.BigIntegerField()
    last_student_id = models.BigIntegerField()
    size = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["request", "index"]
        constraints = [
            models.UniqueConstraint(fields=["request", "index"], name="chunk_unique_per_request"),
        ]
        indexes = [models.Index(fields=["request", "status", "index"], name="chunk_pending_idx")]

    def __str__(self) -> str:
        return f"Chunk {self.index + 1} of request #{self.request_id}"


class RegenerationOutcome(models.Model):
    """What one request did to one student. Unique per (request, student): a student is
    changed at most once per request, however often a task is delivered."""

    class Status(models.TextChoices):
        CHANGED = "changed", "Changed"
        FAILED = "failed", "Failed"

    # No index of their own: the unique (request, student) constraint and
    # outcome_student_latest_idx (student, -id) start with these columns and serve their
    # lookups. Every index costs each of the 160,000 rows a district-wide request writes.
    request = models.ForeignKey(
        RegenerationRequest, on_delete=models.CASCADE, related_name="outcomes", db_index=False
    )
    student = models.ForeignKey(
        "people.Student",
        on_delete=models.PROTECT,
        related_name="regeneration_outcomes",
        db_index=False,
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    password_reset = models.BooleanField(default=False)
    must_change_set = models.BooleanField(default=False)
    error = models.CharField(max_length=300, blank=True)
    processed_at = models.DateTimeField()
    # The default this request set, encrypted, for its handouts: they show what the request
    # set, whatever came after. Emptied HANDOUT_RETENTION_DAYS after the request finished.
    default_password_encrypted = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["request", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "student"], name="outcome_unique_per_request_and_student"
            ),
        ]
        indexes = [models.Index(fields=["student", "-id"], name="outcome_student_latest_idx")]

    def __str__(self) -> str:
        return (
            f"{self.get_status_display()}: student {self.student_id} in request #{self.request_id}"
        )
