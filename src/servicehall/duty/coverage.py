"""Reading the schedule from the database into the pure rules: coverage, substitutes, day plans.

Every loader runs a fixed number of queries whatever the number of posts, days or people, so the
four-week board of a large site costs the same handful of queries as a small one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from servicehall.accounts.models import User
from servicehall.duty.models import (
    Assignment,
    AssignmentRole,
    Leave,
    LeaveStatus,
    PeriodKind,
    Post,
    Qualification,
    RosterException,
    RosterPattern,
)
from servicehall.duty.rules import (
    Basis,
    Cell,
    DayPlan,
    DutyInputs,
    GapReason,
    LeaveSpan,
    PostInfo,
    Span,
    SubstituteProblem,
    Why,
    cover,
    plan_day,
    substitute_problems,
)
from servicehall.sites.models import OpeningPeriod, Site
from servicehall.workdays.service import current_calendar

DEFAULT_DAYS = 28
MAX_DAYS = 62

WHY_LABELS = {
    Why.ON_LEAVE: gettext_lazy("请假"),
    Why.UNQUALIFIED: gettext_lazy("无有效资质"),
    Why.BUSY: gettext_lazy("在其他岗位"),
}
BASIS_LABELS = {
    Basis.ROSTER: gettext_lazy("排班"),
    Basis.A: gettext_lazy("A角"),
    Basis.SUBSTITUTE: gettext_lazy("替岗"),
    Basis.B: gettext_lazy("B角顶岗"),
    Basis.GAP: gettext_lazy("空岗"),
}


def opening_table(site: Site) -> dict[int, list[tuple[dt.time, dt.time]]]:
    table: dict[int, list[tuple[dt.time, dt.time]]] = defaultdict(list)
    for weekday, starts_at, ends_at in OpeningPeriod.objects.filter(site=site).values_list(
        "weekday", "starts_at", "ends_at"
    ):
        table[weekday].append((starts_at, ends_at))
    return table


def day_plans(
    site: Site, first: dt.date, last: dt.date, opening: dict[int, list[tuple[dt.time, dt.time]]] | None = None
) -> list[DayPlan]:
    """The open days of a site between two dates inclusive, from its hours and the working-day calendar."""
    opening = opening_table(site) if opening is None else opening
    calendar = current_calendar()
    holidays = calendar.data.holidays
    plans = []
    day = first
    while day <= last:
        plan = plan_day(day, opening, is_working_day=calendar.is_working_day(day), is_holiday=day in holidays)
        if plan is not None:
            plans.append(plan)
        day += dt.timedelta(days=1)
    return plans


def day_plan(site: Site, day: dt.date) -> DayPlan | None:
    plans = day_plans(site, day, day)
    return plans[0] if plans else None


def _overlapping(first: dt.date, last: dt.date) -> Q:
    return Q(valid_from__lte=last) & (Q(valid_to__isnull=True) | Q(valid_to__gte=first))


def load_inputs(
    site: Site,
    first: dt.date,
    last: dt.date,
    *,
    plans: list[DayPlan] | None = None,
    extra_staff: Iterable[int] = (),
) -> DutyInputs:
    """Posts, roles, roster, approved leave and qualifications of one site for [first, last]."""
    posts = list(Post.objects.filter(site=site, is_active=True).select_related("window"))
    posts.sort(key=lambda post: (post.window.number if post.window else 10_000, post.name))
    post_ids = [post.pk for post in posts]
    inputs = DutyInputs(
        posts=[
            PostInfo(post.pk, post.name, post.required_qualification, post.window_id is not None)
            for post in posts
        ],
        plans=day_plans(site, first, last) if plans is None else plans,
    )
    staff_ids: set[int] = set(extra_staff)
    a_roles: dict[int, list[Span]] = defaultdict(list)
    b_roles: dict[int, list[Span]] = defaultdict(list)
    for assignment in (
        Assignment.objects.filter(_overlapping(first, last), post_id__in=post_ids)
        .order_by("valid_from", "id")
        .values("id", "post_id", "staff_id", "role", "valid_from", "valid_to")
    ):
        span = Span(
            assignment["staff_id"], assignment["valid_from"], assignment["valid_to"], assignment["id"]
        )
        (a_roles if assignment["role"] == AssignmentRole.A else b_roles)[assignment["post_id"]].append(span)
        staff_ids.add(span.staff_id)
    inputs.a_roles = dict(a_roles)
    inputs.b_roles = dict(b_roles)
    patterns: dict[tuple[int, int, str], list[Span]] = defaultdict(list)
    for pattern in (
        RosterPattern.objects.filter(_overlapping(first, last), post_id__in=post_ids)
        .order_by("valid_from", "id")
        .values("id", "post_id", "staff_id", "weekday", "period", "valid_from", "valid_to")
    ):
        patterns[(pattern["post_id"], pattern["weekday"], pattern["period"])].append(
            Span(pattern["staff_id"], pattern["valid_from"], pattern["valid_to"], pattern["id"])
        )
        staff_ids.add(pattern["staff_id"])
    inputs.patterns = dict(patterns)
    exceptions: dict[tuple[int, dt.date, str], list[tuple[int, str]]] = defaultdict(list)
    for exception in (
        RosterException.objects.filter(post_id__in=post_ids, date__gte=first, date__lte=last)
        .order_by("id")
        .values("post_id", "staff_id", "date", "period", "kind")
    ):
        exceptions[(exception["post_id"], exception["date"], exception["period"])].append(
            (exception["staff_id"], exception["kind"])
        )
        staff_ids.add(exception["staff_id"])
    inputs.exceptions = dict(exceptions)
    leaves = list(
        Leave.objects.filter(
            site=site, status=LeaveStatus.APPROVED, starts_on__lte=last, ends_on__gte=first
        ).values_list("id", "staff_id", "starts_on", "ends_on", "substitute_id")
    )
    inputs.leaves = [
        LeaveSpan(staff_id, starts_on, ends_on, substitute_id, leave_id)
        for leave_id, staff_id, starts_on, ends_on, substitute_id in leaves
    ]
    staff_ids.update(substitute_id for *_, substitute_id in leaves if substitute_id)
    qualifications: dict[tuple[int, str], list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for staff_id, post_kind, valid_from, valid_until in Qualification.objects.filter(
        staff_id__in=staff_ids, revoked_at__isnull=True, valid_from__lte=last, valid_until__gte=first
    ).values_list("staff_id", "post_kind", "valid_from", "valid_until"):
        qualifications[(staff_id, post_kind)].append((valid_from, valid_until))
    inputs.qualifications = dict(qualifications)
    inputs.post_models = {post.pk: post for post in posts}
    inputs.staff_ids = staff_ids
    return inputs


# ---------------------------------------------------------------------------------------------
# The coverage report


@dataclass
class CoverageReport:
    site: Site
    start: dt.date
    days: int
    plans: list[DayPlan]
    posts: list[Post]
    cells: list[Cell]
    staff_names: dict[int, str]
    warnings: dict[int, list[str]] = field(default_factory=dict)
    provisional: bool = False
    _label_cache: dict[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def gaps(self) -> list[Cell]:
        return [cell for cell in self.cells if cell.is_gap]

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days - 1)

    def name(self, staff_id: int | None) -> str:
        return self.staff_names.get(staff_id or 0, "—")

    def post_label(self, post_id: int | None) -> str:
        if post_id is None:
            return _("全场所")
        post = next((post for post in self.posts if post.pk == post_id), None)
        return str(post) if post is not None else "—"

    def describe(self, cell: Cell) -> str:
        """The cell in words: who holds it, or why it is empty and who was tried."""
        labels = self._labels()
        if cell.post_id is None:
            return labels["no_duty_post"]
        if not cell.is_gap:
            names = "、".join(self.name(staff_id) for staff_id in cell.staff_ids)
            text = f"{names}（{labels[cell.basis]}）"
        elif cell.gap_reason == GapReason.NOBODY_SCHEDULED:
            text = labels["nobody_scheduled"]
        else:
            text = labels["all_absent"]
        if cell.absent:
            absent = "、".join(f"{self.name(staff_id)}{labels[why]}" for staff_id, why in cell.absent)
            text += f"；{absent}"
        return text

    def _labels(self) -> dict[str, str]:
        # Translated once per report: a four-week board describes a few thousand cells.
        if self._label_cache is None:
            self._label_cache = {
                **{code: str(label) for code, label in BASIS_LABELS.items()},
                **{code: str(label) for code, label in WHY_LABELS.items()},
                "no_duty_post": _("开放时段无人值班（未安排值班岗位）"),
                "nobody_scheduled": _("空岗：无人排班，未设A角或B角"),
                "all_absent": _("空岗：A角与B角均不在岗"),
            }
        return self._label_cache


def coverage(site: Site, start_day: dt.date, days: int = DEFAULT_DAYS) -> CoverageReport:
    """Who covers each post of ``site`` in each open period of ``days`` days from ``start_day``, or a GAP."""
    days = max(1, min(int(days), MAX_DAYS))
    last = start_day + dt.timedelta(days=days - 1)
    inputs = load_inputs(site, start_day, last)
    cells = cover(inputs)
    staff_ids = set(inputs.staff_ids)
    names = dict(User.objects.filter(pk__in=staff_ids).values_list("pk", "full_name")) if staff_ids else {}
    calendar = current_calendar()
    provisional = any(not calendar.is_covered(plan.day) for plan in inputs.plans)
    posts = list(inputs.post_models.values())
    return CoverageReport(
        site=site,
        start=start_day,
        days=days,
        plans=inputs.plans,
        posts=posts,
        cells=cells,
        staff_names=names,
        warnings=role_warnings(inputs, start_day),
        provisional=provisional,
    )


def role_warnings(inputs: DutyInputs, day: dt.date) -> dict[int, list[str]]:
    """Window posts without an A角 or without a B角 on ``day`` (seed 000 AB岗工作制度 1)."""
    warnings: dict[int, list[str]] = {}
    for post in inputs.posts:
        if not post.is_window_post:
            continue
        problems = []
        if not any(span.covers(day) for span in inputs.a_roles.get(post.id, ())):
            problems.append(_("未设A角"))
        if not any(span.covers(day) for span in inputs.b_roles.get(post.id, ())):
            problems.append(_("未设B角"))
        if problems:
            warnings[post.id] = problems
    return warnings


# ---------------------------------------------------------------------------------------------
# Substitutes


@dataclass(frozen=True)
class Candidate:
    staff: User
    problems: tuple[SubstituteProblem, ...]

    @property
    def is_free(self) -> bool:
        return not self.problems


def problem_message(
    problem: SubstituteProblem, inputs: DutyInputs, names: dict[int, str], substitute: str
) -> str:
    posts = {post.id: post.name for post in inputs.posts}
    period = PeriodKind(problem.period).label if problem.period else ""
    day = problem.day.isoformat() if problem.day else ""
    if problem.code == SubstituteProblem.SELF:
        return _("替岗人员不能是请假人本人。")
    if problem.code == SubstituteProblem.ON_LEAVE:
        return _("替岗人员 %(name)s 在 %(day)s 也在请假，不能替岗。") % {"name": substitute, "day": day}
    if problem.code == SubstituteProblem.UNQUALIFIED:
        return _("替岗人员 %(name)s 没有“%(post)s”在 %(day)s 的有效上岗资质（先培训、后上岗）。") % {
            "name": substitute,
            "post": posts.get(problem.post_id or 0, ""),
            "day": day,
        }
    if problem.code == SubstituteProblem.BUSY:
        return _("替岗人员 %(name)s 在 %(day)s %(period)s 已在“%(post)s”值守，没有空闲。") % {
            "name": substitute,
            "day": day,
            "period": period,
            "post": posts.get(problem.post_id or 0, ""),
        }
    return _("替岗人员 %(name)s 在 %(day)s %(period)s 已为 %(other)s 替岗，没有空闲。") % {
        "name": substitute,
        "day": day,
        "period": period,
        "other": names.get(problem.other_staff_id or 0, ""),
    }


def substitute_candidates(
    site: Site, staff: User, starts_on: dt.date, ends_on: dt.date, *, ignore_leave_id: int = 0
) -> tuple[list[Candidate], DutyInputs]:
    """Every active colleague at the site, each with the reasons (if any) they cannot stand in."""
    colleagues = list(
        User.objects.filter(site=site, is_active=True).exclude(pk=staff.pk).order_by("staff_number")
    )
    inputs = load_inputs(site, starts_on, ends_on, extra_staff=[colleague.pk for colleague in colleagues])
    candidates = [
        Candidate(
            colleague,
            tuple(
                substitute_problems(
                    inputs,
                    staff_id=staff.pk,
                    substitute_id=colleague.pk,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    ignore_leave_id=ignore_leave_id,
                )
            ),
        )
        for colleague in colleagues
    ]
    return candidates, inputs


def substitute_for(staff: Any, day: dt.date) -> User | None:
    """Who stands in for ``staff`` on ``day``: the substitute of their approved leave, if any.

    Other apps call this to route work (open cases, inquiries) addressed to someone on leave
    (seed 000 AB岗工作制度 4 替岗人员顶岗期间应认真履行工作职责).
    """
    staff_id = getattr(staff, "pk", staff)
    leave = (
        Leave.objects.filter(
            staff_id=staff_id,
            status=LeaveStatus.APPROVED,
            starts_on__lte=day,
            ends_on__gte=day,
            substitute__isnull=False,
        )
        .select_related("substitute")
        .order_by("-approved_at")
        .first()
    )
    return leave.substitute if leave is not None else None


def substitutions_of(staff: User, since: dt.date) -> list[Leave]:
    """The approved leaves ``staff`` stands in for from ``since`` on: whom they cover, and when."""
    return list(
        Leave.objects.filter(substitute=staff, status=LeaveStatus.APPROVED, ends_on__gte=since)
        .select_related("staff")
        .prefetch_related("handover_items")
        .order_by("starts_on", "id")
    )
