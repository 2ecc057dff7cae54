"""URLs of the assessment dashboard pages, included by assessment.urls under its namespace."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
