"""The directory: staff users, PSUs, campuses and students."""

from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .codes import CAMPUS_CODE, PSU_CODE, STUDENT_NUMBER


class Grade(models.TextChoices):
    """The grade levels of the help text, in its order, with the names every page shows."""

    PK5 = "-5", "Pre-K (-5)"
    PK4 = "-4", "Pre-K (-4)"
    PK3 = "-3", "Pre-K (-3)"
    PK2 = "-2", "Pre-K (-2)"
    PK1 = "-1", "Pre-K (-1)"
    KINDERGARTEN = "0", "Kindergarten"
    G1 = "1", "Grade 1"
    G2 = "2", "Grade 2"
    G3 = "3", "Grade 3"
    G4 = "4", "Grade 4"
    G5 = "5", "Grade 5"
    G6 = "6", "Grade 6"
    G7 = "7", "Grade 7"
    G8 = "8", "Grade 8"
    G9 = "9", "Grade 9"
    G10 = "10", "Grade 10"
    G11 = "11", "Grade 11"
    G12 = "12", "Grade 12"
    G13 = "13", "Grade 13"
    UNGRADED = "-9", "Ungraded"


ALLOWED_GRADES: tuple[str, ...] = tuple(Grade.values)


class User(AbstractUser):
    """A staff member. Roles live in ``catalog.RoleAssignment`` (a higher layer: read here by
    their names, ``"lea_admin"``, ``"lea_help_desk"``, ``"school_help_desk"``, ``"support"``).
    A role past its end date is not in force, whether or not the hourly sweep has recorded
    it as expired yet."""

    class Meta:
        db_table = "people_user"

    def _roles_in_force(self):
        today = timezone.localdate()
        return self.role_assignments.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))

    @cached_property
    def roles_in_force(self) -> list[tuple[str, str | None, int | None]]:
        """(role, PSU code, PSU id) of every role in force (Support: no PSU), by role and
        code, in one query."""
        rows = self._roles_in_force().values_list("role", "psu__code", "psu_id")
        return sorted(rows, key=lambda row: (row[0], row[1] or ""))

    @cached_property
    def psu_roles(self) -> list[tuple[str, str, int]]:
        """The roles in force that name a PSU."""
        return [row for row in self.roles_in_force if row[2] is not None]

    def _psus_of(self, role: str) -> list[tuple[str, int]]:
        return [(code, psu_id) for r, code, psu_id in self.psu_roles if r == role]

    @cached_property
    def administered_psus(self) -> list[tuple[str, int]]:
        """(code, id) of the PSUs this user administers, by code."""
        return self._psus_of("lea_admin")

    @cached_property
    def administered_psu_codes(self) -> list[str]:
        return [code for code, _ in self.administered_psus]

    @cached_property
    def administered_psu_ids(self) -> list[int]:
        """Filter by these rather than by code: the planner then knows the PSU and walks the
        (psu, name) index instead of sorting the whole PSU."""
        return [psu_id for _, psu_id in self.administered_psus]

    @cached_property
    def is_lea_admin(self) -> bool:
        return bool(self.administered_psu_codes)

    @cached_property
    def help_desk_psu_ids(self) -> list[int]:
        """PSUs whose every student this user helps (LEA Student Help Desk)."""
        return [psu_id for _, psu_id in self._psus_of("lea_help_desk")]

    @cached_property
    def help_desk_campus_ids(self) -> list[int]:
        """Campuses whose students this user helps (School Student Help Desk), in one query;
        none without that role."""
        if not self._psus_of("school_help_desk"):
            return []
        return sorted(
            set(
                self._roles_in_force()
                .filter(role="school_help_desk", campuses__psu_id=F("psu_id"))
                .values_list("campuses", flat=True)
            )
        )

    @cached_property
    def is_help_desk(self) -> bool:
        """Holds LEA Student Help Desk, or School Student Help Desk for at least one campus."""
        return bool(self.help_desk_psu_ids or self.help_desk_campus_ids)

    @cached_property
    def people_psu_ids(self) -> list[int]:
        """PSUs whose every student this user sees in People: administered or helped."""
        return sorted(set(self.administered_psu_ids) | set(self.help_desk_psu_ids))

    @cached_property
    def people_scope(self) -> str:
        """Whose students People shows this user, as its page says it."""
        codes = sorted(
            {code for role, code, _ in self.psu_roles if role in ("lea_admin", "lea_help_desk")}
        )
        parts = [f"PSU {', '.join(codes)}"] if codes else []
        if self.help_desk_campus_ids:
            campuses = Campus.objects.filter(pk__in=self.help_desk_campus_ids).order_by("code")
            parts.append("campus " + ", ".join(campuses.values_list("code", flat=True)))
        return " and ".join(parts)

    @cached_property
    def is_teacher(self) -> bool:
        """Linked to an active OneRoster teacher (``rosters.Teacher``): *My Students*."""
        return type(self).objects.filter(pk=self.pk, roster_teacher__is_active=True).exists()

    @cached_property
    def is_support(self) -> bool:
        return any(role == "support" for role, _, _ in self.roles_in_force)


