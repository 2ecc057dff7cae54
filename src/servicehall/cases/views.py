"""Pages of the cases app. Thin: they read the form, call ``cases.actions`` and show the result.

Every list goes through ``restrict()``; every change posts the version the person saw, so a stale page
gets "办件已被他人更新" (409) instead of overwriting someone else's work.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicehall.accounts.models import User
from servicehall.accounts.permissions import audit_refusal
from servicehall.accounts.roles import Capability
from servicehall.cases import actions, clock, documents, metrics
from servicehall.cases.models import (
    ApplicantKind,
    ApprovalMode,
    ApprovalTask,
    CardLevel,
    Case,
    Decision,
    DeliveryMethod,
    ExtensionRequest,
    ExtensionStatus,
    Inquiry,
    InquiryChannel,
    InquiryStatus,
    MaterialStatus,
    Notice,
    Notification,
    ReferralKind,
    TaskStatus,
)
from servicehall.cases.states import CLOSED_STATES, CaseAction, CaseState, available_actions
from servicehall.cases.supervise import (
    COLOUR_LABELS,
    COLOUR_TAGS,
    Colour,
    by_urgency,
    colour_counts,
    colour_of,
    task_colour,
)
from servicehall.catalog.models import ServiceItem
from servicehall.lib.errors import ActionRefused, NotFound, PermissionRefused
from servicehall.sites.models import Department, Site, Window
from servicehall.web.responses import refusal_page, refusal_response

CASE_CAPABILITIES = (Capability.HANDLE_CASES, Capability.APPROVE_CASES, Capability.SUPERVISE_CASES)
CASES_PER_PAGE = 50
SEARCH_MAX_LENGTH = 100
ITEM_RESULTS_MAX = 20

View = Callable[..., HttpResponse]


def staff_view_any(*capabilities: Capability) -> Callable[[View], View]:
    """Like web.decorators.staff_view, for pages several posts may open (clerk, approver, supervisor)."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(user.has_capability(capability) for capability in capabilities):
                audit_refusal(
                    user,
                    "missing_capability",
                    capability="|".join(str(capability) for capability in capabilities),
                    path=request.path,
                )
                return refusal_page(
                    request, 403, "您没有访问此页面的权限。 / You do not have access to this page."
                )
            try:
                return view(request, *args, **kwargs)
            except ActionRefused as refusal:
                return refusal_response(request, refusal)

        return wrapped

    return decorator


def staff_view(capability: Capability) -> Callable[[View], View]:
    return staff_view_any(capability)


