from django.urls import path

from . import views

app_name = "regeneration"
urlpatterns = [
    path("", views.regeneration_list, name="list"),
    path("regenerate/", views.regeneration_new, name="new"),
    path("regenerate/confirm/<uuid:key>/", views.regeneration_confirm, name="confirm"),
    path("<int:pk>/", views.regeneration_detail, name="detail"),
    path("<int:pk>/progress/", views.regeneration_progress, name="progress"),
]
