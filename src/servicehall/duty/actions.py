"""Every change to duty: one function, one transaction, row locks where two people can race, an audit record.

Who may do what (accounts.roles): MANAGE_DUTY (窗口负责人, 中心管理员) sets posts, A/B roles and the
roster, decides leave, records emergency leave and corrects check-ins; MANAGE_TRAINING (中心管理员)
keeps training and qualifications; staff ask for leave (REQUEST_LEAVE), check in and record being
away from their post (CHECK_IN). Everything outside the actor's sites does not exist for them.

Locks: a person's schedule changes under a lock on their account row (``_lock_staff``), so an
approval that names them as 替岗人员 and a roster change that makes them busy cannot both pass; A角
changes of one post queue on the post row.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehall.accounts.models import User
from servicehall.accounts.permissions import audit_refusal, require_capability, require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.audit.actions import record, snapshot
from servicehall.duty.coverage import day_plan, load_inputs, problem_message
from servicehall.duty.models import (
    ACTIVE_LEAVE_STATUSES,
    LEAVE_TRANSITIONS,
    Assignment,
    AssignmentRole,
    AwayRecord,
    CheckIn,
    CheckInSlot,
    CheckInSource,
    CheckInStatus,
    HandoverItem,
    Leave,
    LeaveEvent,
    LeaveKind,
    LeaveStatus,
    PeriodKind,
    Post,
    Qualification,
    QualificationSource,
    RosterException,
    RosterExceptionKind,
    RosterPattern,
    TrainingAttendance,
    TrainingSession,
)
from servicehall.duty.rules import (
    SATURDAY,
    SLOT_HALF,
    SLOT_PAIRS,
    Basis,
    assess_check_in,
    last_working_day_before,
    merge_periods,
    notice_is_sufficient,
    planned_primaries,
    slot_times,
    substitute_problems,
)
from servicehall.lib.errors import ActionRefused, Conflict, PermissionRefused
from servicehall.sites.models import OpeningPeriod, PostKind, Site, Weekday, Window
from servicehall.supervision.actions import record_violation
from servicehall.supervision.models import ViolationKind, ViolationSource
from servicehall.workdays import service as workdays

NAME_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 1000
HANDOVER_ITEMS_MAX = 20
LEAVE_DAYS_MAX = 180
VALIDITY_DAYS_MAX = 3 * 366
SWEEP_LOOKBACK_DAYS = 2
POST_AUDITED_FIELDS = ["name", "kind", "window", "required_qualification", "is_active"]
LEAVE_AUDITED_FIELDS = ["staff", "starts_on", "ends_on", "kind", "status", "substitute"]
CHECK_IN_AUDITED_FIELDS = ["staff", "date", "slot", "at", "source", "status", "correction_reason"]


def lead_minutes() -> int:
    """How long before opening staff must be at their post (seed 003 15 提前10分钟到岗)."""
    return int(getattr(settings, "SERVICEHALL_DUTY_LEAD_MINUTES", 10))


def away_limit_minutes() -> int:
    """How long staff may be away before a 去向 is due (seed 003 15 离岗10分钟以上必须说明去向)."""
    return int(getattr(settings, "SERVICEHALL_DUTY_AWAY_LIMIT_MINUTES", 10))


# ---------------------------------------------------------------------------------------------
# Shared checks


def _clean_text(value: Any, field_name: str, label: str, *, max_length: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ActionRefused(_("%(label)s格式不正确。") % {"label": label}, code="invalid", field=field_name)
    value = value.strip()
    if required and not value:
        raise ActionRefused(_("请填写%(label)s。") % {"label": label}, code="required", field=field_name)
    if len(value) > max_length:
        raise ActionRefused(
            _("%(label)s不能超过 %(limit)d 个字符。") % {"label": label, "limit": max_length},
            code="too_long",
            field=field_name,
        )
    if any(unicodedata.category(character) == "Cc" and character not in "\n\r\t" for character in value):
        raise ActionRefused(
            _("%(label)s不能包含控制字符。") % {"label": label}, code="invalid", field=field_name
        )
    return value


def _require_date(value: Any, field_name: str, label: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ActionRefused(_("%(label)s格式不正确。") % {"label": label}, code="invalid", field=field_name)
    return value


def _require_post_kind(value: Any, field_name: str) -> str:
    if value not in PostKind.values:
        raise ActionRefused(_("岗位类型无效。"), code="invalid_post_kind", field=field_name)
    return str(value)


def _require_manager(actor: User, target: Any) -> None:
    require_capability(actor, Capability.MANAGE_DUTY)
    require_in_scope(actor, target)


def _require_same_site(staff: User, site_id: int, field_name: str = "staff") -> None:
    if staff.site_id != site_id:
        raise ActionRefused(
            _("%(name)s 不是本场所的工作人员，不能在此安排。") % {"name": staff.full_name},
            code="other_site",
            field=field_name,
        )
    if not staff.is_active:
        raise ActionRefused(
            _("%(name)s 的账户已停用，不能安排。") % {"name": staff.full_name},
            code="inactive",
            field=field_name,
        )


def _lock_staff(*staff: User) -> None:
    """Lock the account rows in id order, so two actions on the same people queue rather than deadlock."""
    identifiers = sorted({person.pk for person in staff})
    list(
        User.objects.select_for_update()
        .filter(pk__in=identifiers)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _qualification_refusal(staff: User, post_kind: str, day: dt.date) -> ActionRefused | None:
    """Why ``staff`` may not hold a post of ``post_kind`` on ``day`` — 先培训、后上岗 — or None."""
    rows = Qualification.objects.filter(staff=staff, post_kind=post_kind, revoked_at__isnull=True)
    if rows.filter(valid_from__lte=day, valid_until__gte=day).exists():
        return None
    label = PostKind(post_kind).label
    latest = rows.order_by("-valid_until").first()
    if latest is None:
        message = _(
            "%(name)s 尚未取得“%(kind)s”上岗资质（未参加培训或考核未合格），不能安排上岗：先培训、后上岗。"
        ) % {
            "name": staff.full_name,
            "kind": label,
        }
    elif latest.valid_until < day:
        message = _(
            "%(name)s 的“%(kind)s”上岗资质已于 %(date)s 过期，须重新培训合格后方可上岗（先培训、后上岗）。"
        ) % {
            "name": staff.full_name,
            "kind": label,
            "date": latest.valid_until.isoformat(),
        }
    else:
        message = _(
            "%(name)s 的“%(kind)s”上岗资质自 %(date)s 起生效，此前不能安排上岗（先培训、后上岗）。"
        ) % {
            "name": staff.full_name,
            "kind": label,
            "date": latest.valid_from.isoformat(),
        }
    return ActionRefused(message, code="not_qualified", field="staff")


def _require_qualified(staff: User, post_kind: str, day: dt.date) -> None:
    refusal = _qualification_refusal(staff, post_kind, day)
    if refusal is not None:
        raise refusal


def _overlaps(first: dt.date, last: dt.date | None) -> Q:
    """Rows with valid_from/valid_to overlapping [first, last] (last None: open-ended)."""
    condition = Q(valid_to__isnull=True) | Q(valid_to__gte=first)
    if last is not None:
        condition &= Q(valid_from__lte=last)
    return condition


def _check_span(valid_from: Any, valid_to: Any) -> tuple[dt.date, dt.date | None]:
    valid_from = _require_date(valid_from, "valid_from", _("起始日期"))
    if valid_to is not None:
        valid_to = _require_date(valid_to, "valid_to", _("截止日期"))
        if valid_to < valid_from:
            raise ActionRefused(_("截止日期不能早于起始日期。"), code="dates_out_of_order", field="valid_to")
    return valid_from, valid_to


# ---------------------------------------------------------------------------------------------
# Posts


@dataclass
class PostData:
    name: str
    kind: str
    window: Window | None = None
    required_qualification: str = ""
    is_active: bool = True


def _clean_post_data(site: Site, data: PostData, existing: Post | None) -> PostData:
    data.name = _clean_text(data.name, "name", _("岗位名称"), max_length=NAME_MAX_LENGTH, required=True)
    data.kind = _require_post_kind(data.kind, "kind")
    data.required_qualification = (
        _require_post_kind(data.required_qualification, "required_qualification")
        if data.required_qualification
        else data.kind
    )
    if data.window is not None:
        if data.window.site_id != site.pk:
            raise ActionRefused(_("窗口不属于该服务场所。"), code="other_site_window", field="window")
        if not data.window.is_active and (existing is None or existing.window_id != data.window.pk):
            raise ActionRefused(_("该窗口已停用，不能设岗。"), code="inactive_window", field="window")
    others = Post.objects.filter(site=site, name=data.name)
    if existing is not None:
        others = others.exclude(pk=existing.pk)
    if others.exists():
        raise ActionRefused(
            _("本场所已有名为“%(name)s”的岗位。") % {"name": data.name}, code="post_name_taken", field="name"
        )
    return data


def create_post(actor: User, site: Site, data: PostData) -> Post:
    _require_manager(actor, site)
    try:
        with transaction.atomic():
            Site.objects.select_for_update().get(pk=site.pk)
            data = _clean_post_data(site, data, None)
            post = Post.objects.create(
                site=site,
                window=data.window,
                kind=data.kind,
                name=data.name,
                required_qualification=data.required_qualification,
                is_active=data.is_active,
            )
            record("duty.post_created", actor=actor, target=post, after=snapshot(post, POST_AUDITED_FIELDS))
    except IntegrityError as error:
        raise ActionRefused(_("本场所已有同名岗位。"), code="post_name_taken", field="name") from error
    return post


def update_post(actor: User, post: Post, data: PostData) -> Post:
    _require_manager(actor, post)
    try:
        with transaction.atomic():
            post = Post.objects.select_for_update(of=("self",)).select_related("site").get(pk=post.pk)
            data = _clean_post_data(post.site, data, post)
            before = snapshot(post, POST_AUDITED_FIELDS)
            post.name = data.name
            post.kind = data.kind
            post.window = data.window
            post.required_qualification = data.required_qualification
            post.is_active = data.is_active
            post.save()
            record(
                "duty.post_updated",
                actor=actor,
                target=post,
                before=before,
                after=snapshot(post, POST_AUDITED_FIELDS),
            )
    except IntegrityError as error:
        raise ActionRefused(_("本场所已有同名岗位。"), code="post_name_taken", field="name") from error
    return post


# ---------------------------------------------------------------------------------------------
# A角 / B角


def _assignment_picture(assignment: Assignment) -> dict[str, Any]:
    return snapshot(assignment, ["post", "staff", "role", "valid_from", "valid_to"])


def assign(
    actor: User,
    post: Post,
    staff: User,
    role: str,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
) -> Assignment:
    """Make ``staff`` the A角 or a B角 of ``post`` from ``valid_from``.

    A new A角 takes over from an open-ended A角 who started earlier (交接: the old one ends the day
    before); any other overlap with an A角 is refused, as is one person being both A角 and B角 of a post
    or A角 of two posts at once. The holder must be qualified for the post (先培训、后上岗).
    """
    _require_manager(actor, post)
    if role not in AssignmentRole.values:
        raise ActionRefused(_("角色只能是A角或B角。"), code="invalid_role", field="role")
    valid_from, valid_to = _check_span(valid_from, valid_to)
    _require_same_site(staff, post.site_id)
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        if not post.is_active:
            raise ActionRefused(_("该岗位已停用。"), code="inactive_post", field="post")
        _lock_staff(staff)
        _require_qualified(staff, post.required_qualification, max(valid_from, timezone.localdate()))
        current = Assignment.objects.filter(_overlaps(valid_from, valid_to), post=post)
        if current.filter(staff=staff).exists():
            existing = current.filter(staff=staff).first()
            raise ActionRefused(
                _("%(name)s 在此期间已是该岗位的%(role)s。")
                % {"name": staff.full_name, "role": existing.get_role_display()},
                code="already_assigned",
                field="staff",
            )
        handed_over: Assignment | None = None
        if role == AssignmentRole.A:
            other_a = list(current.filter(role=AssignmentRole.A).select_related("staff"))
            for other in other_a:
                if (
                    other.valid_to is None
                    and other.valid_from < valid_from
                    and valid_to is None
                    and len(other_a) == 1
                ):
                    handed_over = other
                else:
                    raise ActionRefused(
                        _("该岗位在此期间已有A角 %(name)s（%(start)s 起），同一时间只能有一名A角。")
                        % {
                            "name": other.staff.full_name,
                            "start": other.valid_from.isoformat(),
                        },
                        code="a_role_taken",
                        field="staff",
                    )
            elsewhere = (
                Assignment.objects.filter(
                    _overlaps(valid_from, valid_to), staff=staff, role=AssignmentRole.A, post__is_active=True
                )
                .exclude(post=post)
                .select_related("post")
                .first()
            )
            if elsewhere is not None:
                raise ActionRefused(
                    _("%(name)s 在此期间已是“%(post)s”的A角，一人不能同时担任两个岗位的A角。")
                    % {
                        "name": staff.full_name,
                        "post": elsewhere.post.name,
                    },
                    code="a_role_elsewhere",
                    field="staff",
                )
        if handed_over is not None:
            before = _assignment_picture(handed_over)
            handed_over.valid_to = valid_from - dt.timedelta(days=1)
            handed_over.save(update_fields=["valid_to"])
            record(
                "duty.assignment_ended",
                actor=actor,
                target=handed_over,
                before=before,
                after={**_assignment_picture(handed_over), "handed_over_to": staff.pk},
            )
        assignment = Assignment.objects.create(
            site_id=post.site_id,
            post=post,
            staff=staff,
            role=role,
            valid_from=valid_from,
            valid_to=valid_to,
            created_by=actor,
        )
        record(
            "duty.assignment_created", actor=actor, target=assignment, after=_assignment_picture(assignment)
        )
    return assignment


def end_assignment(actor: User, assignment: Assignment, last_day: dt.date) -> Assignment | None:
    """End an A/B role after ``last_day``; before it ever began, the role is withdrawn (returns None).

    A window post keeps its one A角 and at least one B角 (seed 000 AB岗工作制度 1): the last B角 is not
    ended until another is named, and an A角 is replaced by naming the new one, not by ending the old.
    """
    _require_manager(actor, assignment)
    last_day = _require_date(last_day, "last_day", _("最后一天"))
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=assignment.post_id)
        assignment = Assignment.objects.select_related("staff").get(pk=assignment.pk)
        if assignment.valid_to is not None and assignment.valid_to <= last_day:
            raise ActionRefused(
                _("该任期已于 %(date)s 结束。") % {"date": assignment.valid_to.isoformat()},
                code="already_ended",
            )
        if post.is_active and post.window_id is not None:
            following = last_day + dt.timedelta(days=1)
            others = Assignment.objects.filter(
                _overlaps(following, following), post=post, role=assignment.role
            ).exclude(pk=assignment.pk)
            if not others.exists():
                if assignment.role == AssignmentRole.B:
                    message = _(
                        "窗口岗位至少要有一名B角（AB岗工作制度）：请先指定新的B角，再结束 %(name)s 的B角。"
                    )
                else:
                    message = _("窗口岗位必须有A角（AB岗工作制度）：请直接指定新的A角，原A角将自动交接。")
                raise ActionRefused(message % {"name": assignment.staff.full_name}, code="last_role_holder")
        before = _assignment_picture(assignment)
        if last_day < assignment.valid_from:
            assignment_id, label = assignment.pk, str(assignment)
            assignment.delete()
            record(
                "duty.assignment_withdrawn",
                actor=actor,
                site=post.site,
                object_type="duty.assignment",
                object_id=str(assignment_id),
                object_label=label,
                before=before,
            )
            return None
        assignment.valid_to = last_day
        assignment.save(update_fields=["valid_to"])
        record(
            "duty.assignment_ended",
            actor=actor,
            target=assignment,
            before=before,
            after=_assignment_picture(assignment),
        )
    return assignment


# ---------------------------------------------------------------------------------------------
# Roster


def _opening_kinds(site: Site, weekday: int) -> set[str]:
    spans = list(OpeningPeriod.objects.filter(site=site, weekday=weekday).values_list("starts_at", "ends_at"))
    if weekday == SATURDAY:
        return {PeriodKind.SATURDAY} if spans else set()
    return {period.kind for period in merge_periods(spans)}


def _pattern_picture(pattern: RosterPattern) -> dict[str, Any]:
    return snapshot(pattern, ["post", "staff", "weekday", "period", "valid_from", "valid_to"])


def add_roster_pattern(
    actor: User,
    post: Post,
    staff: User,
    weekday: int,
    period: str,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
) -> RosterPattern:
    """Put ``staff`` on ``post`` every ``weekday`` in ``period`` (morning/afternoon/lunch/Saturday duty)."""
    _require_manager(actor, post)
    if isinstance(weekday, bool) or weekday not in Weekday.values:
        raise ActionRefused(
            _("星期须为 1（星期一）到 7（星期日）。"), code="invalid_weekday", field="weekday"
        )
    if period not in PeriodKind.values:
        raise ActionRefused(_("时段无效。"), code="invalid_period", field="period")
    if period == PeriodKind.SATURDAY and weekday != SATURDAY:
        raise ActionRefused(_("周六值班只能排在星期六。"), code="saturday_only", field="weekday")
    if weekday == SATURDAY and period != PeriodKind.SATURDAY:
        raise ActionRefused(
            _("星期六按周六值班排班（调休上班的星期六按星期一的排班）。"),
            code="saturday_duty",
            field="period",
        )
    valid_from, valid_to = _check_span(valid_from, valid_to)
    _require_same_site(staff, post.site_id)
    with transaction.atomic():
        post = Post.objects.select_for_update(of=("self",)).select_related("site").get(pk=post.pk)
        if not post.is_active:
            raise ActionRefused(_("该岗位已停用。"), code="inactive_post", field="post")
        if period not in _opening_kinds(post.site, weekday):
            raise ActionRefused(
                _("%(site)s %(weekday)s没有%(period)s办公时段，不能在此排班。")
                % {
                    "site": post.site.name,
                    "weekday": Weekday(weekday).label,
                    "period": PeriodKind(period).label,
                },
                code="closed_then",
                field="period",
            )
        _lock_staff(staff)
        _require_qualified(staff, post.required_qualification, max(valid_from, timezone.localdate()))
        clash = (
            RosterPattern.objects.filter(
                _overlaps(valid_from, valid_to), staff=staff, weekday=weekday, period=period
            )
            .select_related("post")
            .first()
        )
        if clash is not None:
            message = (
                _("%(name)s 已排在该岗位的这一时段。")
                if clash.post_id == post.pk
                else _("%(name)s 每%(weekday)s%(period)s已排在“%(post)s”，同一时段不能排两个岗位。")
            )
            raise ActionRefused(
                message
                % {
                    "name": staff.full_name,
                    "weekday": Weekday(weekday).label,
                    "period": PeriodKind(period).label,
                    "post": clash.post.name,
                },
                code="double_booked",
                field="staff",
            )
        pattern = RosterPattern.objects.create(
            site_id=post.site_id,
            post=post,
            staff=staff,
            weekday=weekday,
            period=period,
            valid_from=valid_from,
            valid_to=valid_to,
            created_by=actor,
        )
        record("duty.roster_pattern_created", actor=actor, target=pattern, after=_pattern_picture(pattern))
    return pattern


def end_roster_pattern(actor: User, pattern: RosterPattern, last_day: dt.date) -> RosterPattern | None:
    _require_manager(actor, pattern)
    last_day = _require_date(last_day, "last_day", _("最后一天"))
    with transaction.atomic():
        pattern = (
            RosterPattern.objects.select_for_update(of=("self",))
            .select_related("post", "site")
            .get(pk=pattern.pk)
        )
        if pattern.valid_to is not None and pattern.valid_to <= last_day:
            raise ActionRefused(
                _("该排班已于 %(date)s 结束。") % {"date": pattern.valid_to.isoformat()}, code="already_ended"
            )
        before = _pattern_picture(pattern)
        if last_day < pattern.valid_from:
            pattern_id, label, site = pattern.pk, str(pattern), pattern.site
            pattern.delete()
            record(
                "duty.roster_pattern_withdrawn",
                actor=actor,
                site=site,
                object_type="duty.rosterpattern",
                object_id=str(pattern_id),
                object_label=label,
                before=before,
            )
            return None
        pattern.valid_to = last_day
        pattern.save(update_fields=["valid_to"])
        record(
            "duty.roster_pattern_ended",
            actor=actor,
            target=pattern,
            before=before,
            after=_pattern_picture(pattern),
        )
    return pattern


def add_roster_exception(
    actor: User, post: Post, staff: User, day: dt.date, period: str, kind: str, reason: str = ""
) -> RosterException:
    """One day's change: add someone to a post-period, or take a rostered person off it."""
    _require_manager(actor, post)
    day = _require_date(day, "date", _("日期"))
    if period not in PeriodKind.values:
        raise ActionRefused(_("时段无效。"), code="invalid_period", field="period")
    if kind not in RosterExceptionKind.values:
        raise ActionRefused(_("调整类型无效。"), code="invalid_kind", field="kind")
    reason = _clean_text(reason, "reason", _("原因"), max_length=TEXT_MAX_LENGTH, required=False)
    _require_same_site(staff, post.site_id)
    with transaction.atomic():
        post = Post.objects.select_for_update(of=("self",)).select_related("site").get(pk=post.pk)
        plan = day_plan(post.site, day)
        open_period = (
            next((candidate for candidate in plan.periods if candidate.kind == period), None)
            if plan
            else None
        )
        if open_period is None:
            raise ActionRefused(
                _("%(site)s %(date)s 没有%(period)s办公时段。")
                % {
                    "site": post.site.name,
                    "date": day.isoformat(),
                    "period": PeriodKind(period).label,
                },
                code="closed_then",
                field="period",
            )
        _lock_staff(staff)
        inputs = load_inputs(post.site, day, day, plans=[plan])
        primaries = planned_primaries(inputs, plan, open_period)
        scheduled_here = staff.pk in primaries.get(post.pk, ([], ""))[0]
        if kind == RosterExceptionKind.REMOVE and not scheduled_here:
            raise ActionRefused(
                _("%(name)s 当天该时段不在此岗位的排班中；A角不在岗请走请假。") % {"name": staff.full_name},
                code="not_rostered",
                field="staff",
            )
        if kind == RosterExceptionKind.ADD:
            _require_qualified(staff, post.required_qualification, day)
            if scheduled_here:
                raise ActionRefused(
                    _("%(name)s 当天该时段已在此岗位。") % {"name": staff.full_name},
                    code="already_rostered",
                    field="staff",
                )
            # Rostering an A角 elsewhere is allowed (the roster wins and the board shows the consequence);
            # being rostered at two posts at once is not.
            elsewhere = next(
                (
                    other
                    for other, (people, basis) in primaries.items()
                    if staff.pk in people and basis == Basis.ROSTER and other != post.pk
                ),
                None,
            )
            if elsewhere is not None:
                raise ActionRefused(
                    _("%(name)s 当天该时段已在“%(post)s”，同一时段不能排两个岗位。")
                    % {
                        "name": staff.full_name,
                        "post": inputs.post_models[elsewhere].name,
                    },
                    code="double_booked",
                    field="staff",
                )
        if RosterException.objects.filter(post=post, staff=staff, date=day, period=period).exists():
            raise ActionRefused(_("当天该时段已有此人的排班调整。"), code="exception_exists", field="staff")
        exception = RosterException.objects.create(
            site_id=post.site_id,
            post=post,
            staff=staff,
            date=day,
            period=period,
            kind=kind,
            reason=reason,
            created_by=actor,
        )
        record(
            "duty.roster_exception_created",
            actor=actor,
            target=exception,
            after=snapshot(exception, ["post", "staff", "date", "period", "kind", "reason"]),
        )
    return exception


