from django.urls import path

from servicehall.workdays import views

app_name = "workdays"
urlpatterns = [
    path("", views.calendar_view, name="calendar"),
    path("overrides/", views.override_set_view, name="override_set"),
    path("overrides/remove/", views.override_remove_view, name="override_remove"),
    path("import/", views.schedule_import_view, name="import"),
    path("import/site/", views.site_import_view, name="site_import"),
]
