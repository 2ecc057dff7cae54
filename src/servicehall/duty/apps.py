from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DutyConfig(AppConfig):
    name = "servicehall.duty"
    label = "duty"
    verbose_name = _("岗位值守")

    def ready(self) -> None:
        from servicehall.audit.labels import register_action_labels
        from servicehall.duty.audit_labels import ACTION_LABELS

        register_action_labels(ACTION_LABELS)