def delete_roster_exception(actor: User, exception: RosterException) -> None:
    _require_manager(actor, exception)
    with transaction.atomic():
        exception = (
            RosterException.objects.select_for_update(of=("self",))
            .select_related("site")
            .get(pk=exception.pk)
        )
        before = snapshot(exception, ["post", "staff", "date", "period", "kind", "reason"])
        label = str(exception)
        site = exception.site
        exception.delete()
        record(
            "duty.roster_exception_deleted",
            actor=actor,
            site=site,
            object_type="duty.rosterexception",
            object_label=label,
            before=before,
        )


# ---------------------------------------------------------------------------------------------
# Training and qualifications


@dataclass
class TrainingData:
    date: dt.date
    topic: str
    post_kinds: Sequence[str]
    validity_days: int = 365
    trainer: str = ""


def create_training_session(actor: User, site: Site, data: TrainingData) -> TrainingSession:
    require_capability(actor, Capability.MANAGE_TRAINING)
    require_in_scope(actor, site)
    day = _require_date(data.date, "date", _("培训日期"))
    topic = _clean_text(data.topic, "topic", _("培训主题"), max_length=TEXT_MAX_LENGTH, required=True)
    trainer = _clean_text(data.trainer, "trainer", _("授课人"), max_length=50, required=False)
    kinds = sorted({_require_post_kind(kind, "post_kinds") for kind in (data.post_kinds or [])})
    if not kinds:
        raise ActionRefused(_("请选择培训合格后可上岗的岗位类型。"), code="required", field="post_kinds")
    validity = data.validity_days
    if isinstance(validity, bool) or not isinstance(validity, int) or not 1 <= validity <= VALIDITY_DAYS_MAX:
        raise ActionRefused(
            _("资质有效天数须为 1–%(limit)d 的整数。") % {"limit": VALIDITY_DAYS_MAX},
            code="invalid",
            field="validity_days",
        )
    with transaction.atomic():
        session = TrainingSession.objects.create(
            site=site,
            date=day,
            topic=topic,
            post_kinds=kinds,
            validity_days=validity,
            trainer=trainer,
            created_by=actor,
        )
        record(
            "duty.training_session_created",
            actor=actor,
            target=session,
            after=snapshot(session, ["date", "topic", "post_kinds", "validity_days", "trainer"]),
        )
    return session


