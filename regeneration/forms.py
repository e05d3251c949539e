"""The three regeneration forms (by PSU, campuses and grades; one student; a file of UIDs):
every rule of the design, with an error next to its field that names each offending value
and says why."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from people.codes import CAMPUS_CODE, PSU_CODE, STUDENT_NUMBER
from people.models import ALLOWED_GRADES, PSU, Campus, Student

from .models import RegenerationRequest
from .uid_file import UIDFileError, uid_file_check, uid_file_read

ALLOWED_GRADES_TEXT = ", ".join(ALLOWED_GRADES)
SHOWN_VALUE_LENGTH = 24
SHOWN_VALUES = 20


# Characters a list field may hold: room for its values, commas and generous spaces, so the
# length is refused (linear, before anything is parsed) long before the parse could cost.
CHARACTERS_PER_CAMPUS_CODE = 10
GRADE_LEVELS_MAX_LENGTH = 500


def split_list(raw: str, *, normalise=str.strip) -> list[str]:
    """Comma-separated values, each trimmed and normalised, empty entries dropped, duplicates
    (after normalising) collapsed, first place kept: in time linear in the input, since a
    dict, not a list, remembers what was seen."""
    return list(dict.fromkeys(value for item in raw.split(",") if (value := normalise(item))))


def refuse_if_too_long(label: str, value: str, limit: int, hint: str) -> None:
    if len(value) > limit:
        raise ValidationError(
            f"{label} can be at most {limit:,} characters; this has {len(value):,}. {hint}",
            code="too_long",
        )


def shown(value: str) -> str:
    """A value quoted for an error message, cut short if it is long."""
    if len(value) > SHOWN_VALUE_LENGTH:
        value = value[: SHOWN_VALUE_LENGTH - 1] + "…"
    return f"“{value}”"


def shown_list(values: list[str]) -> str:
    quoted = [shown(v) for v in values[:SHOWN_VALUES]]
    if len(values) > SHOWN_VALUES:
        quoted.append(f"and {len(values) - SHOWN_VALUES:,} more")
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


class RequestOptionsForm(forms.Form):
    """What every regeneration request asks: the PSU, the two options and the comments."""

    selection = RegenerationRequest.Selection.FILTERS
    psu_code = forms.CharField(
        label="PSU Code",
        help_text="Required. The 3-character code of a PSU you administer, such as 920 "
        "(charter PSUs carry a letter, such as 32B).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reset_current_passwords = forms.BooleanField(
        label="Also Reset Current Passwords",
        required=False,
        help_text="If checked, the students' login passwords are reset to the new default "
        "passwords that are generated.",
    )
    force_password_change = forms.BooleanField(
        label="Force Password Change at Next Login",
        required=False,
        help_text="If checked, the students must set a new password after their first sign-in "
        "with the new default password. Takes effect only if Also Reset Current Passwords "
        "is checked.",
    )
    comments = forms.CharField(
        label="Request Comments",
        required=False,
        help_text="Optional. Any description you would like associated with this request.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_psu_code(self) -> PSU:
        code = self.cleaned_data["psu_code"].upper()
        if not PSU_CODE.matches(code):
            raise ValidationError(
                f"{shown(code)} is not a PSU code: a PSU code is 3 digits or letters, "
                "such as 920 or 32B.",
                code="psu_malformed",
            )
        if code not in self.allowed_psu_codes():
            raise ValidationError(
                self.not_allowed_message.format(code=shown(code)), code="psu_not_administered"
            )
        return PSU.objects.get(code=code)

    not_allowed_message = (
        "You are not an LEA Administrator of PSU {code}, so you cannot request for it."
    )

    def allowed_psu_codes(self) -> list[str]:
        """The PSUs the user's roles allow this request for."""
        return self.user.administered_psu_codes

    def clean_comments(self) -> str:
        comments = self.cleaned_data["comments"]
        limit = settings.REGENERATION_MAX_COMMENT_LENGTH
        if len(comments) > limit:
            raise ValidationError(
                f"Request comments can be at most {limit:,} characters; these have "
                f"{len(comments):,}.",
                code="comments_too_long",
            )
        return comments

    def request_values(self) -> dict:
        """The cleaned values in the form a draft and a request store them."""
        data = self.cleaned_data
        return {
            "selection": self.selection,
            "psu_code": data["psu_code"].code,
            "reset_current_passwords": data["reset_current_passwords"],
            "force_password_change": data["force_password_change"],
            "comments": data["comments"],
        }