def _integer(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def _search_text(value: str) -> str:
    return "".join(character for character in value if character.isprintable()).strip()[:SEARCH_MAX_LENGTH]


def _case_in_scope(request: HttpRequest, case_id: int) -> Case:
    case = (
        Case.objects.restrict(request.user)
        .select_related("item", "department", "site", "first_handler")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        target = Case.objects.filter(pk=case_id).first()
        if target is not None:
            audit_refusal(request.user, "out_of_scope", target=target, path=request.path)
        raise NotFound()
    return case


def _colour_context(case: Case, today: dt.date) -> dict[str, Any]:
    colour = colour_of(case, today)
    return {"colour": colour, "colour_label": COLOUR_LABELS[colour], "colour_tag": COLOUR_TAGS[colour]}


def _decorate(cases: list[Case], today: dt.date) -> list[Case]:
    for case in cases:
        case.colour_info = _colour_context(case, today)
    return cases


# ---------------------------------------------------------------------------------------------
# My matters (一跟到底) and notifications


@require_GET
@staff_view(Capability.RECORD_INQUIRIES)
def my_matters_view(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    inquiries = _owned_inquiries(request.user, request.user.pk)
    cases = _decorate(
        list(
            by_urgency(
                Case.objects.restrict(request.user)
                .filter(first_handler=request.user)
                .exclude(state__in=CLOSED_STATES)
                .select_related("item"),
                today,
            )[:200]
        ),
        today,
    )
    notifications = Notification.objects.filter(recipient=request.user, read_at__isnull=True).select_related(
        "case"
    )[:50]
    return render(
        request,
        "cases/my_matters.html",
        {
            "inquiries": inquiries,
            "cases": cases,
            "notifications": notifications,
            "today": today,
            "handed_over": _handed_over_matters(request.user, today),
        },
    )


def _owned_inquiries(user: User, owner_id: int) -> list[Inquiry]:
    """The open inquiries ``owner_id`` is 首问责任人 for, each with its latest 去向 and the case it became:
    the owner follows the matter to its end (一跟到底), so the work list shows where it is now."""
    inquiries = list(
        Inquiry.objects.restrict(user)
        .filter(first_responder_id=owner_id)
        .exclude(status=InquiryStatus.DONE)
        .select_related("item", "case")
        .prefetch_related("referrals")
        .order_by("asked_at")
    )
    for inquiry in inquiries:
        referrals = list(inquiry.referrals.all())
        inquiry.latest_referral = referrals[-1] if referrals else None
    return inquiries


def _handed_over_matters(user: User, today: dt.date) -> list[dict[str, Any]]:
    """替岗: the open matters of colleagues on leave today for whom ``user`` is the named substitute
    (seed 000 AB岗工作制度 2 and 4). Responsibility stays with the colleague; the substitute carries it on."""
    from servicehall.duty.coverage import substitutions_of

    handed_over = []
    for leave in substitutions_of(user, today):
        if leave.starts_on > today:
            continue
        colleague_inquiries = _owned_inquiries(user, leave.staff_id)
        colleague_cases = _decorate(
            list(
                by_urgency(
                    Case.objects.restrict(user)
                    .filter(first_handler_id=leave.staff_id)
                    .exclude(state__in=CLOSED_STATES)
                    .select_related("item"),
                    today,
                )[:200]
            ),
            today,
        )
        handed_over.append({"leave": leave, "inquiries": colleague_inquiries, "cases": colleague_cases})
    return handed_over


@require_POST
@staff_view(Capability.VIEW_WORKBENCH)
def notifications_read_view(request: HttpRequest) -> HttpResponse:
    identifiers = [_integer(value) for value in request.POST.getlist("notification")]
    actions.mark_notifications_read(request.user, [value for value in identifiers if value is not None])
    return redirect("cases:my_matters")


# ---------------------------------------------------------------------------------------------
# Inquiries


def _colleagues(request: HttpRequest) -> QuerySet[User]:
    return (
        User.objects.filter(site=request.user.site, is_active=True)
        .exclude(pk=request.user.pk)
        .order_by("staff_number")
    )


@require_http_methods(["GET", "POST"])
@staff_view(Capability.RECORD_INQUIRIES)
def inquiry_create_view(request: HttpRequest) -> HttpResponse:
    status = 200
    error: ActionRefused | None = None
    values: QueryDict | dict[str, Any] = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        asked_at = None
        if request.POST.get("asked_at"):
            try:
                asked_at = timezone.make_aware(dt.datetime.fromisoformat(request.POST["asked_at"]))
            except ValueError:
                asked_at = None
        data = actions.InquiryData(
            channel=request.POST.get("channel", ""),
            asker_name=request.POST.get("asker_name", ""),
            asker_organisation=request.POST.get("asker_organisation", ""),
            asker_contact=request.POST.get("asker_contact", ""),
            item_id=_integer(request.POST.get("item_id")),
            question=request.POST.get("question", ""),
            answer=request.POST.get("answer", ""),
            asked_at=asked_at,
            answered_with_ids=[
                value for value in map(_integer, request.POST.getlist("answered_with")) if value
            ],
        )
        try:
            inquiry = actions.record_inquiry(request.user, data)
        except PermissionRefused:
            raise
        except ActionRefused as refusal:
            error, status = refusal, refusal.status
        else:
            messages.success(request, _("已登记咨询 #%(number)s。") % {"number": inquiry.pk})
            return redirect("cases:inquiry_detail", inquiry_id=inquiry.pk)
    return render(
        request,
        "cases/inquiry_form.html",
        {
            "channels": InquiryChannel.choices,
            "colleagues": _colleagues(request),
            "values": values,
            "error": error,
        },
        status=status,
    )


def _inquiry_in_scope(request: HttpRequest, inquiry_id: int) -> Inquiry:
    inquiry = (
        Inquiry.objects.select_related("item", "first_responder", "recorded_by", "site")
        .filter(pk=inquiry_id)
        .first()
    )
    if inquiry is None:
        raise NotFound()
    if inquiry.site_id not in request.user.accessible_site_ids():
        audit_refusal(request.user, "out_of_scope", target=inquiry, path=request.path)
        raise NotFound()
    return inquiry


def _render_inquiry(
    request: HttpRequest, inquiry: Inquiry, error: ActionRefused | None = None, status: int = 200
) -> HttpResponse:
    can_handle = inquiry.first_responder_id == request.user.pk or request.user.has_capability(
        Capability.SUPERVISE_CASES
    )
    return render(
        request,
        "cases/inquiry_detail.html",
        {
            "inquiry": inquiry,
            "referrals": inquiry.referrals.select_related("referred_by", "to_window", "to_department"),
            "answered_with": inquiry.answered_with.all(),
            "can_handle": can_handle and inquiry.status != InquiryStatus.DONE,
            "referral_kinds": ReferralKind.choices,
            "windows": Window.objects.restrict(request.user).filter(is_active=True).select_related("site"),
            "departments": Department.objects.filter(is_active=True)
            .select_related("site")
            .order_by("site__code", "code"),
            "can_open_case": request.user.has_capability(Capability.HANDLE_CASES) and inquiry.case_id is None,
            "error": error,
        },
        status=status,
    )


@require_GET
@staff_view(Capability.RECORD_INQUIRIES)
def inquiry_detail_view(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    return _render_inquiry(request, _inquiry_in_scope(request, inquiry_id))


@require_POST
@staff_view(Capability.RECORD_INQUIRIES)
def inquiry_refer_view(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    inquiry = _inquiry_in_scope(request, inquiry_id)
    data = actions.ReferralData(
        kind=request.POST.get("kind", ""),
        reason=request.POST.get("reason", ""),
        to_window_id=_integer(request.POST.get("to_window")),
        to_department_id=_integer(request.POST.get("to_department")),
        destination=request.POST.get("destination", ""),
    )
    try:
        actions.refer_inquiry(request.user, inquiry, _integer(request.POST.get("version")) or 0, data)
    except PermissionRefused:
        raise
    except ActionRefused as refusal:
        return _render_inquiry(request, inquiry, refusal, refusal.status)
    messages.success(request, _("已记录导办/转办去向；首问责任仍由您负责，直至办结。"))
    return redirect("cases:inquiry_detail", inquiry_id=inquiry.pk)


@require_POST
@staff_view(Capability.RECORD_INQUIRIES)
def inquiry_close_view(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    inquiry = _inquiry_in_scope(request, inquiry_id)
    try:
        actions.close_inquiry(
            request.user, inquiry, _integer(request.POST.get("version")) or 0, request.POST.get("outcome", "")
        )
    except PermissionRefused:
        raise
    except ActionRefused as refusal:
        return _render_inquiry(request, inquiry, refusal, refusal.status)
    messages.success(request, _("咨询已办结。"))
    return redirect("cases:my_matters")


# ---------------------------------------------------------------------------------------------
# Intake (收件)


def _item_search(query: str) -> QuerySet[ServiceItem]:
    items = ServiceItem.objects.published().select_related("department")
    if query:
        items = items.filter(
            Q(name__icontains=query) | Q(code__icontains=query) | Q(keywords__icontains=query)
        )
    return items.order_by("code")[:ITEM_RESULTS_MAX]


@require_GET
@staff_view_any(Capability.HANDLE_CASES, Capability.RECORD_INQUIRIES)
def item_search_view(request: HttpRequest) -> HttpResponse:
    query = _search_text(request.GET.get("q", ""))
    return render(
        request,
        "cases/_item_results.html",
        {"items": _item_search(query), "query": query, "selected": _integer(request.GET.get("item_id"))},
    )


@require_http_methods(["GET", "POST"])
@staff_view(Capability.HANDLE_CASES)
def intake_view(request: HttpRequest) -> HttpResponse:
    status = 200
    error: ActionRefused | None = None
    source = request.POST if request.method == "POST" else request.GET
    inquiry_id = _integer(source.get("inquiry"))
    inquiry = (
        Inquiry.objects.filter(pk=inquiry_id, site_id__in=request.user.accessible_site_ids()).first()
        if inquiry_id
        else None
    )
    if request.method == "POST":
        applicant = actions.ApplicantData(
            kind=request.POST.get("applicant_kind", ""),
            name=request.POST.get("applicant_name", ""),
            id_number=request.POST.get("applicant_id_number", ""),
            phone=request.POST.get("applicant_phone", ""),
            agent_name=request.POST.get("agent_name", ""),
        )
        item_id = _integer(request.POST.get("item_id"))
        try:
            if item_id is None:
                raise ActionRefused(_("请选择办理事项。"), code="required", field="item_id")
            case = actions.open_case(request.user, item_id, applicant, inquiry=inquiry)
        except PermissionRefused:
            raise
        except ActionRefused as refusal:
            error, status = refusal, refusal.status
        else:
            messages.success(
                request, _("已收件，办件编号 %(number)s。请逐项核对材料。") % {"number": case.number}
            )
            return redirect("cases:case_detail", case_id=case.pk)
    query = _search_text(source.get("q", ""))
    initial_item = inquiry.item_id if inquiry and inquiry.item_id else _integer(source.get("item_id"))
    return render(
        request,
        "cases/intake.html",
        {
            "items": _item_search(query),
            "query": query,
            "selected": initial_item,
            "applicant_kinds": ApplicantKind.choices,
            "values": request.POST if request.method == "POST" else {},
            "inquiry": inquiry,
            "error": error,
        },
        status=status,
    )


# ---------------------------------------------------------------------------------------------
# Case list and case page


@require_GET
@staff_view_any(*CASE_CAPABILITIES)
def case_list_view(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    cases = Case.objects.restrict(request.user).select_related("item", "first_handler")
    state = request.GET.get("state", "")
    scope = request.GET.get("scope", "open")
    query = _search_text(request.GET.get("q", ""))
    if state in CaseState.values:
        cases = cases.filter(state=state)
    elif scope != "all":
        cases = cases.exclude(state__in=CLOSED_STATES)
    if query:
        cases = cases.filter(Q(number__icontains=query) | Q(item__name__icontains=query))
    page = Paginator(by_urgency(cases, today), CASES_PER_PAGE).get_page(request.GET.get("page"))
    _decorate(list(page.object_list), today)
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "cases/case_list.html",
        {
            "page": page,
            "states": CaseState.choices,
            "state": state,
            "scope": scope,
            "query": query,
            "filter_query": filters.urlencode(),
            "today": today,
        },
    )


def _allowed_departments(case: Case) -> QuerySet[Department]:
    site_ids = {case.site_id, case.item.department.site_id}
    site_ids |= {department.site_id for department in actions.participating_departments(case.item)}
    site = case.site
    while site.parent_id is not None:
        site_ids.add(site.parent_id)
        site = Site.objects.get(pk=site.parent_id)
    return (
        Department.objects.filter(site_id__in=site_ids, is_active=True)
        .select_related("site")
        .order_by("site__code", "code")
    )


TASK_SLOTS_SHOWN = 4


def _task_slots(case: Case) -> list[tuple[int, int | None]]:
    """The approval form's rows, pre-filled: a 联办件's departments as the catalogue lists them (牵头部门
    first), otherwise the item's own department; every row can still be changed."""
    planned = [department.pk for department in actions.participating_departments(case.item)] or [
        case.department_id
    ]
    count = min(actions.TASK_COUNT_MAX, max(TASK_SLOTS_SHOWN, len(planned)))
    return [(index, planned[index] if index < len(planned) else None) for index in range(count)]


def _case_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    today = clock.today()
    user = request.user
    state_actions = set(available_actions(case.state))
    can_handle = user.has_capability(Capability.HANDLE_CASES)
    offered = {action for action in state_actions if can_handle}
    if CaseAction.DECIDE_CASE in state_actions:
        needed = Capability.HANDLE_CASES if case.is_immediate else Capability.APPROVE_CASES
        if not user.has_capability(needed):
            offered.discard(CaseAction.DECIDE_CASE)
        else:
            offered.add(CaseAction.DECIDE_CASE)
    if not user.has_capability(Capability.SUPERVISE_CASES):
        offered.discard(CaseAction.MARK_GREEN_CHANNEL)
    elif CaseAction.MARK_GREEN_CHANNEL in state_actions and not case.is_green_channel:
        offered.add(CaseAction.MARK_GREEN_CHANNEL)
    if case.is_green_channel:
        offered.discard(CaseAction.MARK_GREEN_CHANNEL)
    if case.is_immediate:
        offered -= {CaseAction.START_APPROVAL, CaseAction.REQUEST_EXTENSION, CaseAction.ACCEPT_WITH_DEFERRED}
    offered -= {
        CaseAction.DECIDE_TASK,
        CaseAction.DEEM_TASK_APPROVED,
        CaseAction.LAPSE_DEFERRED,
        CaseAction.DECIDE_EXTENSION,
    }
    if case.state == CaseState.SUSPENDED:
        offered.discard(
            CaseAction.RECEIVE_SUPPLEMENT
            if case.suspension_reason != "supplement"
            else CaseAction.SUPPLY_DEFERRED
        )
    has_deferred = case.material_checks.filter(status=MaterialStatus.DEFERRED).exists()
    if not has_deferred:
        offered.discard(CaseAction.SUPPLY_DEFERRED)
    checks = list(case.material_checks.all())
    checklist_actions = [
        action
        for action in (
            CaseAction.UPDATE_MATERIALS,
            CaseAction.ACCEPT,
            CaseAction.ACCEPT_WITH_DEFERRED,
            CaseAction.REQUEST_SUPPLEMENT,
            CaseAction.RECEIVE_SUPPLEMENT,
            CaseAction.SUPPLY_DEFERRED,
        )
        if action in offered
    ]
    pending_tasks = [task for task in case.approval_tasks.all() if task.status == TaskStatus.PENDING]
    days_left = (
        clock.working_days_left(case.committed_due, today)
        if case.committed_due and case.clock_running
        else None
    )
    return {
        "case": case,
        "today": today,
        **_colour_context(case, today),
        "consumed": actions.working_days_consumed(case, today),
        "days_left": days_left,
        "overdue_days": -days_left if days_left is not None and days_left < 0 else 0,
        "checks": checks,
        "material_statuses": [
            (value, label) for value, label in MaterialStatus.choices if value != MaterialStatus.DEFERRED
        ],
        "checklist_actions": checklist_actions,
        "offered": offered,
        "actions": CaseAction,
        "notices": case.notices.select_related("issued_by").prefetch_related("items"),
        "tasks": [
            (task, COLOUR_TAGS[task_colour(task, today)], COLOUR_LABELS[task_colour(task, today)])
            for task in case.approval_tasks.select_related("department", "decided_by")
        ],
        "pending_tasks": pending_tasks,
        "segments": case.clock_segments.all(),
        "extensions": case.extension_requests.select_related("requested_by", "decided_by"),
        "events": _summarised(list(case.events.order_by("occurred_at", "id"))),
        "cards": case.cards.all(),
        "departments": _allowed_departments(case) if CaseAction.START_APPROVAL in offered else [],
        "task_slots": _task_slots(case) if CaseAction.START_APPROVAL in offered else [],
        "approval_modes": ApprovalMode.choices,
        "delivery_methods": [
            (method, label)
            for method, label in DeliveryMethod.choices
            if {
                DeliveryMethod.WINDOW: case.item.delivery_at_window,
                DeliveryMethod.POST: case.item.delivery_by_post,
                DeliveryMethod.CABINET: case.item.delivery_by_cabinet,
            }[DeliveryMethod(method)]
        ],
        "extension_left": max(0, case.statutory_extension_days - case.extension_days),
        "outstanding": actions.outstanding_materials(case),
        "can_supervise": user.has_capability(Capability.SUPERVISE_CASES),
    }


SUMMARY_LABELS = {
    "notice": _lazy("文书"),
    "materials": _lazy("材料"),
    "committed_due": _lazy("承诺期限"),
    "statutory_due": _lazy("法定期限"),
    "deferred_due": _lazy("容缺期限"),
    "deferred": _lazy("容缺材料"),
    "working_days_used": _lazy("已用工作日"),
    "working_days": _lazy("用时（工作日）"),
    "on_time": _lazy("按时"),
    "reason": _lazy("理由"),
    "legal_basis": _lazy("依据"),
    "decision": _lazy("决定"),
    "department": _lazy("部门"),
    "opinion": _lazy("意见"),
    "days": _lazy("天数"),
    "approved": _lazy("批准"),
    "method": _lazy("方式"),
    "tracking_number": _lazy("快递单号"),
    "mode": _lazy("方式"),
    "visits": _lazy("到场次数"),
    "card": _lazy("监察等级"),
    "due_date": _lazy("期限"),
    "item": _lazy("事项"),
    "applicant": _lazy("申请人"),
    "violations": _lazy("一次性告知违规"),
    "clock_stopped": _lazy("计时暂停"),
    "note": _lazy("意见"),
    "changes": _lazy("材料核对"),
    "is_green_channel": _lazy("绿色通道"),
    "extension_days": _lazy("已延长工作日"),
}
# The keys whose value is a list of checklist changes, each with its own before and after.
MATERIAL_CHANGE_KEYS = frozenset({"materials", "changes"})


CHOICE_LABELS: dict[str, dict[str, Any]] = {
    "mode": dict(ApprovalMode.choices),
    "method": dict(DeliveryMethod.choices),
    "decision": dict(Decision.choices),
    "card": {str(value): label for value, label in CardLevel.choices},
}


def _summary_value(value: Any, key: str = "") -> str:
    labels = CHOICE_LABELS.get(key)
    if labels is not None and str(value) in labels:
        return str(labels[str(value)])
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list):
        parts = []
        for element in value:
            if isinstance(element, dict):
                parts.append(
                    str(element.get("name") or element.get("material") or element.get("department") or "")
                )
            else:
                parts.append(str(element))
        return "、".join(part for part in parts if part)
    if isinstance(value, dict):
        return ""
    return str(value)


MATERIAL_STATUS_LABELS = dict(MaterialStatus.choices)


def _material_change_text(change: dict[str, Any]) -> str:
    """One checklist line's change, before → after (the 服务日志台账 keeps both)."""
    before = change.get("before") or {}
    after = change.get("after") or {}
    old = str(MATERIAL_STATUS_LABELS.get(before.get("status"), before.get("status") or "—"))
    new = str(MATERIAL_STATUS_LABELS.get(after.get("status"), after.get("status") or "—"))
    text = f"{change.get('name', '')} {old} → {new}"
    if after.get("defect"):
        text += f"（{after['defect']}）"
    if after.get("submission_version", 0) > before.get("submission_version", 0):
        text += _("，第 %(version)d 次提交") % {"version": after["submission_version"]}
    return text


def _summarised(events: list[Any]) -> list[Any]:
    """A readable line per event from its before/after: the labelled fields only, never raw JSON.

    A field the action changed shows both values (before → after)."""
    for event in events:
        parts = []
        before = event.before or {}
        for key, value in (event.after or {}).items():
            label = SUMMARY_LABELS.get(key)
            if not label:
                continue
            if key in MATERIAL_CHANGE_KEYS and isinstance(value, list):
                text = "；".join(
                    _material_change_text(change) if isinstance(change, dict) else str(change)
                    for change in value
                )
            else:
                text = _summary_value(value, key)
                if key in before and before[key] != value:
                    text = f"{_summary_value(before[key], key) or '—'} → {text or '—'}"
            if text:
                parts.append(f"{label}：{text}")
        event.summary = "；".join(parts)
        event.from_label = CaseState(event.from_state).label if event.from_state else "—"
        event.to_label = CaseState(event.to_state).label if event.to_state else "—"
    return events


@require_GET
@staff_view_any(*CASE_CAPABILITIES)
def case_detail_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_in_scope(request, case_id)
    return render(request, "cases/case_detail.html", _case_context(request, case))


def _material_updates(post: QueryDict, case: Case) -> list[actions.MaterialUpdate]:
    updates = []
    for check in case.material_checks.all():
        status = post.get(f"status_{check.pk}")
        if status is None:
            continue
        if check.status == MaterialStatus.DEFERRED and status == MaterialStatus.MISSING:
            continue
        updates.append(
            actions.MaterialUpdate(
                check_id=check.pk,
                status=status,
                defect=post.get(f"defect_{check.pk}", ""),
                fingerprint=post.get(f"fingerprint_{check.pk}", ""),
                resubmitted=post.get(f"resubmitted_{check.pk}") == "1",
            )
        )
    return updates


def _task_plans(post: QueryDict) -> list[actions.TaskPlan]:
    plans = []
    for index in range(actions.TASK_COUNT_MAX):
        department_id = _integer(post.get(f"task_department_{index}"))
        if department_id is None:
            continue
        plans.append(
            actions.TaskPlan(department_id=department_id, limit_days=post.get(f"task_days_{index}", ""))
        )
    return plans


def _run_case_action(request: HttpRequest, case: Case, action: str) -> str:
    """Calls the action named by the button; returns the success message."""
    post = request.POST
    user = request.user
    version = _integer(post.get("version")) or 0
    if action == CaseAction.UPDATE_MATERIALS:
        actions.update_materials(user, case, version, _material_updates(post, case))
        return _("材料核对已保存。")
    if action == CaseAction.ACCEPT:
        actions.accept(user, case, version, updates=_material_updates(post, case))
        return _("已受理，受理通知书已生成。")
    if action == CaseAction.ACCEPT_WITH_DEFERRED:
        actions.accept_with_deferred(
            user, case, version, post.get("deferred_days", ""), updates=_material_updates(post, case)
        )
        return _("已容缺受理，受理通知书已生成。")
    if action == CaseAction.REQUEST_SUPPLEMENT:
        notice = actions.request_supplement(
            user, case, version, updates=_material_updates(post, case), note=post.get("note", "")
        )
        return _("已出具一次性告知书（%(number)s），列明全部需补正材料。") % {"number": notice.number}
    if action == CaseAction.RECEIVE_SUPPLEMENT:
        actions.receive_supplement(user, case, version, _material_updates(post, case))
        return _("已登记补正材料。")
    if action == CaseAction.SUPPLY_DEFERRED:
        actions.supply_deferred(user, case, version, _material_updates(post, case))
        return _("容缺材料已补齐。")
    if action == CaseAction.REFUSE:
        actions.refuse(user, case, version, post.get("reason", ""), post.get("legal_basis", ""))
        return _("已出具不予受理告知书。")
    if action == CaseAction.START_APPROVAL:
        actions.start_approval(user, case, version, post.get("mode", ""), _task_plans(post))
        return _("已提交审批。")
    if action == CaseAction.DECIDE_CASE:
        actions.decide_case(user, case, version, post.get("decision") == "approve", post.get("reason", ""))
        return _("已作出决定。")
    if action == CaseAction.COMPLETE:
        actions.complete(user, case, version, post.get("result_text", ""))
        return _("已办结，办结通知书已生成。")
    if action == CaseAction.DELIVER:
        delivered = actions.deliver(
            user, case, version, post.get("method", ""), post.get("tracking_number", "")
        )
        if delivered.delivery_pickup_code:
            return _("已送达。取件码 %(code)s 已通过短信发给申请人。") % {
                "code": delivered.delivery_pickup_code
            }
        return _("已送达。")
    if action == CaseAction.WITHDRAW:
        actions.withdraw(user, case, version, post.get("reason", ""))
        return _("已登记申请人撤回。")
    if action == CaseAction.MARK_GREEN_CHANNEL:
        actions.mark_green_channel(user, case, version, post.get("reason", ""))
        return _("已开通绿色通道。")
    if action == CaseAction.REQUEST_EXTENSION:
        actions.request_extension(user, case, version, post.get("days", ""), post.get("reason", ""))
        return _("延期申请已提交窗口负责人审批。")
    raise ActionRefused(_("未知的操作。"), code="unknown_action")


@require_POST
@staff_view_any(*CASE_CAPABILITIES)
def case_action_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_in_scope(request, case_id)
    action = request.POST.get("action", "")
    try:
        message = _run_case_action(request, case, action)
    except (PermissionRefused, NotFound):
        raise
    except ActionRefused as refusal:
        fresh = _case_in_scope(request, case_id)
        context = _case_context(request, fresh) | {"error": refusal, "failed_action": action}
        return render(request, "cases/case_detail.html", context, status=refusal.status)
    messages.success(request, message)
    return redirect("cases:case_detail", case_id=case.pk)


@require_GET
@staff_view_any(*CASE_CAPABILITIES)
def notice_pdf_view(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    case = _case_in_scope(request, case_id)
    notice = (
        Notice.objects.select_related("case__item", "case__site", "case__department", "issued_by")
        .filter(pk=notice_id, case=case)
        .first()
    )
    if notice is None:
        raise NotFound()
    pdf = documents.render_notice_pdf(notice, request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{documents.filename(notice)}"'
    return response


# ---------------------------------------------------------------------------------------------
# Approvals (后台审批岗)


scoped_tasks = actions.scoped_tasks


def _render_approvals(
    request: HttpRequest, error: ActionRefused | None = None, status: int = 200
) -> HttpResponse:
    today = clock.today()
    show = request.GET.get("show", "pending")
    tasks = scoped_tasks(request.user).select_related("case", "case__item", "department", "decided_by")
    if show == "done":
        tasks = tasks.exclude(status__in=[TaskStatus.PENDING, TaskStatus.WAITING]).order_by("-decided_at")
    else:
        tasks = tasks.filter(status=TaskStatus.PENDING).order_by(
            "-case__is_green_channel", "due_date", "case_id"
        )
    page = Paginator(tasks, CASES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        (task, COLOUR_TAGS[task_colour(task, today)], COLOUR_LABELS[task_colour(task, today)])
        for task in page
    ]
    return render(
        request,
        "cases/approval_list.html",
        {"page": page, "rows": rows, "show": show, "today": today, "error": error},
        status=status,
    )


@require_GET
@staff_view(Capability.APPROVE_CASES)
def approval_list_view(request: HttpRequest) -> HttpResponse:
    return _render_approvals(request)


@require_POST
@staff_view(Capability.APPROVE_CASES)
def task_decide_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = scoped_tasks(request.user).filter(pk=task_id).select_related("case").first()
    if task is None:
        target = ApprovalTask.objects.filter(pk=task_id).first()
        if target is not None:
            audit_refusal(request.user, "out_of_scope", target=target, path=request.path)
        raise NotFound()
    try:
        actions.decide_task(
            request.user,
            task,
            _integer(request.POST.get("version")) or 0,
            request.POST.get("decision") == "approve",
            request.POST.get("opinion", ""),
        )
    except (PermissionRefused, NotFound):
        raise
    except ActionRefused as refusal:
        return _render_approvals(request, refusal, refusal.status)
    messages.success(request, _("已提交审批意见（办件 %(number)s）。") % {"number": task.case.number})
    return redirect("cases:approval_list")


# ---------------------------------------------------------------------------------------------
# Supervisor's board (电子监察)


def _period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    today = clock.today()
    try:
        start = dt.date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        start = today - dt.timedelta(days=30)
    try:
        end = dt.date.fromisoformat(request.GET.get("to", ""))
    except ValueError:
        end = today
    return start, max(start, end)


def _aware_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _render_board(
    request: HttpRequest, error: ActionRefused | None = None, status: int = 200
) -> HttpResponse:
    today = clock.today()
    scoped = Case.objects.restrict(request.user, Capability.SUPERVISE_CASES)
    urgent = _decorate(
        list(
            by_urgency(scoped.open().filter(clock_running=True), today).select_related(
                "item", "first_handler", "site"
            )[:100]
        ),
        today,
    )
    # The board is for what needs a supervisor's eye: red, yellow, and every 绿色通道 case whatever its colour.
    urgent = [
        case
        for case in urgent
        if case.is_green_channel or case.colour_info["colour"] in (Colour.RED, Colour.YELLOW)
    ] or urgent[:20]
    overdue_tasks = (
        ApprovalTask.objects.restrict(request.user)
        .filter(status=TaskStatus.PENDING, due_date__lt=today)
        .select_related("case", "department")
        .order_by("-case__is_green_channel", "due_date", "case_id")[:50]
    )
    extensions = (
        ExtensionRequest.objects.restrict(request.user)
        .filter(status=ExtensionStatus.PENDING)
        .select_related("case", "requested_by")
        .order_by("-case__is_green_channel", "requested_at")
    )
    start, end = _period(request)
    report = metrics.report(
        request.user.accessible_site_ids(),
        _aware_midnight(start),
        _aware_midnight(end + dt.timedelta(days=1)),
    )
    return render(
        request,
        "cases/board.html",
        {
            "counts": colour_counts(scoped, today),
            "colours": Colour,
            "urgent": urgent,
            "overdue_tasks": overdue_tasks,
            "extensions": extensions,
            "report": report,
            "groups": report.labelled(),
            "start": start,
            "end": end,
            "target": metrics.ON_TIME_TARGET,
            "yellow_days": clock.yellow_working_days(),
            "yellow_share": round(clock.yellow_share_of_limit() * 100),
            "today": today,
            "error": error,
        },
        status=status,
    )


@require_GET
@staff_view(Capability.SUPERVISE_CASES)
def board_view(request: HttpRequest) -> HttpResponse:
    return _render_board(request)


@require_POST
@staff_view(Capability.SUPERVISE_CASES)
def extension_decide_view(request: HttpRequest, request_id: int) -> HttpResponse:
    extension = ExtensionRequest.objects.restrict(request.user).filter(pk=request_id).first()
    if extension is None:
        target = ExtensionRequest.objects.filter(pk=request_id).first()
        if target is not None:
            audit_refusal(request.user, "out_of_scope", target=target, path=request.path)
        raise NotFound()
    try:
        actions.decide_extension(
            request.user, extension, request.POST.get("decision") == "approve", request.POST.get("note", "")
        )
    except (PermissionRefused, NotFound):
        raise
    except ActionRefused as refusal:
        return _render_board(request, refusal, refusal.status)
    messages.success(request, _("已处理延期申请。"))
    return redirect("cases:board")
