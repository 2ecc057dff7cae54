"""URLs of the assessment report pages, included by assessment.urls under its namespace."""

from django.urls import URLPattern, path

from servicehall.assessment import report_views

urlpatterns: list[URLPattern] = [
    path("centre/", report_views.centre_report_view, name="centre_report"),
    path("staff/<int:score_id>/", report_views.staff_sheet_view, name="staff_sheet"),
    path("export/", report_views.export_view, name="export"),
    path("public/<int:site_id>/", report_views.public_figures_view, name="public_figures"),
]
