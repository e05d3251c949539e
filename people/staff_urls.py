"""Staff accounts, under ``accounts/``; the names are global (``login``, ``logout``,
``password_change``, ``password_change_done``), as Django's own views expect."""

from django.urls import path

from . import staff_views

urlpatterns = [
    path("login/", staff_views.staff_login, name="login"),
    path("logout/", staff_views.staff_logout, name="logout"),
    path("password/", staff_views.staff_password_change, name="password_change"),
    path("password/done/", staff_views.staff_password_change_done, name="password_change_done"),
]
