from django.urls import path

from servicehall.cases import public_views, views

app_name = "cases"
urlpatterns = [
    path("", views.case_list_view, name="case_list"),
    path("my/", views.my_matters_view, name="my_matters"),
    path("notifications/read/", views.notifications_read_view, name="notifications_read"),
    path("inquiries/new/", views.inquiry_create_view, name="inquiry_create"),
    path("inquiries/<int:inquiry_id>/", views.inquiry_detail_view, name="inquiry_detail"),
    path("inquiries/<int:inquiry_id>/refer/", views.inquiry_refer_view, name="inquiry_refer"),
    path("inquiries/<int:inquiry_id>/close/", views.inquiry_close_view, name="inquiry_close"),
    path("intake/", views.intake_view, name="intake"),
    path("intake/items/", views.item_search_view, name="item_search"),
    path("<int:case_id>/", views.case_detail_view, name="case_detail"),
    path("<int:case_id>/act/", views.case_action_view, name="case_action"),
    path("<int:case_id>/notices/<int:notice_id>.pdf", views.notice_pdf_view, name="notice_pdf"),
    path("approvals/", views.approval_list_view, name="approval_list"),
    path("approvals/<int:task_id>/decide/", views.task_decide_view, name="task_decide"),
    path("board/", views.board_view, name="board"),
    path("extensions/<int:request_id>/decide/", views.extension_decide_view, name="extension_decide"),
    path("status/", public_views.status_view, name="public_status"),
]
