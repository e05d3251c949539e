from django.urls import path

from . import handout, views

app_name = "regeneration"
urlpatterns = [
    path("", views.regeneration_list, name="list"),
    path("regenerate/", views.regeneration_new, name="new"),
    path("regenerate/confirm/<uuid:key>/", views.regeneration_confirm, name="confirm"),
    path("<int:pk>/", views.regeneration_detail, name="detail"),
    path("<int:pk>/progress/", views.regeneration_progress, name="progress"),
    path("<int:pk>/passwords.csv", handout.handout_csv, name="handout_csv"),
    path("<int:pk>/cards/", handout.handout_cards, name="handout_cards"),
]
