"""Regeneration requests, the chunks they run in, and one outcome per student."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class RegenerationRequest(models.Model):
    """One regeneration request, as confirmed by its requester: by filters (PSU, campuses,
    grades), for one student, for a file of UIDs, or the undo of an earlier request. All run
    through one engine.

    Progress and completion are read from these counters, which each chunk's transaction
    advances; Celery results are never consulted.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        COMPLETED_WITH_ERRORS = "completed_with_errors", "Completed with errors"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Selection(models.TextChoices):
        FILTERS = "filters", "PSU, campuses and grades"
        STUDENT = "student", "One student"
        LIST = "list", "A file of UIDs"
        UNDO = "undo", "Undo of an earlier request"

    FINISHED_STATUSES = (
        Status.COMPLETED,
        Status.COMPLETED_WITH_ERRORS,
        Status.FAILED,
        Status.CANCELLED,
    )

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
    selection = models.CharField(
        "students chosen by", max_length=10, choices=Selection.choices, default=Selection.FILTERS
    )
    uid_file_name = models.CharField("UID file", max_length=200, blank=True)
    undo_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="undos",
        help_text="The request this one undoes.",
    )
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
    skipped_count = models.PositiveIntegerField(
        default=0, help_text="Students an undo left alone: changed since the undone request."
    )
    error_message = models.TextField(blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    handout_removed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the passwords it set were removed from its outcomes "
        "(HANDOUT_RETENTION_DAYS after it finished).",
    )
    undo_data_removed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the previous credentials kept for an undo were removed "
        "(REGENERATION_UNDO_DAYS after it finished).",
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
        """Completed (with or without errors) or cancelled: the new passwords of the students
        it changed are final. An undo sets no new password."""
        return self.selection != self.Selection.UNDO and self.status in (
            self.Status.COMPLETED,
            self.Status.COMPLETED_WITH_ERRORS,
            self.Status.CANCELLED,
        )

    @property
    def is_undo(self) -> bool:
        return self.selection == self.Selection.UNDO

    @property
    def not_changed_count(self) -> int:
        """Targeted students the request did not change (cancelled before them, failed, or
        left alone by an undo)."""
        return max(0, self.targeted_count - self.processed_count)

    @property
    def title(self) -> str:
        if self.is_undo:
            return f"Undo of request #{self.undo_of_id}"
        return {
            self.Selection.STUDENT: "Regenerate Student Default Password (Single User)",
            self.Selection.LIST: "Regenerate Student Default Passwords (File Upload)",
        }.get(self.selection, "Regenerate Student Default Passwords")

    @property
    def percent_done(self) -> int:
        if self.status in (self.Status.COMPLETED, self.Status.COMPLETED_WITH_ERRORS):
            return 100
        if not self.targeted_count:
            return 0
        done = self.processed_count + self.failed_count + self.skipped_count
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
        SKIPPED = "skipped", "Left alone"

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
    # What the student had before, for an undo, kept as it was kept (the default encrypted,
    # the login credential in its hasher's format, never plaintext). Emptied
    # REGENERATION_UNDO_DAYS after the request finished.
    previous_default_encrypted = models.TextField(blank=True, editable=False)
    previous_default_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    previous_default_request_number = models.PositiveBigIntegerField(
        null=True, blank=True, editable=False
    )
    previous_password = models.CharField(max_length=300, blank=True, editable=False)
    previous_must_change = models.BooleanField(null=True, blank=True, editable=False)
    previous_temporary_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    previous_login_source = models.CharField(max_length=20, blank=True, editable=False)
    previous_login_request_number = models.PositiveBigIntegerField(
        null=True, blank=True, editable=False
    )
    previous_login_set_at = models.DateTimeField(null=True, blank=True, editable=False)

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


class RequestedStudent(models.Model):
    """A student a request chose by UID: the single student, or one line of a UID file."""

    request = models.ForeignKey(
        RegenerationRequest, on_delete=models.CASCADE, related_name="requested_students"
    )
    # Indexed: without it, every student removed (or checked by the foreign key at commit)
    # scanned the whole table; removing a 160,000-student PSU after a file request of all of
    # them did not finish in 13 minutes.
    student = models.ForeignKey("people.Student", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "student"], name="requested_student_unique"),
        ]

    def __str__(self) -> str:
        return f"Student {self.student_id} of request #{self.request_id}"


class UIDListDraft(models.Model):
    """A checked file of UIDs between *Request* and *Confirm*: the students it names, too
    many to keep in the session. Removed at *Confirm*, or by the sweep after a day."""

    key = models.UUIDField(primary_key=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    student_ids = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"UID list draft {self.key}"
