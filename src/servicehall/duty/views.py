"""Duty pages. Thin: each checks the shape of the input and calls duty.actions; the rules live there."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicehall.accounts.models import User
from servicehall.accounts.permissions import require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.duty import actions
from servicehall.duty.coverage import (
    DEFAULT_DAYS,
    coverage,
    day_plan,
    problem_message,
    substitute_candidates,
    substitutions_of,
)
from servicehall.duty.forms import (
    ApproveForm,
    AssignmentForm,
    AwayForm,
    CheckInForm,
    CorrectionForm,
    EmergencyLeaveForm,
    ExceptionForm,
    LastDayForm,
    LeaveRequestForm,
    PatternForm,
    PostForm,
    QualificationForm,
    ReasonForm,
    ResultForm,
    TrainingForm,
)
from servicehall.duty.models import (
    Assignment,
    AssignmentRole,
    AwayRecord,
    CheckIn,
    CheckInSlot,
    CheckInStatus,
    Leave,
    LeaveStatus,
    PeriodKind,
    Post,
    Qualification,
    RosterException,
    RosterPattern,
    TrainingSession,
)
from servicehall.duty.presenters import board, day_detail, gap_lines
from servicehall.duty.rules import SATURDAY, SLOT_HALF, Basis, slot_times
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.sites.models import PostKind, Site, Weekday
from servicehall.web.decorators import staff_view

QUEUE_LIMIT = 100
SUBSTITUTION_DAYS = 14


# ---------------------------------------------------------------------------------------------
# Helpers


def _chosen_site(request: HttpRequest, capability: Capability) -> Site:
    """The site named by ?site= (or the form's site), in the user's scope; their own site by default."""
    raw = request.POST.get("site") or request.GET.get("site") or ""
    if not raw:
        return request.user.site
    if not raw.isdigit():
        raise NotFound()
    site = Site.objects.filter(pk=int(raw)).first()
    if site is None:
        raise NotFound()
    require_in_scope(request.user, site, path=request.path)
    return site


def _sites_for(request: HttpRequest, capability: Capability) -> list[Site]:
    return list(Site.objects.restrict(request.user, capability).filter(is_active=True).order_by("code"))


def _date_param(request: HttpRequest, name: str) -> dt.date | None:
    raw = request.GET.get(name, "")
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _in_scope(request: HttpRequest, model: type, identifier: int, **related: Any) -> Any:
    queryset = (
        model.objects.select_related(*related.get("select", ())) if related.get("select") else model.objects
    )
    target = queryset.filter(pk=identifier).first()
    if target is None:
        raise NotFound()
    require_in_scope(request.user, target, path=request.path)
    return target


def _show_refusal(form: forms.Form, refusal: ActionRefused) -> None:
    """Rule violations go next to their field; refusals of access stay 403/404 pages."""
    if refusal.status not in (400, 409):
        raise refusal
    form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)


def _refusal_message(request: HttpRequest, refusal: ActionRefused) -> None:
    if refusal.status not in (400, 409):
        raise refusal
    messages.error(request, refusal.message)


def _back(url_name: str, site: Site, *args: Any) -> HttpResponse:
    return redirect(f"{reverse(url_name, args=args)}?site={site.pk}")


# ---------------------------------------------------------------------------------------------
# Coverage board


@require_GET
@staff_view(Capability.CHECK_IN)
def start_view(request: HttpRequest) -> HttpResponse:
    """/duty/: the board for those who manage duty, one's own check-ins for everyone else."""
    return redirect("duty:board" if request.user.has_capability(Capability.MANAGE_DUTY) else "duty:check_in")


@require_GET
@staff_view(Capability.MANAGE_DUTY)
def board_view(request: HttpRequest) -> HttpResponse:
    site = _chosen_site(request, Capability.MANAGE_DUTY)
    start = _date_param(request, "start") or timezone.localdate()
    report = coverage(site, start, DEFAULT_DAYS)
    day = _date_param(request, "day")
    return render(
        request,
        "duty/board.html",
        {
            "site": site,
            "sites": _sites_for(request, Capability.MANAGE_DUTY),
            "report": report,
            "board": board(report),
            "gaps": gap_lines(report, 40),
            "day": day if day and report.start <= day <= report.end else None,
            "day_rows": day_detail(report, day) if day else [],
            "previous_start": start - dt.timedelta(days=DEFAULT_DAYS),
            "next_start": start + dt.timedelta(days=DEFAULT_DAYS),
        },
    )


# ---------------------------------------------------------------------------------------------
# Posts and A/B roles


def _post_data(form: PostForm) -> actions.PostData:
    data = form.cleaned_data
    return actions.PostData(
        name=data["name"],
        kind=data["kind"],
        window=data["window"],
        required_qualification=data["required_qualification"],
        is_active=data["is_active"],
    )


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_DUTY)
def post_list_view(request: HttpRequest) -> HttpResponse:
    site = _chosen_site(request, Capability.MANAGE_DUTY)
    form = PostForm(request.POST or None, site=site, initial={"is_active": True})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                post = actions.create_post(request.user, site, _post_data(form))
                messages.success(
                    request, _("已新增岗位 %(name)s，请为其指定A角和B角。") % {"name": post.name}
                )
                return redirect("duty:post_detail", post.pk)
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    today = timezone.localdate()
    posts = list(Post.objects.filter(site=site).select_related("window").order_by("-is_active", "name"))
    holders: dict[int, dict[str, list[str]]] = {post.pk: {"a": [], "b": []} for post in posts}
    for assignment in Assignment.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=today), post__site=site, valid_from__lte=today
    ).select_related("staff"):
        holders[assignment.post_id][assignment.role].append(assignment.staff.full_name)
    rows = [{"post": post, "a": holders[post.pk]["a"], "b": holders[post.pk]["b"]} for post in posts]
    return render(
        request,
        "duty/posts.html",
        {"site": site, "sites": _sites_for(request, Capability.MANAGE_DUTY), "rows": rows, "form": form},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_DUTY)