def record_training_result(
    actor: User, session: TrainingSession, staff: User, passed: bool, note: str = ""
) -> TrainingAttendance:
    """Record attendance and the result; a pass grants the session's qualifications, a fail withdraws them."""
    require_capability(actor, Capability.MANAGE_TRAINING)
    require_in_scope(actor, session)
    require_in_scope(actor, staff)
    note = _clean_text(note, "note", _("备注"), max_length=TEXT_MAX_LENGTH, required=False)
    if session.date > timezone.localdate():
        raise ActionRefused(_("培训尚未举行，不能登记考核结果。"), code="training_not_held")
    with transaction.atomic():
        TrainingSession.objects.select_for_update().get(pk=session.pk)
        attendance = TrainingAttendance.objects.filter(session=session, staff=staff).first()
        before = snapshot(attendance, ["passed", "note"]) if attendance else None
        if attendance is None:
            attendance = TrainingAttendance.objects.create(
                site=session.site,
                session=session,
                staff=staff,
                passed=bool(passed),
                note=note,
                recorded_by=actor,
            )
        else:
            attendance.passed = bool(passed)
            attendance.note = note
            attendance.recorded_by = actor
            attendance.recorded_at = timezone.now()
            attendance.save()
        derived = Qualification.objects.filter(attendance=attendance, revoked_at__isnull=True)
        granted: list[str] = []
        revoked: list[str] = []
        if attendance.passed and not derived.exists():
            valid_until = session.date + dt.timedelta(days=session.validity_days - 1)
            for kind in session.post_kinds:
                Qualification.objects.create(
                    site_id=staff.site_id,
                    staff=staff,
                    post_kind=kind,
                    valid_from=session.date,
                    valid_until=valid_until,
                    source=QualificationSource.TRAINING,
                    attendance=attendance,
                    note=session.topic[:TEXT_MAX_LENGTH],
                    recorded_by=actor,
                )
                granted.append(kind)
        elif not attendance.passed:
            revoked = list(derived.values_list("post_kind", flat=True))
            derived.update(
                revoked_at=timezone.now(), revoked_by=actor, revocation_reason=_("培训考核结果更正为不合格")
            )
        record(
            "duty.training_result_recorded",
            actor=actor,
            target=attendance,
            before=before,
            after={"passed": attendance.passed, "note": note, "granted": granted, "revoked": revoked},
        )
    return attendance


