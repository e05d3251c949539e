from django.urls import path

from . import views

app_name = "people"
urlpatterns = [
    path("", views.people_list, name="list"),
    path("<int:pk>/", views.people_detail, name="detail"),
    path("<int:pk>/reveal/", views.people_reveal, name="reveal"),
    path("<int:pk>/reset/", views.people_reset_default, name="reset_default"),
]
