"""`servicehall simulate`, second part: the supervision history of the days just simulated.

What the assessment reads besides the service log (see ``assessment.rollup``), so the indicators 属实投诉,
明察暗访扣分 and 离岗未说明去向 show something from simulated data:

- complaints (投诉, seed 003 五.1; GB/T 36113 受理 → 调查 → 处置 → 反馈 → 归档): a few per week and site, more in
  the bad week, mostly against the slow clerks; each has its timeline (``ComplaintEvent``) and the stamps
  of every step it reached. Steps fall on the site's open days and hours after the receipt; a step that
  would come after the last simulated day (or now) is not taken, so the latest complaints are still open.
  A complaint concluded 属实/部分属实 against a staff member has its ``Violation`` (source 投诉), as
  ``supervision.actions.conclude_complaint`` records it;
- inspections (明察暗访, seed 003 第三十三条; seed 004 随机明察暗访): a few per month and site, more in the bad
  week and more often at the slow clerks' windows, by someone who may inspect the site; findings from the
  checklist with their deductions, each with its ``Violation`` (source 明察暗访), as ``record_inspection``;
- away records (离岗登记, seed 003 15 离岗10分钟以上必须说明去向): some clerks step away every day, in a lull
  of at least three minutes between their tickets (shortened to fit on a busy day; the lulls come from one
  LAG/LEAD query per site over the chosen clerks' tickets); most state where they went or are back within the limit; a few (more of them
  slow clerks, more in the bad week) stay away past the limit without a 去向, flagged with the
  ``Violation`` (source 离岗) the duty sweep would have recorded.

Violations older than ten days are 已认定, newer ones 待处理, for a supervisor to confirm. Like the rest of
the simulator, no audit record per row (loaded history; the run's one record lists the counts) and no
escalation proposals (``supervision.escalation`` proposes only when a violation is recorded by an action,
as for the simulator's late check-ins).

Which site-days: those of the range that have tickets and have no complaint received, inspection held or
away record started on them yet. Every filled site-day gets at least one away record (unless no clerk
had a lull that day), so running again adds nothing. Deterministic: one ``random.Random`` from (seed, "supervision", site code, day) per site-day.
Rows are few (hundreds per simulated quarter), so they go in with ``bulk_create`` in one transaction,
after the service log is loaded (their keys are needed for the violations' source references).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.db.models import Window as Over
from django.db.models.functions import Coalesce, Lag, Lead
from django.utils import timezone

from servicehall.accounts.models import RoleGrant, User
from servicehall.accounts.roles import ROLE_CAPABILITIES, SUBTREE_ROLES, Capability
from servicehall.assessment.simulation import SLOW_CLERKS, SimulationResult, _rng
from servicehall.duty.actions import away_limit_minutes
from servicehall.duty.coverage import opening_table
from servicehall.duty.models import AwayRecord
from servicehall.duty.rules import plan_day
from servicehall.queueing.models import Ticket
from servicehall.sites.models import Site, Window
from servicehall.supervision.actions import default_deadline, hash_check_code
from servicehall.supervision.models import (
    KIND_TIER,
    UPHELD_CONCLUSIONS,
    ChecklistItem,
    Complaint,
    ComplaintChannel,
    ComplaintConclusion,
    ComplaintEvent,
    ComplaintKind,
    ComplaintStatus,
    Inspection,
    InspectionFinding,
    InspectionMode,
    Violation,
    ViolationKind,
    ViolationSource,
    ViolationStatus,
)
from servicehall.workdays import service as workdays

MARK = "（模拟数据）"
# Expected complaints (for a site with five clerks at work) and inspections per site and open day,
# outside and inside the bad week.
COMPLAINTS_PER_DAY = (0.35, 1.3)
INSPECTIONS_PER_DAY = (0.12, 0.6)
# Share of clerks who step away on a given day, normal and slow.
AWAY_SHARE = (0.25, 0.4)
# The shortest lull between two tickets a clerk steps away in.
MIN_AWAY = dt.timedelta(minutes=3)
# Days per query for the clerks' lulls.
IDLE_QUERY_DAYS = 100
# Violations newer than this are still 待处理 (the supervisor has not confirmed them yet).
UNCONFIRMED_DAYS = 10

# (content, violation kind if upheld, accused?) — what members of the public complain about.
COMPLAINT_THEMES: tuple[tuple[str, str, bool], ...] = (
    ("窗口工作人员态度生硬，解释问题不耐烦", ViolationKind.FORBIDDEN_LANGUAGE, True),
    ("未一次性告知所需材料，往返多次才办成", ViolationKind.FIRST_RESPONDER_FAILURE, True),
    ("材料齐全仍被要求改天再来，办理拖沓", ViolationKind.NOT_HANDLED_PROMPTLY, True),
    ("以不属于本窗口业务为由推诿", ViolationKind.SHIRKING_OR_OBSTRUCTION, True),
    ("窗口长时间无人，工作人员不知去向", ViolationKind.AWAY_WITHOUT_WHEREABOUTS, True),
    ("等候时间过长，叫号太慢", ViolationKind.OTHER, False),
    ("大厅指引不清，取错了号", ViolationKind.OTHER, False),
)
CHANNEL_WEIGHTS = (
    (ComplaintChannel.DESK, 30),
    (ComplaintChannel.PHONE, 25),
    (ComplaintChannel.WEB, 20),
    (ComplaintChannel.SUGGESTION_BOX, 10),
    (ComplaintChannel.HOTLINE_12345, 15),
)
DISPOSALS = {
    ComplaintConclusion.UPHELD: "经调阅叫号记录和监控录像，情况属实，已对当事人批评教育并在科室通报",
    ComplaintConclusion.PARTLY_UPHELD: "经调查情况部分属实，已提醒当事人改进服务",
    ComplaintConclusion.NOT_UPHELD: "经调阅监控和办件记录，未发现违规情形，已向投诉人解释说明",
}
# Stored text is Chinese whatever the language active during the run (labels would follow it).
CONCLUSION_WORDS = {
    ComplaintConclusion.UPHELD: "属实",
    ComplaintConclusion.PARTLY_UPHELD: "部分属实",
    ComplaintConclusion.NOT_UPHELD: "不属实",
}
MODE_WORDS = {InspectionMode.OPEN: "明察", InspectionMode.COVERT: "暗访"}
INVESTIGATION_NOTE = "调阅叫号记录与监控录像，询问当事人"
REPLY = "感谢您的监督，调查结果和处理情况已电话告知"
FILING_NOTE = "已办结归档"
FINDING_NOTES = {
    "badge": "未佩戴工作牌",
    "dress": "着装不规范",
    "posture": "坐姿不端正，趴在桌上",
    "language": "对群众使用生硬语言",
    "discipline": "工作时间玩手机",
    "hygiene": "窗口地面有纸屑",
    "desk": "桌面摆放私人物品",
    "one_time_notice": "未一次性告知所需材料",
    "safety": "电源插座私拉乱接",
}
WHEREABOUTS = (
    "到后台请示业务",
    "到档案室调取资料",
    "到1号窗口协助",
    "参加科室临时碰头会",
    "卫生间",
    "到复印室复印材料",
)


def _roles_with(capability: Capability) -> list[str]:
    return sorted(str(role) for role, capabilities in ROLE_CAPABILITIES.items() if capability in capabilities)


def _people_for(
    site: Site,
    capability: Capability,
    users: list[User],
    roles_of: dict[int, set[str]],
    parents: dict[int, int | None],
) -> list[User]:
    """Who may act at ``site`` with ``capability`` (as ``require_in_scope`` decides): holders at the site,
    or holders of a subtree role at a site above it."""
    roles = set(_roles_with(capability))
    subtree = {str(role) for role in SUBTREE_ROLES}
    above: set[int] = set()
    cursor = parents.get(site.pk)
    while cursor is not None and cursor not in above:
        above.add(cursor)
        cursor = parents.get(cursor)
    found = []
    for user in users:
        held = roles_of.get(user.pk, set()) & roles
        if (user.site_id == site.pk and held) or (user.site_id in above and held & subtree):
            found.append(user)
    return found


@dataclass
class _Rows:
    """The run's rows, each complaint/inspection/away record with what follows from it."""

    complaints: list[tuple[Complaint, list[ComplaintEvent], Violation | None]] = field(default_factory=list)
    inspections: list[tuple[Inspection, list[tuple[InspectionFinding, Violation | None]]]] = field(
        default_factory=list
    )
    away: list[tuple[AwayRecord, Violation | None]] = field(default_factory=list)


