from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConductConfig(AppConfig):
    name = "servicehall.conduct"
    label = "conduct"
    verbose_name = _("文明用语")
