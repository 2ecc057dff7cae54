from django.urls import path

from servicehall.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("two-factor/", views.two_factor_view, name="two_factor"),
    path("password/", views.password_change_view, name="password_change"),
    path("profile/", views.profile_view, name="profile"),
    path("staff/", views.staff_list_view, name="staff_list"),
    path("staff/new/", views.staff_create_view, name="staff_create"),
    path("staff/<int:staff_id>/", views.staff_detail_view, name="staff_detail"),
    path("staff/<int:staff_id>/edit/", views.staff_edit_view, name="staff_edit"),
    path("staff/<int:staff_id>/reveal/<str:field>/", views.reveal_view, name="reveal"),
    path("staff/<int:staff_id>/roles/grant/", views.role_grant_view, name="role_grant"),
    path("staff/<int:staff_id>/roles/revoke/", views.role_revoke_view, name="role_revoke"),
    path("staff/<int:staff_id>/unlock/", views.unlock_view, name="unlock"),
    path("staff/<int:staff_id>/password/", views.reset_password_view, name="reset_password"),
]