class _SiteDays:
    """One site's calendar and opening hours, who handles its complaints and inspects it, its windows."""

    def __init__(
        self,
        site: Site,
        people: tuple[list[User], dict[int, set[str]], dict[int, int | None]],
        slow: set[int],
        cap: dt.datetime,
    ) -> None:
        users = people[0]
        self.site = site
        self.opening = opening_table(site)
        self.calendar = workdays.current_calendar(site)
        self.holidays = self.calendar.data.holidays
        self.zone = timezone.get_current_timezone()
        self.cap = cap
        self.slow = slow
        self.handlers = _people_for(site, Capability.HANDLE_COMPLAINTS, *people)
        self.inspectors = _people_for(site, Capability.INSPECT, *people)
        self.names = {user.pk: user.full_name for user in users}
        self.windows = {window.pk: window for window in Window.objects.filter(site=site)}
        self.items = list(ChecklistItem.objects.filter(is_active=True).order_by("position", "code"))
        self._periods: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = {}
        self._deadlines: dict[dt.date, dt.date] = {}

    def periods(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The site's open periods on ``day`` as aware datetimes (empty when closed)."""
        answer = self._periods.get(day)
        if answer is None:
            plan = plan_day(
                day,
                self.opening,
                is_working_day=self.calendar.is_working_day(day),
                is_holiday=day in self.holidays,
            )
            answer = [
                (
                    dt.datetime.combine(day, period.starts_at, tzinfo=self.zone),
                    dt.datetime.combine(day, period.ends_at, tzinfo=self.zone),
                )
                for period in (plan.periods if plan is not None else ())
            ]
            self._periods[day] = answer
        return answer

    def deadline(self, day: dt.date) -> dt.date:
        answer = self._deadlines.get(day)
        if answer is None:
            answer = self._deadlines[day] = default_deadline(day)
        return answer

    def moment(
        self, rng: random.Random, day: dt.date, after: dt.datetime | None = None
    ) -> dt.datetime | None:
        """A random moment in the open hours of ``day`` (later than ``after``), or None if there is none."""
        spans = []
        for start, end in self.periods(day):
            start = max(start, after) if after is not None else start
            end = end - dt.timedelta(minutes=5)
            if end > start:
                spans.append((start, end))
        if not spans:
            return None
        total = sum((end - start).total_seconds() for start, end in spans)
        offset = rng.uniform(0, total)
        for start, end in spans:
            length = (end - start).total_seconds()
            if offset <= length:
                return (start + dt.timedelta(seconds=offset)).replace(microsecond=0)
            offset -= length
        return spans[-1][1].replace(microsecond=0)

    def later(
        self, rng: random.Random, after: dt.datetime, days: int, gap_minutes: int
    ) -> dt.datetime | None:
        """A moment ``days`` open days after ``after`` (same day when 0), at least ``gap_minutes`` later;
        None when it would come after the run's cap (the last simulated day, or now)."""
        earliest = after + dt.timedelta(minutes=gap_minutes)
        day = timezone.localtime(after, self.zone).date()
        remaining = days
        for _attempt in range(30):
            if remaining <= 0 and self.periods(day):
                found = self.moment(rng, day, earliest)
                if found is not None:
                    return found if found <= self.cap else None
            day += dt.timedelta(days=1)
            if self.periods(day):
                remaining -= 1
            if dt.datetime.combine(day, dt.time.min, tzinfo=self.zone) > self.cap:
                return None
        return None

    def status_of(self, moment: dt.datetime) -> str:
        recent = timezone.localdate() - dt.timedelta(days=UNCONFIRMED_DAYS)
        return (
            ViolationStatus.OPEN if timezone.localtime(moment).date() > recent else ViolationStatus.CONFIRMED
        )


def _site_days_to_fill(site: Site, first: dt.date, last: dt.date, zone: Any) -> list[dt.date]:
    """The days of [first, last] with tickets at ``site`` and no complaint, inspection or away record yet."""
    with_tickets = set(
        Ticket.objects.filter(site=site, service_date__range=(first, last))
        .order_by("service_date")  # not the model's ordering, which would make every ticket distinct
        .values_list("service_date", flat=True)
        .distinct()
    )
    if not with_tickets:
        return []
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    held: set[dt.date] = set()
    for model, column in (
        (Complaint, "received_at"),
        (Inspection, "inspected_at"),
        (AwayRecord, "started_at"),
    ):
        moments = model.objects.filter(site=site, **{f"{column}__gte": start, f"{column}__lt": end})
        held.update(
            timezone.localtime(moment, zone).date() for moment in moments.values_list(column, flat=True)
        )
    return sorted(with_tickets - held)


def _weighted(rng: random.Random, choices: Iterable[tuple[Any, float]]) -> Any:
    pairs = list(choices)
    return rng.choices([value for value, _weight in pairs], weights=[weight for _value, weight in pairs])[0]


def _count(rng: random.Random, expected: float) -> int:
    """A Poisson count with mean ``expected`` (Knuth; the means here are small)."""
    threshold, count, product = math.exp(-expected), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _complaints(
    info: _SiteDays,
    day: dt.date,
    rng: random.Random,
    staffing: dict[int, int],
    is_bad: bool,
    rows: _Rows,
) -> None:
    site = info.site
    handlers = info.handlers
    if not handlers:
        return
    # Fewer visitors, fewer complaints: a site with one or two clerks gets a fraction of a large hall's.
    size = min(1.5, max(0.3, len(staffing) / 5))
    for index in range(_count(rng, COMPLAINTS_PER_DAY[is_bad] * size)):
        received_at = info.moment(rng, day)
        if received_at is None or received_at > info.cap:
            return
        content, kind, names_staff = rng.choice(COMPLAINT_THEMES)
        accused_id = window_id = None
        if names_staff and staffing:
            clerks = sorted(staffing)
            accused_id = _weighted(rng, ((clerk, 6 if clerk in info.slow else 1) for clerk in clerks))
            window_id = staffing[accused_id]
        elif staffing and rng.random() < 0.5:
            window_id = staffing[rng.choice(sorted(staffing))]
        channel = _weighted(rng, CHANNEL_WEIGHTS)
        candidates = [user for user in handlers if user.pk != accused_id]
        if not candidates:
            continue
        handler = rng.choice(candidates)
        registrar = None if channel == ComplaintChannel.WEB else rng.choice(candidates)
        number = f"SIMTS{day:%Y%m%d}{site.pk % 1000:03d}{index:02d}"
        slow = accused_id in info.slow
        roll = rng.random()
        if accused_id is None:
            conclusion = ComplaintConclusion.UPHELD if roll < 0.35 else ComplaintConclusion.NOT_UPHELD
        else:
            upheld_share = 0.3 + (0.3 if slow else 0) + (0.2 if is_bad else 0)
            conclusion = (
                ComplaintConclusion.UPHELD
                if roll < upheld_share
                else ComplaintConclusion.PARTLY_UPHELD
                if roll < upheld_share + 0.15
                else ComplaintConclusion.NOT_UPHELD
            )
        complaint = Complaint(
            site=site,
            number=number,
            check_code_hash=hash_check_code(f"{rng.randrange(10**6):06d}"),
            kind=ComplaintKind.COMPLAINT,
            channel=channel,
            content=content + MARK,
            complainant_name="" if channel == ComplaintChannel.SUGGESTION_BOX else "模拟投诉人",
            hotline_reference=f"12345-{day:%Y%m%d}-{rng.randrange(10**4):04d}"
            if channel == ComplaintChannel.HOTLINE_12345
            else "",
            accused_staff_id=accused_id,
            window_id=window_id,
            status=ComplaintStatus.RECEIVED,
            deadline=info.deadline(day),
            recorded_by=registrar,
            received_at=received_at,
        )
        events = [
            ComplaintEvent(
                site=site,
                action="register",
                to_status=ComplaintStatus.RECEIVED,
                actor=registrar,
                at=received_at,
            )
        ]
        steps = (
            (ComplaintStatus.INVESTIGATING, "investigation_started_at", rng.choice((0, 0, 1)), 20, ""),
            (
                ComplaintStatus.DISPOSED,
                "disposed_at",
                rng.choice((1, 2, 3, 4)),
                60,
                DISPOSALS[conclusion] + MARK,
            ),
            (ComplaintStatus.REPLIED, "replied_at", rng.choice((0, 1)), 30, REPLY + MARK),
            (ComplaintStatus.FILED, "filed_at", rng.choice((0, 1, 2)), 30, FILING_NOTE + MARK),
        )
        violation = None
        previous = received_at
        for to_status, stamp, days, gap, note in steps:
            moment = info.later(rng, previous, days, gap)
            if moment is None:
                break
            if to_status == ComplaintStatus.DISPOSED:
                noted = info.later(rng, previous, 0, 10)
                if noted is not None and noted < moment:
                    events.append(
                        ComplaintEvent(
                            site=site,
                            action="note",
                            from_status=ComplaintStatus.INVESTIGATING,
                            to_status=ComplaintStatus.INVESTIGATING,
                            note=INVESTIGATION_NOTE + MARK,
                            actor=handler,
                            at=noted,
                        )
                    )
                complaint.conclusion = conclusion
                complaint.disposal = note
                if conclusion in UPHELD_CONCLUSIONS and accused_id is not None:
                    violation = Violation(
                        site=site,
                        staff_id=accused_id,
                        kind=kind,
                        tier=KIND_TIER[ViolationKind(kind)],
                        points=1,
                        source=ViolationSource.COMPLAINT,
                        source_reference=number,
                        description=f"投诉 {number} 经调查{CONCLUSION_WORDS[conclusion]}：{note}",
                        status=info.status_of(moment),
                        occurred_at=moment,
                        recorded_by=handler,
                        recorded_at=moment,
                    )
            elif to_status == ComplaintStatus.INVESTIGATING:
                complaint.handler = handler
            elif to_status == ComplaintStatus.REPLIED:
                complaint.reply = note
            else:
                complaint.filing_note = note
            events.append(
                ComplaintEvent(
                    site=site,
                    action=f"to_{to_status}",
                    from_status=complaint.status,
                    to_status=to_status,
                    note=note,
                    actor=handler,
                    at=moment,
                )
            )
            complaint.status = to_status
            setattr(complaint, stamp, moment)
            previous = moment
        rows.complaints.append((complaint, events, violation))


def _inspections(
    info: _SiteDays,
    day: dt.date,
    rng: random.Random,
    staffing: dict[int, int],
    is_bad: bool,
    rows: _Rows,
) -> None:
    if not info.inspectors or not info.items or not staffing:
        return
    at_window = {window_id: clerk for clerk, window_id in sorted(staffing.items())}
    for _index in range(_count(rng, INSPECTIONS_PER_DAY[is_bad])):
        inspected_at = info.moment(rng, day)
        if inspected_at is None or inspected_at > info.cap:
            return
        window_id = _weighted(
            rng, ((window, 6 if clerk in info.slow else 1) for window, clerk in sorted(at_window.items()))
        )
        clerk = at_window[window_id]
        share = 0.03 + (0.12 if clerk in info.slow else 0) + (0.08 if is_bad else 0)
        inspector = rng.choice([user for user in info.inspectors if user.pk != clerk] or info.inspectors)
        findings: list[tuple[InspectionFinding, Violation | None]] = []
        for item in info.items:
            if rng.random() >= share:
                continue
            deduction = rng.randint(1, item.deduction)
            note = FINDING_NOTES.get(item.code, item.title)
            finding = InspectionFinding(
                site=info.site, item=item, staff_id=clerk, deduction=deduction, note=note
            )
            violation = Violation(
                site=info.site,
                staff_id=clerk,
                kind=item.violation_kind,
                tier=KIND_TIER[ViolationKind(item.violation_kind)],
                points=deduction,
                source=ViolationSource.INSPECTION,
                source_reference="",  # inspection:<id>:<finding id>, once both are saved
                description=f"明察暗访：{item.title}，扣 {deduction} 分。{note}{MARK}",
                status=info.status_of(inspected_at),
                occurred_at=inspected_at,
                recorded_by=inspector,
                recorded_at=inspected_at,
            )
            findings.append((finding, violation))
        total = sum(finding.deduction for finding, _violation in findings)
        half = "上午" if timezone.localtime(inspected_at).hour < 12 else "下午"
        mode = InspectionMode.COVERT if rng.random() < 0.6 else InspectionMode.OPEN
        summary = (
            f"{half}{MODE_WORDS[mode]}，发现问题 {len(findings)} 项，已当场指出并要求整改"
            if findings
            else f"{half}{MODE_WORDS[mode]}，窗口秩序良好，未发现问题"
        )
        inspection = Inspection(
            site=info.site,
            window_id=window_id,
            mode=mode,
            inspector=inspector,
            inspected_at=inspected_at,
            summary=summary + MARK,
            total_deduction=total,
        )
        rows.inspections.append((inspection, findings))


def _staffing(site: Site, days: list[dt.date]) -> dict[dt.date, dict[int, int]]:
    """Per day, the clerks who called tickets and the window of each (the lowest, if several)."""
    pairs = (
        Ticket.objects.filter(site=site, service_date__in=days, clerk__isnull=False, window__isnull=False)
        .order_by()
        .values_list("service_date", "clerk_id", "window_id")
        .distinct()
    )
    staffing: dict[dt.date, dict[int, int]] = {}
    for day, clerk, window in sorted(pairs):
        staffing.setdefault(day, {}).setdefault(clerk, window)
    return staffing


def _idle_spans(
    info: _SiteDays, wanted: set[tuple[dt.date, int]]
) -> dict[tuple[dt.date, int], list[tuple[dt.datetime, dt.datetime]]]:
    """For each (day, clerk) wanted, the spans of the open hours of at least ``MIN_AWAY`` between their
    tickets, from one query per site that returns only the tickets next to a gap (the server finds them
    with LAG/LEAD), not every ticket."""
    if not wanted:
        return {}
    finished = Coalesce("finished_at", "no_show_at", "called_at")
    order = [F("called_at").asc(), F("pk").asc()]
    partition = [F("service_date"), F("clerk_id")]
    by_day: dict[dt.date, list[int]] = {}
    for day, clerk in sorted(wanted):
        by_day.setdefault(day, []).append(clerk)
    days = sorted(by_day)
    rows: list[tuple[Any, ...]] = []
    # One OR term per day, in chunks: SQLite refuses an expression tree deeper than 1000.
    for offset in range(0, len(days), IDLE_QUERY_DAYS):
        chosen = Q()
        for day in days[offset : offset + IDLE_QUERY_DAYS]:
            chosen |= Q(service_date=day, clerk_id__in=by_day[day])
        rows += (
            Ticket.objects.filter(chosen, site=info.site, called_at__isnull=False)
            .annotate(
                ends=finished,
                previous_end=Over(Lag(finished), partition_by=partition, order_by=order),
                next_call=Over(Lead("called_at"), partition_by=partition, order_by=order),
            )
            .filter(Q(previous_end=None) | Q(next_call=None) | Q(called_at__gte=F("previous_end") + MIN_AWAY))
            .values_list("service_date", "clerk_id", "called_at", "ends", "previous_end", "next_call")
        )
    free: dict[tuple[dt.date, int], list[tuple[dt.datetime | None, dt.datetime | None]]] = {}
    for day, clerk, called_at, ends, previous_end, next_call in sorted(
        rows, key=lambda row: (row[0], row[1], row[2])
    ):
        spans = free.setdefault((day, clerk), [])
        if previous_end is None or called_at - previous_end >= MIN_AWAY:
            spans.append((previous_end, called_at))
        if next_call is None:
            spans.append((ends, None))
    idle: dict[tuple[dt.date, int], list[tuple[dt.datetime, dt.datetime]]] = {}
    for (day, clerk), spans in free.items():
        found = idle.setdefault((day, clerk), [])
        for span_start, span_end in spans:
            for period_start, period_end in info.periods(day):
                start = max(span_start or period_start, period_start)
                end = min(span_end or period_end, period_end)
                if end - start >= MIN_AWAY:
                    found.append((start, end))
    return idle


def _leaving(info: _SiteDays, rng: random.Random, staffing: dict[int, int]) -> list[int]:
    """Who steps away on the day: some clerks, more of the slow ones; someone on every open day (which
    also marks the day as filled)."""
    clerks = sorted(staffing)
    if not clerks:
        return []
    leaving = [clerk for clerk in clerks if rng.random() < AWAY_SHARE[clerk in info.slow]]
    return leaving or [rng.choice(clerks)]


def _step_away(
    info: _SiteDays,
    rng: random.Random,
    clerk: int,
    staffing: dict[int, int],
    idle: list[tuple[dt.datetime, dt.datetime]],
    is_bad: bool,
    rows: _Rows,
) -> bool:
    """One away record of ``clerk`` in a lull between their tickets; False when there is none."""
    if not idle:
        return False
    limit = dt.timedelta(minutes=away_limit_minutes())
    slow = clerk in info.slow
    stated = rng.random() < 0.7
    flagged_share = 0.12 + (0.35 if slow else 0) + (0.3 if is_bad else 0)
    overstays = not stated and rng.random() < flagged_share
    if stated:
        minutes = rng.uniform(5, 30)
    elif overstays:
        minutes = limit.total_seconds() / 60 + rng.uniform(3, 25)
    else:
        minutes = rng.uniform(2, max(2.5, limit.total_seconds() / 60 - 1))
    length = dt.timedelta(minutes=minutes)
    margin = dt.timedelta(minutes=1)
    fitting = [(start, end) for start, end in idle if end - start >= length + margin]
    if fitting:
        start, end = rng.choice(fitting)
    else:
        # A busy day: away for as long as the longest lull allows.
        start, end = max(idle, key=lambda span: (span[1] - span[0], span[0]))
        length = dt.timedelta(seconds=rng.uniform(0.5, 1) * (end - start - margin).total_seconds())
    room = (end - start - length).total_seconds()
    started_at = (start + dt.timedelta(seconds=rng.uniform(0, max(room, 0)))).replace(microsecond=0)
    ended_at = (started_at + length).replace(microsecond=0)
    if ended_at > info.cap or ended_at <= started_at:
        return False
    due_at = started_at + limit
    whereabouts = rng.choice(WHEREABOUTS) if stated else ""
    flagged = not stated and ended_at > due_at
    flagged_at = min(ended_at, due_at + dt.timedelta(seconds=rng.randint(1, 60))) if flagged else None
    away = AwayRecord(
        site=info.site,
        staff_id=clerk,
        window_id=staffing[clerk],
        started_at=started_at,
        ended_at=ended_at,
        whereabouts=whereabouts,
        whereabouts_recorded_at=started_at if stated else None,
        due_at=due_at,
        flagged=flagged,
        flagged_at=flagged_at,
    )
    violation = None
    if flagged:
        window = info.windows.get(staffing[clerk])
        local = timezone.localtime(started_at)
        violation = Violation(
            site=info.site,
            staff_id=clerk,
            kind=ViolationKind.AWAY_WITHOUT_WHEREABOUTS,
            tier=KIND_TIER[ViolationKind.AWAY_WITHOUT_WHEREABOUTS],
            points=1,
            source=ViolationSource.AWAY_FROM_POST,
            source_reference="",  # away:<id>, once the record is saved
            description=(
                f"{info.names.get(clerk, clerk)} 于 {local:%Y-%m-%d %H:%M} 离开"
                f"{window if window is not None else '岗位'}，超过 {away_limit_minutes()} 分钟未说明去向。{MARK}"
            ),
            status=info.status_of(due_at),
            occurred_at=due_at,
            recorded_at=flagged_at,
        )
    rows.away.append((away, violation))
    return True


def _save(rows: _Rows, result: SimulationResult) -> None:
    complaints = [complaint for complaint, _events, _violation in rows.complaints]
    Complaint.objects.bulk_create(complaints)
    events = []
    violations = []
    for complaint, complaint_events, violation in rows.complaints:
        for event in complaint_events:
            event.complaint = complaint
            events.append(event)
        if violation is not None:
            violations.append(violation)
    ComplaintEvent.objects.bulk_create(events)
    Inspection.objects.bulk_create([inspection for inspection, _findings in rows.inspections])
    findings = []
    for inspection, inspection_findings in rows.inspections:
        for finding, _violation in inspection_findings:
            finding.inspection = inspection
            findings.append(finding)
    InspectionFinding.objects.bulk_create(findings)
    for inspection, inspection_findings in rows.inspections:
        for finding, violation in inspection_findings:
            if violation is not None:
                violation.source_reference = f"inspection:{inspection.pk}:{finding.pk}"
                violations.append(violation)
    AwayRecord.objects.bulk_create([record for record, _violation in rows.away])
    for record, violation in rows.away:
        if violation is not None:
            violation.source_reference = f"away:{record.pk}"
            violations.append(violation)
    Violation.objects.bulk_create(violations)
    result.rows["complaints"] += len(complaints)
    result.rows["complaint_events"] += len(events)
    result.rows["inspections"] += len(rows.inspections)
    result.rows["inspection_findings"] += len(findings)
    result.rows["away_records"] += len(rows.away)
    result.rows["violations"] += len(violations)


def simulate_supervision(
    first: dt.date, last: dt.date, seed: int, worse: tuple[dt.date, dt.date], result: SimulationResult
) -> None:
    """Complaints, inspections and away records for the site-days of [first, last] that need them."""
    zone = timezone.get_current_timezone()
    cap = min(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone), timezone.now())
    roles_of: dict[int, set[str]] = {}
    for user_id, role in RoleGrant.objects.values_list("user_id", "role"):
        roles_of.setdefault(user_id, set()).add(role)
    users = list(User.objects.filter(is_active=True, pk__in=roles_of).order_by("staff_number", "pk"))
    parents = dict(Site.objects.values_list("pk", "parent_id"))
    slow = {user.pk for user in User.objects.filter(username__in=SLOW_CLERKS)}
    rows = _Rows()
    for site in Site.objects.filter(is_active=True).order_by("pk"):
        days = _site_days_to_fill(site, first, last, zone)
        if not days:
            continue
        info = _SiteDays(site, (users, roles_of, parents), slow, cap)
        staffing = _staffing(site, days)
        # First the day's complaints, inspections and who steps away; then, with the lulls of those
        # clerks only (one query), where each goes. The day's generator carries on in that order.
        plans = []
        for day in days:
            if not info.periods(day):
                continue
            rng = _rng(seed, "supervision", site.code, day.isoformat())
            is_bad = worse[0] <= day <= worse[1]
            on_duty = staffing.get(day, {})
            _complaints(info, day, rng, on_duty, is_bad, rows)
            _inspections(info, day, rng, on_duty, is_bad, rows)
            plans.append((day, rng, on_duty, is_bad, _leaving(info, rng, on_duty)))
        idle = _idle_spans(
            info, {(day, clerk) for day, _generator, _duty, _bad, leaving in plans for clerk in leaving}
        )
        for day, rng, on_duty, is_bad, leaving in plans:
            for clerk in leaving:
                _step_away(info, rng, clerk, on_duty, idle.get((day, clerk), []), is_bad, rows)
    with transaction.atomic():
        _save(rows, result)