def post_detail_view(request: HttpRequest, post_id: int) -> HttpResponse:
    post = _in_scope(request, Post, post_id, select=("site", "window"))
    initial = {
        "name": post.name,
        "kind": post.kind,
        "window": post.window_id,
        "required_qualification": post.required_qualification,
        "is_active": post.is_active,
    }
    post_form = PostForm(request.POST or None, site=post.site, initial=initial)
    status = 200
    if request.method == "POST":
        if post_form.is_valid():
            try:
                actions.update_post(request.user, post, _post_data(post_form))
                messages.success(request, _("已保存。"))
                return redirect("duty:post_detail", post.pk)
            except ActionRefused as refusal:
                _show_refusal(post_form, refusal)
        status = 400
    return _post_detail_page(request, post, post_form=post_form, status=status)


def _post_detail_page(
    request: HttpRequest,
    post: Post,
    *,
    post_form: PostForm | None = None,
    assignment_form: AssignmentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    today = timezone.localdate()
    assignments = list(
        Assignment.objects.filter(post=post).select_related("staff").order_by("role", "valid_from", "id")
    )
    return render(
        request,
        "duty/post_detail.html",
        {
            "post": post,
            "post_form": post_form
            or PostForm(site=post.site, initial={"name": post.name, "kind": post.kind}),
            "assignment_form": assignment_form
            or AssignmentForm(site=post.site, initial={"valid_from": today, "role": AssignmentRole.B}),
            "current": [item for item in assignments if item.valid_to is None or item.valid_to >= today],
            "past": [item for item in assignments if item.valid_to is not None and item.valid_to < today],
            "today": today,
        },
        status=status,
    )


@require_POST
@staff_view(Capability.MANAGE_DUTY)
def assign_view(request: HttpRequest, post_id: int) -> HttpResponse:
    post = _in_scope(request, Post, post_id, select=("site", "window"))
    form = AssignmentForm(request.POST, site=post.site)
    if form.is_valid():
        data = form.cleaned_data
        try:
            assignment = actions.assign(
                request.user, post, data["staff"], data["role"], data["valid_from"], data["valid_to"]
            )
            messages.success(
                request,
                _("已指定 %(name)s 为%(role)s。")
                % {"name": assignment.staff.full_name, "role": assignment.get_role_display()},
            )
            return redirect("duty:post_detail", post.pk)
        except ActionRefused as refusal:
            _show_refusal(form, refusal)
    return _post_detail_page(request, post, assignment_form=form, status=400)


@require_POST
@staff_view(Capability.MANAGE_DUTY)
def end_assignment_view(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = _in_scope(request, Assignment, assignment_id)
    form = LastDayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写最后一天。"))
        return redirect("duty:post_detail", assignment.post_id)
    try:
        actions.end_assignment(request.user, assignment, form.cleaned_data["last_day"])
        messages.success(request, _("已结束该任期。"))
    except ActionRefused as refusal:
        _refusal_message(request, refusal)
    return redirect("duty:post_detail", assignment.post_id)


# ---------------------------------------------------------------------------------------------
# Roster


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_DUTY)
def roster_view(request: HttpRequest) -> HttpResponse:
    site = _chosen_site(request, Capability.MANAGE_DUTY)
    today = timezone.localdate()
    pattern_form = PatternForm(
        request.POST if request.POST.get("form") == "pattern" else None,
        site=site,
        initial={"valid_from": today},
    )
    exception_form = ExceptionForm(
        request.POST if request.POST.get("form") == "exception" else None, site=site, initial={"date": today}
    )
    status = 200
    if request.method == "POST":
        form = pattern_form if request.POST.get("form") == "pattern" else exception_form
        if form.is_valid():
            data = form.cleaned_data
            try:
                if form is pattern_form:
                    actions.add_roster_pattern(
                        request.user,
                        data["post"],
                        data["staff"],
                        data["weekday"],
                        data["period"],
                        data["valid_from"],
                        data["valid_to"],
                    )
                    messages.success(request, _("已添加排班。"))
                else:
                    actions.add_roster_exception(
                        request.user,
                        data["post"],
                        data["staff"],
                        data["date"],
                        data["period"],
                        data["kind"],
                        data["reason"],
                    )
                    messages.success(request, _("已添加排班调整。"))
                return _back("duty:roster", site)
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    patterns = list(
        RosterPattern.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today), site=site)
        .select_related("post", "staff")
        .order_by("weekday", "period", "post__name")
    )
    grid = []
    for weekday in Weekday:
        periods = (
            [PeriodKind.SATURDAY]
            if weekday == SATURDAY
            else [PeriodKind.MORNING, PeriodKind.LUNCH, PeriodKind.AFTERNOON]
        )
        cells = [
            {
                "period": PeriodKind(period).label,
                "entries": [p for p in patterns if p.weekday == weekday and p.period == period],
            }
            for period in periods
        ]
        if any(cell["entries"] for cell in cells) or weekday <= SATURDAY:
            grid.append({"weekday": weekday.label, "cells": cells})
    exceptions = (
        RosterException.objects.filter(site=site, date__gte=today)
        .select_related("post", "staff")
        .order_by("date", "period")
    )
    return render(
        request,
        "duty/roster.html",
        {
            "site": site,
            "sites": _sites_for(request, Capability.MANAGE_DUTY),
            "grid": grid,
            "exceptions": exceptions,
            "pattern_form": pattern_form,
            "exception_form": exception_form,
            "today": today,
        },
        status=status,
    )


