from django.urls import path

from servicehall.feedback import public_views, views

app_name = "feedback"
urlpatterns = [
    path("", views.overview_view, name="overview"),
    path("mine/", views.my_ratings_view, name="mine"),
    path("ratings/<int:rating_id>/appeal/", views.appeal_view, name="appeal"),
    path("ratings/<int:rating_id>/review/", views.review_held_view, name="review_held"),
    path("appeals/", views.appeal_list_view, name="appeal_list"),
    path("appeals/<int:appeal_id>/decide/", views.appeal_decide_view, name="appeal_decide"),
    path("rectifications/", views.rectification_board_view, name="board"),
    path("rectifications/<int:task_id>/", views.rectification_view, name="rectification"),
    path("rectifications/<int:task_id>/act/", views.rectification_action_view, name="rectification_action"),
    path("evaluators/", views.evaluator_list_view, name="evaluator_list"),
    path("rate/<str:key>/", public_views.rate_view, name="rate"),
    path("visit/<str:visit_token>/", public_views.rate_visit_view, name="rate_visit"),
    path("evaluator/<int:window_id>/<str:device_key>/", public_views.evaluator_view, name="evaluator"),
]
