from django.urls import path

from servicehall.duty import views

app_name = "duty"
urlpatterns = [
    path("", views.start_view, name="start"),
    path("board/", views.board_view, name="board"),
    path("posts/", views.post_list_view, name="posts"),
    path("posts/<int:post_id>/", views.post_detail_view, name="post_detail"),
    path("posts/<int:post_id>/assign/", views.assign_view, name="assign"),
    path("assignments/<int:assignment_id>/end/", views.end_assignment_view, name="end_assignment"),
    path("roster/", views.roster_view, name="roster"),
    path("roster/patterns/<int:pattern_id>/end/", views.end_pattern_view, name="end_pattern"),
    path(
        "roster/exceptions/<int:exception_id>/delete/", views.delete_exception_view, name="delete_exception"
    ),
    path("leave/", views.my_leave_view, name="my_leave"),
    path("leave/candidates/", views.candidates_view, name="candidates"),
    path("leave/<int:leave_id>/cancel/", views.cancel_leave_view, name="cancel_leave"),
    path("leave/queue/", views.leave_queue_view, name="leave_queue"),
    path("leave/<int:leave_id>/approve/", views.approve_leave_view, name="approve_leave"),
    path("leave/<int:leave_id>/reject/", views.reject_leave_view, name="reject_leave"),
    path("leave/emergency/", views.emergency_leave_view, name="emergency_leave"),
    path("check-in/", views.check_in_view, name="check_in"),
    path("away/", views.away_view, name="away"),
    path("attendance/", views.attendance_view, name="attendance"),
    path("substitution/", views.substitution_view, name="substitution"),
    path("training/", views.training_list_view, name="training"),
    path("training/<int:session_id>/", views.training_detail_view, name="training_detail"),
    path("qualifications/", views.qualification_list_view, name="qualifications"),
    path(
        "qualifications/<int:qualification_id>/revoke/",
        views.revoke_qualification_view,
        name="revoke_qualification",
    ),
]
