from django.urls import path

from . import student_views

app_name = "students"
urlpatterns = [
    path("", student_views.student_home, name="home"),
    path("login/", student_views.student_login, name="login"),
    path("password/", student_views.student_password, name="password_change"),
    path("logout/", student_views.student_logout, name="logout"),
]
