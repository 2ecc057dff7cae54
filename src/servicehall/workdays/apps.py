from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkdaysConfig(AppConfig):
    name = "servicehall.workdays"
    label = "workdays"
    verbose_name = _("工作日历")

    def ready(self) -> None:
        from servicehall.audit.labels import register_action_labels

        register_action_labels({"workdays.site_overrides_imported": _("导入场所日历调整")})
