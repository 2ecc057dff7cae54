"""Cases endpoints (办件): inquiries, cases and their lifecycle, approval tasks, supervision and figures.

Thin over ``cases.actions``: every change carries the version the caller saw and answers 409 when
someone else changed the case first. Personal data leaves only masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Schema

from servicehall.accounts.permissions import audit_refusal, require_capability
from servicehall.accounts.roles import Capability
from servicehall.api.api import api
from servicehall.api.schemas import Problem
from servicehall.cases import actions, clock, metrics
from servicehall.cases.models import ApprovalTask, Case, ExtensionRequest, Inquiry, InquiryStatus
from servicehall.cases.states import CLOSED_STATES, available_actions
from servicehall.cases.supervise import by_urgency, colour_counts, colour_of, task_colour
from servicehall.lib.errors import NotFound, PermissionRefused

ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem}
CASE_CAPABILITIES = (Capability.HANDLE_CASES, Capability.APPROVE_CASES, Capability.SUPERVISE_CASES)
LIST_LIMIT_MAX = 500


def _require_any(request: HttpRequest, capabilities: tuple[Capability, ...]) -> None:
    user = request.user
    if not any(user.has_capability(capability) for capability in capabilities):
        audit_refusal(
            user,
            "missing_capability",
            capability="|".join(str(capability) for capability in capabilities),
            path=request.path,
        )
        raise PermissionRefused()


def _case(request: HttpRequest, case_id: int) -> Case:
    _require_any(request, CASE_CAPABILITIES)
    case = (
        Case.objects.restrict(request.user)
        .select_related("item", "department", "first_handler")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        target = Case.objects.filter(pk=case_id).first()
        if target is not None:
            audit_refusal(request.user, "out_of_scope", target=target, path=request.path)
        raise NotFound()
    return case


# ---------------------------------------------------------------------------------------------
# Shapes


class InquiryIn(Schema):
    channel: str
    asker_name: str
    question: str
    answer: str = ""
    asker_contact: str = ""
    asker_organisation: str = ""
    item_id: int | None = None
    asked_at: dt.datetime | None = None
    answered_with_ids: list[int] = Field(default_factory=list, max_length=10)


class InquiryOut(Schema):
    id: int
    site_id: int
    channel: str
    asker_name_masked: str
    asker_contact_masked: str
    item_id: int | None
    question: str
    answer: str
    asked_at: dt.datetime
    first_responder_id: int
    recorded_by_id: int
    status: str
    version: int
    case_id: int | None
    referrals: list[dict[str, Any]]


class ReferralIn(Schema):
    version: int
    kind: str
    reason: str
    to_window_id: int | None = None
    to_department_id: int | None = None
    destination: str = ""


class CloseInquiryIn(Schema):
    version: int
    outcome: str


class ApplicantIn(Schema):
    kind: Literal["person", "organisation"]
    name: str
    id_number: str
    phone: str
    agent_name: str = ""


class CaseIn(Schema):
    item_id: int
    applicant: ApplicantIn
    inquiry_id: int | None = None


class MaterialUpdateIn(Schema):
    check_id: int
    status: str
    defect: str = ""
    fingerprint: str = ""
    resubmitted: bool = False


class MaterialsIn(Schema):
    version: int
    materials: list[MaterialUpdateIn] = Field(default_factory=list, max_length=100)


class SupplementIn(MaterialsIn):
    note: str = ""


class DeferredIn(MaterialsIn):
    deferred_days: int


class RefuseIn(Schema):
    version: int
    reason: str
    legal_basis: str


class TaskPlanIn(Schema):
    department_id: int
    limit_days: int


class ApprovalIn(Schema):
    version: int
    mode: Literal["sequential", "parallel"]
    tasks: list[TaskPlanIn] = Field(max_length=actions.TASK_COUNT_MAX)


class DecisionIn(Schema):
    version: int
    approve: bool
    reason: str = ""


class TaskDecisionIn(Schema):
    version: int
    approve: bool
    opinion: str = ""


class CompleteIn(Schema):
    version: int
    result_text: str = ""


class DeliverIn(Schema):
    version: int
    method: Literal["window", "post", "cabinet"]
    tracking_number: str = ""


class ReasonIn(Schema):
    version: int
    reason: str


class ExtensionIn(Schema):
    version: int
    days: int
    reason: str


class ExtensionDecisionIn(Schema):
    approve: bool
    note: str = ""


class CheckOut(Schema):
    id: int
    position: int
    name: str
    is_mandatory: bool
    is_deferrable: bool
    status: str
    defect: str
    submission_version: int


class TaskOut(Schema):
    id: int
    case_id: int
    department_id: int
    position: int
    mode: str
    limit_days: int
    status: str
    due_date: dt.date | None
    colour: str
    opinion: str
    version: int


class NoticeOut(Schema):
    id: int
    kind: str
    number: str
    issued_at: dt.datetime
    materials: list[str]


class EventOut(Schema):
    action: str
    actor_label: str
    occurred_at: dt.datetime
    from_state: str
    to_state: str
    before: Any = None
    after: Any = None


class CaseSummaryOut(Schema):
    id: int
    number: str
    item_id: int
    state: str
    version: int
    colour: str
    is_green_channel: bool
    committed_due: dt.date | None
    statutory_due: dt.date | None
    first_handler_id: int


class CaseOut(CaseSummaryOut):
    site_id: int
    department_id: int
    applicant_kind: str
    applicant_name_masked: str
    applicant_id_number_masked: str
    applicant_phone_masked: str
    accepted_on: dt.date | None
    clock_running: bool
    working_days_consumed: int
    extension_days: int
    statutory_extension_days: int
    deferred_due: dt.date | None
    visit_count: int
    supplement_count: int
    decision: str
    delivery_method: str
    available_actions: list[str]
    materials: list[CheckOut]
    tasks: list[TaskOut]
    notices: list[NoticeOut]
    events: list[EventOut]


class ExtensionOut(Schema):
    id: int
    case_id: int
    days: int
    reason: str
    status: str


class BoardOut(Schema):
    counts: dict[str, int]
    urgent: list[CaseSummaryOut]


class FiguresOut(Schema):
    overall: dict[str, Any]
    by_clerk: list[dict[str, Any]]
    by_department: list[dict[str, Any]]
    by_site: list[dict[str, Any]]


class MattersOut(Schema):
    inquiries: list[InquiryOut]
    cases: list[CaseSummaryOut]


# ---------------------------------------------------------------------------------------------
# Serialisation


def _inquiry_out(inquiry: Inquiry) -> dict[str, Any]:
    return {
        "id": inquiry.pk,
        "site_id": inquiry.site_id,
        "channel": inquiry.channel,
        "asker_name_masked": inquiry.masked_asker_name,
        "asker_contact_masked": inquiry.masked_asker_contact,
        "item_id": inquiry.item_id,
        "question": inquiry.question,
        "answer": inquiry.answer,
        "asked_at": inquiry.asked_at,
        "first_responder_id": inquiry.first_responder_id,
        "recorded_by_id": inquiry.recorded_by_id,
        "status": inquiry.status,
        "version": inquiry.version,
        "case_id": inquiry.case_id,
        "referrals": [
            {
                "kind": referral.kind,
                "destination": referral.destination,
                "reason": referral.reason,
                "referred_at": referral.referred_at,
            }
            for referral in inquiry.referrals.all()
        ],
    }


def _task_out(task: ApprovalTask) -> dict[str, Any]:
    return {
        "id": task.pk,
        "case_id": task.case_id,
        "department_id": task.department_id,
        "position": task.position,
        "mode": task.mode,
        "limit_days": task.limit_days,
        "status": task.status,
        "due_date": task.due_date,
        "colour": str(task_colour(task)),
        "opinion": task.opinion,
        "version": task.version,
    }


def _summary_out(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "number": case.number,
        "item_id": case.item_id,
        "state": case.state,
        "version": case.version,
        "colour": str(colour_of(case)),
        "is_green_channel": case.is_green_channel,
        "committed_due": case.committed_due,
        "statutory_due": case.statutory_due,
        "first_handler_id": case.first_handler_id,
    }


def _case_out(case: Case) -> dict[str, Any]:
    case = Case.objects.select_related("item").get(pk=case.pk)
    return {
        **_summary_out(case),
        "site_id": case.site_id,
        "department_id": case.department_id,
        "applicant_kind": case.applicant_kind,
        "applicant_name_masked": case.masked_applicant_name,
        "applicant_id_number_masked": case.masked_applicant_id_number,
        "applicant_phone_masked": case.masked_applicant_phone,
        "accepted_on": case.accepted_on,
        "clock_running": case.clock_running,
        "working_days_consumed": actions.working_days_consumed(case),
        "extension_days": case.extension_days,
        "statutory_extension_days": case.statutory_extension_days,
        "deferred_due": case.deferred_due,
        "visit_count": case.visit_count,
        "supplement_count": case.supplement_count,
        "decision": case.decision,
        "delivery_method": case.delivery_method,
        "available_actions": available_actions(case.state),
        "materials": list(case.material_checks.all()),
        "tasks": [_task_out(task) for task in case.approval_tasks.all()],
        "notices": [
            {
                "id": notice.pk,
                "kind": notice.kind,
                "number": notice.number,
                "issued_at": notice.issued_at,
                "materials": [item.name for item in notice.items.all()],
            }
            for notice in case.notices.select_related("case").prefetch_related("items")
        ],
        "events": list(case.events.order_by("occurred_at", "id")),
    }


def _updates(items: list[MaterialUpdateIn]) -> list[actions.MaterialUpdate]:
    return [
        actions.MaterialUpdate(
            check_id=item.check_id,
            status=item.status,
            defect=item.defect,
            fingerprint=item.fingerprint,
            resubmitted=item.resubmitted,
        )
        for item in items
    ]


# ---------------------------------------------------------------------------------------------
# Inquiries


@api.post(
    "/cases/inquiries", response={201: InquiryOut, **ERRORS}, tags=["cases"], summary="登记咨询（首问责任）"
)
def create_inquiry(request: HttpRequest, body: InquiryIn) -> tuple[int, dict[str, Any]]:
    inquiry = actions.record_inquiry(
        request.user,
        actions.InquiryData(
            channel=body.channel,
            asker_name=body.asker_name,
            question=body.question,
            answer=body.answer,
            asker_contact=body.asker_contact,
            asker_organisation=body.asker_organisation,
            item_id=body.item_id,
            asked_at=body.asked_at,
            answered_with_ids=body.answered_with_ids,
        ),
    )
    return 201, _inquiry_out(inquiry)


def _inquiry(request: HttpRequest, inquiry_id: int) -> Inquiry:
    require_capability(request.user, Capability.RECORD_INQUIRIES, path=request.path)
    inquiry = Inquiry.objects.filter(pk=inquiry_id).first()
    if inquiry is None:
        raise NotFound()
    if inquiry.site_id not in request.user.accessible_site_ids():
        audit_refusal(request.user, "out_of_scope", target=inquiry, path=request.path)
        raise NotFound()
    return inquiry


@api.get(
    "/cases/inquiries/{int:inquiry_id}",
    response={200: InquiryOut, **ERRORS},
    tags=["cases"],
    summary="咨询详情",
)
def inquiry_detail(request: HttpRequest, inquiry_id: int) -> dict[str, Any]:
    return _inquiry_out(_inquiry(request, inquiry_id))


@api.post(
    "/cases/inquiries/{int:inquiry_id}/referrals",
    response={200: InquiryOut, **ERRORS},
    tags=["cases"],
    summary="导办/转办",
)
def refer_inquiry(request: HttpRequest, inquiry_id: int, body: ReferralIn) -> dict[str, Any]:
    inquiry = _inquiry(request, inquiry_id)
    actions.refer_inquiry(
        request.user,
        inquiry,
        body.version,
        actions.ReferralData(
            kind=body.kind,
            reason=body.reason,
            to_window_id=body.to_window_id,
            to_department_id=body.to_department_id,
            destination=body.destination,
        ),
    )
    return _inquiry_out(Inquiry.objects.get(pk=inquiry.pk))


@api.post(
    "/cases/inquiries/{int:inquiry_id}/close",
    response={200: InquiryOut, **ERRORS},
    tags=["cases"],
    summary="办结咨询",
)
def close_inquiry(request: HttpRequest, inquiry_id: int, body: CloseInquiryIn) -> dict[str, Any]:
    inquiry = _inquiry(request, inquiry_id)
    return _inquiry_out(actions.close_inquiry(request.user, inquiry, body.version, body.outcome))


@api.get(
    "/cases/my-matters", response={200: MattersOut, **ERRORS}, tags=["cases"], summary="我的事项（一跟到底）"
)
def my_matters(request: HttpRequest) -> dict[str, Any]:
    require_capability(request.user, Capability.RECORD_INQUIRIES, path=request.path)
    inquiries = (
        Inquiry.objects.restrict(request.user)
        .filter(first_responder=request.user)
        .exclude(status=InquiryStatus.DONE)
        .order_by("asked_at")[:LIST_LIMIT_MAX]
    )
    cases = by_urgency(
        Case.objects.restrict(request.user)
        .filter(first_handler=request.user)
        .exclude(state__in=CLOSED_STATES)
    )[:LIST_LIMIT_MAX]
    return {
        "inquiries": [_inquiry_out(inquiry) for inquiry in inquiries],
        "cases": [_summary_out(case) for case in cases],
    }


# ---------------------------------------------------------------------------------------------
# Cases


class CaseFilter(Schema):
    state: str | None = None
    open_only: bool = True
    limit: int = 100


@api.get(
    "/cases", response={200: list[CaseSummaryOut], **ERRORS}, tags=["cases"], summary="办件（按紧急程度）"
)
def list_cases(request: HttpRequest, filters: Query[CaseFilter]) -> list[dict[str, Any]]:
    _require_any(request, CASE_CAPABILITIES)
    cases = Case.objects.restrict(request.user)
    if filters.state:
        cases = cases.filter(state=filters.state[:24])
    elif filters.open_only:
        cases = cases.exclude(state__in=CLOSED_STATES)
    limit = max(1, min(filters.limit, LIST_LIMIT_MAX))
    return [_summary_out(case) for case in by_urgency(cases)[:limit]]


@api.post("/cases", response={201: CaseOut, **ERRORS}, tags=["cases"], summary="收件（生成材料清单）")
def create_case(request: HttpRequest, body: CaseIn) -> tuple[int, dict[str, Any]]:
    case = actions.open_case(
        request.user,
        body.item_id,
        actions.ApplicantData(
            kind=body.applicant.kind,
            name=body.applicant.name,
            id_number=body.applicant.id_number,
            phone=body.applicant.phone,
            agent_name=body.applicant.agent_name,
        ),
        inquiry=body.inquiry_id,
    )
    return 201, _case_out(case)


@api.get("/cases/{int:case_id}", response={200: CaseOut, **ERRORS}, tags=["cases"], summary="办件详情与日志")
def case_detail(request: HttpRequest, case_id: int) -> dict[str, Any]:
    return _case_out(_case(request, case_id))


@api.post(
    "/cases/{int:case_id}/materials", response={200: CaseOut, **ERRORS}, tags=["cases"], summary="核对材料"
)
def update_materials(request: HttpRequest, case_id: int, body: MaterialsIn) -> dict[str, Any]:
    case = _case(request, case_id)
    return _case_out(actions.update_materials(request.user, case, body.version, _updates(body.materials)))


@api.post("/cases/{int:case_id}/accept", response={200: CaseOut, **ERRORS}, tags=["cases"], summary="受理")
def accept(request: HttpRequest, case_id: int, body: MaterialsIn) -> dict[str, Any]:
    case = _case(request, case_id)
    actions.accept(request.user, case, body.version, updates=_updates(body.materials))
    return _case_out(case)


@api.post(
    "/cases/{int:case_id}/accept-deferred",
    response={200: CaseOut, **ERRORS},
    tags=["cases"],
    summary="容缺受理",
)
def accept_deferred(request: HttpRequest, case_id: int, body: DeferredIn) -> dict[str, Any]:
    case = _case(request, case_id)
    actions.accept_with_deferred(
        request.user, case, body.version, body.deferred_days, updates=_updates(body.materials)
    )
    return _case_out(case)


@api.post(
    "/cases/{int:case_id}/supplement",
    response={200: CaseOut, **ERRORS},
    tags=["cases"],
    summary="一次性告知补正",
)
def request_supplement(request: HttpRequest, case_id: int, body: SupplementIn) -> dict[str, Any]:
    case = _case(request, case_id)
    actions.request_supplement(
        request.user, case, body.version, updates=_updates(body.materials), note=body.note
    )
    return _case_out(case)


@api.post(
    "/cases/{int:case_id}/receive-supplement",
    response={200: CaseOut, **ERRORS},
    tags=["cases"],
    summary="收到补正材料",
)
def receive_supplement(request: HttpRequest, case_id: int, body: MaterialsIn) -> dict[str, Any]:
    case = _case(request, case_id)
    actions.receive_supplement(request.user, case, body.version, _updates(body.materials))
    return _case_out(case)


@api.post(
    "/cases/{int:case_id}/supply-deferred",
    response={200: CaseOut, **ERRORS},
    tags=["cases"],
    summary="补齐容缺材料",
)
def supply_deferred(request: HttpRequest, case_id: int, body: MaterialsIn) -> dict[str, Any]:
    case = _case(request, case_id)
    actions.supply_deferred(request.user, case, body.version, _updates(body.materials))
    return _case_out(case)


@api.post(
    "/cases/{int:case_id}/refuse", response={200: CaseOut, **ERRORS}, tags=["cases"], summary="不予受理"
)
def refuse(request: HttpRequest, case_id: int, body: RefuseIn) -> dict[str, Any]:
    case = _case(request, case_id)
    actions.refuse(request.user, case, body.version, body.reason, body.legal_basis)
    return _case_out(case)


@api.post(
    "/cases/{int:case_id}/approval",
    response={200: CaseOut, **ERRORS},
    tags=["cases"],
    summary="提交审批（串联/并联）",
)
def start_approval(request: HttpRequest, case_id: int, body: ApprovalIn) -> dict[str, Any]:
    case = _case(request, case_id)
    actions.start_approval(
        request.user,
        case,
        body.version,
        body.mode,
        [
            actions.TaskPlan(department_id=plan.department_id, limit_days=plan.limit_days)
            for plan in body.tasks
        ],
    )
    return _case_out(case)


@api.post(
    "/cases/{int:case_id}/decision",
    response={200: CaseOut, **ERRORS},
    tags=["cases"],
    summary="作出决定（无后台审批）",
)
def decide_case(request: HttpRequest, case_id: int, body: DecisionIn) -> dict[str, Any]:
    case = _case(request, case_id)
    actions.decide_case(request.user, case, body.version, body.approve, body.reason)
    return _case_out(case)


@api.post("/cases/{int:case_id}/complete", response={200: CaseOut, **ERRORS}, tags=["cases"], summary="办结")
def complete(request: HttpRequest, case_id: int, body: CompleteIn) -> dict[str, Any]:
    case = _case(request, case_id)
    actions.complete(request.user, case, body.version, body.result_text)
    return _case_out(case)


@api.post("/cases/{int:case_id}/deliver", response={200: CaseOut, **ERRORS}, tags=["cases"], summary="送达")
def deliver(request: HttpRequest, case_id: int, body: DeliverIn) -> dict[str, Any]:
    case = _case(request, case_id)
    actions.deliver(request.user, case, body.version, body.method, body.tracking_number)
    return _case_out(case)


@api.post(
    "/cases/{int:case_id}/withdraw", response={200: CaseOut, **ERRORS}, tags=["cases"], summary="申请人撤回"
)
def withdraw(request: HttpRequest, case_id: int, body: ReasonIn) -> dict[str, Any]:
    case = _case(request, case_id)
    actions.withdraw(request.user, case, body.version, body.reason)
    return _case_out(case)


@api.post(
    "/cases/{int:case_id}/green-channel",
    response={200: CaseOut, **ERRORS},
    tags=["cases"],
    summary="开通绿色通道",
)
def green_channel(request: HttpRequest, case_id: int, body: ReasonIn) -> dict[str, Any]:
    case = _case(request, case_id)
    actions.mark_green_channel(request.user, case, body.version, body.reason)
    return _case_out(case)


@api.post(
    "/cases/{int:case_id}/extensions",
    response={201: ExtensionOut, **ERRORS},
    tags=["cases"],
    summary="申请延期",
)
def request_extension(request: HttpRequest, case_id: int, body: ExtensionIn) -> tuple[int, ExtensionRequest]:
    case = _case(request, case_id)
    return 201, actions.request_extension(request.user, case, body.version, body.days, body.reason)


@api.post(
    "/cases/extensions/{int:request_id}/decide",
    response={200: ExtensionOut, **ERRORS},
    tags=["cases"],
    summary="延期审批（窗口负责人）",
)
def decide_extension(request: HttpRequest, request_id: int, body: ExtensionDecisionIn) -> ExtensionRequest:
    require_capability(request.user, Capability.SUPERVISE_CASES, path=request.path)
    return actions.decide_extension(request.user, request_id, body.approve, body.note)


# ---------------------------------------------------------------------------------------------
# Approval tasks, supervision, figures


@api.get(
    "/cases/tasks/pending", response={200: list[TaskOut], **ERRORS}, tags=["cases"], summary="待审批任务"
)
def pending_tasks(request: HttpRequest) -> list[dict[str, Any]]:
    require_capability(request.user, Capability.APPROVE_CASES, path=request.path)
    tasks = (
        actions.scoped_tasks(request.user)
        .filter(status="pending")
        .order_by("-case__is_green_channel", "due_date", "case_id")[:LIST_LIMIT_MAX]
    )
    return [_task_out(task) for task in tasks]


@api.post(
    "/cases/tasks/{int:task_id}/decide", response={200: TaskOut, **ERRORS}, tags=["cases"], summary="审批意见"
)
def decide_task(request: HttpRequest, task_id: int, body: TaskDecisionIn) -> dict[str, Any]:
    require_capability(request.user, Capability.APPROVE_CASES, path=request.path)
    task = ApprovalTask.objects.filter(pk=task_id).first()
    if task is None:
        raise NotFound()
    if task.site_id not in request.user.accessible_site_ids():
        audit_refusal(request.user, "out_of_scope", target=task, path=request.path)
        raise NotFound()
    return _task_out(actions.decide_task(request.user, task, body.version, body.approve, body.opinion))


@api.get(
    "/cases/supervision/board", response={200: BoardOut, **ERRORS}, tags=["cases"], summary="电子监察看板"
)
def board(request: HttpRequest) -> dict[str, Any]:
    require_capability(request.user, Capability.SUPERVISE_CASES, path=request.path)
    scoped = Case.objects.restrict(request.user, Capability.SUPERVISE_CASES)
    urgent = by_urgency(scoped.open().filter(clock_running=True))[:100]
    return {
        "counts": {str(key): value for key, value in colour_counts(scoped).items()},
        "urgent": [_summary_out(case) for case in urgent],
    }


class FiguresFilter(Schema):
    start: dt.date | None = None
    end: dt.date | None = None


@api.get(
    "/cases/figures",
    response={200: FiguresOut, **ERRORS},
    tags=["cases"],
    summary="及时办结率、一次办结率等指标",
)
def figures(request: HttpRequest, filters: Query[FiguresFilter]) -> dict[str, Any]:
    require_capability(request.user, Capability.SUPERVISE_CASES, path=request.path)
    end = filters.end or clock.today()
    start = filters.start or end - dt.timedelta(days=30)
    report = metrics.report(
        request.user.accessible_site_ids(),
        timezone.make_aware(dt.datetime.combine(start, dt.time.min)),
        timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min)),
    )
    labelled = report.labelled()
    return {
        "overall": report.overall.as_dict(),
        "by_clerk": [{"name": name, **value.as_dict()} for name, value in labelled["clerk"]],
        "by_department": [{"name": name, **value.as_dict()} for name, value in labelled["department"]],
        "by_site": [{"name": name, **value.as_dict()} for name, value in labelled["site"]],
    }
