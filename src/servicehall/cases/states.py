"""The case lifecycle (办件状态) as data: every state, every action, and which (from, to) pairs each allows.

One dispatcher (``actions._transition``) reads this table; an action not listed for the case's current
state is refused with a clear message and nothing changes. The table is the whole lifecycle:

    draft ─┬─ request_supplement ─> supplement_requested ─ receive_supplement ─> draft (one more visit)
           ├─ accept ─> accepted ─┬─ start_approval ─> in_approval ─> approved | refused_after_review
           ├─ accept_with_deferred ─> accepted_deferred ┘     (decide_case: accepted ─> approved | refused)
           └─ refuse ─> not_accepted                 approved | refused_after_review ─ complete ─> completed
    accepted, accepted_deferred, in_approval ─ request_supplement / lapse_deferred ─> suspended ─ resume ─> back
    completed ─ deliver ─> delivered;  anything still open ─ withdraw ─> withdrawn
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseState(models.TextChoices):
    DRAFT = "draft", _("收件待审")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("待补正")
    ACCEPTED = "accepted", _("已受理")
    ACCEPTED_DEFERRED = "accepted_deferred", _("容缺受理")
    SUSPENDED = "suspended", _("中止（计时暂停）")
    IN_APPROVAL = "in_approval", _("审批中")
    APPROVED = "approved", _("准予办理")
    REFUSED_AFTER_REVIEW = "refused_after_review", _("不予批准")
    COMPLETED = "completed", _("已办结")
    DELIVERED = "delivered", _("已送达")
    WITHDRAWN = "withdrawn", _("已撤回")
    NOT_ACCEPTED = "not_accepted", _("不予受理")


class CaseAction(models.TextChoices):
    """Everything that can happen to a case; each is one function in ``cases.actions``."""

    OPEN = "open", _("收件登记")
    UPDATE_MATERIALS = "update_materials", _("核对材料")
    REQUEST_SUPPLEMENT = "request_supplement", _("一次性告知补正")
    RECEIVE_SUPPLEMENT = "receive_supplement", _("收到补正材料")
    ACCEPT = "accept", _("受理")
    ACCEPT_WITH_DEFERRED = "accept_with_deferred", _("容缺受理")
    REFUSE = "refuse", _("不予受理")
    SUPPLY_DEFERRED = "supply_deferred", _("补齐容缺材料")
    LAPSE_DEFERRED = "lapse_deferred", _("容缺期限届满，中止办理")
    START_APPROVAL = "start_approval", _("提交审批")
    DECIDE_TASK = "decide_task", _("审批意见")
    DEEM_TASK_APPROVED = "deem_task_approved", _("超时默认同意")
    DECIDE_CASE = "decide_case", _("作出决定")
    COMPLETE = "complete", _("办结")
    DELIVER = "deliver", _("送达")
    WITHDRAW = "withdraw", _("申请人撤回")
    MARK_GREEN_CHANNEL = "mark_green_channel", _("开通绿色通道")
    REQUEST_EXTENSION = "request_extension", _("申请延期")
    DECIDE_EXTENSION = "decide_extension", _("延期审批")
    YELLOW_CARD = "yellow_card", _("黄牌预警")
    RED_CARD = "red_card", _("红牌督办")
    TASK_RED_CARD = "task_red_card", _("审批任务超时")


S = CaseState
A = CaseAction

# Waiting for the applicant stops the clock; these are the states it may return to.
RESUMABLE_STATES = frozenset({S.ACCEPTED, S.ACCEPTED_DEFERRED, S.IN_APPROVAL, S.APPROVED})

TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    A.REQUEST_SUPPLEMENT: {
        S.DRAFT: frozenset({S.SUPPLEMENT_REQUESTED}),
        S.SUPPLEMENT_REQUESTED: frozenset({S.SUPPLEMENT_REQUESTED}),
        S.ACCEPTED: frozenset({S.SUSPENDED}),
        S.ACCEPTED_DEFERRED: frozenset({S.SUSPENDED}),
        S.IN_APPROVAL: frozenset({S.SUSPENDED}),
    },
    A.RECEIVE_SUPPLEMENT: {
        S.SUPPLEMENT_REQUESTED: frozenset({S.DRAFT}),
        S.SUSPENDED: RESUMABLE_STATES,
    },
    # Accepting after a 补正 goes through receive_supplement first: the applicant's return is a visit.
    A.ACCEPT: {S.DRAFT: frozenset({S.ACCEPTED})},
    A.ACCEPT_WITH_DEFERRED: {S.DRAFT: frozenset({S.ACCEPTED_DEFERRED})},
    A.REFUSE: {S.DRAFT: frozenset({S.NOT_ACCEPTED}), S.SUPPLEMENT_REQUESTED: frozenset({S.NOT_ACCEPTED})},
    A.SUPPLY_DEFERRED: {
        S.ACCEPTED_DEFERRED: frozenset({S.ACCEPTED}),
        S.IN_APPROVAL: frozenset({S.IN_APPROVAL}),
        S.APPROVED: frozenset({S.APPROVED}),
        S.SUSPENDED: RESUMABLE_STATES,
    },
    A.LAPSE_DEFERRED: {
        S.ACCEPTED_DEFERRED: frozenset({S.SUSPENDED}),
        S.IN_APPROVAL: frozenset({S.SUSPENDED}),
        S.APPROVED: frozenset({S.SUSPENDED}),
    },
    A.START_APPROVAL: {
        S.ACCEPTED: frozenset({S.IN_APPROVAL}),
        S.ACCEPTED_DEFERRED: frozenset({S.IN_APPROVAL}),
    },
    A.DECIDE_TASK: {S.IN_APPROVAL: frozenset({S.IN_APPROVAL, S.APPROVED, S.REFUSED_AFTER_REVIEW})},
    A.DEEM_TASK_APPROVED: {S.IN_APPROVAL: frozenset({S.IN_APPROVAL, S.APPROVED})},
    A.DECIDE_CASE: {
        S.ACCEPTED: frozenset({S.APPROVED, S.REFUSED_AFTER_REVIEW}),
        S.ACCEPTED_DEFERRED: frozenset({S.APPROVED, S.REFUSED_AFTER_REVIEW}),
    },
    A.COMPLETE: {S.APPROVED: frozenset({S.COMPLETED}), S.REFUSED_AFTER_REVIEW: frozenset({S.COMPLETED})},
    A.DELIVER: {S.COMPLETED: frozenset({S.DELIVERED})},
    A.WITHDRAW: {
        state: frozenset({S.WITHDRAWN})
        for state in (
            S.DRAFT,
            S.SUPPLEMENT_REQUESTED,
            S.ACCEPTED,
            S.ACCEPTED_DEFERRED,
            S.SUSPENDED,
            S.IN_APPROVAL,
            S.APPROVED,
        )
    },
}

# Actions that change no state but are allowed only in some states (the same dispatcher checks them).
IN_PLACE_ACTIONS: dict[str, frozenset[str]] = {
    A.UPDATE_MATERIALS: frozenset({S.DRAFT}),
    A.MARK_GREEN_CHANNEL: frozenset(
        {
            S.DRAFT,
            S.SUPPLEMENT_REQUESTED,
            S.ACCEPTED,
            S.ACCEPTED_DEFERRED,
            S.SUSPENDED,
            S.IN_APPROVAL,
            S.APPROVED,
            S.REFUSED_AFTER_REVIEW,
        }
    ),
    A.REQUEST_EXTENSION: frozenset({S.ACCEPTED, S.ACCEPTED_DEFERRED, S.IN_APPROVAL, S.SUSPENDED}),
    A.DECIDE_EXTENSION: frozenset(
        {S.ACCEPTED, S.ACCEPTED_DEFERRED, S.IN_APPROVAL, S.SUSPENDED, S.APPROVED, S.REFUSED_AFTER_REVIEW}
    ),
}

# The clock runs in these states (限时办结): from acceptance until 办结, except while suspended.
CLOCK_RUNNING_STATES = frozenset(
    {S.ACCEPTED, S.ACCEPTED_DEFERRED, S.IN_APPROVAL, S.APPROVED, S.REFUSED_AFTER_REVIEW}
)
# A case is still somebody's matter (一跟到底) until it reaches one of these.
CLOSED_STATES = frozenset({S.DELIVERED, S.WITHDRAWN, S.NOT_ACCEPTED})
# Done for the purposes of the clock and e-supervision.
FINISHED_STATES = frozenset({S.COMPLETED, S.DELIVERED, S.WITHDRAWN, S.NOT_ACCEPTED})
OPEN_STATES = frozenset(set(S.values) - set(FINISHED_STATES))


def allowed_targets(action: str, state: str) -> frozenset[str]:
    return TRANSITIONS.get(action, {}).get(state, frozenset())


def is_allowed(action: str, state: str) -> bool:
    if action in IN_PLACE_ACTIONS:
        return state in IN_PLACE_ACTIONS[action]
    return bool(allowed_targets(action, state))


def available_actions(state: str) -> list[str]:
    """The actions the case page offers in this state, in the order of the table."""
    return [action for action in CaseAction.values if is_allowed(action, state)]