def enter_qualification(
    actor: User, staff: User, post_kind: str, valid_from: dt.date, valid_until: dt.date, note: str
) -> Qualification:
    """A qualification held on other evidence (a certificate, training elsewhere); the evidence is the note."""
    require_capability(actor, Capability.MANAGE_TRAINING)
    require_in_scope(actor, staff)
    post_kind = _require_post_kind(post_kind, "post_kind")
    valid_from = _require_date(valid_from, "valid_from", _("生效日期"))
    valid_until = _require_date(valid_until, "valid_until", _("有效期至"))
    if valid_until < valid_from:
        raise ActionRefused(_("有效期至不能早于生效日期。"), code="dates_out_of_order", field="valid_until")
    if (valid_until - valid_from).days > VALIDITY_DAYS_MAX:
        raise ActionRefused(_("资质有效期不能超过三年。"), code="too_long", field="valid_until")
    note = _clean_text(
        note, "note", _("依据（如证书编号、培训机构）"), max_length=TEXT_MAX_LENGTH, required=True
    )
    with transaction.atomic():
        qualification = Qualification.objects.create(
            site_id=staff.site_id,
            staff=staff,
            post_kind=post_kind,
            valid_from=valid_from,
            valid_until=valid_until,
            source=QualificationSource.ENTERED,
            note=note,
            recorded_by=actor,
        )
        record(
            "duty.qualification_entered",
            actor=actor,
            target=qualification,
            after=snapshot(
                qualification, ["staff", "post_kind", "valid_from", "valid_until", "source", "note"]
            ),
        )
    return qualification


def revoke_qualification(actor: User, qualification: Qualification, reason: str) -> Qualification:
    require_capability(actor, Capability.MANAGE_TRAINING)
    require_in_scope(actor, qualification)
    reason = _clean_text(reason, "reason", _("撤销原因"), max_length=TEXT_MAX_LENGTH, required=True)
    with transaction.atomic():
        qualification = Qualification.objects.select_for_update().get(pk=qualification.pk)
        if qualification.revoked_at is not None:
            raise Conflict(_("该资质已被撤销。"))
        qualification.revoked_at = timezone.now()
        qualification.revoked_by = actor
        qualification.revocation_reason = reason
        qualification.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
        record("duty.qualification_revoked", actor=actor, target=qualification, after={"reason": reason})
    return qualification


# ---------------------------------------------------------------------------------------------
# Leave and handover


@dataclass
class LeaveData:
    starts_on: dt.date
    ends_on: dt.date
    kind: str
    reason: str
    substitute: User | None = None
    handover_note: str = ""
    handover_items: Sequence[str] = field(default_factory=list)


LEAVE_STAMPS = {
    LeaveStatus.APPROVED: ("approved_at", "approved_by"),
    LeaveStatus.REJECTED: ("rejected_at", "rejected_by"),
    LeaveStatus.CANCELLED: ("cancelled_at", "cancelled_by"),
}


def transition_leave(leave: Leave, to_status: str, actor: User, note: str = "") -> None:
    """The one dispatcher of leave status changes: any pair outside LEAVE_TRANSITIONS is refused."""
    if (leave.status, to_status) not in LEAVE_TRANSITIONS:
        raise Conflict(
            _("该请假当前为“%(current)s”，不能改为“%(target)s”。")
            % {
                "current": LeaveStatus(leave.status).label,
                "target": LeaveStatus(to_status).label,
            }
        )
    from_status = leave.status
    leave.status = to_status
    stamped_at, stamped_by = LEAVE_STAMPS[LeaveStatus(to_status)]
    setattr(leave, stamped_at, timezone.now())
    setattr(leave, stamped_by, actor)
    leave.save()
    LeaveEvent.objects.create(
        site_id=leave.site_id,
        leave=leave,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        note=note[:200],
    )


def _clean_leave_dates(data: LeaveData) -> None:
    data.starts_on = _require_date(data.starts_on, "starts_on", _("开始日期"))
    data.ends_on = _require_date(data.ends_on, "ends_on", _("结束日期"))
    if data.ends_on < data.starts_on:
        raise ActionRefused(
            _("结束日期（%(end)s）不能早于开始日期（%(start)s）。")
            % {
                "end": data.ends_on.isoformat(),
                "start": data.starts_on.isoformat(),
            },
            code="dates_out_of_order",
            field="ends_on",
        )
    if (data.ends_on - data.starts_on).days + 1 > LEAVE_DAYS_MAX:
        raise ActionRefused(
            _("单次请假不超过 %(limit)d 天，请分段申请。") % {"limit": LEAVE_DAYS_MAX},
            code="too_long",
            field="ends_on",
        )