@require_POST
@staff_view(Capability.MANAGE_DUTY)
def end_pattern_view(request: HttpRequest, pattern_id: int) -> HttpResponse:
    pattern = _in_scope(request, RosterPattern, pattern_id, select=("site",))
    form = LastDayForm(request.POST)
    if form.is_valid():
        try:
            actions.end_roster_pattern(request.user, pattern, form.cleaned_data["last_day"])
            messages.success(request, _("已结束该排班。"))
        except ActionRefused as refusal:
            _refusal_message(request, refusal)
    else:
        messages.error(request, _("请填写最后一天。"))
    return _back("duty:roster", pattern.site)


@require_POST
@staff_view(Capability.MANAGE_DUTY)
def delete_exception_view(request: HttpRequest, exception_id: int) -> HttpResponse:
    exception = _in_scope(request, RosterException, exception_id, select=("site",))
    actions.delete_roster_exception(request.user, exception)
    messages.success(request, _("已删除排班调整。"))
    return _back("duty:roster", exception.site)


# ---------------------------------------------------------------------------------------------
# Leave


def _leave_data(form: LeaveRequestForm | EmergencyLeaveForm) -> actions.LeaveData:
    data = form.cleaned_data
    return actions.LeaveData(
        starts_on=data["starts_on"],
        ends_on=data["ends_on"],
        kind=data.get("kind", ""),
        reason=data["reason"],
        substitute=data.get("substitute"),
        handover_note=data.get("handover_note", ""),
        handover_items=form.items() if isinstance(form, LeaveRequestForm) else [],
    )