class RegenerationRequestForm(RequestOptionsForm):
    """*Regenerate Student Default Passwords*: a PSU's students, narrowed by campus and grade."""

    campus_codes = forms.CharField(
        label="Campus Codes",
        required=False,
        help_text="Optional. A comma-separated list of six-character school codes that belong "
        "to the PSU above. Leave empty for every campus of the PSU.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    grade_levels = forms.CharField(
        label="Grade Levels",
        required=False,
        help_text="Optional. A comma-separated list of grade levels to target, each one of "
        f"{ALLOWED_GRADES_TEXT}. If any value is not in this list, nothing is requested. "
        "Leave empty for every grade.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    field_order = [
        "psu_code",
        "campus_codes",
        "grade_levels",
        "reset_current_passwords",
        "force_password_change",
        "comments",
    ]

    def clean_campus_codes(self) -> list[str]:
        raw = self.cleaned_data["campus_codes"]
        limit = settings.REGENERATION_MAX_CAMPUS_CODES
        refuse_if_too_long(
            "Campus Codes",
            raw,
            limit * CHARACTERS_PER_CAMPUS_CODE,
            f"That is room for {limit} campus codes; leave the field empty to target every "
            "campus of the PSU.",
        )
        codes = split_list(raw, normalise=lambda item: item.strip().upper())
        if len(codes) > limit:
            raise ValidationError(
                f"Enter at most {limit} campus codes; this list has {len(codes):,}. "
                "Leave the field empty to target every campus of the PSU.",
                code="campus_too_many",
            )
        return codes

    def clean_grade_levels(self) -> list[str]:
        raw = self.cleaned_data["grade_levels"]
        refuse_if_too_long(
            "Grade Levels",
            raw,
            GRADE_LEVELS_MAX_LENGTH,
            f"There are {len(ALLOWED_GRADES)} grade levels: {ALLOWED_GRADES_TEXT}; leave the "
            "field empty for every grade.",
        )
        grades = split_list(raw)
        rejected = [grade for grade in grades if grade not in ALLOWED_GRADES]
        if rejected:
            verb = (
                "is not an allowed grade level"
                if len(rejected) == 1
                else ("are not allowed grade levels")
            )
            kindergarten = [grade for grade in rejected if grade.upper() in ("K", "KG")]
            hint = (
                f" Kindergarten is grade level 0: enter 0 for {shown_list(kindergarten)}."
                if kindergarten
                else ""
            )
            raise ValidationError(
                f"{shown_list(rejected)} {verb}, so nothing was requested.{hint} "
                f"Allowed grade levels: {ALLOWED_GRADES_TEXT}.",
                code="grade_not_allowed",
            )
        chosen = set(grades)
        return [grade for grade in ALLOWED_GRADES if grade in chosen]

    def clean(self) -> dict:
        cleaned = super().clean()
        psu = cleaned.get("psu_code")
        codes = cleaned.get("campus_codes")
        if codes:
            errors = self._campus_errors(codes, psu)
            if errors:
                self.add_error("campus_codes", errors)
        return cleaned

    @staticmethod
    def _campus_errors(codes: list[str], psu: PSU | None) -> list[ValidationError]:
        """Every bad campus code, in the order entered: malformed, unknown, or of another PSU."""
        well_formed = {code for code in codes if CAMPUS_CODE.matches(code)}
        owners = dict(Campus.objects.filter(code__in=well_formed).values_list("code", "psu__code"))
        errors = []
        for code in codes:
            owner = owners.get(code)
            if code not in well_formed:
                message = (
                    f"{shown(code)} is not a campus code: a campus code is 6 letters or digits."
                )
                errors.append(ValidationError(message, code="campus_malformed"))
            elif owner is None:
                message = f"Campus code {shown(code)} does not exist."
                errors.append(ValidationError(message, code="campus_unknown"))
            elif psu is not None and owner != psu.code:
                message = f"Campus {shown(code)} belongs to PSU {owner}, not to PSU {psu.code}."
                errors.append(ValidationError(message, code="campus_foreign"))
        return errors

    def request_values(self) -> dict:
        data = self.cleaned_data
        return {
            **super().request_values(),
            "campus_codes": data["campus_codes"],
            "grade_levels": data["grade_levels"],
        }


