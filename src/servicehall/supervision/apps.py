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

        from servicehall.conduct.signals import finding_confirmed
        from servicehall.supervision.actions import record_conduct_violation

        finding_confirmed.connect(
            record_conduct_violation, dispatch_uid="supervision.record_conduct_violation"
        )
