from django.urls import path

from . import views

app_name = "rosters"
urlpatterns = [
    path("my-students/", views.my_students, name="my_students"),
    path("my-students/<int:pk>/passwords.csv", views.class_csv, name="class_csv"),
    path("my-students/<int:pk>/cards/", views.class_cards, name="class_cards"),
    path(
        "my-students/<int:pk>/students/<int:student_pk>/reset/",
        views.class_student_reset,
        name="class_student_reset",
    ),
    path("teachers/", views.teachers, name="teachers"),
    path("teachers/invite/", views.teachers_invite_view, name="teachers_invite"),
    path("teachers/psu/<str:code>/", views.psu_settings, name="psu_settings"),
    path("rosters/import/", views.roster_import, name="import"),
]