class PSU(models.Model):
    """A Public School Unit: a district (LEA) or a charter school."""

    code = models.CharField(max_length=3, unique=True, validators=[PSU_CODE.validator()])
    name = models.CharField(max_length=200)
    sourced_id = models.CharField(
        "OneRoster sourcedId", max_length=255, unique=True, null=True, blank=True, editable=False
    )
    teachers_may_reset = models.BooleanField(
        "Teachers may reset to the default password",
        default=False,
        help_text="A teacher may reset one of their own students to the default password.",
    )

    class Meta:
        verbose_name = "PSU"
        verbose_name_plural = "PSUs"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=PSU_CODE.condition("code"), name="psu_code_format"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Campus(models.Model):
    code = models.CharField(max_length=6, unique=True, validators=[CAMPUS_CODE.validator()])
    name = models.CharField(max_length=200)
    psu = models.ForeignKey(
        PSU, on_delete=models.PROTECT, related_name="campuses", verbose_name="PSU"
    )
    sourced_id = models.CharField(
        "OneRoster sourcedId", max_length=255, unique=True, null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name_plural = "campuses"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=CAMPUS_CODE.condition("code"), name="campus_code_format"
            ),
            # Target of the students' (campus, psu) foreign key: see migration 0002.
            models.UniqueConstraint(fields=["id", "psu"], name="campus_id_psu_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Student(AbstractBaseUser):
    """A student account: directory data, the default password and the login credential.

    ``default_password_encrypted`` holds a Fernet token (see ``credentials.crypto``); it is
    never decrypted except by the reveal, export and regeneration code. ``password`` is the
    login credential in Django's hasher format.

    The credential state is kept by every service that changes a credential, in the same
    transaction: ``default_request_number`` is the regeneration request that set the current
    default (None: set when the account was created or imported); ``login_source``,
    ``login_request_number`` and ``login_set_at`` say what set the login password, whose
    password it holds (the default generation of that request, None for the account's first)
    and when; ``own_password_set_at`` when the student last chose their own. Requests are a
    higher layer: the directory records them by number, as people read them ("request #12").
    ``people.sign_in`` reads this state to say whether a password signs in; nothing is hashed
    to answer that.
    """

    class LoginSource(models.TextChoices):
        CREATED = "created", "Set when the account was created or imported"
        REQUEST = "request", "Reset by a regeneration request"
        RESET_TO_DEFAULT = "reset_to_default", "Reset to the default password"
        OWN = "own", "Chosen by the student"

    student_number = models.CharField(
        max_length=10, unique=True, validators=[STUDENT_NUMBER.validator()]
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    username = models.CharField(max_length=64, unique=True)
    # No index of their own: the name-order indexes below lead with them, and every index
    # is one more entry to write for each student a reset changes (migration 0011).
    psu = models.ForeignKey(
        PSU,
        on_delete=models.PROTECT,
        related_name="students",
        verbose_name="PSU",
        db_index=False,
    )
    campus = models.ForeignKey(
        Campus, on_delete=models.PROTECT, related_name="students", db_index=False
    )
    grade = models.CharField(max_length=2, choices=Grade.choices)
    default_password_encrypted = models.TextField(editable=False)
    default_password_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    default_request_number = models.PositiveBigIntegerField(
        "default set by request", null=True, blank=True, editable=False
    )
    must_change_password = models.BooleanField(default=False)
    # Set when a reset gives the student a temporary login password; cleared at the first
    # successful sign-in. An unused temporary password expires (TEMPORARY_PASSWORD_EXPIRY_DAYS).
    temporary_password_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    login_source = models.CharField(
        max_length=20, choices=LoginSource.choices, default=LoginSource.CREATED, editable=False
    )
    login_request_number = models.PositiveBigIntegerField(
        "login holds the password of request", null=True, blank=True, editable=False
    )
    login_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    own_password_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    # The student's id in the SIS's OneRoster export (``rosters.oneroster``): enrollments
    # name students by it. Empty for students the portal's own CSV made.
    sourced_id = models.CharField(
        "OneRoster sourcedId", max_length=255, unique=True, null=True, blank=True, editable=False
    )

    USERNAME_FIELD = "username"

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__in=ALLOWED_GRADES), name="student_grade_allowed"
            ),
        ]
        indexes = [
            # The request's selection and the confirm page's count: PSU, then campus and
            # grade, active students only.
            models.Index(
                fields=["psu", "campus", "grade"],
                condition=Q(is_active=True),
                name="student_selection_idx",
            ),
            # The People module lists a PSU's (or a campus's) students in name order, one
            # page at a time: these indexes hand back a page without sorting the PSU.
            # Prefix search on names has PostgreSQL-only indexes (migration 0003).
            models.Index(
                fields=["psu", "last_name", "first_name", "id"], name="student_psu_name_idx"
            ),
            # People's "Signed in since the last reset: yes" right after a district-wide
            # reset: few students match, and finding a page of them along the index above
            # read the whole PSU (1.3 s at p95 for 160,000 students on a loaded machine).
            models.Index(
                fields=["psu", "last_name", "first_name", "id"],
                condition=Q(temporary_password_set_at__isnull=True),
                name="student_signed_in_name_idx",
            ),
            models.Index(
                fields=["campus", "last_name", "first_name", "id"],
                name="student_campus_name_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.student_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def login_is_default(self) -> bool:
        """The login password is the current default password."""
        return (
            self.login_source != self.LoginSource.OWN
            and self.login_request_number == self.default_request_number
        )

    @property
    def signed_in_since_reset(self) -> bool:
        """Signed in since the portal last set the login password (a reset clears nothing
        else: the first sign-in ends the temporary password)."""
        return self.temporary_password_set_at is None


class CredentialEvent(models.Model):
    """A change of a student's credentials that the directory makes, or a first sign-in: one
    row each, for the student's history. What regeneration requests do is in their outcome
    rows; reveals and downloads in ``DefaultPasswordDisclosure``."""

    class Kind(models.TextChoices):
        RESET_TO_DEFAULT = "reset_to_default", "Login password reset to the default password"
        FIRST_SIGN_IN = "first_sign_in", "First sign-in after a reset"
        OWN_PASSWORD = "own_password", "Chose their own password"

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="credential_events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who did it; empty when the student did.",
    )
    request_number = models.PositiveBigIntegerField(
        "password of request",
        null=True,
        blank=True,
        help_text="The request whose password the login held (empty: the account's first).",
    )
    must_change = models.BooleanField("password change forced", default=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["student", "-at"], name="credential_event_student_idx"),
            models.Index(fields=["request_number", "kind"], name="credential_event_request_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: student {self.student_id} at {self.at:%Y-%m-%d %H:%M}"


class DefaultPasswordDisclosure(models.Model):
    """Every time a staff member was shown default passwords: one student's on the student's
    page (reveal), or a request's students' as a CSV file or printable cards. The password
    itself is never recorded. A download names its request by number (requests are a higher
    layer than the directory)."""

    class Kind(models.TextChoices):
        REVEAL = "reveal", "Revealed on the student's page"
        CSV = "csv", "CSV download"
        CARDS = "cards", "Printable cards"
        CLASS_CSV = "class_csv", "A teacher's class: CSV download"
        CLASS_CARDS = "class_cards", "A teacher's class: printable cards"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="default_password_disclosures",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    psu = models.ForeignKey(
        PSU,
        on_delete=models.PROTECT,
        related_name="default_password_disclosures",
        verbose_name="PSU",
    )
    student = models.ForeignKey(
        Student,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="default_password_disclosures",
    )
    request_number = models.PositiveBigIntegerField("request", null=True, blank=True)
    student_count = models.PositiveIntegerField(default=1)
    scope = models.CharField(
        max_length=200, blank=True, help_text="Which students, e.g. a campus and grade."
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["request_number"], name="disclosure_request_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="reveal") | Q(student__isnull=False),
                name="disclosure_reveal_has_student",
            ),
            # A class's download (``rosters``) names its class in ``scope``, not a request.
            models.CheckConstraint(
                condition=Q(kind__in=["reveal", "class_csv", "class_cards"])
                | Q(request_number__isnull=False),
                name="disclosure_download_has_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor} at {self.at:%Y-%m-%d %H:%M}"


class SignInFailure(models.Model):
    """A failed sign-in (staff, student, or the student's current password on the change
    page) from one client address: the store of the per-address budget (``people.throttle``).
    Rows older than the budget's hour are removed as new ones come; no username is kept
    (django-axes keeps the per-account count)."""

    address = models.GenericIPAddressField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["address", "at"], name="signin_failure_address_idx"),
            models.Index(fields=["at"], name="signin_failure_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.address} at {self.at:%Y-%m-%d %H:%M:%S}"
