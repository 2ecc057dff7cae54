"""The figures the seeds set, computed from the case history (CaseEvent) so they can always be recomputed.

- 及时办结率 (seed 000 限时办结制 八: 及时办结率达95%以上): completed on or before the committed due date.
- 一次办结率 (seed 004 最多跑一次; seed 003 第十八条 确保第二次即时办结): completed with at most one visit.
- average working days taken, and 补正 count per case.
Grouped per clerk (首办责任人), department and site.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet

from servicehall.accounts.models import User
from servicehall.cases.models import CaseEvent
from servicehall.cases.states import CaseAction
from servicehall.sites.models import Department, Site

ON_TIME_TARGET = 0.95
RETURN_VISIT_ACTIONS = (CaseAction.RECEIVE_SUPPLEMENT, CaseAction.SUPPLY_DEFERRED)


@dataclass
class Figures:
    completed: int = 0
    on_time: int = 0
    one_visit: int = 0
    working_days_total: int = 0
    supplements: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.completed if self.completed else None

    @property
    def one_visit_rate(self) -> float | None:
        return self.one_visit / self.completed if self.completed else None

    @property
    def average_working_days(self) -> float | None:
        return self.working_days_total / self.completed if self.completed else None

    @property
    def supplements_per_case(self) -> float | None:
        return self.supplements / self.completed if self.completed else None

    @property
    def meets_on_time_target(self) -> bool | None:
        rate = self.on_time_rate
        return None if rate is None else rate >= ON_TIME_TARGET

    def as_dict(self) -> dict[str, Any]:
        return {
            "completed": self.completed,
            "on_time": self.on_time,
            "on_time_rate": _rounded(self.on_time_rate),
            "one_visit": self.one_visit,
            "one_visit_rate": _rounded(self.one_visit_rate),
            "average_working_days": _rounded(self.average_working_days),
            "supplements": self.supplements,
            "supplements_per_case": _rounded(self.supplements_per_case),
            "meets_on_time_target": self.meets_on_time_target,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class Report:
    overall: Figures = field(default_factory=Figures)
    by_clerk: dict[int, Figures] = field(default_factory=lambda: defaultdict(Figures))
    by_department: dict[int, Figures] = field(default_factory=lambda: defaultdict(Figures))
    by_site: dict[int, Figures] = field(default_factory=lambda: defaultdict(Figures))

    def labelled(self) -> dict[str, list[tuple[str, Figures]]]:
        """The groups with names, for pages and the API: clerks by name and staff number."""
        clerks = {user.pk: str(user) for user in User.objects.filter(pk__in=self.by_clerk)}
        departments = {
            department.pk: f"{department.site.name} · {department.name}"
            for department in Department.objects.filter(pk__in=self.by_department).select_related("site")
        }
        sites = {site.pk: site.name for site in Site.objects.filter(pk__in=self.by_site)}
        return {
            "clerk": sorted(
                ((clerks.get(key, str(key)), value) for key, value in self.by_clerk.items()), key=_by_name
            ),
            "department": sorted(
                ((departments.get(key, str(key)), value) for key, value in self.by_department.items()),
                key=_by_name,
            ),
            "site": sorted(
                ((sites.get(key, str(key)), value) for key, value in self.by_site.items()), key=_by_name
            ),
        }


def _by_name(pair: tuple[str, Figures]) -> str:
    return pair[0]


def completion_events(
    site_ids: Iterable[int] | None = None, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> QuerySet[CaseEvent]:
    events = CaseEvent.objects.filter(action=CaseAction.COMPLETE)
    if site_ids is not None:
        events = events.filter(site_id__in=list(site_ids))
    if start is not None:
        events = events.filter(occurred_at__gte=start)
    if end is not None:
        events = events.filter(occurred_at__lt=end)
    return events


def _counts_per_case(case_ids: list[int], actions: Iterable[str]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for chunk_start in range(0, len(case_ids), 5000):
        chunk = case_ids[chunk_start : chunk_start + 5000]
        rows = (
            CaseEvent.objects.filter(case_id__in=chunk, action__in=list(actions))
            .values("case_id")
            .annotate(count=Count("id"))
        )
        counts.update({row["case_id"]: row["count"] for row in rows})
    return counts


def report(
    site_ids: Iterable[int] | None = None, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> Report:
    """Figures for the cases completed in [start, end) at the given sites (all sites when None)."""
    rows = list(
        completion_events(site_ids, start, end).values(
            "case_id", "after", "case__first_handler_id", "case__department_id", "case__site_id"
        )
    )
    case_ids = [row["case_id"] for row in rows]
    returns = _counts_per_case(case_ids, RETURN_VISIT_ACTIONS)
    supplements = _counts_per_case(case_ids, [CaseAction.REQUEST_SUPPLEMENT])
    result = Report()
    for row in rows:
        after = row["after"] or {}
        visits = 1 + returns.get(row["case_id"], 0)
        groups = (
            result.overall,
            result.by_clerk[row["case__first_handler_id"]],
            result.by_department[row["case__department_id"]],
            result.by_site[row["case__site_id"]],
        )
        for figures in groups:
            figures.completed += 1
            figures.on_time += 1 if after.get("on_time") else 0
            figures.one_visit += 1 if visits <= 1 else 0
            figures.working_days_total += int(after.get("working_days") or 0)
            figures.supplements += supplements.get(row["case_id"], 0)
    return result
