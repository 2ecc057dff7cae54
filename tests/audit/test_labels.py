"""Action codes read as Chinese labels, with the raw code kept beside them for searching."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

from servicehall.audit.labels import ACTION_LABELS, action_label

SOURCE = Path(__file__).resolve().parents[2] / "src" / "servicehall"
# The apps whose actions this suite answers for; other apps' new codes show by their code until labelled.
LABELLED_APPS = ["accounts", "audit", "sites", "operations", "api", "web", "catalog", "workdays"]
# record("code", ...) and record("code_a" if ... else "code_b", ...)
RECORD_CALL = re.compile(
    r"\brecord\(\s*\"([a-z_]+\.[a-z_.]+)\"(?:\s+if\s+[^\n]*?else\s+\"([a-z_]+\.[a-z_.]+)\")?"
)

EXPECTED_LABELS = {
    "accounts.login": "登录",
    "accounts.login_failed": "登录失败",
    "accounts.locked": "账户锁定",
    "accounts.login_refused_locked": "锁定期间拒绝登录",
    "accounts.logout": "退出登录",
    "accounts.password_changed": "修改密码",
    "accounts.password_reset": "重置密码",
    "accounts.staff_created": "新增工作人员",
    "accounts.staff_updated": "修改工作人员信息",
    "accounts.role_granted": "授予岗位角色",
    "accounts.role_revoked": "撤销岗位角色",
    "accounts.unlocked": "解除账户锁定",
    "accounts.language_changed": "切换界面语言",
    "accounts.two_factor_enrolled": "绑定双因素认证",
    "accounts.two_factor_verified": "双因素认证通过",
    "accounts.two_factor_failed": "双因素认证失败",
    "accounts.two_factor_setting": "更改双因素认证设置",
    "personal_data.revealed": "查看完整个人信息",
    "access.denied": "拒绝访问",
    "audit.verified": "校验审计链",
    "audit.exported": "导出审计日志",
    "sites.site_created": "新增服务场所",
    "sites.site_updated": "修改服务场所",
    "sites.department_created": "新增进驻部门",
    "sites.department_updated": "修改进驻部门",
    "sites.window_created": "新增窗口",
    "sites.window_updated": "修改窗口",
    "sites.opening_hours_replaced": "调整办公时间",
    "catalog.item_created": "新增服务事项",
    "catalog.item_updated": "修改服务事项",
    "catalog.item_published": "公开服务事项",
    "catalog.item_unpublished": "撤下服务事项",
    "catalog.catalogue_imported": "导入事项清单",
    "catalog.pledges_saved": "保存服务承诺",
    "catalog.disclosure_saved": "保存公开信息",
    "workdays.override_set": "调整工作日",
    "workdays.override_removed": "撤销工作日调整",
    "workdays.year_published": "发布年度工作日历",
    "operations.demo_loaded": "载入演示数据",
    "operations.backup_created": "备份数据库",
    "operations.database_restored": "恢复数据库",
}


def test_every_foundation_action_code_has_its_chinese_label() -> None:
    # Other apps register their own labels on start-up; the foundation's are exactly these
    with translation.override("zh-hans"):
        assert {code: action_label(code) for code in EXPECTED_LABELS} == EXPECTED_LABELS
    assert set(EXPECTED_LABELS) <= set(ACTION_LABELS)


def test_every_action_code_written_by_the_application_has_a_label() -> None:
    # Given every literal action code passed to record(...) anywhere in the application
    written = set()
    for app in LABELLED_APPS:
        for source in (SOURCE / app).rglob("*.py"):
            for codes in RECORD_CALL.findall(source.read_text(encoding="utf-8")):
                written |= {code for code in codes if code}
    # Then each one has a label (a new action must be given a name an auditor can read)
    assert written, "no record(...) calls found: the pattern is out of date"
    assert sorted(written - set(ACTION_LABELS)) == []


@pytest.mark.parametrize("code", ["test.something_new", "", "accounts."])
def test_an_unknown_code_falls_back_to_itself(code: str) -> None:
    assert action_label(code) == code


def test_the_template_filter_gives_the_label_or_the_code() -> None:
    template = Template(
        "{% load audit_labels %}{{ known|audit_action_label }}|{{ unknown|audit_action_label }}"
    )
    with translation.override("zh-hans"):
        rendered = template.render(Context({"known": "accounts.locked", "unknown": "x.<b>"}))
    # The fallback is still escaped like any other value
    assert rendered == "账户锁定|x.&lt;b&gt;"
