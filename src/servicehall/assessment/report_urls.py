"""URLs of the assessment report pages, included by assessment.urls under its namespace."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
