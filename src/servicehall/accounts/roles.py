"""Roles (岗位角色), the capabilities each grants, and the separation rules between them.

Capabilities are code, not data: a role's powers are reviewed with the code that checks them.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    GUIDE = "guide", _("咨询导办员")
    PRE_REVIEWER = "pre_reviewer", _("预审员")
    WINDOW_CLERK = "window_clerk", _("窗口受理员")
    BACK_OFFICE_APPROVER = "back_office_approver", _("后台审批员")
    COMPLAINT_HANDLER = "complaint_handler", _("投诉处理员")
    WINDOW_SUPERVISOR = "window_supervisor", _("窗口负责人")
    CENTRE_ADMINISTRATOR = "centre_administrator", _("中心管理员")
    SOCIAL_SUPERVISOR = "social_supervisor", _("社会监督员")
    SYSTEM_ADMINISTRATOR = "system_administrator", _("系统管理员")
    SECURITY_ADMINISTRATOR = "security_administrator", _("安全管理员")
    AUDIT_ADMINISTRATOR = "audit_administrator", _("审计管理员")


class Capability(StrEnum):
    VIEW_WORKBENCH = "workbench.view"
    VIEW_SITES = "sites.view"
    MANAGE_SITES = "sites.manage"
    VIEW_STAFF_DIRECTORY = "accounts.view_directory"
    MANAGE_STAFF = "accounts.manage"
    ASSIGN_ROLES = "accounts.assign_roles"
    UNLOCK_ACCOUNTS = "accounts.unlock"
    REVEAL_PERSONAL_DATA = "personal_data.reveal"
    VIEW_AUDIT = "audit.view"
    VERIFY_AUDIT = "audit.verify"
    MANAGE_CALENDAR = "workdays.manage"
    MANAGE_CATALOG = "catalog.manage"
    # The hall (issue 5)
    ISSUE_TICKETS = "queueing.issue_tickets"
    USE_COUNTER = "queueing.use_counter"
    MONITOR_HALL = "queueing.monitor"
    MANAGE_QUEUEING = "queueing.manage"
    # Cases (issue 4)
    RECORD_INQUIRIES = "cases.record_inquiries"
    HANDLE_CASES = "cases.handle"
    APPROVE_CASES = "cases.approve"
    SUPERVISE_CASES = "cases.supervise"
    # Duty (issue 6)
    CHECK_IN = "duty.check_in"
    REQUEST_LEAVE = "duty.request_leave"
    MANAGE_DUTY = "duty.manage"
    MANAGE_TRAINING = "duty.manage_training"
    # Supervision (issue 7)
    HANDLE_COMPLAINTS = "supervision.handle_complaints"
    INSPECT = "supervision.inspect"
    SUPERVISE_STAFF = "supervision.supervise_staff"
    # Assessment (issue 9)
    VIEW_ASSESSMENT = "assessment.view"
    MANAGE_ASSESSMENT = "assessment.manage"


FRONT_LINE = frozenset(
    {
        Capability.VIEW_WORKBENCH,
        Capability.VIEW_SITES,
        Capability.RECORD_INQUIRIES,
        Capability.CHECK_IN,
        Capability.REQUEST_LEAVE,
    }
)
COUNTER = frozenset({Capability.ISSUE_TICKETS, Capability.USE_COUNTER, Capability.HANDLE_CASES})

ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.GUIDE: FRONT_LINE | {Capability.ISSUE_TICKETS},
    Role.PRE_REVIEWER: FRONT_LINE | COUNTER,
    Role.WINDOW_CLERK: FRONT_LINE | COUNTER,
    Role.BACK_OFFICE_APPROVER: FRONT_LINE | {Capability.APPROVE_CASES},
    Role.COMPLAINT_HANDLER: FRONT_LINE | {Capability.HANDLE_COMPLAINTS},
    # 社会监督员 are outside volunteers: they inspect and report, they do not clock in or take leave.
    Role.SOCIAL_SUPERVISOR: frozenset({Capability.VIEW_WORKBENCH, Capability.VIEW_SITES, Capability.INSPECT}),
    Role.WINDOW_SUPERVISOR: FRONT_LINE
    | COUNTER
    | {
        Capability.VIEW_STAFF_DIRECTORY,
        Capability.REVEAL_PERSONAL_DATA,
        Capability.MONITOR_HALL,
        Capability.APPROVE_CASES,
        Capability.SUPERVISE_CASES,
        Capability.MANAGE_DUTY,
        Capability.HANDLE_COMPLAINTS,
        Capability.INSPECT,
        Capability.SUPERVISE_STAFF,
        Capability.VIEW_ASSESSMENT,
    },
    Role.CENTRE_ADMINISTRATOR: FRONT_LINE
    | {
        Capability.MANAGE_SITES,
        Capability.VIEW_STAFF_DIRECTORY,
        Capability.MANAGE_STAFF,
        Capability.REVEAL_PERSONAL_DATA,
        Capability.MANAGE_CALENDAR,
        Capability.MANAGE_CATALOG,
        Capability.MONITOR_HALL,
        Capability.MANAGE_QUEUEING,
        Capability.SUPERVISE_CASES,
        Capability.MANAGE_DUTY,
        Capability.MANAGE_TRAINING,
        Capability.HANDLE_COMPLAINTS,
        Capability.INSPECT,
        Capability.SUPERVISE_STAFF,
        Capability.VIEW_ASSESSMENT,
        Capability.MANAGE_ASSESSMENT,
    },
    # 等保 2.0 三员分立: the system administrator runs the system, the security administrator
    # grants powers, the audit administrator watches both; none holds another's powers.
    Role.SYSTEM_ADMINISTRATOR: FRONT_LINE
    | {Capability.MANAGE_SITES, Capability.VIEW_STAFF_DIRECTORY, Capability.MANAGE_STAFF},
    Role.SECURITY_ADMINISTRATOR: FRONT_LINE
    | {Capability.VIEW_STAFF_DIRECTORY, Capability.ASSIGN_ROLES, Capability.UNLOCK_ACCOUNTS},
    Role.AUDIT_ADMINISTRATOR: FRONT_LINE | {Capability.VIEW_AUDIT, Capability.VERIFY_AUDIT},
}

ADMINISTRATOR_POSTS = frozenset(
    {Role.SYSTEM_ADMINISTRATOR, Role.SECURITY_ADMINISTRATOR, Role.AUDIT_ADMINISTRATOR}
)
# Roles whose holders see their own site and every site below it; the others see their own site.
SUBTREE_ROLES = frozenset({Role.CENTRE_ADMINISTRATOR, Role.SOCIAL_SUPERVISOR} | ADMINISTRATOR_POSTS)
TWO_FACTOR_REQUIRED_ROLES = ADMINISTRATOR_POSTS


def capabilities_of(roles: set[str]) -> frozenset[Capability]:
    granted: set[Capability] = set()
    for role in roles:
        granted |= ROLE_CAPABILITIES.get(Role(role), frozenset())
    return frozenset(granted)
