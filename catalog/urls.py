from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.catalog_index, name="index"),
    path("roles/request/", views.role_request_new, name="role_request_new"),
    path("roles/approvals/", views.approvals, name="approvals"),
    path("roles/<int:pk>/", views.role_request_detail, name="role_request_detail"),
    path("roles/<int:pk>/decide/", views.role_request_decide, name="role_request_decide"),
    path(
        "roles/<int:pk>/withdraw/", views.role_request_withdraw_view, name="role_request_withdraw"
    ),
    path("roles/<int:pk>/revoke/", views.role_grant_revoke_view, name="role_grant_revoke"),
]
