"""Forms of role requests. They validate; they change nothing."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from people.codes import CAMPUS_CODE, PSU_CODE
from people.models import PSU, Campus

from .models import REQUESTABLE_ROLES, Role

MAX_CAMPUS_CODES = 50
LONGEST_GRANT = timedelta(days=366)  # "at most one year ahead", a leap year's day included


def _quoted(value: str) -> str:
    return f"“{value[:23] + '…' if len(value) > 24 else value}”"


class RoleRequestForm(forms.Form):
    """*Request a Privileged Role*."""

    role = forms.ChoiceField(
        label="Role",
        choices=[(role.value, role.label) for role in REQUESTABLE_ROLES],
        widget=forms.RadioSelect,
        help_text="LEA Administrator: every request and People for the PSU. LEA Student Help "
        "Desk: People (view, Show, reset one student to the default) and the single-user "
        "request for the PSU. School Student Help Desk: the same for the campuses listed.",
    )
    psu_code = forms.CharField(
        label="PSU Code",
        max_length=20,
        help_text="Required. The 3-character code of the PSU, such as 920 (charter PSUs carry a "
        "letter, such as 32B).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    campus_codes = forms.CharField(
        label="Campus Codes",
        required=False,
        max_length=MAX_CAMPUS_CODES * 10,
        help_text="School Student Help Desk only, and then required: a comma-separated list of "
        "six-character school codes that belong to the PSU above.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        help_text="Required. Why you need the role; the approver reads it.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    ends_on = forms.DateField(
        label="End Date",
        required=False,
        help_text="Optional. The last day you need the role, at most one year ahead. Leave "
        "empty for no end date (until revoked).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._campuses: list[Campus] = []

    def clean_psu_code(self) -> PSU:
        code = self.cleaned_data["psu_code"].strip().upper()
        if not PSU_CODE.matches(code):
            raise ValidationError(
                f"{_quoted(code)} is not a PSU code: a PSU code is 3 digits or letters, "
                "such as 920 or 32B.",
                code="psu_malformed",
            )
        psu = PSU.objects.filter(code=code).first()
        if psu is None:
            raise ValidationError(f"There is no PSU {_quoted(code)}.", code="psu_unknown")
        return psu

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Say why you need the role.", code="required")
        return reason

    def clean_ends_on(self) -> date | None:
        ends_on = self.cleaned_data["ends_on"]
        if ends_on is None:
            return None
        today = timezone.localdate()
        if ends_on < today:
            raise ValidationError("The end date must be today or later.", code="ends_past")
        if ends_on > today + LONGEST_GRANT - timedelta(days=1):
            raise ValidationError(
                f"The end date can be at most one year ahead: "
                f"{today + LONGEST_GRANT - timedelta(days=1):%Y-%m-%d} at the latest.",
                code="ends_too_far",
            )
        return ends_on

    def clean(self) -> dict:
        cleaned = super().clean()
        role, psu = cleaned.get("role"), cleaned.get("psu_code")
        raw = cleaned.get("campus_codes", "")
        codes = list(dict.fromkeys(c.strip().upper() for c in raw.split(",") if c.strip()))
        if role == Role.SCHOOL_HELP_DESK:
            if not codes and "campus_codes" not in self.errors:
                self.add_error(
                    "campus_codes",
                    ValidationError(
                        "List the campuses you help: the School Student Help Desk role "
                        "covers the campuses named here.",
                        code="campus_required",
                    ),
                )
            elif psu is not None:
                self._check_campuses(codes, psu)
        elif role and codes:
            self.add_error(
                "campus_codes",
                ValidationError(
                    f"Campus codes are for the School Student Help Desk role only; the "
                    f"{Role(role).label} role covers the whole PSU. Leave the field empty.",
                    code="campus_not_for_role",
                ),
            )
        cleaned["campuses"] = self._campuses if role == Role.SCHOOL_HELP_DESK else []
        return cleaned

    def _check_campuses(self, codes: list[str], psu: PSU) -> None:
        """Every bad code named, as the regeneration form names them: malformed, unknown,
        or of another PSU."""
        if len(codes) > MAX_CAMPUS_CODES:
            self.add_error("campus_codes", f"Enter at most {MAX_CAMPUS_CODES} campus codes.")
            return
        found = {c.code: c for c in Campus.objects.filter(code__in=codes).select_related("psu")}
        errors = []
        for code in codes:
            campus = found.get(code)
            if not CAMPUS_CODE.matches(code):
                errors.append(
                    f"{_quoted(code)} is not a campus code: a campus code is 6 letters or digits."
                )
            elif campus is None:
                errors.append(f"Campus code {_quoted(code)} does not exist.")
            elif campus.psu_id != psu.pk:
                errors.append(
                    f"Campus {_quoted(code)} belongs to PSU {campus.psu.code}, not to PSU "
                    f"{psu.code}."
                )
        if errors:
            self.add_error("campus_codes", errors)
        else:
            self._campuses = [found[code] for code in codes]


class DecisionForm(forms.Form):
    """Approve or deny, with a comment (required to deny: the requester reads why)."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("deny", "Deny")])
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=2000,
        help_text="Optional to approve; required to deny (the requester reads it).",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("decision") == "deny" and not cleaned.get("comment", "").strip():
            self.add_error("comment", "Say why you deny the request: the requester reads it.")
        return cleaned


class RevokeForm(forms.Form):
    comment = forms.CharField(
        label="Why revoke it",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