def _candidate_context(
    request: HttpRequest, staff: User, starts_on: dt.date | None, ends_on: dt.date | None, **extra: Any
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "free": [],
        "unavailable": [],
        "dates_chosen": False,
        "selected": extra.get("selected"),
    }
    if (
        starts_on is None
        or ends_on is None
        or ends_on < starts_on
        or (ends_on - starts_on).days >= actions.LEAVE_DAYS_MAX
    ):
        return context
    candidates, inputs = substitute_candidates(
        staff.site, staff, starts_on, ends_on, ignore_leave_id=extra.get("ignore", 0)
    )
    names = {candidate.staff.pk: candidate.staff.full_name for candidate in candidates}
    context["dates_chosen"] = True
    context["free"] = [candidate.staff for candidate in candidates if candidate.is_free]
    context["unavailable"] = [
        {
            "staff": candidate.staff,
            "reason": problem_message(candidate.problems[0], inputs, names, candidate.staff.full_name),
        }
        for candidate in candidates
        if not candidate.is_free
    ]
    return context


@require_http_methods(["GET", "POST"])
@staff_view(Capability.REQUEST_LEAVE)
def my_leave_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = LeaveRequestForm(request.POST or None, site=user.site)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.request_leave(user, _leave_data(form))
                messages.success(request, _("请假申请已提交，等待负责人审批。"))
                return redirect("duty:my_leave")
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    starts_on = (
        form.cleaned_data.get("starts_on") if form.is_bound and hasattr(form, "cleaned_data") else None
    )
    ends_on = form.cleaned_data.get("ends_on") if form.is_bound and hasattr(form, "cleaned_data") else None
    selected = request.POST.get("substitute", "")
    leaves = (
        Leave.objects.filter(staff=user).select_related("substitute").prefetch_related("handover_items")[:50]
    )
    return render(
        request,
        "duty/my_leave.html",
        {
            "form": form,
            "leaves": leaves,
            "today": timezone.localdate(),
            **_candidate_context(
                request, user, starts_on, ends_on, selected=int(selected) if selected.isdigit() else None
            ),
        },
        status=status,
    )


@require_GET
@staff_view(Capability.REQUEST_LEAVE)
def candidates_view(request: HttpRequest) -> HttpResponse:
    """The substitute field for the chosen dates: the free, qualified colleagues, and why others are not."""
    context = _candidate_context(
        request, request.user, _date_param(request, "starts_on"), _date_param(request, "ends_on")
    )
    return render(request, "duty/_substitute_field.html", context)


