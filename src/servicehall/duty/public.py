"""Who is on duty today at each window, for the public page 工作人员身份公开 (六公开, seed 000 服务承诺制 6).

Read-only. The schedule is the one the coverage board uses (roster, else A角, else the leave's named
替岗人员, else a free qualified B角), so someone on approved leave never appears and their stand-in does.
Only name, staff number and post leave this module: nothing else about a person is read at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from servicehall.accounts.models import User
from servicehall.duty.coverage import load_inputs, opening_table
from servicehall.duty.models import PeriodKind
from servicehall.duty.rules import PERIOD_ORDER, Basis, cover, plan_day
from servicehall.sites.models import PostKind, Site, Window
from servicehall.workdays.service import current_calendar

# What the public is told about how someone came to be at the window; a B角 or 替岗 is still on duty.
PUBLIC_BASIS_LABELS = {
    Basis.ROSTER: _("排班"),
    Basis.A: _("A角"),
    Basis.SUBSTITUTE: _("替岗"),
    Basis.B: _("B角顶岗"),
}


class LiveStatus:
    """What the counter says right now (queueing's 窗口状态), only for today's page."""

    AT_WINDOW = "at_window"
    PAUSED = "paused"


LIVE_LABELS = {LiveStatus.AT_WINDOW: _("在岗"), LiveStatus.PAUSED: _("暂停服务")}


@dataclass
class PublicDuty:
    """One person at one post today: what a citizen may know (name, staff number, post)."""

    full_name: str
    staff_number: str
    post_name: str
    post_kind: str
    periods: list[str] = field(default_factory=list)
    basis: str = Basis.ROSTER
    live_status: str = ""

    @property
    def initial(self) -> str:
        return self.full_name[:1]

    @property
    def post_kind_label(self) -> str:
        return str(PostKind(self.post_kind).label) if self.post_kind in PostKind.values else ""

    @property
    def period_labels(self) -> list[str]:
        return [str(PeriodKind(period).label) for period in self.periods]

    @property
    def basis_label(self) -> str:
        return str(PUBLIC_BASIS_LABELS.get(self.basis, ""))

    @property
    def live_label(self) -> str:
        return str(LIVE_LABELS.get(self.live_status, ""))


@dataclass
class WindowDuty:
    window: Window | None  # None: posts that are not at a window (导办台, 后台 …)
    people: list[PublicDuty] = field(default_factory=list)


@dataclass
class PublicDutyBoard:
    site: Site
    day: dt.date
    is_open: bool
    windows: list[WindowDuty]


def on_duty(site: Site, day: dt.date, *, live: bool = False) -> PublicDutyBoard:
    """Who the schedule puts at each active window (and each post without a window) of ``site`` on ``day``.

    With ``live`` the window states are read too: a scheduled person signed in at their window is
    在岗 or 暂停服务; someone signed in there who is not on the schedule is listed as well, since
    they are the one serving.
    """
    # The site's own calendar, so a local closure (台风停办) closes the page too.
    calendar = current_calendar(site)
    plan = plan_day(
        day,
        opening_table(site),
        is_working_day=calendar.is_working_day(day),
        is_holiday=day in calendar.data.holidays,
    )
    plans = [plan] if plan is not None else []
    windows = {
        window.pk: window
        for window in Window.objects.filter(site=site, is_active=True).only("number", "name", "site_id")
    }
    if not plans:
        return PublicDutyBoard(site, day, False, [])
    inputs = load_inputs(site, day, day, plans=plans)
    entries: dict[tuple[int, int], PublicDuty] = {}
    order: list[tuple[int, int]] = []
    for cell in cover(inputs):
        if cell.post_id is None or cell.is_gap:
            continue
        post = inputs.post_models[cell.post_id]
        if post.window_id is not None and post.window_id not in windows:
            continue
        for staff_id in cell.staff_ids:
            key = (cell.post_id, staff_id)
            entry = entries.get(key)
            if entry is None:
                entry = PublicDuty("", "", post.name, post.kind, basis=cell.basis)
                entries[key] = entry
                order.append(key)
            if cell.period.kind not in entry.periods:
                entry.periods.append(cell.period.kind)
    states = _window_states(list(windows)) if live else {}
    extra_people = [
        (window_id, clerk_id)
        for window_id, (clerk_id, _status) in states.items()
        if not any(
            inputs.post_models[post_id].window_id == window_id and staff_id == clerk_id
            for post_id, staff_id in order
        )
    ]
    staff_ids = {staff_id for _post_id, staff_id in order} | {clerk for _window, clerk in extra_people}
    people = {
        person["pk"]: person
        for person in User.objects.filter(pk__in=staff_ids).values("pk", "full_name", "staff_number")
    }
    by_window: dict[int | None, WindowDuty] = {}
    for post_id, staff_id in order:
        post = inputs.post_models[post_id]
        entry = entries[(post_id, staff_id)]
        entry.full_name = people[staff_id]["full_name"]
        entry.staff_number = people[staff_id]["staff_number"]
        entry.periods.sort(key=lambda period: PERIOD_ORDER[period])
        state = states.get(post.window_id) if post.window_id is not None else None
        if state is not None and state[0] == staff_id:
            entry.live_status = state[1]
        group = by_window.setdefault(post.window_id, WindowDuty(windows.get(post.window_id)))
        group.people.append(entry)
    for window_id, clerk_id in extra_people:
        person = people.get(clerk_id)
        if person is None:
            continue
        group = by_window.setdefault(window_id, WindowDuty(windows[window_id]))
        group.people.append(
            PublicDuty(
                person["full_name"],
                person["staff_number"],
                str(windows[window_id]),
                "",
                basis="",
                live_status=states[window_id][1],
            )
        )
    for window in windows.values():
        by_window.setdefault(window.pk, WindowDuty(window))
    groups = sorted(by_window.values(), key=lambda group: group.window.number if group.window else 10_000)
    return PublicDutyBoard(site, day, True, groups)


def _window_states(window_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Window -> (clerk signed in, live status) for windows with someone at them now."""
    # queueing depends on catalog and sites; reading its state lazily keeps duty importable on its own.
    from servicehall.queueing.models import WindowState, WindowStatus

    live = {WindowStatus.SERVING: LiveStatus.AT_WINDOW, WindowStatus.IDLE: LiveStatus.AT_WINDOW}
    live[WindowStatus.PAUSED] = LiveStatus.PAUSED
    return {
        window_id: (clerk_id, live[status])
        for window_id, clerk_id, status in WindowState.objects.filter(
            window_id__in=window_ids, clerk__isnull=False, status__in=list(live)
        ).values_list("window_id", "clerk_id", "status")
    }
