from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "servicehall.assessment"
    label = "assessment"
    verbose_name = _("监督考核")

    def ready(self) -> None:
        from servicehall.assessment.audit_labels import ACTION_LABELS
        from servicehall.audit.labels import register_action_labels

        register_action_labels(ACTION_LABELS)