@require_POST
@staff_view(Capability.REQUEST_LEAVE)
def cancel_leave_view(request: HttpRequest, leave_id: int) -> HttpResponse:
    leave = Leave.objects.filter(pk=leave_id).first()
    if leave is None:
        raise NotFound()
    if leave.staff_id != request.user.pk:
        require_in_scope(request.user, leave, path=request.path)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        actions.cancel_leave(request.user, leave, reason)
        messages.success(request, _("已撤销请假。"))
    except ActionRefused as refusal:
        _refusal_message(request, refusal)
    if leave.staff_id == request.user.pk:
        return redirect("duty:my_leave")
    return _back("duty:leave_queue", Site.objects.get(pk=leave.site_id))


@require_GET
@staff_view(Capability.MANAGE_DUTY)
def leave_queue_view(request: HttpRequest) -> HttpResponse:
    site = _chosen_site(request, Capability.MANAGE_DUTY)
    today = timezone.localdate()
    pending = list(
        Leave.objects.filter(site=site, status=LeaveStatus.REQUESTED)
        .select_related("staff", "substitute")
        .prefetch_related("handover_items")
        .order_by("starts_on")[:QUEUE_LIMIT]
    )
    rows = []
    for leave in pending:
        context = _candidate_context(request, leave.staff, leave.starts_on, leave.ends_on, ignore=leave.pk)
        rows.append({"leave": leave, "free": context["free"], "unavailable": context["unavailable"]})
    upcoming = (
        Leave.objects.filter(site=site, status=LeaveStatus.APPROVED, ends_on__gte=today)
        .select_related("staff", "substitute", "approved_by")
        .order_by("starts_on")[:QUEUE_LIMIT]
    )
    return render(
        request,
        "duty/leave_queue.html",
        {
            "site": site,
            "sites": _sites_for(request, Capability.MANAGE_DUTY),
            "rows": rows,
            "upcoming": upcoming,
            "today": today,
        },
    )


@require_POST
@staff_view(Capability.MANAGE_DUTY)
def approve_leave_view(request: HttpRequest, leave_id: int) -> HttpResponse:
    leave = _in_scope(request, Leave, leave_id, select=("site", "staff"))
    form = ApproveForm(request.POST, site=leave.site)
    if form.is_valid():
        try:
            actions.approve_leave(
                request.user, leave, form.cleaned_data["substitute"], form.cleaned_data["note"]
            )
            messages.success(request, _("已批准 %(name)s 的请假。") % {"name": leave.staff.full_name})
        except ActionRefused as refusal:
            _refusal_message(request, refusal)
    else:
        messages.error(request, _("替岗人员无效。"))
    return _back("duty:leave_queue", leave.site)


@require_POST
@staff_view(Capability.MANAGE_DUTY)
def reject_leave_view(request: HttpRequest, leave_id: int) -> HttpResponse:
    leave = _in_scope(request, Leave, leave_id, select=("site", "staff"))
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        actions.reject_leave(request.user, leave, reason)
        messages.success(request, _("已驳回 %(name)s 的请假。") % {"name": leave.staff.full_name})
    except ActionRefused as refusal:
        _refusal_message(request, refusal)
    return _back("duty:leave_queue", leave.site)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_DUTY)
def emergency_leave_view(request: HttpRequest) -> HttpResponse:
    site = _chosen_site(request, Capability.MANAGE_DUTY)
    today = timezone.localdate()
    form = EmergencyLeaveForm(request.POST or None, site=site, initial={"starts_on": today, "ends_on": today})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                leave = actions.record_emergency_leave(
                    request.user, form.cleaned_data["staff"], _leave_data(form)
                )
                messages.success(request, _("已补登 %(name)s 的紧急请假。") % {"name": leave.staff.full_name})
                return _back("duty:leave_queue", site)
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    return render(request, "duty/emergency_leave.html", {"site": site, "form": form}, status=status)


# ---------------------------------------------------------------------------------------------
# Attendance and away from post


