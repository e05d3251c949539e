"""Forms of the People module and of student sign-in. They validate; they change nothing."""

from __future__ import annotations

import logging

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django.utils.functional import cached_property
from django.views.decorators.debug import sensitive_variables

from credentials.crypto import DefaultPasswordDecryptionError, decrypt_default_password
from ncedcloud.widgets import QuickSelect

from .models import Campus, Grade, Student
from .selectors import campuses_visible_to

logger = logging.getLogger(__name__)


class StudentSearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="The start of a name, a student number or a username.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    # The user's campuses by code, read as (code, name) pairs, not as model instances: a
    # district's 200 campuses as instances took 15 ms of every People page.
    campus = forms.ChoiceField(label="Campus", required=False, widget=QuickSelect)
    grade = forms.ChoiceField(label="Grade", required=False, choices=[("", "All"), *Grade.choices])
    signed_in = forms.ChoiceField(
        label="Signed in since the last reset",
        required=False,
        choices=[("", "All"), ("yes", "Yes"), ("no", "No")],
        help_text="Since the portal last set the student's login password.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # Read once, when the field is first rendered or checked.
        self.fields["campus"].choices = lambda: self.campus_choices
        self.fields["campus"].error_messages["invalid_choice"] = (
            "Choose one of your own campuses; that campus is not one whose students you may see."
        )

    @cached_property
    def campus_choices(self) -> list[tuple[str, str]]:
        campuses = campuses_visible_to(self.user).order_by("code").values_list("code", "name")
        return [("", "All"), *((code, f"{code} {name}") for code, name in campuses)]

    def clean_campus(self) -> Campus | None:
        code = self.cleaned_data["campus"]
        return campuses_visible_to(self.user).get(code=code) if code else None


class StudentLoginForm(forms.Form):
    """Username and password, checked through ``django.contrib.auth.authenticate`` so that
    django-axes counts every failure against the student's account."""

    username = forms.CharField(
        label="Username",
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}
        ),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": "That username and password do not match. Check them and try again.",
        "expired": (
            "This password has expired: it was given to you more than {days} days ago and "
            "never used. Ask your teacher for a new one."
        ),
    }

    def __init__(self, request: HttpRequest, *args, **kwargs):
        self.request = request
        self.student: Student | None = None
        super().__init__(*args, **kwargs)

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()

    @sensitive_variables()
    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username and password is not None:
            self.student = authenticate(self.request, student_username=username, password=password)
            if self.student is None:
                if getattr(self.request, "student_password_expired", False):
                    raise ValidationError(
                        self.error_messages["expired"].format(
                            days=settings.TEMPORARY_PASSWORD_EXPIRY_DAYS
                        ),
                        code="expired",
                    )
                raise ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        return self.cleaned_data


class StudentPasswordChangeForm(forms.Form):
    """The student's current password, then a new one twice. Django's password validators
    apply, and the new password must differ from the current one and from the default
    password teachers hand out."""

    current_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password1 = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    error_messages = {
        "wrong_current": (
            "Your current password is not right. Type the password you signed in with."
        ),
        "mismatch": "The two new passwords are not the same.",
        "same_as_default": (
            "Choose a password of your own: the new password must be different from the "
            "password your teacher gave you."
        ),
        "same_as_current": "The new password must be different from your current password.",
    }

    def __init__(self, request: HttpRequest, student: Student, *args, **kwargs):
        self.request = request
        self.student = student
        super().__init__(*args, **kwargs)
        if self.is_bound:
            # Shown again only with errors: the page focuses their summary instead.
            del self.fields["current_password"].widget.attrs["autofocus"]
        self.fields["new_password1"].help_text = " ".join(
            password_validation.password_validators_help_texts()
        )

    @sensitive_variables()
    def clean_current_password(self) -> str:
        """Checked through ``authenticate``, as a sign-in is: a wrong current password
        counts against the account's lockout and the address's budget (``people.throttle``),
        and a throttled one is refused even when right."""
        current = self.cleaned_data["current_password"]
        signed_in = authenticate(
            self.request, student_username=self.student.username, password=current
        )
        if signed_in is None or signed_in.pk != self.student.pk:
            raise ValidationError(self.error_messages["wrong_current"], code="wrong_current")
        return current

    @sensitive_variables()
    def clean_new_password2(self) -> str:
        first = self.cleaned_data.get("new_password1")
        second = self.cleaned_data["new_password2"]
        if first and first != second:
            raise ValidationError(self.error_messages["mismatch"], code="mismatch")
        if self._is_default_password(second):
            raise ValidationError(self.error_messages["same_as_default"], code="same_as_default")
        current = self.cleaned_data.get("current_password")
        if current is not None and constant_time_compare(second, current):
            raise ValidationError(self.error_messages["same_as_current"], code="same_as_current")
        password_validation.validate_password(second, self.student)
        return second

    @sensitive_variables()
    def _is_default_password(self, password: str) -> bool:
        try:
            default = decrypt_default_password(self.student.default_password_encrypted)
        except DefaultPasswordDecryptionError as exc:
            # The comparison with the current password (equal to the default right after a
            # reset) still applies; an operator must fix the keys.
            logger.error(
                "Student %s's new password was not compared with the default. %s",
                self.student.pk,
                exc,
            )
            return False
        return constant_time_compare(password, default)


class ResetToDefaultForm(forms.Form):
    """The confirm step of *Reset to default password*: one option."""

    force_password_change = forms.BooleanField(
        label="Force password change at next login",
        required=False,
        help_text="The student must choose a new password after signing in with the default.",
    )
