from django.urls import path

from servicehall.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
]
