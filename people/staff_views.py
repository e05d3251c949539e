"""Staff sign-in, sign-out and password change: Django's own views, with every variable of
their frames hidden from error reports (Django's views hide only the POST fields, and its
password-change form names only ``old_password``, which leaves the password visible in what
it calls). The budget per address and the lockout per account apply through
``authenticate`` (``people.throttle``)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables


class StaffPasswordChangeForm(PasswordChangeForm):
    @sensitive_variables()
    def clean_old_password(self) -> str:
        # Django's own, without its decorator naming one variable: the nearest decorator up
        # the stack decides what every frame below it hides.
        old_password = self.cleaned_data["old_password"]
        if not self.user.check_password(old_password):
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


staff_login = sensitive_variables()(auth_views.LoginView.as_view(redirect_authenticated_user=True))
staff_logout = auth_views.LogoutView.as_view()
staff_password_change = sensitive_variables()(
    auth_views.PasswordChangeView.as_view(form_class=StaffPasswordChangeForm)
)
staff_password_change_done = auth_views.PasswordChangeDoneView.as_view()
