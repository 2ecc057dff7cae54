"""The hall's pages, mounted at /hall/. Public pages take a site code or an unguessable token."""

from django.urls import path

from servicehall.queueing import views

app_name = "queueing"
urlpatterns = [
    # Public: kiosk, ticket, displays, booking, live events
    path("kiosk/<str:site_code>/", views.kiosk_view, name="kiosk"),
    path("kiosk/<str:site_code>/issue/", views.kiosk_issue_view, name="kiosk_issue"),
    path("kiosk/<str:site_code>/check-in/", views.kiosk_check_in_view, name="kiosk_check_in"),
    path("t/<str:token>/", views.ticket_status_view, name="ticket_status"),
    path("t/<str:token>/print/", views.ticket_print_view, name="ticket_print"),
    path("t/<str:token>/cancel/", views.ticket_cancel_view, name="ticket_cancel"),
    path("display/<str:site_code>/", views.display_view, name="display"),
    path("counts/<str:site_code>/", views.counts_view, name="counts"),
    path("events/<str:site_code>/", views.events_view, name="events"),
    path("screen/<int:window_id>/", views.citizen_screen_view, name="citizen_screen"),
    path("book/<str:site_code>/", views.booking_view, name="booking"),
    path("book/<str:site_code>/manage/", views.booking_manage_view, name="booking_manage"),
    path("m/<str:site_code>/", views.mobile_view, name="mobile"),
    path("m/<str:site_code>/issue/", views.mobile_issue_view, name="mobile_issue"),
    # Staff
    path("guide/", views.guide_desk_view, name="guide_desk"),
    path("guide/tickets/<int:ticket_id>/requeue/", views.guide_requeue_view, name="guide_requeue"),
    path("counter/", views.counter_index_view, name="counter_index"),
    path("counter/<int:window_id>/", views.counter_view, name="counter"),
    path("counter/<int:window_id>/sign-in/", views.counter_sign_in_view, name="counter_sign_in"),
    path("monitor/", views.monitor_view, name="monitor"),
    path("monitor/tidal/", views.monitor_tidal_view, name="monitor_tidal"),
    path("poster/", views.entrance_poster_view, name="entrance_poster"),
    path("notices/", views.notice_list_view, name="notice_list"),
    path("categories/", views.category_list_view, name="category_list"),
    path("categories/new/", views.category_edit_view, name="category_create"),
    path("categories/<int:category_id>/", views.category_edit_view, name="category_edit"),
]