def _clean_handover_items(items: Sequence[str]) -> list[str]:
    cleaned = []
    for item in items or []:
        text = _clean_text(item, "handover_items", _("移交事项"), max_length=TEXT_MAX_LENGTH, required=False)
        if text:
            cleaned.append(text)
    if len(cleaned) > HANDOVER_ITEMS_MAX:
        raise ActionRefused(
            _("移交事项最多 %(limit)d 条。") % {"limit": HANDOVER_ITEMS_MAX},
            code="too_many",
            field="handover_items",
        )
    return cleaned


def _refuse_overlapping_leave(staff: User, starts_on: dt.date, ends_on: dt.date, ignore: int = 0) -> None:
    overlapping = (
        Leave.objects.filter(
            staff=staff, status__in=ACTIVE_LEAVE_STATUSES, starts_on__lte=ends_on, ends_on__gte=starts_on
        )
        .exclude(pk=ignore)
        .order_by("starts_on")
        .first()
    )
    if overlapping is not None:
        raise ActionRefused(
            _("与已有的请假（%(start)s 至 %(end)s，%(status)s）重叠，请先撤销或调整原请假。")
            % {
                "start": overlapping.starts_on.isoformat(),
                "end": overlapping.ends_on.isoformat(),
                "status": overlapping.get_status_display(),
            },
            code="overlapping_leave",
            field="starts_on",
        )


def _refuse_if_standing_in(staff: User, starts_on: dt.date, ends_on: dt.date) -> None:
    covering = (
        Leave.objects.filter(
            substitute=staff, status=LeaveStatus.APPROVED, starts_on__lte=ends_on, ends_on__gte=starts_on
        )
        .select_related("staff")
        .first()
    )
    if covering is not None:
        raise ActionRefused(
            _("%(name)s 在 %(start)s 至 %(end)s 为 %(other)s 替岗，请先与负责人另行安排替岗人员。")
            % {
                "name": staff.full_name,
                "start": covering.starts_on.isoformat(),
                "end": covering.ends_on.isoformat(),
                "other": covering.staff.full_name,
            },
            code="is_substitute",
            field="starts_on",
        )


def _refuse_unfit_substitute(
    staff: User, substitute: User | None, starts_on: dt.date, ends_on: dt.date, *, ignore_leave_id: int = 0
) -> None:
    if substitute is None:
        raise ActionRefused(
            _("请指定替岗人员（AB岗工作制度：因事不在岗时必须安排好替岗人员）。"),
            code="substitute_required",
            field="substitute",
        )
    if substitute.site_id != staff.site_id:
        raise ActionRefused(
            _("替岗人员 %(name)s 不是本场所的工作人员，替岗人员须与请假人在同一服务场所。")
            % {"name": substitute.full_name},
            code="substitute_other_site",
            field="substitute",
        )
    if not substitute.is_active:
        raise ActionRefused(
            _("替岗人员 %(name)s 的账户已停用。") % {"name": substitute.full_name},
            code="inactive",
            field="substitute",
        )
    inputs = load_inputs(staff.site, starts_on, ends_on, extra_staff=[staff.pk, substitute.pk])
    problems = substitute_problems(
        inputs,
        staff_id=staff.pk,
        substitute_id=substitute.pk,
        starts_on=starts_on,
        ends_on=ends_on,
        ignore_leave_id=ignore_leave_id,
    )
    if problems:
        names = dict(User.objects.filter(pk__in=inputs.staff_ids).values_list("pk", "full_name"))
        raise ActionRefused(
            problem_message(problems[0], inputs, names, substitute.full_name),
            code=f"substitute_{problems[0].code}",
            field="substitute",
        )


def _leave_picture(leave: Leave) -> dict[str, Any]:
    picture = snapshot(leave, LEAVE_AUDITED_FIELDS)
    picture["handover_items"] = [item.description for item in leave.handover_items.all()]
    return picture


def request_leave(actor: User, data: LeaveData) -> Leave:
    """A staff member asks for leave, naming a 替岗人员 and handing the work over (AB岗工作制度 2)."""
    require_capability(actor, Capability.REQUEST_LEAVE)
    if data.kind not in LeaveKind.values:
        raise ActionRefused(_("请假类型无效。"), code="invalid_kind", field="kind")
    if data.kind == LeaveKind.EMERGENCY:
        raise ActionRefused(
            _("紧急请假由负责人事后补登，请直接联系窗口负责人。"),
            code="emergency_by_supervisor",
            field="kind",
        )
    _clean_leave_dates(data)
    reason = _clean_text(data.reason, "reason", _("请假事由"), max_length=TEXT_MAX_LENGTH, required=True)
    handover_note = _clean_text(
        data.handover_note, "handover_note", _("工作移交说明"), max_length=NOTE_MAX_LENGTH, required=True
    )
    items = _clean_handover_items(data.handover_items)
    today = timezone.localdate()
    if not notice_is_sufficient(
        today, data.starts_on, lambda first, last: workdays.between(first, last).count
    ):
        latest = last_working_day_before(data.starts_on, workdays.is_working_day)
        raise ActionRefused(
            _(
                "请假须至少提前一个工作日申请，以便提前一天做好工作移交（AB岗工作制度第2条）；"
                "%(start)s 开始的请假最迟应在 %(latest)s 提交。突发情况请联系负责人事后补登紧急请假。"
            )
            % {"start": data.starts_on.isoformat(), "latest": latest.isoformat() if latest else "—"},
            code="notice_too_short",
            field="starts_on",
        )
    with transaction.atomic():
        substitute = data.substitute
        _lock_staff(actor, *([substitute] if substitute is not None else []))
        _refuse_overlapping_leave(actor, data.starts_on, data.ends_on)
        _refuse_if_standing_in(actor, data.starts_on, data.ends_on)
        _refuse_unfit_substitute(actor, substitute, data.starts_on, data.ends_on)
        leave = Leave.objects.create(
            site_id=actor.site_id,
            staff=actor,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            kind=data.kind,
            reason=reason,
            substitute=substitute,
            handover_note=handover_note,
            requested_by=actor,
        )
        HandoverItem.objects.bulk_create(
            HandoverItem(site_id=leave.site_id, leave=leave, position=position, description=text)
            for position, text in enumerate(items, start=1)
        )
        LeaveEvent.objects.create(
            site_id=leave.site_id, leave=leave, to_status=LeaveStatus.REQUESTED, actor=actor
        )
        record("duty.leave_requested", actor=actor, target=leave, after=_leave_picture(leave))
    return leave


def approve_leave(actor: User, leave: Leave, substitute: User | None = None, note: str = "") -> Leave:
    """A supervisor approves: the 替岗人员 must still be qualified, free, not on leave and at the same site.

    The two people are locked first, so two approvals naming one substitute for one day queue and the
    second sees the first and is refused.
    """
    require_capability(actor, Capability.MANAGE_DUTY)
    require_in_scope(actor, leave)
    note = _clean_text(note, "note", _("审批意见"), max_length=TEXT_MAX_LENGTH, required=False)
    if leave.staff_id == actor.pk:
        audit_refusal(actor, "own_leave", capability=str(Capability.MANAGE_DUTY), target=leave)
        raise PermissionRefused(_("不能审批本人的请假。"), code="own_leave")
    with transaction.atomic():
        leave = (
            Leave.objects.select_for_update(of=("self",))
            .select_related("staff", "substitute")
            .get(pk=leave.pk)
        )
        if leave.status != LeaveStatus.REQUESTED:
            transition_leave(leave, LeaveStatus.APPROVED, actor)  # refuses with the current status
        chosen = substitute if substitute is not None else leave.substitute
        _lock_staff(leave.staff, *([chosen] if chosen is not None else []))
        before = _leave_picture(leave)
        _refuse_if_standing_in(leave.staff, leave.starts_on, leave.ends_on)
        _refuse_unfit_substitute(
            leave.staff, chosen, leave.starts_on, leave.ends_on, ignore_leave_id=leave.pk
        )
        if not leave.handover_note.strip():
            raise ActionRefused(
                _("缺少工作移交说明，不能批准。"), code="handover_required", field="handover_note"
            )
        leave.substitute = chosen
        leave.decision_note = note
        transition_leave(leave, LeaveStatus.APPROVED, actor, note)
        record("duty.leave_approved", actor=actor, target=leave, before=before, after=_leave_picture(leave))
    return leave


