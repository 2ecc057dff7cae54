from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "servicehall.supervision"
    label = "supervision"
    verbose_name = _("监督考核")

    def ready(self) -> None:
        from servicehall.audit.labels import register_action_labels
        from servicehall.supervision.audit_labels import ACTION_LABELS

        register_action_labels(ACTION_LABELS)
