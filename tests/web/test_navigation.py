"""The sidebar: each persona sees the links to its day's work, and every link it sees opens."""

from __future__ import annotations

import re
from typing import Any

import pytest

from servicehall.accounts.roles import Role
from tests.conftest import make_staff, verified_client

pytestmark = pytest.mark.django_db

LINK = re.compile(r'<nav class="sidebar".*?</nav>', re.S)
HREF = re.compile(r'<a href="([^"]+)"(?: aria-current="page")?>([^<]+)</a>')


def sidebar_links(client: Any, path: str = "/") -> list[tuple[str, str]]:
    page = client.get(path).content.decode()
    match = LINK.search(page)
    return HREF.findall(match.group(0)) if match else []


@pytest.mark.parametrize(
    ("role", "expected", "absent"),
    [
        (
            Role.WINDOW_CLERK,
            {"我的事项", "办件", "窗口工作台", "考勤与请假"},
            {"大厅监控", "审计日志", "电子监察"},
        ),
        (Role.GUIDE, {"我的事项", "导办台", "考勤与请假"}, {"窗口工作台", "办件", "大厅监控"}),
        (Role.WINDOW_SUPERVISOR, {"大厅监控", "电子监察", "岗位值守", "窗口工作台"}, {"审计日志"}),
        (Role.BACK_OFFICE_APPROVER, {"审批", "我的事项"}, {"窗口工作台", "导办台"}),
    ],
)
def test_each_persona_sees_its_work_and_every_link_opens(
    town_site: Any, department: Any, role: Role, expected: set[str], absent: set[str]
) -> None:
    # Given a staff member of one role
    user = make_staff(town_site, role, username=f"nav_{role}", department=department)
    client = verified_client(user)
    # When they open their workbench
    links = sidebar_links(client)
    labels = {label for _, label in links}
    # Then the sidebar offers their work and nothing they may not open
    assert expected <= labels
    assert not (absent & labels)
    for url, label in links:
        response = client.get(url, follow=True)
        assert response.status_code == 200, (label, url, response.status_code)


def test_the_longest_matching_link_is_the_current_page(clerk: Any) -> None:
    # Given a clerk on their own work list, whose URL lies under the case list's
    client = verified_client(clerk)
    page = client.get("/cases/my/").content.decode()
    # Then only 我的事项 is marked current
    current = re.findall(r'<a href="([^"]+)" aria-current="page">([^<]+)</a>', page)
    assert current == [("/cases/my/", "我的事项")]


def test_nobody_signed_out_gets_a_sidebar(citizen_client: Any) -> None:
    assert sidebar_links(citizen_client, "/accounts/login/") == []