def reject_leave(actor: User, leave: Leave, reason: str) -> Leave:
    require_capability(actor, Capability.MANAGE_DUTY)
    require_in_scope(actor, leave)
    reason = _clean_text(reason, "reason", _("驳回理由"), max_length=TEXT_MAX_LENGTH, required=True)
    if leave.staff_id == actor.pk:
        audit_refusal(actor, "own_leave", capability=str(Capability.MANAGE_DUTY), target=leave)
        raise PermissionRefused(_("不能审批本人的请假。"), code="own_leave")
    with transaction.atomic():
        leave = Leave.objects.select_for_update().get(pk=leave.pk)
        before = snapshot(leave, LEAVE_AUDITED_FIELDS)
        leave.decision_note = reason
        transition_leave(leave, LeaveStatus.REJECTED, actor, reason)
        record(
            "duty.leave_rejected",
            actor=actor,
            target=leave,
            before=before,
            after={"status": leave.status, "reason": reason},
        )
    return leave


def cancel_leave(actor: User, leave: Leave, reason: str = "") -> Leave:
    """The staff member withdraws a leave not yet begun; a supervisor may cancel any open or approved leave."""
    reason = _clean_text(reason, "reason", _("撤销原因"), max_length=TEXT_MAX_LENGTH, required=False)
    is_own = leave.staff_id == actor.pk
    if is_own:
        require_capability(actor, Capability.REQUEST_LEAVE)
    else:
        require_capability(actor, Capability.MANAGE_DUTY)
        require_in_scope(actor, leave)
    with transaction.atomic():
        leave = Leave.objects.select_for_update().get(pk=leave.pk)
        if is_own and leave.status == LeaveStatus.APPROVED and leave.starts_on <= timezone.localdate():
            raise ActionRefused(_("已开始的请假请联系负责人撤销或调整。"), code="already_started")
        before = snapshot(leave, LEAVE_AUDITED_FIELDS)
        transition_leave(leave, LeaveStatus.CANCELLED, actor, reason)
        record(
            "duty.leave_cancelled",
            actor=actor,
            target=leave,
            before=before,
            after={"status": leave.status, "reason": reason},
        )
    return leave


def record_emergency_leave(actor: User, staff: User, data: LeaveData) -> Leave:
    """紧急请假: a supervisor records, after the fact and with a reason, leave nobody could ask ahead.

    The substitute, if one is named, must fit as for any leave; without one the board falls back to
    the post's B角 and shows a gap if none is free (AB岗工作制度 3 立即安排好替岗人员).
    """
    require_capability(actor, Capability.MANAGE_DUTY)
    require_in_scope(actor, staff)
    if staff.pk == actor.pk:
        audit_refusal(actor, "own_leave", capability=str(Capability.MANAGE_DUTY), target=staff)
        raise PermissionRefused(_("不能为本人补登紧急请假。"), code="own_leave")
    _clean_leave_dates(data)
    if data.starts_on > timezone.localdate():
        raise ActionRefused(
            _("紧急请假为事后补登，开始日期不能晚于今天；预先请假请由本人申请。"),
            code="emergency_in_future",
            field="starts_on",
        )
    reason = _clean_text(data.reason, "reason", _("紧急请假事由"), max_length=TEXT_MAX_LENGTH, required=True)
    handover_note = _clean_text(
        data.handover_note, "handover_note", _("工作移交说明"), max_length=NOTE_MAX_LENGTH, required=False
    )
    items = _clean_handover_items(data.handover_items)
    with transaction.atomic():
        substitute = data.substitute
        _lock_staff(staff, *([substitute] if substitute is not None else []))
        _refuse_overlapping_leave(staff, data.starts_on, data.ends_on)
        if substitute is not None:
            _refuse_unfit_substitute(staff, substitute, data.starts_on, data.ends_on)
        now = timezone.now()
        leave = Leave.objects.create(
            site_id=staff.site_id,
            staff=staff,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            kind=LeaveKind.EMERGENCY,
            reason=reason,
            status=LeaveStatus.APPROVED,
            substitute=substitute,
            handover_note=handover_note,
            requested_at=now,
            requested_by=actor,
            approved_at=now,
            approved_by=actor,
            decision_note=_("事后补登"),
        )
        HandoverItem.objects.bulk_create(
            HandoverItem(site_id=leave.site_id, leave=leave, position=position, description=text)
            for position, text in enumerate(items, start=1)
        )
        LeaveEvent.objects.create(
            site_id=leave.site_id,
            leave=leave,
            to_status=LeaveStatus.APPROVED,
            actor=actor,
            note=_("紧急请假事后补登"),
        )
        record("duty.emergency_leave_recorded", actor=actor, target=leave, after=_leave_picture(leave))
    return leave


# ---------------------------------------------------------------------------------------------
# Attendance


def _on_leave(staff: User, day: dt.date) -> bool:
    return Leave.objects.filter(
        staff=staff, status=LeaveStatus.APPROVED, starts_on__lte=day, ends_on__gte=day
    ).exists()


def _check_in_picture(check_in: CheckIn) -> dict[str, Any]:
    return snapshot(check_in, CHECK_IN_AUDITED_FIELDS)


def check_in(
    actor: User, slot: str, *, source: str = CheckInSource.WEB, now: dt.datetime | None = None
) -> CheckIn:
    """The staff member's own check-in, from their workstation or a clock-in terminal."""
    require_capability(actor, Capability.CHECK_IN)
    if slot not in CheckInSlot.values:
        raise ActionRefused(_("打卡类型无效。"), code="invalid_slot", field="slot")
    if source not in (CheckInSource.WEB, CheckInSource.TERMINAL):
        raise ActionRefused(_("打卡来源无效。"), code="invalid_source", field="source")
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    local = timezone.localtime(now, zone)
    day = local.date()
    plan = day_plan(actor.site, day)
    if plan is None:
        raise ActionRefused(_("今天不是本场所的办公日，无需打卡。"), code="closed_day", field="slot")
    half = plan.half(SLOT_HALF[CheckInSlot(slot)])
    if half is None:
        raise ActionRefused(
            _("今天没有%(half)s办公时段，无需“%(slot)s”打卡。")
            % {
                "half": PeriodKind(SLOT_HALF[CheckInSlot(slot)]).label,
                "slot": CheckInSlot(slot).label,
            },
            code="closed_half",
            field="slot",
        )
    if _on_leave(actor, day):
        raise ActionRefused(_("您今天已请假，无需打卡。"), code="on_leave", field="slot")
    times = slot_times(slot, half, day, lead_minutes(), zone)
    if now < times.opens_at:
        raise ActionRefused(
            _("还未到“%(slot)s”打卡时间（%(time)s 起可打卡）。")
            % {
                "slot": CheckInSlot(slot).label,
                "time": timezone.localtime(times.opens_at, zone).strftime("%H:%M"),
            },
            code="too_early",
            field="slot",
        )
    if now > times.closes_at:
        raise ActionRefused(
            _("“%(slot)s”打卡已于 %(time)s 截止，如有特殊情况请联系负责人更正。")
            % {
                "slot": CheckInSlot(slot).label,
                "time": timezone.localtime(times.closes_at, zone).strftime("%H:%M"),
            },
            code="slot_closed",
            field="slot",
        )
    status = assess_check_in(slot, now, times.expected_at)
    try:
        with transaction.atomic():
            existing = CheckIn.objects.select_for_update().filter(staff=actor, date=day, slot=slot).first()
            if existing is not None:
                raise Conflict(
                    _("您已打过“%(slot)s”卡（%(time)s）。")
                    % {
                        "slot": CheckInSlot(slot).label,
                        "time": timezone.localtime(existing.at, zone).strftime("%H:%M")
                        if existing.at
                        else "—",
                    },
                    code="already_checked_in",
                )
            entry = CheckIn.objects.create(
                site_id=actor.site_id,
                staff=actor,
                date=day,
                slot=slot,
                at=now,
                source=source,
                status=status,
                expected_at=times.expected_at,
                closes_at=times.closes_at,
            )
            record("duty.checked_in", actor=actor, target=entry, after=_check_in_picture(entry))
    except IntegrityError as error:
        raise Conflict(_("您已打过该时段的卡。"), code="already_checked_in") from error
    return entry


