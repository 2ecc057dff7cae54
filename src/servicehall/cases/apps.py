from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "servicehall.cases"
    label = "cases"
    verbose_name = _("办件")

    def ready(self) -> None:
        from servicehall.audit.labels import register_action_labels
        from servicehall.cases.audit_labels import ACTION_LABELS

        register_action_labels(ACTION_LABELS)
