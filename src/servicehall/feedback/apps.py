from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "servicehall.feedback"
    label = "feedback"
    verbose_name = _("好差评")

    def ready(self) -> None:
        from servicehall.audit.labels import register_action_labels
        from servicehall.cases.signals import case_completed
        from servicehall.feedback import receivers
        from servicehall.feedback.audit_labels import ACTION_LABELS
        from servicehall.queueing.signals import service_finished

        register_action_labels(ACTION_LABELS)
        service_finished.connect(receivers.token_for_finished_service, dispatch_uid="feedback.visit")
        case_completed.connect(receivers.token_for_completed_case, dispatch_uid="feedback.case")
