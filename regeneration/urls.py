from django.urls import path

from . import handout, views

app_name = "regeneration"
urlpatterns = [
    path("", views.regeneration_list, name="list"),
    path("regenerate/", views.regeneration_new, name="new"),
    path("regenerate/student/", views.regeneration_new_single, name="new_single"),
    path("regenerate/file/", views.regeneration_new_file, name="new_file"),
    path("regenerate/confirm/<uuid:key>/", views.regeneration_confirm, name="confirm"),
    path("<int:pk>/", views.regeneration_detail, name="detail"),
    path("<int:pk>/progress/", views.regeneration_progress, name="progress"),
    path("<int:pk>/cancel/", views.regeneration_cancel, name="cancel"),
    path("<int:pk>/undo/", views.regeneration_undo, name="undo"),
    path("<int:pk>/passwords.csv", handout.handout_csv, name="handout_csv"),
    path("<int:pk>/cards/", handout.handout_cards, name="handout_cards"),
]
