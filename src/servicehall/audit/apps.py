from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "servicehall.audit"
    label = "audit"
    verbose_name = _("审计")

    def ready(self) -> None:
        from servicehall.audit import guard  # noqa: F401  (registers the SQLite guard function)
