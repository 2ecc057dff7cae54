from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueueingConfig(AppConfig):
    name = "servicehall.queueing"
    label = "queueing"
    verbose_name = _("排队叫号")

    def ready(self) -> None:
        from servicehall.audit.labels import register_action_labels
        from servicehall.queueing.audit_labels import ACTION_LABELS

        register_action_labels(ACTION_LABELS)
