from django.urls import path

from servicehall.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_list_view, name="list"),
    path("verify/", views.audit_verify_view, name="verify"),
    path("export.csv", views.audit_export_view, name="export"),
    path("<int:record_id>/", views.audit_detail_view, name="detail"),
]