class SingleStudentForm(RequestOptionsForm):
    """*Regenerate Student Default Password (Single User)*: one student, by UID."""

    selection = RegenerationRequest.Selection.STUDENT
    student_uid = forms.CharField(
        label="Student UID",
        max_length=40,
        help_text="Required. The student's number, up to 10 digits, as People shows it.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "numeric"}
        ),
    )
    field_order = [
        "psu_code",
        "student_uid",
        "reset_current_passwords",
        "force_password_change",
        "comments",
    ]

    not_allowed_message = (
        "You hold no role for PSU {code} that allows this request (LEA Administrator, LEA "
        "Student Help Desk or School Student Help Desk)."
    )

    def allowed_psu_codes(self) -> list[str]:
        """Every PSU the user administers or helps, a whole PSU or some of its campuses."""
        return sorted({code for _, code, _ in self.user.psu_roles})

    def clean(self) -> dict:
        cleaned = super().clean()
        psu, uid = cleaned.get("psu_code"), cleaned.get("student_uid", "").strip()
        if psu is None or "student_uid" in self.errors:
            return cleaned
        problem = _uid_problem(uid, psu) or _campus_problem(uid, psu, self.user)
        if problem:
            self.add_error("student_uid", problem)
        else:
            self.student = Student.objects.select_related("campus").get(student_number=uid, psu=psu)
        return cleaned

    def request_values(self) -> dict:
        return {**super().request_values(), "student_id": self.student.pk}


def _uid_problem(uid: str, psu: PSU) -> ValidationError | None:
    if not STUDENT_NUMBER.matches(uid):
        return ValidationError(
            f"{shown(uid)} is not a Student UID: a UID is up to 10 digits.", code="uid_malformed"
        )
    student = Student.objects.filter(student_number=uid).values_list("psu_id", "is_active")
    found = student.first()
    if found is None:
        return ValidationError(f"No student has the UID {shown(uid)}.", code="uid_unknown")
    if found[0] != psu.pk:
        return ValidationError(
            f"The student {shown(uid)} is not a student of PSU {psu.code}.", code="uid_foreign"
        )
    if not found[1]:
        return ValidationError(
            f"The student {shown(uid)} is inactive, so their password is not regenerated.",
            code="uid_inactive",
        )
    return None


def _campus_problem(uid: str, psu: PSU, user) -> ValidationError | None:
    """A School Student Help Desk user helps the students of their campuses only."""
    if psu.pk in user.people_psu_ids:
        return None
    if Student.objects.filter(student_number=uid, campus_id__in=user.help_desk_campus_ids).exists():
        return None
    return ValidationError(
        f"The student {shown(uid)} is not a student of a campus you help, so you cannot "
        "request for them.",
        code="uid_other_campus",
    )


class UIDFileForm(RequestOptionsForm):
    """*Regenerate Student Default Passwords (File Upload)*: the students of a file of UIDs.
    Every bad line is named before anything is queued."""

    selection = RegenerationRequest.Selection.LIST
    uid_file = forms.FileField(
        label="UID File",
        help_text="Required. A text file, one Student UID per line, no header.",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.csv,text/plain"}),
    )
    field_order = [
        "psu_code",
        "uid_file",
        "reset_current_passwords",
        "force_password_change",
        "comments",
    ]
    BAD_LINES_SHOWN = 1000

    def clean(self) -> dict:
        cleaned = super().clean()
        psu, upload = cleaned.get("psu_code"), cleaned.get("uid_file")
        if psu is None or upload is None:
            return cleaned
        try:
            values = uid_file_read(upload)
        except UIDFileError as exc:
            self.add_error("uid_file", ValidationError(str(exc), code="uid_file_unreadable"))
            return cleaned
        self.check = uid_file_check(values, psu=psu)
        if self.check.bad_lines:
            self.add_error("uid_file", self._bad_lines_errors())
        return cleaned

    def _bad_lines_errors(self) -> list[ValidationError]:
        bad = self.check.bad_lines
        count = len(bad)
        errors = [
            ValidationError(
                f"{count:,} line{'s' if count != 1 else ''} of the file cannot be used, so "
                "nothing was requested. Correct them and upload the file again:",
                code="uid_file_bad_lines",
            )
        ]
        errors += [
            ValidationError(str(line), code="uid_bad_line") for line in bad[: self.BAD_LINES_SHOWN]
        ]
        if count > self.BAD_LINES_SHOWN:
            errors.append(
                ValidationError(
                    f"… and {count - self.BAD_LINES_SHOWN:,} more bad lines after line "
                    f"{bad[self.BAD_LINES_SHOWN - 1].line:,}.",
                    code="uid_bad_lines_more",
                )
            )
        return errors

    def request_values(self) -> dict:
        return {
            **super().request_values(),
            "uid_file_name": self.cleaned_data["uid_file"].name,
            "duplicates": self.check.duplicates,
        }
