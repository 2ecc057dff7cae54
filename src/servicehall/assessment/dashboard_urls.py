"""URLs of the assessment dashboard pages, included by assessment.urls under its namespace."""

from django.urls import URLPattern, path

from servicehall.assessment import dashboard_views

urlpatterns: list[URLPattern] = [
    path("", dashboard_views.home_view, name="dashboard"),
    path("trends/", dashboard_views.trends_view, name="trends"),
    path("compare/", dashboard_views.compare_view, name="compare"),
    path("heatmap/", dashboard_views.heatmap_view, name="heatmap"),
    path("forecast/", dashboard_views.forecast_view, name="forecast"),
]
