from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SitesConfig(AppConfig):
    name = "servicehall.sites"
    label = "sites"
    verbose_name = _("服务场所")