def _slot_states(
    staff: User, day: dt.date, plan: Any, rows: dict[str, CheckIn], now: dt.datetime
) -> list[dict[str, Any]]:
    zone = timezone.get_current_timezone()
    states = []
    for slot in CheckInSlot:
        half = plan.half(SLOT_HALF[slot]) if plan else None
        entry = rows.get(slot)
        state: dict[str, Any] = {
            "slot": slot,
            "label": slot.label,
            "entry": entry,
            "open": False,
            "css": "",
            "text": "",
        }
        if half is None:
            state.update(text=_("无需打卡"), css="muted")
        else:
            times = slot_times(slot, half, day, actions.lead_minutes(), zone)
            state["due"] = timezone.localtime(times.expected_at, zone).strftime("%H:%M")
            if entry is not None and entry.at is not None:
                state["text"] = f"{timezone.localtime(entry.at, zone):%H:%M} {entry.get_status_display()}"
                state["css"] = "tag-ok" if entry.status == CheckInStatus.ON_TIME else "tag-warn"
            elif entry is not None or now > times.closes_at:
                state.update(text=_("缺卡"), css="tag-danger")
            elif now < times.opens_at:
                state.update(
                    text=_("%(time)s 起可打卡")
                    % {"time": timezone.localtime(times.opens_at, zone).strftime("%H:%M")}
                )
            else:
                state.update(text=_("待打卡"), open=True)
            if entry is not None and entry.corrected_by_id:
                state["text"] += _("（已更正）")
        states.append(state)
    return states


@require_http_methods(["GET", "POST"])
@staff_view(Capability.CHECK_IN)
def check_in_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = CheckInForm(request.POST)
        if form.is_valid():
            try:
                entry = actions.check_in(user, form.cleaned_data["slot"])
                messages.success(
                    request,
                    _("“%(slot)s”打卡成功：%(status)s。")
                    % {"slot": entry.get_slot_display(), "status": entry.get_status_display()},
                )
            except ActionRefused as refusal:
                _refusal_message(request, refusal)
        else:
            messages.error(request, _("打卡类型无效。"))
        return redirect("duty:check_in")
    now = timezone.now()
    today = timezone.localdate()
    plan = day_plan(user.site, today)
    rows = {entry.slot: entry for entry in CheckIn.objects.filter(staff=user, date=today)}
    on_leave = Leave.objects.filter(
        staff=user, status=LeaveStatus.APPROVED, starts_on__lte=today, ends_on__gte=today
    ).first()
    away = AwayRecord.objects.filter(staff=user, ended_at__isnull=True).first()
    return render(
        request,
        "duty/check_in.html",
        {
            "today": today,
            "plan": plan,
            "states": _slot_states(user, today, plan, rows, now) if plan and not on_leave else [],
            "on_leave": on_leave,
            "away": away,
            "away_form": AwayForm(),
            "lead_minutes": actions.lead_minutes(),
            "away_limit": actions.away_limit_minutes(),
            "recent_away": AwayRecord.objects.filter(staff=user).order_by("-started_at")[:5],
        },
    )


