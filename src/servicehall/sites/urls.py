from django.urls import path

from servicehall.sites import views

app_name = "sites"
urlpatterns = [
    path("", views.site_list_view, name="list"),
    path("new/", views.site_create_view, name="create"),
    path("<int:site_id>/", views.site_detail_view, name="detail"),
    path("<int:site_id>/edit/", views.site_edit_view, name="edit"),
    path("<int:site_id>/departments/new/", views.department_create_view, name="department_create"),
    path("departments/<int:department_id>/edit/", views.department_edit_view, name="department_edit"),
    path("<int:site_id>/windows/new/", views.window_create_view, name="window_create"),
    path("windows/<int:window_id>/edit/", views.window_edit_view, name="window_edit"),
    path("<int:site_id>/opening-hours/", views.opening_hours_view, name="opening_hours"),
]
