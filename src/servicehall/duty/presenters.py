"""Turning coverage into what the pages show: the four-week board and the red warning on the home page."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from servicehall.accounts.roles import Capability
from servicehall.duty.coverage import BASIS_LABELS, DEFAULT_DAYS, CoverageReport, coverage
from servicehall.duty.models import PeriodKind, Post
from servicehall.duty.rules import Basis, Cell
from servicehall.sites.models import Site

PERIOD_SHORT = {
    PeriodKind.MORNING: gettext_lazy("上"),
    PeriodKind.LUNCH: gettext_lazy("午"),
    PeriodKind.AFTERNOON: gettext_lazy("下"),
    PeriodKind.SATURDAY: gettext_lazy("六"),
}
BASIS_CSS = {
    Basis.ROSTER: "duty-held",
    Basis.A: "duty-held",
    Basis.SUBSTITUTE: "duty-stand-in",
    Basis.B: "duty-stand-in",
    Basis.GAP: "duty-gap",
}
WEEKDAY_SHORT = ["一", "二", "三", "四", "五", "六", "日"]
HOME_GAPS_SHOWN = 8
HOME_SITES_CHECKED = 12


@dataclass(frozen=True)
class DayHeader:
    day: dt.date
    label: str
    weekday: str
    css: str
    note: str


@dataclass
class BoardRow:
    label: str
    post: Post | None
    warnings: list[str]
    cells: list[SafeString] = field(default_factory=list)
    gap_count: int = 0


@dataclass
class Board:
    days: list[DayHeader]
    rows: list[BoardRow]
    gap_count: int


def board(report: CoverageReport) -> Board:
    days = [report.start + dt.timedelta(days=offset) for offset in range(report.days)]
    plans = {plan.day: plan for plan in report.plans}
    headers = []
    for day in days:
        plan = plans.get(day)
        if plan is None:
            css, note = "duty-closed", _("不办公")
        elif plan.is_swapped_workday:
            css, note = "duty-swapped", _("调休上班")
        elif plan.is_saturday_duty:
            css, note = "duty-saturday", _("周六值班")
        else:
            css, note = "", ""
        headers.append(DayHeader(day, day.strftime("%m-%d"), WEEKDAY_SHORT[day.weekday()], css, note))
    by_post_day: dict[tuple[int | None, dt.date], list[Cell]] = defaultdict(list)
    for cell in report.cells:
        by_post_day[(cell.post_id, cell.day)].append(cell)
    rows = [BoardRow(str(post), post, report.warnings.get(post.pk, [])) for post in report.posts]
    if any(cell.post_id is None for cell in report.cells):
        rows.append(BoardRow(_("全场所值班"), None, []))
    total_gaps = 0
    period_labels = {kind: str(PeriodKind(kind).label) for kind in PeriodKind.values}
    period_shorts = {kind: str(short) for kind, short in PERIOD_SHORT.items()}
    for row in rows:
        post_id = row.post.pk if row.post is not None else None
        for day in days:
            parts = []
            day_text = day.isoformat()
            for cell in by_post_day.get((post_id, day), ()):
                kind = cell.period.kind
                title = escape(f"{day_text} {period_labels[kind]} {report.describe(cell)}")
                # Built here rather than in the template: a four-week board has a few thousand of these.
                parts.append(
                    f'<span class="duty-b {BASIS_CSS[cell.basis]}" title="{title}">{period_shorts[kind]}</span>'
                )
                if cell.is_gap:
                    row.gap_count += 1
            row.cells.append(mark_safe("".join(parts)))  # noqa: S308 (every piece above is escaped or a constant)
        total_gaps += row.gap_count
    return Board(headers, rows, total_gaps)


def day_detail(report: CoverageReport, day: dt.date) -> list[dict[str, Any]]:
    return [
        {
            "post": report.post_label(cell.post_id),
            "period": PeriodKind(cell.period.kind).label,
            "time": f"{cell.period.starts_at:%H:%M}–{cell.period.ends_at:%H:%M}",
            "basis": BASIS_LABELS[cell.basis],
            "css": BASIS_CSS[cell.basis],
            "text": report.describe(cell),
        }
        for cell in report.cells
        if cell.day == day
    ]


def gap_lines(report: CoverageReport, limit: int | None = None) -> list[dict[str, Any]]:
    lines = []
    for cell in report.gaps[:limit]:
        lines.append(
            {
                "site": report.site,
                "day": cell.day,
                "period": PeriodKind(cell.period.kind).label,
                "post": report.post_label(cell.post_id),
                "text": report.describe(cell),
            }
        )
    return lines


def gaps_for_home(user: Any) -> dict[str, Any]:
    """Context for ``duty/_gaps_warning.html`` on the supervisor's home page: the empty posts of the next
    four weeks across the user's sites (seed 002 §6.2.3 岗位不空岗), red until each is filled.

    Users without Capability.MANAGE_DUTY get an empty context and the include renders nothing.
    """
    context: dict[str, Any] = {"duty_gaps": [], "duty_gap_count": 0, "duty_gap_sites": []}
    if (
        user is None
        or not getattr(user, "is_authenticated", False)
        or not user.has_capability(Capability.MANAGE_DUTY)
    ):
        return context
    today = timezone.localdate()
    sites = list(
        Site.objects.restrict(user, Capability.MANAGE_DUTY)
        .filter(is_active=True, duty_posts__is_active=True)
        .distinct()
        .order_by("code")[:HOME_SITES_CHECKED]
    )
    for site in sites:
        report = coverage(site, today, DEFAULT_DAYS)
        gaps = report.gaps
        if not gaps:
            continue
        context["duty_gap_count"] += len(gaps)
        context["duty_gap_sites"].append(
            {
                "site": site,
                "count": len(gaps),
                "first_day": gaps[0].day,
                "url": f"{reverse('duty:board')}?site={site.pk}",
            }
        )
        remaining = HOME_GAPS_SHOWN - len(context["duty_gaps"])
        if remaining > 0:
            context["duty_gaps"].extend(gap_lines(report, remaining))
    return context
