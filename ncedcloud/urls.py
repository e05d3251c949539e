from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("catalog.urls")),
    path("requests/", include("regeneration.urls")),
    path("", include("rosters.urls")),
    path("people/", include("people.urls")),
    path("student/", include("people.student_urls")),
    path("accounts/", include("people.staff_urls")),
    path("admin/", admin.site.urls),
]