@require_POST
@staff_view(Capability.CHECK_IN)
def away_view(request: HttpRequest) -> HttpResponse:
    form = AwayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("操作无效。"))
        return redirect("duty:check_in")
    action = form.cleaned_data["action"]
    whereabouts = form.cleaned_data["whereabouts"]
    try:
        if action == "start":
            actions.start_away(request.user, whereabouts=whereabouts)
            messages.success(
                request,
                _("已登记离岗，窗口暂停服务。离岗超过 %(limit)d 分钟须说明去向。")
                % {"limit": actions.away_limit_minutes()},
            )
        elif action == "whereabouts":
            away = AwayRecord.objects.filter(staff=request.user, ended_at__isnull=True).first()
            if away is None:
                raise ActionRefused(_("您当前没有离岗登记。"), code="not_away")
            actions.record_whereabouts(request.user, away, whereabouts)
            messages.success(request, _("已说明去向。"))
        else:
            actions.return_to_post(request.user)
            messages.success(request, _("已返岗。"))
    except ActionRefused as refusal:
        _refusal_message(request, refusal)
    return redirect("duty:check_in")


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_DUTY)
def attendance_view(request: HttpRequest) -> HttpResponse:
    site = _chosen_site(request, Capability.MANAGE_DUTY)
    raw_day = request.POST.get("date") or request.GET.get("date") or ""
    try:
        day = dt.date.fromisoformat(raw_day) if raw_day else timezone.localdate()
    except ValueError:
        day = timezone.localdate()
    form = CorrectionForm(request.POST or None, site=site)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            at = timezone.make_aware(dt.datetime.combine(day, data["time"]), timezone.get_current_timezone())
            try:
                actions.correct_check_in(request.user, data["staff"], day, data["slot"], at, data["reason"])
                messages.success(request, _("已更正 %(name)s 的考勤。") % {"name": data["staff"].full_name})
                return redirect(f"{reverse('duty:attendance')}?site={site.pk}&date={day.isoformat()}")
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    plan = day_plan(site, day)
    expected = set(actions.expected_staff(site, day, plan=plan)) if plan else set()
    entries = list(CheckIn.objects.filter(site=site, date=day))
    staff_ids = expected | {entry.staff_id for entry in entries}
    people = User.objects.filter(pk__in=staff_ids).order_by("staff_number")
    by_staff: dict[int, dict[str, CheckIn]] = {}
    for entry in entries:
        by_staff.setdefault(entry.staff_id, {})[entry.slot] = entry
    on_leave = set(
        Leave.objects.filter(
            site=site, status=LeaveStatus.APPROVED, starts_on__lte=day, ends_on__gte=day
        ).values_list("staff_id", flat=True)
    )
    now = timezone.now()
    rows = [
        {
            "staff": person,
            "on_leave": person.pk in on_leave,
            "states": _slot_states(person, day, plan, by_staff.get(person.pk, {}), now) if plan else [],
        }
        for person in people
    ]
    away_records = (
        AwayRecord.objects.filter(site=site, started_at__date=day)
        .select_related("staff", "window")
        .order_by("-started_at")
    )
    return render(
        request,
        "duty/attendance.html",
        {
            "site": site,
            "sites": _sites_for(request, Capability.MANAGE_DUTY),
            "day": day,
            "plan": plan,
            "rows": rows,
            "form": form,
            "away_records": away_records,
            "slots": list(CheckInSlot),
            "lead_minutes": actions.lead_minutes(),
        },
        status=status,
    )


@require_GET
@staff_view(Capability.CHECK_IN)
def substitution_view(request: HttpRequest) -> HttpResponse:
    """替岗: whom I stand in for and when — named on their leave, or as B角 on the board."""
    user = request.user
    today = timezone.localdate()
    leaves = substitutions_of(user, today)
    report = coverage(user.site, today, SUBSTITUTION_DAYS)
    stand_ins = [
        {
            "day": cell.day,
            "period": PeriodKind(cell.period.kind).label,
            "post": report.post_label(cell.post_id),
            "basis": cell.basis,
            "absent": "、".join(report.name(staff_id) for staff_id, _why in cell.absent),
        }
        for cell in report.cells
        if user.pk in cell.staff_ids and cell.basis in (Basis.SUBSTITUTE, Basis.B)
    ]
    return render(
        request, "duty/substitution.html", {"leaves": leaves, "stand_ins": stand_ins, "today": today}
    )


# ---------------------------------------------------------------------------------------------
# Training and qualifications