def correct_check_in(
    actor: User, staff: User, day: dt.date, slot: str, at: dt.datetime, reason: str
) -> CheckIn:
    """A supervisor sets the time of a check-in (forgotten card, terminal fault); the reason is audited."""
    require_capability(actor, Capability.MANAGE_DUTY)
    require_in_scope(actor, staff)
    if staff.pk == actor.pk:
        audit_refusal(actor, "own_attendance", capability=str(Capability.MANAGE_DUTY), target=staff)
        raise PermissionRefused(_("不能更正本人的考勤。"), code="own_attendance")
    day = _require_date(day, "date", _("日期"))
    if slot not in CheckInSlot.values:
        raise ActionRefused(_("打卡类型无效。"), code="invalid_slot", field="slot")
    if not isinstance(at, dt.datetime) or timezone.is_naive(at):
        raise ActionRefused(_("打卡时间格式不正确。"), code="invalid", field="at")
    reason = _clean_text(reason, "reason", _("更正原因"), max_length=TEXT_MAX_LENGTH, required=True)
    zone = timezone.get_current_timezone()
    if timezone.localtime(at, zone).date() != day:
        raise ActionRefused(_("打卡时间须在当天。"), code="other_day", field="at")
    if at > timezone.now():
        raise ActionRefused(_("不能更正为将来的时间。"), code="future", field="at")
    plan = day_plan(staff.site, day)
    half = plan.half(SLOT_HALF[CheckInSlot(slot)]) if plan else None
    if half is None:
        raise ActionRefused(_("当天该时段不办公，无需打卡。"), code="closed_half", field="slot")
    times = slot_times(slot, half, day, lead_minutes(), zone)
    status = assess_check_in(slot, at, times.expected_at)
    with transaction.atomic():
        entry = CheckIn.objects.select_for_update().filter(staff=staff, date=day, slot=slot).first()
        before = _check_in_picture(entry) if entry else None
        if entry is None:
            entry = CheckIn(site_id=staff.site_id, staff=staff, date=day, slot=slot)
        entry.at = at
        entry.status = status
        entry.source = CheckInSource.CORRECTION
        entry.expected_at = times.expected_at
        entry.closes_at = times.closes_at
        entry.corrected_by = actor
        entry.corrected_at = timezone.now()
        entry.correction_reason = reason
        entry.save()
        after = _check_in_picture(entry)
        if entry.assessed_at is not None:
            after["note"] = "violation already assessed; supervision decides on it"
        record("duty.check_in_corrected", actor=actor, target=entry, before=before, after=after)
    return entry


# ---------------------------------------------------------------------------------------------
# Away from post


def _default_window(staff: User, day: dt.date) -> Window | None:
    assignment = (
        Assignment.objects.filter(
            _overlaps(day, day), staff=staff, role=AssignmentRole.A, post__window__isnull=False
        )
        .select_related("post__window")
        .first()
    )
    return assignment.post.window if assignment else None


def start_away(
    actor: User, *, whereabouts: str = "", window: Window | None = None, now: dt.datetime | None = None
) -> AwayRecord:
    """The staff member leaves their window (暂停服务), with or without saying where (去向)."""
    require_capability(actor, Capability.CHECK_IN)
    whereabouts = _clean_text(
        whereabouts, "whereabouts", _("去向"), max_length=TEXT_MAX_LENGTH, required=False
    )
    if window is not None and window.site_id != actor.site_id:
        raise ActionRefused(_("窗口不属于您的服务场所。"), code="other_site_window", field="window")
    now = now or timezone.now()
    window = window or _default_window(actor, timezone.localtime(now).date())
    with transaction.atomic():
        _lock_staff(actor)
        current = AwayRecord.objects.filter(staff=actor, ended_at__isnull=True).first()
        if current is not None:
            raise Conflict(
                _("您已于 %(time)s 登记离岗，请先登记返岗。")
                % {"time": timezone.localtime(current.started_at).strftime("%H:%M")},
                code="already_away",
            )
        window_pause = _pause_signed_in_window(actor, whereabouts, now)
        if window_pause is not None:
            window = window_pause.window
        away = AwayRecord.objects.create(
            site_id=actor.site_id,
            staff=actor,
            window=window,
            started_at=now,
            whereabouts=whereabouts,
            whereabouts_recorded_at=now if whereabouts else None,
            due_at=now + dt.timedelta(minutes=away_limit_minutes()),
            window_pause=window_pause,
        )
        record(
            "duty.away_started",
            actor=actor,
            target=away,
            after={
                "window": window.pk if window else None,
                "whereabouts": whereabouts,
                "window_paused": window_pause is not None,
            },
        )
    return away


def _pause_signed_in_window(actor: User, whereabouts: str, now: dt.datetime) -> Any:
    """暂停服务 at the window the staff member is signed in at, if any and not already paused."""
    from servicehall.queueing import actions as queueing
    from servicehall.queueing.models import WindowState, WindowStatus

    state = WindowState.objects.filter(clerk=actor).select_related("window").first()
    if state is None or state.status == WindowStatus.PAUSED:
        return None
    return queueing.pause(actor, state.window, reason=_("离岗"), whereabouts=whereabouts, now=now)


def _paused_window_of(away: AwayRecord) -> Any:
    """The window this away record paused, if it is still paused by that pause and held by its clerk."""
    from servicehall.queueing.models import WindowState, WindowStatus

    if away.window_pause_id is None or away.window_pause.ended_at is not None:
        return None
    state = WindowState.objects.filter(window_id=away.window_pause.window_id).first()
    if state is None or state.clerk_id != away.staff_id or state.status != WindowStatus.PAUSED:
        return None
    return away.window_pause.window


def record_whereabouts(
    actor: User, away: AwayRecord, whereabouts: str, *, now: dt.datetime | None = None
) -> AwayRecord:
    require_capability(actor, Capability.CHECK_IN)
    if away.staff_id != actor.pk:
        raise PermissionRefused(_("只能说明本人的去向。"), code="not_own")
    whereabouts = _clean_text(
        whereabouts, "whereabouts", _("去向"), max_length=TEXT_MAX_LENGTH, required=True
    )
    now = now or timezone.now()
    with transaction.atomic():
        away = AwayRecord.objects.select_for_update().get(pk=away.pk)
        if away.ended_at is not None:
            raise Conflict(_("已返岗，无需再说明去向。"), code="already_back")
        before = {"whereabouts": away.whereabouts}
        away.whereabouts = whereabouts
        away.whereabouts_recorded_at = now
        away.save(update_fields=["whereabouts", "whereabouts_recorded_at"])
        paused_window = _paused_window_of(away)
        if paused_window is not None:
            from servicehall.queueing import actions as queueing

            queueing.state_whereabouts(actor, paused_window, whereabouts=whereabouts, now=now)
        record(
            "duty.whereabouts_recorded",
            actor=actor,
            target=away,
            before=before,
            after={"whereabouts": whereabouts},
        )
    return away


