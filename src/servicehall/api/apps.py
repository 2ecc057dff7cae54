from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "servicehall.api"
    label = "api"
    verbose_name = "API"
