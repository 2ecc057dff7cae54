from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConductConfig(AppConfig):
    name = "servicehall.conduct"
    label = "conduct"
    verbose_name = _("文明用语")

    def ready(self) -> None:
        from servicehall.audit.labels import register_action_labels
        from servicehall.conduct.audit_labels import ACTION_LABELS

        register_action_labels(ACTION_LABELS)