def return_to_post(actor: User, *, now: dt.datetime | None = None) -> AwayRecord:
    require_capability(actor, Capability.CHECK_IN)
    now = now or timezone.now()
    with transaction.atomic():
        away = AwayRecord.objects.select_for_update().filter(staff=actor, ended_at__isnull=True).first()
        if away is None:
            raise Conflict(_("您当前没有离岗登记。"), code="not_away")
        away.ended_at = max(now, away.started_at)
        away.save(update_fields=["ended_at"])
        paused_window = _paused_window_of(away)
        if paused_window is not None:
            from servicehall.queueing import actions as queueing

            queueing.resume(actor, paused_window, now=away.ended_at)
        minutes = int((away.ended_at - away.started_at).total_seconds() // 60)
        record("duty.away_ended", actor=actor, target=away, after={"minutes": minutes})
    _flag_away_if_due(away.pk, now)
    return away


def _flag_away_if_due(away_id: int, now: dt.datetime) -> bool:
    """Claim one away record past its limit without a 去向 and record the violation, exactly once."""
    with transaction.atomic():
        claimed = (
            AwayRecord.objects.filter(
                pk=away_id, flagged=False, whereabouts="", due_at__lte=now, window_pause__isnull=True
            )
            .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=F("due_at")))
            .update(flagged=True, flagged_at=now)
        )
        if not claimed:
            return False
        away = AwayRecord.objects.select_related("staff", "site", "window").get(pk=away_id)
        started = timezone.localtime(away.started_at)
        record_violation(
            site=away.site,
            kind=ViolationKind.AWAY_WITHOUT_WHEREABOUTS,
            source=ViolationSource.AWAY_FROM_POST,
            source_reference=f"away:{away.pk}",
            description=_("%(name)s 于 %(time)s 离开%(window)s，超过 %(limit)d 分钟未说明去向。")
            % {
                "name": away.staff.full_name,
                "time": started.strftime("%Y-%m-%d %H:%M"),
                "window": str(away.window) if away.window else _("岗位"),
                "limit": away_limit_minutes(),
            },
            staff=away.staff,
            occurred_at=away.due_at,
        )
        record("duty.away_flagged", target=away, after={"due_at": away.due_at})
    return True


# ---------------------------------------------------------------------------------------------
# The sweep


@dataclass
class SweepResult:
    away_flagged: int = 0
    missing_recorded: int = 0
    violations_recorded: int = 0

    def __str__(self) -> str:
        return (
            f"离岗未说明去向 / away flagged: {self.away_flagged}; 缺卡 / missing check-ins: {self.missing_recorded}; "
            f"考勤违规 / attendance violations: {self.violations_recorded}"
        )


def sweep(now: dt.datetime | None = None) -> SweepResult:
    """Flag away records past the limit, record missing check-ins, turn closed slots into violations.

    Safe to run often and from several workers: each row is claimed by a conditional UPDATE, missing
    check-ins are unique per person, day and slot, and violations are unique per source.
    """
    now = now or timezone.now()
    result = SweepResult()
    due = (
        AwayRecord.objects.filter(flagged=False, whereabouts="", due_at__lte=now, window_pause__isnull=True)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=F("due_at")))
        .order_by("due_at")
        .values_list("pk", flat=True)
    )
    for away_id in list(due):
        if _flag_away_if_due(away_id, now):
            result.away_flagged += 1
    today = timezone.localtime(now).date()
    sites = list(Site.objects.filter(is_active=True, duty_posts__is_active=True).distinct().order_by("pk"))
    for offset in range(SWEEP_LOOKBACK_DAYS, -1, -1):
        day = today - dt.timedelta(days=offset)
        for site in sites:
            result.missing_recorded += _record_missing_check_ins(site, day, now)
    result.violations_recorded += _assess_check_ins(now)
    return result


def expected_staff(site: Site, day: dt.date, *, plan: Any = None) -> list[int]:
    """Who must check in at ``site`` on ``day``: the window staff on duty (A/B roles and roster), not on leave.

    On a Saturday duty day only those rostered for it; on a working day everyone holding an A角 or B角
    or a roster entry at the site's posts.
    """
    plan = plan if plan is not None else day_plan(site, day)
    if plan is None:
        return []
    inputs = load_inputs(site, day, day, plans=[plan])
    people: set[int] = set()
    for period in plan.periods:
        for staff, _basis in planned_primaries(inputs, plan, period).values():
            people.update(staff)
    if not plan.is_saturday_duty:
        for spans in (*inputs.a_roles.values(), *inputs.b_roles.values()):
            people.update(span.staff_id for span in spans if span.covers(day))
    on_leave = {leave.staff_id for leave in inputs.leaves if leave.covers(day)}
    active = set(User.objects.filter(pk__in=people, is_active=True, site=site).values_list("pk", flat=True))
    return sorted(active - on_leave)


def _record_missing_check_ins(site: Site, day: dt.date, now: dt.datetime) -> int:
    plan = day_plan(site, day)
    if plan is None or not plan.halves:
        return 0
    zone = timezone.get_current_timezone()
    closed = []
    for half in plan.halves:
        for slot in SLOT_PAIRS[half.kind]:
            times = slot_times(slot, half, day, lead_minutes(), zone)
            if times.closes_at <= now:
                closed.append((slot, times))
    if not closed:
        return 0
    staff_ids = expected_staff(site, day, plan=plan)
    existing = set(CheckIn.objects.filter(date=day, staff_id__in=staff_ids).values_list("staff_id", "slot"))
    missing = [
        CheckIn(
            site=site,
            staff_id=staff_id,
            date=day,
            slot=slot,
            at=None,
            source=CheckInSource.SYSTEM,
            status=CheckInStatus.MISSING,
            expected_at=times.expected_at,
            closes_at=times.closes_at,
        )
        for staff_id in staff_ids
        for slot, times in closed
        if (staff_id, slot) not in existing
    ]
    if not missing:
        return 0
    with transaction.atomic():
        CheckIn.objects.bulk_create(missing, ignore_conflicts=True)
        record(
            "duty.missing_check_ins_recorded",
            site=site,
            object_type="duty.checkin",
            object_label=day.isoformat(),
            after={"date": day, "rows": [[row.staff_id, row.slot] for row in missing]},
        )
    return len(missing)


def _assess_check_ins(now: dt.datetime) -> int:
    """Claim closed late, early and missing check-ins one by one and record their violations once."""
    recorded = 0
    candidates = list(
        CheckIn.objects.filter(
            assessed_at__isnull=True,
            closes_at__lte=now,
            status__in=[CheckInStatus.LATE, CheckInStatus.EARLY_LEAVE, CheckInStatus.MISSING],
        )
        .order_by("closes_at", "pk")
        .values_list("pk", flat=True)
    )
    zone = timezone.get_current_timezone()
    for check_in_id in candidates:
        with transaction.atomic():
            if not CheckIn.objects.filter(pk=check_in_id, assessed_at__isnull=True).update(assessed_at=now):
                continue
            entry = CheckIn.objects.select_related("staff", "site").get(pk=check_in_id)
            slot_label = CheckInSlot(entry.slot).label
            if entry.status in (CheckInStatus.LATE, CheckInStatus.EARLY_LEAVE):
                _violation, created = record_violation(
                    site=entry.site,
                    kind=ViolationKind.LATE_OR_EARLY_LEAVE,
                    source=ViolationSource.ATTENDANCE,
                    source_reference=f"check_in:{entry.staff_id}:{entry.date.isoformat()}:{entry.slot}",
                    description=_("%(name)s %(date)s %(slot)s%(status)s：%(at)s 打卡，规定 %(expected)s。")
                    % {
                        "name": entry.staff.full_name,
                        "date": entry.date.isoformat(),
                        "slot": slot_label,
                        "status": CheckInStatus(entry.status).label,
                        "at": timezone.localtime(entry.at, zone).strftime("%H:%M") if entry.at else "—",
                        "expected": timezone.localtime(entry.expected_at, zone).strftime("%H:%M"),
                    },
                    staff=entry.staff,
                    occurred_at=entry.at or entry.expected_at,
                )
                recorded += int(created)
                continue
            if _on_leave(entry.staff, entry.date):
                continue
            half = SLOT_HALF[CheckInSlot(entry.slot)]
            pair = SLOT_PAIRS[half]
            statuses = dict(
                CheckIn.objects.filter(staff=entry.staff, date=entry.date, slot__in=pair).values_list(
                    "slot", "status"
                )
            )
            if all(statuses.get(slot) == CheckInStatus.MISSING for slot in pair):
                _violation, created = record_violation(
                    site=entry.site,
                    kind=ViolationKind.UNEXCUSED_ABSENCE,
                    source=ViolationSource.ATTENDANCE,
                    source_reference=f"absence:{entry.staff_id}:{entry.date.isoformat()}:{half}",
                    description=_("%(name)s %(date)s %(half)s无考勤记录且未请假（无故旷工）。")
                    % {
                        "name": entry.staff.full_name,
                        "date": entry.date.isoformat(),
                        "half": PeriodKind(half).label,
                    },
                    staff=entry.staff,
                    occurred_at=entry.expected_at,
                )
                recorded += int(created)
    return recorded
