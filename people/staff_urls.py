"""Staff accounts, under ``accounts/``; the names are global (``login``, ``logout``,
``password_change``, ``password_change_done``, and ``password_reset_confirm``,
``password_reset_complete`` for the link a teacher's invitation carries), as Django's own
views expect."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import staff_views

urlpatterns = [
    path("login/", staff_views.staff_login, name="login"),
    path("logout/", staff_views.staff_logout, name="logout"),
    path("password/", staff_views.staff_password_change, name="password_change"),
    path("password/done/", staff_views.staff_password_change_done, name="password_change_done"),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            success_url=reverse_lazy("password_reset_complete")
        ),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
