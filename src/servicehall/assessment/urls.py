from django.urls import include, path

from servicehall.assessment import dashboard_urls, report_urls, views

app_name = "assessment"
urlpatterns = [
    path("", views.period_list_view, name="period_list"),
    path("index/", views.index_system_view, name="index_system"),
    path("periods/<int:period_id>/", views.period_view, name="period"),
    path("periods/<int:period_id>/publish/", views.publish_view, name="publish"),
    path("compute/", views.compute_view, name="compute"),
    path("scores/<int:score_id>/", views.score_view, name="score"),
    path("mine/", views.my_scores_view, name="mine"),
    path("dashboard/", include(dashboard_urls)),
    path("reports/", include(report_urls)),
]
