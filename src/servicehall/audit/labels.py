"""Chinese names of the audit action codes, so an auditor reads "登录失败" rather than accounts.login_failed.

The code stays the searchable key (the filter matches code prefixes); the label is only for reading.
An action without a label here is shown by its code, so a new action is never hidden.
The foundation's codes are listed here; every other app registers its own from its AppConfig.ready(),
because audit sits below them and must not import them.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise] = {
    "accounts.login": _("登录"),
    "accounts.login_failed": _("登录失败"),
    "accounts.locked": _("账户锁定"),
    "accounts.login_refused_locked": _("锁定期间拒绝登录"),
    "accounts.logout": _("退出登录"),
    "accounts.password_changed": _("修改密码"),
    "accounts.password_reset": _("重置密码"),
    "accounts.staff_created": _("新增工作人员"),
    "accounts.staff_updated": _("修改工作人员信息"),
    "accounts.role_granted": _("授予岗位角色"),
    "accounts.role_revoked": _("撤销岗位角色"),
    "accounts.unlocked": _("解除账户锁定"),
    "accounts.language_changed": _("切换界面语言"),
    "accounts.two_factor_enrolled": _("绑定双因素认证"),
    "accounts.two_factor_verified": _("双因素认证通过"),
    "accounts.two_factor_failed": _("双因素认证失败"),
    "accounts.two_factor_setting": _("更改双因素认证设置"),
    "personal_data.revealed": _("查看完整个人信息"),
    "access.denied": _("拒绝访问"),
    "audit.verified": _("校验审计链"),
    "audit.exported": _("导出审计日志"),
    "sites.site_created": _("新增服务场所"),
    "sites.site_updated": _("修改服务场所"),
    "sites.department_created": _("新增进驻部门"),
    "sites.department_updated": _("修改进驻部门"),
    "sites.window_created": _("新增窗口"),
    "sites.window_updated": _("修改窗口"),
    "sites.opening_hours_replaced": _("调整办公时间"),
    "catalog.item_created": _("新增服务事项"),
    "catalog.item_updated": _("修改服务事项"),
    "catalog.item_published": _("公开服务事项"),
    "catalog.item_unpublished": _("撤下服务事项"),
    "catalog.catalogue_imported": _("导入事项清单"),
    "catalog.pledges_saved": _("保存服务承诺"),
    "catalog.disclosure_saved": _("保存公开信息"),
    "workdays.override_set": _("调整工作日"),
    "workdays.override_removed": _("撤销工作日调整"),
    "workdays.year_published": _("发布年度工作日历"),
    "operations.demo_loaded": _("载入演示数据"),
    "operations.backup_created": _("备份数据库"),
    "operations.database_restored": _("恢复数据库"),
}


def register_action_labels(labels: dict[str, Promise]) -> None:
    """Called by an app's ``ready()`` with the labels of the action codes it records."""
    for code, label in labels.items():
        existing = ACTION_LABELS.get(code)
        if existing is not None and str(existing) != str(label):
            raise ValueError(f"audit action {code!r} is labelled twice: {existing!s} / {label!s}")
        ACTION_LABELS[code] = label


def action_label(code: str) -> str:
    """The Chinese label of an action code in the active language, or the code itself if it has none."""
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code