def _trainable_staff(request: HttpRequest) -> Any:
    return (
        User.objects.restrict(request.user, Capability.MANAGE_TRAINING)
        .filter(is_active=True)
        .order_by("staff_number")
    )


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_TRAINING)
def training_list_view(request: HttpRequest) -> HttpResponse:
    site = _chosen_site(request, Capability.MANAGE_TRAINING)
    form = TrainingForm(request.POST or None, initial={"date": timezone.localdate(), "validity_days": 365})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                session = actions.create_training_session(
                    request.user,
                    site,
                    actions.TrainingData(
                        data["date"],
                        data["topic"],
                        data["post_kinds"],
                        data["validity_days"],
                        data["trainer"],
                    ),
                )
                messages.success(request, _("已新建培训，请登记参训人员与考核结果。"))
                return redirect("duty:training_detail", session.pk)
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    sessions = TrainingSession.objects.filter(site=site).order_by("-date", "-id")[:100]
    return render(
        request,
        "duty/training_list.html",
        {
            "site": site,
            "sites": _sites_for(request, Capability.MANAGE_TRAINING),
            "sessions": sessions,
            "form": form,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_TRAINING)
def training_detail_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _in_scope(request, TrainingSession, session_id, select=("site",))
    form = ResultForm(request.POST or None, staff_queryset=_trainable_staff(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.record_training_result(
                    request.user, session, data["staff"], data["passed"], data["note"]
                )
                messages.success(
                    request, _("已登记 %(name)s 的考核结果。") % {"name": data["staff"].full_name}
                )
                return redirect("duty:training_detail", session.pk)
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    attendances = session.attendances.select_related("staff").order_by("staff__staff_number")
    return render(
        request,
        "duty/training_detail.html",
        {
            "session": session,
            "kinds": [PostKind(kind).label for kind in session.post_kinds if kind in PostKind.values],
            "attendances": attendances,
            "form": form,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_view(Capability.MANAGE_TRAINING)
def qualification_list_view(request: HttpRequest) -> HttpResponse:
    site = _chosen_site(request, Capability.MANAGE_TRAINING)
    today = timezone.localdate()
    form = QualificationForm(
        request.POST or None,
        staff_queryset=_trainable_staff(request),
        initial={"valid_from": today, "valid_until": today + dt.timedelta(days=364)},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.enter_qualification(
                    request.user,
                    data["staff"],
                    data["post_kind"],
                    data["valid_from"],
                    data["valid_until"],
                    data["note"],
                )
                messages.success(request, _("已录入资质。"))
                return _back("duty:qualifications", site)
            except ActionRefused as refusal:
                _show_refusal(form, refusal)
        status = 400
    people = list(User.objects.filter(site=site, is_active=True).order_by("staff_number"))
    qualifications = Qualification.objects.filter(staff__in=people).order_by("post_kind", "-valid_until")
    by_staff: dict[int, list[dict[str, Any]]] = {person.pk: [] for person in people}
    soon = today + dt.timedelta(days=30)
    for qualification in qualifications:
        if qualification.revoked_at is not None:
            state, css = _("已撤销"), "tag-warn"
        elif qualification.valid_until < today:
            state, css = _("已过期"), "tag-danger"
        elif qualification.valid_from > today:
            state, css = _("未生效"), "tag-warn"
        elif qualification.valid_until <= soon:
            state, css = _("即将到期"), "tag-warn"
        else:
            state, css = _("有效"), "tag-ok"
        by_staff[qualification.staff_id].append({"item": qualification, "state": state, "css": css})
    rows = [{"staff": person, "qualifications": by_staff[person.pk]} for person in people]
    return render(
        request,
        "duty/qualifications.html",
        {"site": site, "sites": _sites_for(request, Capability.MANAGE_TRAINING), "rows": rows, "form": form},
        status=status,
    )


@require_POST
@staff_view(Capability.MANAGE_TRAINING)
def revoke_qualification_view(request: HttpRequest, qualification_id: int) -> HttpResponse:
    qualification = _in_scope(request, Qualification, qualification_id, select=("site",))
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        actions.revoke_qualification(request.user, qualification, reason)
        messages.success(request, _("已撤销资质。"))
    except ActionRefused as refusal:
        _refusal_message(request, refusal)
    return _back("duty:qualifications", qualification.site)
