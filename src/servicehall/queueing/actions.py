"""Every change in the hall: one function, one transaction, row locks where two people can race.

Numbers (取号) come from a per-category, per-day counter row that is incremented with an UPDATE … RETURNING
inside the ticket's own transaction: the row lock orders concurrent issuers and a rollback returns the
number, so numbers are unique and gapless under any concurrency.

Calling (叫号) locks the window's state row, then takes the first waiting ticket in serving order with
SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite serialises writers with IMMEDIATE transactions),
so two windows never get the same ticket and a killed process leaves it either called or waiting.

The serving order (``call_next``) — the anti-starvation rule:
1. Priority lanes (绿色通道/爱心专窗, 预约 check-ins, tickets returned after a transfer) before ordinary
   tickets; within a lane, the longest waiting first (``queued_at``; a transfer keeps it).
2. But an ordinary ticket is called first when (a) this window has called ``priority_streak_limit``
   priority tickets in a row (default 3), or (b) the oldest ordinary ticket has waited longer than
   ``ordinary_max_wait_minutes`` (default 30). So an ordinary ticket waits at most behind K priority
   calls per window and never beyond the wait limit plus one service.

Counter actions are recorded as ``VisitEvent`` rows, the service log (服务日志台账) from which every
figure is computed; configuration changes (categories, tidal windows, window sign-in) also go to the
audit trail, whose per-site chain lock would otherwise serialise every call of a hall.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from servicehall.accounts.permissions import audit_refusal, require_capability, require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.audit.actions import record, snapshot
from servicehall.catalog.models import ServiceItem
from servicehall.lib.errors import ActionRefused, Conflict, NotFound, PermissionRefused
from servicehall.lib.identity import IdentityValidationError, validate_mobile_phone
from servicehall.queueing import live, notices, opening
from servicehall.queueing.models import (
    APPOINTMENT_TRANSITIONS,
    AWAY_LIMIT_MINUTES,
    OPEN_AT_WINDOW,
    ORDINARY_RANK,
    PRIORITY_RANK,
    TRANSITIONS,
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    Category,
    CategoryWindow,
    DailyCounter,
    EventKind,
    Lane,
    PriorityGroup,
    Ticket,
    TicketChannel,
    TicketStatus,
    Visit,
    VisitEvent,
    WindowPause,
    WindowState,
    WindowStatus,
    lane_rank,
)
from servicehall.queueing.signals import service_finished
from servicehall.sites.models import Site, Window

if TYPE_CHECKING:
    from servicehall.accounts.models import User

PREFIX_PATTERN = re.compile(r"[A-Z]{1,2}")
TEXT_MAX_LENGTH = 100
LINK_TYPES = frozenset({"cases.inquiry", "cases.case"})
LINK_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Who may see a case at all (as the cases pages and API ask); a link to a case needs one of them.
CASE_CAPABILITIES = (Capability.HANDLE_CASES, Capability.APPROVE_CASES, Capability.SUPERVISE_CASES)
CATEGORY_AUDITED_FIELDS = [
    "prefix",
    "name",
    "description",
    "position",
    "target_wait_minutes",
    "average_service_minutes",
    "priority_groups",
    "priority_streak_limit",
    "ordinary_max_wait_minutes",
    "late_requeue_minutes",
    "tidal_waiting_threshold",
    "tidal_wait_minutes_threshold",
    "appointment_slot_minutes",
    "appointment_share_percent",
    "check_in_early_minutes",
    "check_in_late_minutes",
    "is_active",
]

ACTION_LABELS = {
    TicketStatus.CALLED: _lazy("叫号"),
    TicketStatus.SERVING: _lazy("开始办理"),
    TicketStatus.FINISHED: _lazy("办结"),
    TicketStatus.NO_SHOW: _lazy("过号"),
    TicketStatus.TRANSFERRED: _lazy("转窗"),
    TicketStatus.CANCELLED: _lazy("取消"),
    TicketStatus.WAITING: _lazy("重新排队"),
}
STAMPS = {
    TicketStatus.CALLED: "called_at",
    TicketStatus.SERVING: "started_at",
    TicketStatus.FINISHED: "finished_at",
    TicketStatus.NO_SHOW: "no_show_at",
    TicketStatus.TRANSFERRED: "transferred_at",
    TicketStatus.CANCELLED: "cancelled_at",
    TicketStatus.WAITING: "queued_at",
}


# ---------------------------------------------------------------------------------------------
# Shared pieces


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else timezone.now()


def _clean_text(
    value: Any, label: str, *, required: bool, field_name: str, max_length: int = TEXT_MAX_LENGTH
) -> str:
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
    if any(unicodedata.category(character) in {"Cc", "Cs"} for character in value):
        raise ActionRefused(
            _("%(label)s不能包含控制字符。") % {"label": label}, code="invalid", field=field_name
        )
    return value


def clean_phone(value: Any, *, required: bool = False) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ActionRefused(_("请填写手机号。"), code="phone_required", field="phone")
        return ""
    if not isinstance(value, str) or len(value) > 20:
        raise ActionRefused(_("手机号格式不正确。"), code="invalid_phone", field="phone")
    try:
        return validate_mobile_phone(value)
    except IdentityValidationError:
        raise ActionRefused(_("手机号格式不正确。"), code="invalid_phone", field="phone") from None


def transition_allowed(from_status: str, to_status: str) -> bool:
    return (from_status, to_status) in TRANSITIONS


def _require_transition(ticket: Ticket, to_status: str) -> None:
    if not transition_allowed(ticket.status, to_status):
        raise Conflict(
            _("%(number)s 当前状态为“%(status)s”，不能%(action)s。")
            % {
                "number": ticket.number,
                "status": TicketStatus(ticket.status).label,
                "action": ACTION_LABELS[TicketStatus(to_status)],
            },
            code="invalid_transition",
        )


def _event(
    kind: str,
    at: dt.datetime,
    *,
    site_id: int,
    ticket: Ticket | None = None,
    window: Window | None = None,
    clerk: Any = None,
    detail: dict[str, Any] | None = None,
) -> VisitEvent:
    return VisitEvent.objects.create(
        site_id=site_id,
        kind=kind,
        at=at,
        visit_id=ticket.visit_id if ticket is not None else None,
        ticket=ticket,
        category_id=ticket.category_id if ticket is not None else None,
        lane=ticket.lane if ticket is not None else "",
        window=window,
        clerk=clerk if clerk is not None and getattr(clerk, "pk", None) else None,
        detail=detail or {},
    )


def _transition(
    ticket: Ticket,
    to_status: str,
    at: dt.datetime,
    event_kind: str,
    *,
    window: Window | None = None,
    clerk: Any = None,
    detail: dict[str, Any] | None = None,
    extra_fields: Iterable[str] = (),
    defer_event: bool = False,
) -> VisitEvent:
    """The one dispatcher of ticket status changes: checks the table, stamps the time, writes the event
    (or, with ``defer_event``, returns it unsaved for the caller's single bulk insert)."""
    _require_transition(ticket, to_status)
    ticket.status = to_status
    setattr(ticket, STAMPS[TicketStatus(to_status)], at)
    ticket.save(update_fields=["status", STAMPS[TicketStatus(to_status)], *extra_fields])
    if defer_event:
        return VisitEvent(
            site_id=ticket.site_id,
            kind=event_kind,
            at=at,
            visit_id=ticket.visit_id,
            ticket=ticket,
            category_id=ticket.category_id,
            lane=ticket.lane,
            window=window,
            clerk=clerk,
            detail=detail or {},
        )
    return _event(
        event_kind, at, site_id=ticket.site_id, ticket=ticket, window=window, clerk=clerk, detail=detail
    )


def _publish_on_commit(message: dict[str, Any]) -> None:
    transaction.on_commit(lambda: live.publish(message))


def _message(event: VisitEvent | int, kind: str, site_id: int, **fields: Any) -> dict[str, Any]:
    event_id = event if isinstance(event, int) else event.pk
    return {"id": event_id, "site": site_id, "kind": kind, **fields}


def call_text(number: str, window_number: int) -> str:
    return _("请 %(number)s 号到 %(window)s 号窗口办理") % {"number": number, "window": window_number}


# A per-process cache of what a display says about a category, so a call needs no extra query.
_category_labels: dict[int, tuple[float, str, str]] = {}
CATEGORY_LABEL_SECONDS = 60.0


def _category_label(category_id: int) -> tuple[str, str]:
    cached = _category_labels.get(category_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1], cached[2]
    prefix, name = Category.objects.filter(pk=category_id).values_list("prefix", "name").get()
    _category_labels[category_id] = (time.monotonic() + CATEGORY_LABEL_SECONDS, prefix, name)
    return prefix, name


# ---------------------------------------------------------------------------------------------
# Issuing tickets (取号)


def _allocate_sequence(category: Category, service_date: dt.date) -> int:
    """Next number of the category's day, under the counter row's lock until the caller commits."""
    date_value = connection.ops.adapt_datefield_value(service_date)
    with connection.cursor() as cursor:
        for _attempt in range(2):
            cursor.execute(
                "UPDATE queueing_dailycounter SET last_sequence = last_sequence + 1 "
                "WHERE category_id = %s AND service_date = %s RETURNING last_sequence",
                [category.pk, date_value],
            )
            row = cursor.fetchone()
            if row is not None:
                return int(row[0])
            try:
                with transaction.atomic():
                    DailyCounter.objects.create(
                        site_id=category.site_id,
                        category=category,
                        service_date=service_date,
                        last_sequence=0,
                    )
            except IntegrityError:
                pass  # another issuer created it first; the UPDATE now waits for its lock
    raise ActionRefused(_("取号失败，请重试。"), code="counter_unavailable")


def format_number(prefix: str, sequence: int) -> str:
    return f"{prefix}{sequence:03d}"


def _require_open(site: Site, local_moment: dt.datetime) -> None:
    if not site.is_active:
        raise ActionRefused(_("%(site)s 已停用，暂不取号。") % {"site": site.name}, code="site_closed")
    if opening.is_holiday(local_moment.date()):
        raise ActionRefused(
            _("今天是法定节假日，%(site)s 不办公，请在工作日前来。") % {"site": site.name}, code="holiday"
        )
    if not opening.is_open_at(site, local_moment):
        periods = opening.day_periods(site, local_moment.date())
        hours = "、".join(f"{period.starts_at:%H:%M}–{period.ends_at:%H:%M}" for period in periods)
        if hours:
            message = _("现在不在办公时间内，今天的办公时间：%(hours)s。") % {"hours": hours}
        else:
            message = _("%(site)s 今天不办公。") % {"site": site.name}
        raise ActionRefused(message, code="outside_opening_hours")


def _clean_lane(category: Category, lane: str, priority_group: str) -> tuple[str, str]:
    if lane not in (Lane.ORDINARY, Lane.PRIORITY):
        raise ActionRefused(_("取号通道无效。"), code="invalid_lane", field="lane")
    if lane == Lane.ORDINARY:
        if priority_group:
            raise ActionRefused(
                _("普通号不需要选择优先人群。"), code="invalid_priority_group", field="priority_group"
            )
        return lane, ""
    allowed = set(category.priority_groups or [])
    if priority_group not in PriorityGroup.values or priority_group not in allowed:
        raise ActionRefused(
            _("“%(category)s”的优先通道不适用于所选人群。") % {"category": category.name},
            code="invalid_priority_group",
            field="priority_group",
        )
    return lane, priority_group


def issue_ticket(
    actor: User | None,
    category: Category,
    *,
    channel: str = TicketChannel.KIOSK,
    lane: str = Lane.ORDINARY,
    priority_group: str = "",
    phone: str = "",
    service_item: ServiceItem | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """取号 at the kiosk (no actor), by phone (no actor) or at the guide desk (a staff member with ISSUE_TICKETS)."""
    if channel == TicketChannel.GUIDE_DESK:
        require_capability(actor, Capability.ISSUE_TICKETS)
        require_in_scope(actor, category)
    elif channel not in (TicketChannel.KIOSK, TicketChannel.MOBILE):
        raise ActionRefused(_("取号渠道无效。"), code="invalid_channel")
    moment = _now(now)
    local_moment = timezone.localtime(moment)
    if not category.is_active:
        raise ActionRefused(_("该业务暂停取号。"), code="category_inactive")
    _require_open(category.site, local_moment)
    lane, priority_group = _clean_lane(category, lane, priority_group)
    phone = clean_phone(phone)
    if service_item is not None and not category.service_items.filter(pk=service_item.pk).exists():
        raise ActionRefused(_("所选事项不属于该业务。"), code="invalid_item", field="service_item")
    with transaction.atomic():
        ticket = _issue(
            category,
            local_moment.date(),
            moment,
            channel=channel,
            lane=lane,
            priority_group=priority_group,
            phone=phone,
            service_item=service_item,
            clerk=actor if channel == TicketChannel.GUIDE_DESK else None,
        )
        notices.on_issue(ticket)  # the SMS-style notice, made after the commit
        return ticket


def _issue(
    category: Category,
    service_date: dt.date,
    moment: dt.datetime,
    *,
    channel: str,
    lane: str,
    priority_group: str = "",
    phone: str = "",
    service_item: ServiceItem | None = None,
    visit: Visit | None = None,
    queued_at: dt.datetime | None = None,
    target_window: Window | None = None,
    transferred_from: Ticket | None = None,
    appointment: Appointment | None = None,
    clerk: Any = None,
    window: Window | None = None,
) -> Ticket:
    sequence = _allocate_sequence(category, service_date)
    if visit is None:
        visit = Visit.objects.create(site_id=category.site_id, service_date=service_date, created_at=moment)
    ticket = Ticket.objects.create(
        site_id=category.site_id,
        visit=visit,
        category=category,
        service_date=service_date,
        sequence=sequence,
        number=format_number(category.prefix, sequence),
        lane=lane,
        lane_rank=lane_rank(lane),
        priority_group=priority_group,
        service_item=service_item,
        phone=phone,
        channel=channel,
        issued_at=moment,
        queued_at=queued_at or moment,
        target_window=target_window,
        transferred_from=transferred_from,
        appointment=appointment,
    )
    event = _event(
        EventKind.ISSUED,
        moment,
        site_id=category.site_id,
        ticket=ticket,
        window=window,
        clerk=clerk,
        detail={"channel": channel, **({"from": transferred_from.number} if transferred_from else {})},
    )
    _publish_on_commit(
        _message(event, "issued", category.site_id, number=ticket.number, category=category.prefix)
    )
    return ticket


def cancel_ticket(actor: User | None, ticket: Ticket, *, now: dt.datetime | None = None) -> Ticket:
    """A visitor gives up (from the status page, by token) or the guide desk cancels for them."""
    if actor is not None:
        require_capability(actor, Capability.ISSUE_TICKETS)
        require_in_scope(actor, ticket)
    moment = _now(now)
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        event = _transition(locked, TicketStatus.CANCELLED, moment, EventKind.CANCELLED, clerk=actor)
        _publish_on_commit(_message(event, "cancelled", locked.site_id, number=locked.number))
    return locked


def requeue_late_arrival(actor: User, ticket: Ticket, *, now: dt.datetime | None = None) -> Ticket:
    """过号 re-queue: a visitor who missed the call comes back within the category's time; back of their lane."""
    require_capability(actor, Capability.ISSUE_TICKETS)
    require_in_scope(actor, ticket)
    moment = _now(now)
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().select_related("category").get(pk=ticket.pk)
        if locked.status != TicketStatus.NO_SHOW:
            _require_transition(locked, TicketStatus.WAITING)
        limit = locked.category.late_requeue_minutes
        if locked.no_show_at is None or moment - locked.no_show_at > dt.timedelta(minutes=limit):
            raise ActionRefused(
                _("%(number)s 过号已超过 %(minutes)d 分钟，请重新取号。")
                % {"number": locked.number, "minutes": limit},
                code="requeue_too_late",
            )
        if locked.service_date != timezone.localtime(moment).date():
            raise ActionRefused(_("只能重排当天的号。"), code="requeue_other_day")
        locked.window = None
        locked.clerk = None
        event = _transition(
            locked,
            TicketStatus.WAITING,
            moment,
            EventKind.REQUEUED,
            clerk=actor,
            extra_fields=["window", "clerk"],
        )
        _publish_on_commit(_message(event, "requeued", locked.site_id, number=locked.number))
    return locked


# ---------------------------------------------------------------------------------------------
# The counter (窗口工作台)


def _window_state_for(window: Window) -> WindowState:
    state = WindowState.objects.filter(window=window).first()
    if state is None:
        try:
            with transaction.atomic():
                state = WindowState.objects.create(
                    site_id=window.site_id, window=window, since=timezone.now()
                )
        except IntegrityError:
            state = WindowState.objects.get(window=window)
    return state


class NotYourWindow(PermissionRefused):
    """The actor is not the clerk signed in at the window (checked under the window's row lock)."""

    def __init__(self, window: Window) -> None:
        super().__init__(
            _("您没有在 %(number)s 号窗口签到，不能在此窗口操作。") % {"number": window.number},
            code="not_your_window",
        )
        self.window = window


def _require_counter(actor: User, window: Window) -> None:
    require_capability(actor, Capability.USE_COUNTER)
    require_in_scope(actor, window)


def counter_action(function: Any) -> Any:
    """Counter actions refuse a window that is not the caller's after their transaction rolled back,
    so the refusal's audit record is the only thing written."""

    @functools.wraps(function)
    def wrapped(actor: User, window: Window, *args: Any, **kwargs: Any) -> Any:
        _require_counter(actor, window)
        try:
            return function(actor, window, *args, **kwargs)
        except NotYourWindow:
            audit_refusal(
                actor, "not_signed_in_at_window", capability=str(Capability.USE_COUNTER), target=window
            )
            raise

    return wrapped


def _locked_state(actor: User, window: Window) -> WindowState:
    state = (
        WindowState.objects.select_for_update(of=("self",))
        .select_related("current_ticket")
        .filter(window=window)
        .first()
    )
    if state is None or state.clerk_id != actor.pk:
        raise NotYourWindow(window)
    return state


def _current_ticket(state: WindowState, window: Window, *, statuses: Iterable[str], action: str) -> Ticket:
    # The window's row lock guards its current ticket: every change to a called or served ticket
    # goes through the lock of the window that holds it.
    ticket = state.current_ticket
    if ticket is None or ticket.status not in statuses:
        raise ActionRefused(
            _("%(window)s 号窗口当前没有可%(action)s的号。") % {"window": window.number, "action": action},
            code="no_current_ticket",
        )
    return ticket


def sign_in(actor: User, window: Window, *, now: dt.datetime | None = None) -> WindowState:
    """The clerk takes the window (窗口签到): it becomes idle and may call."""
    require_capability(actor, Capability.USE_COUNTER)
    require_in_scope(actor, window)
    if not window.is_active:
        raise ActionRefused(_("该窗口已停用。"), code="window_inactive")
    moment = _now(now)
    _window_state_for(window)
    with transaction.atomic():
        state = WindowState.objects.select_for_update().get(window=window)
        if state.clerk_id == actor.pk:
            return state
        if state.clerk_id is not None:
            raise Conflict(
                _("%(number)s 号窗口已由其他工作人员签到。") % {"number": window.number}, code="window_taken"
            )
        elsewhere = (
            WindowState.objects.filter(clerk=actor).exclude(pk=state.pk).select_related("window").first()
        )
        if elsewhere is not None:
            raise Conflict(
                _("您已在 %(number)s 号窗口签到，请先在那里签退。") % {"number": elsewhere.window.number},
                code="signed_in_elsewhere",
            )
        before = snapshot(state, ["clerk", "status"])
        state.clerk = actor
        state.status = WindowStatus.IDLE
        state.since = moment
        state.pause_reason = ""
        state.whereabouts = ""
        state.priority_streak = 0
        state.save()
        event = _event(EventKind.WINDOW_OPENED, moment, site_id=window.site_id, window=window, clerk=actor)
        record(
            "queueing.window_signed_in",
            actor=actor,
            target=window,
            before=before,
            after=snapshot(state, ["clerk", "status"]),
        )
        _publish_on_commit(
            _message(event, "window", window.site_id, window=window.number, window_id=window.pk)
        )
    return state


@counter_action
def sign_out(actor: User, window: Window, *, now: dt.datetime | None = None) -> WindowState:
    """The clerk leaves the window (签退): only with no visitor at it."""
    moment = _now(now)
    with transaction.atomic():
        state = _locked_state(actor, window)
        if (
            state.current_ticket_id is not None
            and Ticket.objects.filter(pk=state.current_ticket_id, status__in=OPEN_AT_WINDOW).exists()
        ):
            raise ActionRefused(_("请先办结、过号或转走当前的号再签退。"), code="ticket_open")
        _end_pause(state, moment)
        before = snapshot(state, ["clerk", "status"])
        state.clerk = None
        state.status = WindowStatus.CLOSED
        state.since = moment
        state.current_ticket = None
        state.pause_reason = ""
        state.whereabouts = ""
        state.save()
        event = _event(EventKind.WINDOW_CLOSED, moment, site_id=window.site_id, window=window, clerk=actor)
        record(
            "queueing.window_signed_out",
            actor=actor,
            target=window,
            before=before,
            after=snapshot(state, ["clerk", "status"]),
        )
        _publish_on_commit(
            _message(event, "window", window.site_id, window=window.number, window_id=window.pk)
        )
    return state


class _HotCursor:
    """The calling path's cursor. On PostgreSQL it binds on the server and prepares its few statements
    once per connection (Django leaves prepared statements off for connection poolers; these are
    prepared explicitly, so a pooler in transaction mode would need ``prepare=False`` here)."""

    def __init__(self) -> None:
        self.postgresql = connection.vendor == "postgresql"
        if self.postgresql:
            import psycopg

            connection.ensure_connection()
            self.cursor = psycopg.Cursor(connection.connection)
        else:
            self.cursor = connection.cursor()

    def execute(self, sql: str, parameters: Any) -> None:
        if self.postgresql:
            self.cursor.execute(sql, parameters, prepare=True)
        else:
            self.cursor.execute(sql, parameters)

    def fetchone(self) -> Any:
        return self.cursor.fetchone()

    def fetchall(self) -> Any:
        return self.cursor.fetchall()

    def close(self) -> None:
        self.cursor.close()

    def __enter__(self) -> _HotCursor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def categories(self, category_ids: list[int]) -> tuple[str, list[Any]]:
        """The category filter: one array parameter on PostgreSQL (one prepared statement), a list on SQLite."""
        if self.postgresql:
            return "category_id = ANY(%s)", [list(category_ids)]
        return f"category_id IN ({', '.join(['%s'] * len(category_ids))})", list(category_ids)


_WAITING_FILTER = (
    "site_id = %s AND service_date = %s AND status = 'waiting' AND {categories} "
    "AND (target_window_id IS NULL OR target_window_id = %s)"
)


def _skip_locked() -> str:
    return " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""


def _take(
    cursor: Any,
    window: Window,
    clerk_id: int,
    date_value: Any,
    moment_value: Any,
    category_ids: list[int],
    *,
    rank: int | None = None,
) -> tuple[Any, ...] | None:
    """Call the first waiting ticket in serving order that nobody else has locked (one statement).

    Returns (id, lane_rank, number, category_id, visit_id, lane, site_id) or None.
    """
    category_filter, category_parameters = cursor.categories(category_ids)
    where = _WAITING_FILTER.format(categories=category_filter)
    parameters: list[Any] = [
        moment_value,
        window.pk,
        clerk_id,
        window.site_id,
        date_value,
        *category_parameters,
        window.pk,
    ]
    if rank is not None:
        where += " AND lane_rank = %s"
        parameters.append(rank)
    # Only placeholders and fixed SQL are interpolated; every value is a bound parameter.
    choose = f"SELECT id FROM queueing_ticket WHERE {where} ORDER BY lane_rank, queued_at, id LIMIT 1{_skip_locked()}"  # noqa: S608
    update = _CALL_UPDATE.replace("{choose}", choose)
    cursor.execute(update, parameters)
    return cursor.fetchone()


_CALL_UPDATE = (
    "UPDATE queueing_ticket SET status = 'called', called_at = %s, window_id = %s, clerk_id = %s, "
    "call_count = call_count + 1 WHERE status = 'waiting' AND id = ({choose}) "
    "RETURNING id, lane_rank, number, category_id, visit_id, lane, site_id"
)


def _starving_ordinary(
    cursor: Any, window: Window, date_value: Any, category_ids: list[int], cutoff_value: Any
) -> int | None:
    """The oldest ordinary ticket that has waited past the limit, locked for us, if there is one."""
    category_filter, category_parameters = cursor.categories(category_ids)
    where = _WAITING_FILTER.format(categories=category_filter)
    # Only placeholders and fixed SQL are interpolated; every value is a bound parameter.
    starving = f"SELECT id FROM queueing_ticket WHERE {where} AND lane_rank = %s AND queued_at <= %s ORDER BY lane_rank, queued_at, id LIMIT 1{_skip_locked()}"  # noqa: S608
    cursor.execute(
        starving,
        [window.site_id, date_value, *category_parameters, window.pk, ORDINARY_RANK, cutoff_value],
    )
    row = cursor.fetchone()
    return int(row[0]) if row is not None else None


def _put_back(cursor: Any, ticket_id: int) -> None:
    """Undo a call inside the same transaction (nobody else has seen it) when the rule picks another."""
    cursor.execute(
        "UPDATE queueing_ticket SET status = 'waiting', called_at = NULL, window_id = NULL, clerk_id = NULL, "
        "call_count = call_count - 1 WHERE id = %s",
        [ticket_id],
    )


@dataclass(frozen=True)
class CallRules:
    category_ids: list[int]
    streak_limit: int
    ordinary_max_wait_minutes: int


# A window's categories and limits change rarely (a tidal window opens, a manager edits a category);
# each process keeps those of a whole site for a moment (one query for all its windows) and forgets
# them at once when it makes such a change itself.
_rules_cache: dict[int, tuple[float, dict[int, CallRules]]] = {}
RULES_CACHE_SECONDS = 2.0
# A window that calls no category: the limits are the category model's defaults, and never used.
NO_CALL_RULES = CallRules(
    category_ids=[],
    streak_limit=Category._meta.get_field("priority_streak_limit").default,
    ordinary_max_wait_minutes=Category._meta.get_field("ordinary_max_wait_minutes").default,
)


def forget_call_rules() -> None:
    _rules_cache.clear()


def _site_call_rules(site_id: int) -> dict[int, CallRules]:
    rows = (
        CategoryWindow.objects.filter(window__site_id=site_id, is_standby=False, category__is_active=True)
        .order_by("window_id", "category_id")
        .values_list(
            "window_id",
            "category_id",
            "category__priority_streak_limit",
            "category__ordinary_max_wait_minutes",
        )
    )
    by_window: dict[int, list[tuple[int, int, int]]] = {}
    for window_id, category_id, streak_limit, max_wait in rows:
        by_window.setdefault(window_id, []).append((category_id, streak_limit, max_wait))
    # Across a window's categories the strictest (smallest) limits protect ordinary tickets best.
    return {
        window_id: CallRules(
            category_ids=[row[0] for row in categories],
            streak_limit=min(row[1] for row in categories),
            ordinary_max_wait_minutes=min(row[2] for row in categories),
        )
        for window_id, categories in by_window.items()
    }


def _call_rules(window: Window) -> CallRules:
    cached = _rules_cache.get(window.site_id)
    if cached is None or cached[0] <= time.monotonic():
        cached = (time.monotonic() + RULES_CACHE_SECONDS, _site_call_rules(window.site_id))
        _rules_cache[window.site_id] = cached
    return cached[1].get(window.pk, NO_CALL_RULES)


def _choose_and_call(
    cursor: Any,
    window: Window,
    clerk_id: int,
    date_value: Any,
    moment: dt.datetime,
    rules: CallRules,
    streak: int,
) -> tuple[Any, ...] | None:
    """SQLite: the anti-starvation rule of the module docstring, step by step, calling the chosen ticket
    (PostgreSQL chooses in one statement, ``_CALL_AND_RECORD``)."""
    moment_value = connection.ops.adapt_datetimefield_value(moment)
    if streak >= rules.streak_limit:
        called = _take(
            cursor, window, clerk_id, date_value, moment_value, rules.category_ids, rank=ORDINARY_RANK
        )
        if called is not None:
            return called
        return _take(cursor, window, clerk_id, date_value, moment_value, rules.category_ids)
    called = _take(cursor, window, clerk_id, date_value, moment_value, rules.category_ids)
    if called is None or called[1] != PRIORITY_RANK:
        return called
    cutoff_value = connection.ops.adapt_datetimefield_value(
        moment - dt.timedelta(minutes=rules.ordinary_max_wait_minutes)
    )
    starving = _starving_ordinary(cursor, window, date_value, rules.category_ids, cutoff_value)
    if starving is None:
        return called
    _put_back(cursor, called[0])
    return _take(cursor, window, clerk_id, date_value, moment_value, rules.category_ids, rank=ORDINARY_RANK)


# The first statement locks the window's state and, when the press passes over an unanswered call
# (the page's expected ticket is the window's called one), records that ticket as 过号 at once. Doing
# it before choosing matters on PostgreSQL: a FOR UPDATE scan may keep a lock on a row that another
# window has just called (it fails the re-check but stays locked until commit), so a call must not
# wait for any ticket lock after it has chosen, or two windows could deadlock.
_LOCK_AND_PASS_OVER_POSTGRESQL = """
WITH state AS (
    SELECT id, clerk_id, status, current_ticket_id, priority_streak
    FROM queueing_windowstate WHERE window_id = %(window)s::bigint FOR UPDATE
), present AS (
    SELECT id, status, number, visit_id, category_id, lane, site_id
    FROM queueing_ticket WHERE id = (SELECT current_ticket_id FROM state)
), passed AS (
    UPDATE queueing_ticket SET status = 'no_show', no_show_at = %(at)s::timestamptz
    WHERE id = %(expected)s::bigint AND status = 'called'
        AND id = (SELECT current_ticket_id FROM state)
        AND (SELECT clerk_id FROM state) = %(clerk)s::bigint
        AND (SELECT status FROM state) <> 'paused'
    RETURNING id
)
SELECT state.id, state.clerk_id, state.status, state.current_ticket_id, state.priority_streak,
    present.status, present.number, present.visit_id, present.category_id, present.lane, present.site_id,
    (SELECT id FROM passed)
FROM state LEFT JOIN present ON true
"""
_LOCK_STATE_SQLITE = (
    "SELECT ws.id, ws.clerk_id, ws.status, ws.current_ticket_id, ws.priority_streak, t.status, t.number, "
    "t.visit_id, t.category_id, t.lane, t.site_id, NULL "
    "FROM queueing_windowstate ws LEFT JOIN queueing_ticket t ON t.id = ws.current_ticket_id "
    "WHERE ws.window_id = %s"
)


def _lock_and_pass_over(
    cursor: _HotCursor, window: Window, actor: User, expected_current_id: int | None, moment_value: Any
) -> Any:
    if cursor.postgresql:
        cursor.execute(
            _LOCK_AND_PASS_OVER_POSTGRESQL,
            {"window": window.pk, "at": moment_value, "expected": expected_current_id, "clerk": actor.pk},
        )
        return cursor.fetchone()
    cursor.execute(_LOCK_STATE_SQLITE, [window.pk])
    row = cursor.fetchone()
    if (
        row is not None
        and row[1] == actor.pk
        and row[2] != WindowStatus.PAUSED
        and row[5] == TicketStatus.CALLED
        and row[3] == expected_current_id
    ):
        cursor.execute(
            "UPDATE queueing_ticket SET status = 'no_show', no_show_at = %s WHERE id = %s AND status = 'called'",
            [moment_value, row[3]],
        )
        row = (*row[:11], row[3])
    return row


# PostgreSQL: choosing, calling and recording in one statement. The anti-starvation rule is the
# COALESCE: an ordinary ticket that must go first (after a streak of priority calls: the oldest
# ordinary one; otherwise: the oldest ordinary one past the wait limit), else the first in serving
# order. COALESCE evaluates its second sub-select only when the first found nothing, so one row at
# most is locked. The window's new state and the events are written from the called row, so an empty
# queue writes nothing (and the refusal rolls the pass-over back).
_WAITING_NAMED = (
    "site_id = %(site)s::bigint AND service_date = %(date)s::date AND status = 'waiting' "
    "AND category_id = ANY(%(categories)s::bigint[]) "
    "AND (target_window_id IS NULL OR target_window_id = %(window)s::bigint)"
)
_FIRST_WAITING = (
    f"SELECT id FROM queueing_ticket WHERE {_WAITING_NAMED}{{rank}} "  # noqa: S608
    "ORDER BY lane_rank, queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
)
_ORDINARY_FIRST = f" AND lane_rank = {ORDINARY_RANK}"
_STARVING_FIRST = f" AND lane_rank = {ORDINARY_RANK} AND queued_at <= %(cutoff)s::timestamptz"
_CALL_AND_RECORD = """
WITH called AS (
    UPDATE queueing_ticket SET status = 'called', called_at = %(at)s::timestamptz, window_id = %(window)s::bigint,
        clerk_id = %(clerk)s::bigint, call_count = call_count + 1
    WHERE status = 'waiting' AND id = COALESCE(({first}), ({any}))
    RETURNING id, lane_rank, number, category_id, visit_id, lane, site_id
), state AS (
    UPDATE queueing_windowstate SET current_ticket_id = called.id, status = 'serving', since = %(at)s::timestamptz,
        priority_streak = CASE WHEN called.lane_rank = {priority} THEN %(streak)s::integer + 1 ELSE 0 END
    FROM called WHERE queueing_windowstate.id = %(state)s::bigint
), events AS (
    INSERT INTO queueing_visitevent (site_id, kind, at, visit_id, ticket_id, category_id, lane, window_id, clerk_id, detail)
    {pass_over}SELECT called.site_id, 'called', %(at)s::timestamptz, called.visit_id, called.id, called.category_id,
        called.lane, %(window)s::bigint, %(clerk)s::bigint, '{{}}'::jsonb FROM called
    RETURNING id, kind
)
SELECT called.id, called.lane_rank, called.number, called.category_id, called.visit_id, called.lane, called.site_id,
    (SELECT id FROM events WHERE kind = 'called'), (SELECT id FROM events WHERE kind = 'no_show')
FROM called
"""
# The pass-over row comes first, so its event id (the displays' sequence) precedes the call's.
_PASS_OVER_SELECT = """SELECT %(previous_site)s::bigint, 'no_show', %(at)s::timestamptz, %(previous_visit)s::bigint,
        %(previous)s::bigint, %(previous_category)s::bigint, %(previous_lane)s::varchar, %(window)s::bigint,
        %(clerk)s::bigint, '{"by": "call_next"}'::jsonb
    UNION ALL
    """
_CALL_AND_RECORD_STATEMENTS = {
    (after_streak, passing_over): _CALL_AND_RECORD.format(
        first=_FIRST_WAITING.format(rank=_ORDINARY_FIRST if after_streak else _STARVING_FIRST),
        any=_FIRST_WAITING.format(rank=""),
        priority=PRIORITY_RANK,
        pass_over=_PASS_OVER_SELECT if passing_over else "",
    )
    for after_streak in (False, True)
    for passing_over in (False, True)
}


def _call_and_record(
    cursor: _HotCursor,
    window: Window,
    date_value: Any,
    moment: dt.datetime,
    rules: CallRules,
    values: dict[str, Any],
) -> tuple[tuple[Any, ...], dict[str, int]] | None:
    """PostgreSQL: the call, the window's new state and the events in one statement; None if none waits."""
    after_streak = values["streak"] >= rules.streak_limit
    parameters = {
        **values,
        "site": window.site_id,
        "date": date_value,
        "categories": list(rules.category_ids),
        "cutoff": connection.ops.adapt_datetimefield_value(
            moment - dt.timedelta(minutes=rules.ordinary_max_wait_minutes)
        ),
    }
    cursor.execute(_CALL_AND_RECORD_STATEMENTS[(after_streak, values["previous"] is not None)], parameters)
    row = cursor.fetchone()
    if row is None:
        return None
    event_ids = {"called": int(row[7])}
    if row[8] is not None:
        event_ids["no_show"] = int(row[8])
    return tuple(row[:7]), event_ids


def _write_back(cursor: _HotCursor, values: dict[str, Any]) -> dict[str, int]:
    """SQLite: both events and the window's new state (PostgreSQL records them in ``_CALL_AND_RECORD``)."""
    event_ids: dict[str, int] = {}
    insert = (
        "INSERT INTO queueing_visitevent (site_id, kind, at, visit_id, ticket_id, category_id, lane, window_id, "
        "clerk_id, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
    )
    if values["previous"] is not None:
        cursor.execute(
            insert,
            [
                values["previous_site"],
                "no_show",
                values["at"],
                values["previous_visit"],
                values["previous"],
                values["previous_category"],
                values["previous_lane"],
                values["window"],
                values["clerk"],
                '{"by": "call_next"}',
            ],
        )
        event_ids["no_show"] = int(cursor.fetchone()[0])
    cursor.execute(
        insert,
        [
            values["site"],
            "called",
            values["at"],
            values["visit"],
            values["ticket"],
            values["category"],
            values["lane"],
            values["window"],
            values["clerk"],
            "{}",
        ],
    )
    event_ids["called"] = int(cursor.fetchone()[0])
    cursor.execute(
        "UPDATE queueing_windowstate SET current_ticket_id = %s, status = 'serving', since = %s, priority_streak = %s "
        "WHERE id = %s",
        [values["ticket"], values["at"], values["streak"], values["state"]],
    )
    return event_ids


@counter_action
def call_next(
    actor: User,
    window: Window,
    *,
    expected_current_id: int | None = None,
    now: dt.datetime | None = None,
    after_update: Any = None,
) -> Ticket:
    """叫号: the next ticket for this window (see the module docstring for the order).

    ``expected_current_id`` is the ticket the clerk's screen showed when "call next" was pressed. If the
    window's current ticket is another one, the press was a double click or a stale page: refused,
    nothing changed. If it is that ticket and it was only called (the visitor never came up), pressing
    "next" records it as 过号, as on the hall's calling machines; a ticket being served must be
    finished or transferred first. ``after_update`` is a test hook run inside the transaction, after
    the ticket's UPDATE.

    The hot path is SQL through the connection's cursor. On PostgreSQL two statements: the row lock
    on the window's state (with the pass-over), then one statement that chooses, calls and records
    (``_CALL_AND_RECORD``). On SQLite: the lock, ``_choose_and_call`` and the write-back.
    """
    moment = _now(now)
    service_date = timezone.localtime(moment).date()
    rules = _call_rules(window)
    if not rules.category_ids:
        raise ActionRefused(
            _("%(number)s 号窗口没有设置叫号业务，请联系窗口负责人。") % {"number": window.number},
            code="no_categories",
        )
    date_value = connection.ops.adapt_datefield_value(service_date)
    moment_value = connection.ops.adapt_datetimefield_value(moment)
    with transaction.atomic(), _HotCursor() as cursor:
        row = _lock_and_pass_over(cursor, window, actor, expected_current_id, moment_value)
        # Any refusal below rolls the pass-over back with everything else.
        if row is None or row[1] != actor.pk:
            raise NotYourWindow(window)
        (state_id, _clerk_id, window_status, current_id, streak, current_status, current_number,
         current_visit, current_category, current_lane, current_site, passed_id) = row  # fmt: skip
        if window_status == WindowStatus.PAUSED:
            raise ActionRefused(_("窗口处于暂停服务状态，请先恢复服务。"), code="window_paused")
        previous_id = None
        if current_id is not None and current_status in OPEN_AT_WINDOW:
            if expected_current_id != current_id:
                raise Conflict(
                    _("%(number)s 已在本窗口叫号，请勿重复点击。") % {"number": current_number},
                    code="already_called",
                )
            if current_status == TicketStatus.SERVING:
                raise ActionRefused(
                    _("%(number)s 正在办理，请先办结或转窗再叫下一位。") % {"number": current_number},
                    code="ticket_serving",
                )
            # Passing over an unanswered call is the called → no_show pair of the table.
            assert transition_allowed(TicketStatus.CALLED, TicketStatus.NO_SHOW)
            if passed_id != current_id:
                raise Conflict(_("窗口状态已变化，请刷新后再叫号。"), code="stale_page")
            previous_id = current_id
        elif expected_current_id is not None and expected_current_id != current_id:
            raise Conflict(_("窗口状态已变化，请刷新后再叫号。"), code="stale_page")
        # The dispatcher's table allows waiting → called; the UPDATE re-checks it in the database.
        assert transition_allowed(TicketStatus.WAITING, TicketStatus.CALLED)
        previous = {
            "at": moment_value,
            "previous": previous_id,
            "previous_site": current_site,
            "previous_visit": current_visit,
            "previous_category": current_category,
            "previous_lane": current_lane,
            "state": state_id,
            "streak": streak,
            "window": window.pk,
            "clerk": actor.pk,
        }
        recorded = None
        if cursor.postgresql:
            recorded = _call_and_record(cursor, window, date_value, moment, rules, previous)
            called = recorded[0] if recorded is not None else None
        else:
            called = _choose_and_call(cursor, window, actor.pk, date_value, moment, rules, streak)
        if called is None:
            raise ActionRefused(
                _("%(number)s 号窗口的业务当前没有等候的号。") % {"number": window.number}, code="queue_empty"
            )
        ticket_id, rank, number, category_id, visit_id, lane, site_id = called
        ticket = Ticket(
            pk=ticket_id,
            number=number,
            category_id=category_id,
            visit_id=visit_id,
            lane=lane,
            lane_rank=rank,
            site_id=site_id,
            status=TicketStatus.CALLED,
            called_at=moment,
            window_id=window.pk,
            clerk_id=actor.pk,
            service_date=service_date,
            call_count=1,
        )
        if after_update is not None:
            after_update(ticket)
        if recorded is not None:
            event_ids = recorded[1]
        else:
            event_ids = _write_back(
                cursor,
                {
                    **previous,
                    "ticket": ticket_id,
                    "streak": streak + 1 if rank == PRIORITY_RANK else 0,
                    "site": site_id,
                    "visit": visit_id,
                    "category": category_id,
                    "lane": lane,
                },
            )
        if "no_show" in event_ids:
            _publish_on_commit(
                _message(event_ids["no_show"], "no_show", site_id, number=current_number, window_id=window.pk)
            )
        prefix, category_name = _category_label(category_id)
        _publish_on_commit(
            _message(
                event_ids["called"],
                "called",
                site_id,
                number=number,
                window=window.number,
                window_id=window.pk,
                category=prefix,
                category_name=category_name,
                text=call_text(number, window.number),
                at=moment.isoformat(),
            )
        )
        notices.on_call(ticket, window.number)  # SMS-style notices, made after the commit
    return ticket


@counter_action
def recall(actor: User, window: Window, *, now: dt.datetime | None = None) -> Ticket:
    """重呼: call the current ticket again (the display repeats it)."""
    moment = _now(now)
    with transaction.atomic():
        state = _locked_state(actor, window)
        ticket = _current_ticket(state, window, statuses=[TicketStatus.CALLED], action=_("重呼"))
        Ticket.objects.filter(pk=ticket.pk).update(call_count=F("call_count") + 1)
        ticket.call_count += 1
        event = _event(
            EventKind.RECALLED,
            moment,
            site_id=ticket.site_id,
            ticket=ticket,
            window=window,
            clerk=actor,
            detail={"call_count": ticket.call_count},
        )
        prefix, category_name = _category_label(ticket.category_id)
        _publish_on_commit(
            _message(
                event,
                "recalled",
                ticket.site_id,
                number=ticket.number,
                window=window.number,
                window_id=window.pk,
                category=prefix,
                category_name=category_name,
                text=call_text(ticket.number, window.number),
                at=moment.isoformat(),
            )
        )
    return ticket


@counter_action
def mark_no_show(actor: User, window: Window, *, now: dt.datetime | None = None) -> Ticket:
    """过号: the called visitor did not come; they may re-queue within the category's time."""
    moment = _now(now)
    with transaction.atomic():
        state = _locked_state(actor, window)
        ticket = _current_ticket(state, window, statuses=[TicketStatus.CALLED], action=_("过号"))
        event = _transition(
            ticket, TicketStatus.NO_SHOW, moment, EventKind.NO_SHOW, window=window, clerk=actor
        )
        _free_window(state, moment)
        _publish_on_commit(
            _message(event, "no_show", ticket.site_id, number=ticket.number, window_id=window.pk)
        )
    return ticket


def _free_window(state: WindowState, moment: dt.datetime, *, finished: Ticket | None = None) -> None:
    state.current_ticket = None
    state.status = WindowStatus.IDLE
    state.since = moment
    fields = ["current_ticket", "status", "since"]
    if finished is not None:
        state.last_finished_ticket = finished
        fields.append("last_finished_ticket")
    state.save(update_fields=fields)


@counter_action
def start_service(
    actor: User,
    window: Window,
    *,
    linked_object_type: str = "",
    linked_object_id: str = "",
    now: dt.datetime | None = None,
) -> Ticket:
    """开始办理: the called visitor is at the counter; optionally already linked to its inquiry or case
    (which must exist at the window's site and, for a case, be one the clerk may see)."""
    linked_object_type, linked_object_id = _resolve_link(
        actor, window.site_id, linked_object_type, linked_object_id, required=False
    )
    moment = _now(now)
    with transaction.atomic():
        state = _locked_state(actor, window)
        ticket = _current_ticket(state, window, statuses=[TicketStatus.CALLED], action=_("开始办理"))
        ticket.linked_object_type = linked_object_type
        ticket.linked_object_id = linked_object_id
        event = _transition(
            ticket,
            TicketStatus.SERVING,
            moment,
            EventKind.STARTED,
            window=window,
            clerk=actor,
            detail={"linked": f"{linked_object_type}:{linked_object_id}"} if linked_object_type else None,
            extra_fields=["linked_object_type", "linked_object_id"],
        )
        _publish_on_commit(
            _message(event, "started", ticket.site_id, number=ticket.number, window_id=window.pk)
        )
    return ticket


def _clean_link(linked_object_type: Any, linked_object_id: Any) -> tuple[str, str]:
    """The shape of a link: a known type and an id of digits, or nothing at all."""
    if not linked_object_type and not linked_object_id:
        return "", ""
    if (
        not isinstance(linked_object_type, str)
        or linked_object_type not in LINK_TYPES
        or not isinstance(linked_object_id, str)
        or not LINK_ID_PATTERN.fullmatch(linked_object_id.strip())
    ):
        raise ActionRefused(_("关联的咨询或办件编号无效。"), code="invalid_link", field="linked_object_id")
    return linked_object_type, linked_object_id.strip()


def _resolve_link(
    actor: User, site_id: int, linked_object_type: Any, linked_object_id: Any, *, required: bool
) -> tuple[str, str]:
    """A link that names a real 咨询登记 (Inquiry) or 办件 (Case) of the visit's own site, which the clerk
    may see (``restrict``: a case of the clerk's sites, or one carrying an approval task of them).

    Anything else is refused with one message per type that does not say whether the object exists
    elsewhere; the stored id is the object's primary key."""
    from servicehall.cases.models import Case, Inquiry

    linked_object_type, linked_object_id = _clean_link(linked_object_type, linked_object_id)
    if not linked_object_type:
        if required:
            raise ActionRefused(
                _("请填写关联的咨询或办件编号。"), code="link_required", field="linked_object_id"
            )
        return "", ""
    object_id = int(linked_object_id) if linked_object_id.isdigit() and len(linked_object_id) < 19 else None
    if linked_object_type == "cases.inquiry":
        found = (
            object_id is not None
            and Inquiry.objects.restrict(actor).filter(pk=object_id, site_id=site_id).exists()
        )
        message = _("未找到本场所编号为 %(id)s 的咨询登记。")
    else:
        may_see_cases = any(actor.has_capability(capability) for capability in CASE_CAPABILITIES)
        found = (
            object_id is not None
            and may_see_cases
            and Case.objects.restrict(actor).filter(pk=object_id, site_id=site_id).exists()
        )
        message = _("未找到本场所编号为 %(id)s、您可查看的办件。")
    if not found:
        raise ActionRefused(
            message % {"id": linked_object_id}, code="link_not_found", field="linked_object_id"
        )
    return linked_object_type, str(object_id)


def link_service(actor: User, ticket: Ticket, linked_object_type: str, linked_object_id: str) -> Ticket:
    """Name the Inquiry or Case a visit produced (the cases app calls this once it has the id).

    Only a ticket being served or finished; the object must pass ``_resolve_link``. Audited with the
    link before and after (a correction replaces an earlier link)."""
    require_capability(actor, Capability.USE_COUNTER)
    require_in_scope(actor, ticket)
    linked_object_type, linked_object_id = _resolve_link(
        actor, ticket.site_id, linked_object_type, linked_object_id, required=True
    )
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status not in (TicketStatus.SERVING, TicketStatus.FINISHED):
            raise ActionRefused(_("只有办理中或已办结的号可以关联咨询或办件。"), code="invalid_transition")
        before = snapshot(locked, ["linked_object_type", "linked_object_id"])
        locked.linked_object_type = linked_object_type
        locked.linked_object_id = linked_object_id
        locked.save(update_fields=["linked_object_type", "linked_object_id"])
        record(
            "queueing.visit_linked",
            actor=actor,
            target=locked,
            before=before,
            after=snapshot(locked, ["linked_object_type", "linked_object_id"]),
        )
    return locked


@counter_action
def finish_service(
    actor: User, window: Window, *, ticket_id: int | None = None, now: dt.datetime | None = None
) -> Ticket:
    """办结: the service ends; on commit ``service_finished`` fires and the citizen screen asks for a rating."""
    moment = _now(now)
    with transaction.atomic():
        state = _locked_state(actor, window)
        if ticket_id is not None and state.current_ticket_id != ticket_id:
            finished = (
                Ticket.objects.filter(pk=ticket_id, window=window).values_list("number", "status").first()
            )
            if finished is not None and finished[1] == TicketStatus.FINISHED:
                raise Conflict(_("%(number)s 已经办结。") % {"number": finished[0]}, code="already_finished")
            raise Conflict(_("窗口状态已变化，请刷新。"), code="stale_page")
        ticket = _current_ticket(state, window, statuses=[TicketStatus.SERVING], action=_("办结"))
        event = _transition(
            ticket, TicketStatus.FINISHED, moment, EventKind.FINISHED, window=window, clerk=actor
        )
        _free_window(state, moment, finished=ticket)
        visit = Visit.objects.get(pk=ticket.visit_id)
        _publish_on_commit(
            _message(
                event,
                "finished",
                ticket.site_id,
                number=ticket.number,
                window_id=window.pk,
                visit=visit.token,
            )
        )
        transaction.on_commit(
            lambda: service_finished.send(
                sender=Ticket, visit=visit, ticket=ticket, window=window, clerk=actor
            )
        )
    return ticket


@counter_action
def transfer(
    actor: User,
    window: Window,
    *,
    to_category: Category | None = None,
    to_window: Window | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """转窗: the visitor goes to another business or window; the new ticket keeps their place, with priority."""
    if to_category is None and to_window is None:
        raise ActionRefused(_("请选择转往的业务或窗口。"), code="transfer_target_required")
    if to_window is not None:
        if to_window.site_id != window.site_id or not to_window.is_active:
            raise ActionRefused(_("只能转到本场所启用中的窗口。"), code="invalid_transfer_window")
        if to_window.pk == window.pk:
            raise ActionRefused(_("不能转到本窗口。"), code="invalid_transfer_window")
        if to_category is None:
            first = (
                CategoryWindow.objects.filter(window=to_window, category__is_active=True)
                .order_by("is_standby", "category__position", "category_id")
                .select_related("category")
                .first()
            )
            if first is None:
                raise ActionRefused(
                    _("%(number)s 号窗口没有叫号业务，不能转入。") % {"number": to_window.number},
                    code="invalid_transfer_window",
                )
            to_category = first.category
    assert to_category is not None
    if to_category.site_id != window.site_id or not to_category.is_active:
        raise ActionRefused(_("只能转到本场所启用中的业务。"), code="invalid_transfer_category")
    moment = _now(now)
    with transaction.atomic():
        state = _locked_state(actor, window)
        ticket = _current_ticket(
            state, window, statuses=[TicketStatus.CALLED, TicketStatus.SERVING], action=_("转窗")
        )
        new_ticket = _issue(
            to_category,
            ticket.service_date,
            moment,
            channel=TicketChannel.TRANSFER,
            lane=Lane.TRANSFERRED,
            priority_group=ticket.priority_group,
            phone=ticket.phone,
            visit=Visit.objects.get(pk=ticket.visit_id),
            queued_at=ticket.queued_at,
            target_window=to_window,
            transferred_from=ticket,
            clerk=actor,
            window=window,
        )
        event = _transition(
            ticket,
            TicketStatus.TRANSFERRED,
            moment,
            EventKind.TRANSFERRED,
            window=window,
            clerk=actor,
            detail={
                "to_ticket": new_ticket.number,
                "to_category": to_category.prefix,
                **({"to_window": to_window.number} if to_window else {}),
            },
        )
        _free_window(state, moment)
        _publish_on_commit(
            _message(
                event,
                "transferred",
                ticket.site_id,
                number=ticket.number,
                window_id=window.pk,
                to=new_ticket.number,
            )
        )
    return new_ticket


# ---------------------------------------------------------------------------------------------
# Pauses (暂停服务) and whereabouts (去向)


@counter_action
def pause(
    actor: User, window: Window, *, reason: str, whereabouts: str = "", now: dt.datetime | None = None
) -> WindowPause:
    """暂停服务 with a reason; the 去向 may be given now or within ten minutes (seed 003 公安窗口 15)."""
    reason = _clean_text(reason, _("暂停原因"), required=True, field_name="reason")
    whereabouts = _clean_text(whereabouts, _("去向"), required=False, field_name="whereabouts")
    moment = _now(now)
    with transaction.atomic():
        state = _locked_state(actor, window)
        if state.status == WindowStatus.PAUSED:
            raise Conflict(_("窗口已处于暂停服务状态。"), code="already_paused")
        if (
            state.current_ticket_id is not None
            and Ticket.objects.filter(pk=state.current_ticket_id, status__in=OPEN_AT_WINDOW).exists()
        ):
            raise ActionRefused(
                _("请先办结、过号或转走当前的号再暂停服务；办理中临时离开请告知服务对象。"),
                code="ticket_open",
            )
        window_pause = WindowPause.objects.create(
            site_id=window.site_id,
            window=window,
            clerk=actor,
            reason=reason,
            whereabouts=whereabouts,
            whereabouts_stated_at=moment if whereabouts else None,
            started_at=moment,
        )
        state.status = WindowStatus.PAUSED
        state.pause_reason = reason
        state.whereabouts = whereabouts
        state.since = moment
        state.save(update_fields=["status", "pause_reason", "whereabouts", "since"])
        event = _event(
            EventKind.PAUSED,
            moment,
            site_id=window.site_id,
            window=window,
            clerk=actor,
            detail={"reason": reason, "whereabouts": whereabouts, "pause": window_pause.pk},
        )
        _publish_on_commit(
            _message(event, "paused", window.site_id, window=window.number, window_id=window.pk)
        )
    return window_pause


@counter_action
def state_whereabouts(
    actor: User, window: Window, *, whereabouts: str, now: dt.datetime | None = None
) -> WindowPause:
    """说明去向 during a pause (to the 1号窗口, seed 003 公安窗口 15)."""
    whereabouts = _clean_text(whereabouts, _("去向"), required=True, field_name="whereabouts")
    moment = _now(now)
    with transaction.atomic():
        state = _locked_state(actor, window)
        window_pause = (
            WindowPause.objects.select_for_update().filter(window=window, ended_at__isnull=True).first()
        )
        if state.status != WindowStatus.PAUSED or window_pause is None:
            raise ActionRefused(_("窗口没有暂停服务。"), code="not_paused")
        window_pause.whereabouts = whereabouts
        if window_pause.whereabouts_stated_at is None:
            window_pause.whereabouts_stated_at = moment
        window_pause.save(update_fields=["whereabouts", "whereabouts_stated_at"])
        state.whereabouts = whereabouts
        state.save(update_fields=["whereabouts"])
    return window_pause


def _end_pause(state: WindowState, moment: dt.datetime) -> WindowPause | None:
    window_pause = (
        WindowPause.objects.select_for_update()
        .filter(window_id=state.window_id, ended_at__isnull=True)
        .first()
    )
    if window_pause is not None:
        window_pause.ended_at = moment
        window_pause.save(update_fields=["ended_at"])
    return window_pause


@counter_action
def resume(actor: User, window: Window, *, now: dt.datetime | None = None) -> WindowState:
    """恢复服务."""
    moment = _now(now)
    with transaction.atomic():
        state = _locked_state(actor, window)
        if state.status != WindowStatus.PAUSED:
            raise ActionRefused(_("窗口没有暂停服务。"), code="not_paused")
        window_pause = _end_pause(state, moment)
        state.status = WindowStatus.IDLE
        state.pause_reason = ""
        state.whereabouts = ""
        state.since = moment
        state.save(update_fields=["status", "pause_reason", "whereabouts", "since"])
        minutes = round((moment - window_pause.started_at).total_seconds() / 60, 1) if window_pause else 0
        event = _event(
            EventKind.RESUMED,
            moment,
            site_id=window.site_id,
            window=window,
            clerk=actor,
            detail={"pause": window_pause.pk if window_pause else None, "minutes": minutes},
        )
        _publish_on_commit(
            _message(event, "resumed", window.site_id, window=window.number, window_id=window.pk)
        )
    return state


@dataclass
class SweepResult:
    away_violations: int = 0
    appointment_no_shows: int = 0
    tickets_closed: int = 0
    details: list[str] = field(default_factory=list)


def sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """`servicehall queueing sweep`: record unexplained absences, appointment no-shows, close past days.

    Each row is claimed with a conditional UPDATE, so two sweeps at once (or one run twice) record each
    thing once; ``record_violation`` is idempotent per source as a second guard.
    """
    from servicehall.supervision.actions import record_violation
    from servicehall.supervision.models import ViolationKind, ViolationSource

    moment = _now(now)
    result = SweepResult()
    limit = dt.timedelta(minutes=AWAY_LIMIT_MINUTES)
    candidates = WindowPause.objects.filter(
        violation_recorded_at__isnull=True, started_at__lt=moment - limit
    ).filter(Q(whereabouts_stated_at__isnull=True) | Q(whereabouts_stated_at__gt=F("started_at") + limit))
    for window_pause in candidates.select_related("window", "clerk").order_by("started_at")[:1000]:
        ended = window_pause.ended_at or moment
        if ended - window_pause.started_at <= limit:
            continue  # a short pause that ended in time; nothing to record
        if (
            window_pause.whereabouts_stated_at is not None
            and window_pause.whereabouts_stated_at <= window_pause.started_at + limit
        ):
            continue
        with transaction.atomic():
            claimed = WindowPause.objects.filter(
                pk=window_pause.pk, violation_recorded_at__isnull=True
            ).update(violation_recorded_at=moment)
            if not claimed:
                continue
            local_start = timezone.localtime(window_pause.started_at)
            _violation, created = record_violation(
                site=window_pause.window.site,
                kind=ViolationKind.AWAY_WITHOUT_WHEREABOUTS,
                source=ViolationSource.AWAY_FROM_POST,
                source_reference=f"window_pause:{window_pause.pk}",
                description=_(
                    "%(window)s 号窗口 %(start)s 起暂停服务（%(reason)s）超过 %(minutes)d 分钟，未在 %(minutes)d 分钟内说明去向。"
                )
                % {
                    "window": window_pause.window.number,
                    "start": f"{local_start:%Y-%m-%d %H:%M}",
                    "reason": window_pause.reason,
                    "minutes": AWAY_LIMIT_MINUTES,
                },
                staff=window_pause.clerk,
                occurred_at=window_pause.started_at + limit,
            )
            if created:
                result.away_violations += 1
                result.details.append(f"window_pause:{window_pause.pk}")
    result.appointment_no_shows = _sweep_appointment_no_shows(moment)
    result.tickets_closed = _close_past_days(moment)
    return result


def _close_past_days(moment: dt.datetime) -> int:
    """Tickets still waiting or called on a past day end as cancelled, each with its event."""
    today = timezone.localtime(moment).date()
    closed = 0
    stale = Ticket.objects.filter(service_date__lt=today, status__in=[TicketStatus.WAITING]).values_list(
        "pk", flat=True
    )
    for ticket_id in list(stale[:5000]):
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
            if ticket.status != TicketStatus.WAITING:
                continue
            _transition(
                ticket, TicketStatus.CANCELLED, moment, EventKind.CANCELLED, detail={"by": "day_closed"}
            )
            closed += 1
    return closed


# ---------------------------------------------------------------------------------------------
# Tidal windows (潮汐岗) and category configuration


def open_window_for_category(actor: User, category: Category, window: Window) -> CategoryWindow:
    """潮汐岗: a standby or idle window starts calling a category that is over its threshold (one click)."""
    require_capability(actor, Capability.MONITOR_HALL)
    require_in_scope(actor, category)
    require_in_scope(actor, window)
    if window.site_id != category.site_id or not window.is_active:
        raise ActionRefused(_("只能开放本场所启用中的窗口。"), code="invalid_window")
    with transaction.atomic():
        link = CategoryWindow.objects.select_for_update().filter(category=category, window=window).first()
        before = {"is_standby": link.is_standby} if link is not None else None
        if link is None:
            link = CategoryWindow.objects.create(site_id=category.site_id, category=category, window=window)
        elif link.is_standby:
            link.is_standby = False
            link.save(update_fields=["is_standby"])
        else:
            raise Conflict(
                _("%(window)s 号窗口已在叫“%(category)s”。")
                % {"window": window.number, "category": category.name},
                code="already_open",
            )
        record(
            "queueing.tidal_window_opened",
            actor=actor,
            target=window,
            before=before,
            after={"category": category.prefix, "is_standby": False},
        )
        # The window calls the category from its next press, not after the rules cache expires.
        transaction.on_commit(forget_call_rules)
    return link


def close_window_for_category(actor: User, category: Category, window: Window) -> CategoryWindow:
    """Send a tidal window back to standby once the rush is over."""
    require_capability(actor, Capability.MONITOR_HALL)
    require_in_scope(actor, category)
    with transaction.atomic():
        link = CategoryWindow.objects.select_for_update().filter(category=category, window=window).first()
        if link is None or link.is_standby:
            raise ActionRefused(_("该窗口没有在叫这项业务。"), code="not_open")
        link.is_standby = True
        link.save(update_fields=["is_standby"])
        record(
            "queueing.tidal_window_closed",
            actor=actor,
            target=window,
            before={"is_standby": False},
            after={"category": category.prefix, "is_standby": True},
        )
        transaction.on_commit(forget_call_rules)
    return link


@dataclass
class CategoryData:
    prefix: str
    name: str
    description: str = ""
    position: int = 1
    target_wait_minutes: int = 15
    average_service_minutes: int = 8
    priority_groups: list[str] = field(default_factory=lambda: list(PriorityGroup.values[:4]))
    priority_streak_limit: int = 3
    ordinary_max_wait_minutes: int = 30
    late_requeue_minutes: int = 30
    tidal_waiting_threshold: int = 10
    tidal_wait_minutes_threshold: int = 30
    appointment_slot_minutes: int = 30
    appointment_share_percent: int = 50
    check_in_early_minutes: int = 30
    check_in_late_minutes: int = 15
    is_active: bool = True
    service_item_ids: list[int] = field(default_factory=list)
    window_ids: list[int] = field(default_factory=list)
    standby_window_ids: list[int] = field(default_factory=list)


NUMBER_LIMITS = {
    "position": (1, 999),
    "target_wait_minutes": (1, 240),
    "average_service_minutes": (1, 240),
    "priority_streak_limit": (1, 20),
    "ordinary_max_wait_minutes": (1, 480),
    "late_requeue_minutes": (0, 240),
    "tidal_waiting_threshold": (1, 999),
    "tidal_wait_minutes_threshold": (1, 480),
    "appointment_slot_minutes": (5, 240),
    "appointment_share_percent": (0, 100),
    "check_in_early_minutes": (0, 240),
    "check_in_late_minutes": (0, 240),
}


def _clean_category(site: Site, data: CategoryData, existing: Category | None) -> CategoryData:
    prefix = data.prefix.strip().upper() if isinstance(data.prefix, str) else ""
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise ActionRefused(_("号码前缀应为 1–2 个大写字母。"), code="invalid_prefix", field="prefix")
    data.prefix = prefix
    data.name = _clean_text(data.name, _("业务名称"), required=True, field_name="name", max_length=50)
    data.description = _clean_text(
        data.description, _("说明"), required=False, field_name="description", max_length=200
    )
    for name, (low, high) in NUMBER_LIMITS.items():
        value = getattr(data, name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ActionRefused(
                _("%(field)s应在 %(low)d 到 %(high)d 之间。")
                % {"field": Category._meta.get_field(name).verbose_name, "low": low, "high": high},
                code="out_of_range",
                field=name,
            )
    groups = data.priority_groups
    if not isinstance(groups, list) or any(group not in PriorityGroup.values for group in groups):
        raise ActionRefused(_("优先人群无效。"), code="invalid_priority_group", field="priority_groups")
    data.priority_groups = sorted(set(groups), key=PriorityGroup.values.index)
    others = Category.objects.filter(site=site, prefix=prefix)
    if existing is not None:
        others = others.exclude(pk=existing.pk)
    if others.exists():
        raise ActionRefused(
            _("本场所已有前缀为 %(prefix)s 的业务。") % {"prefix": prefix},
            code="prefix_taken",
            field="prefix",
        )
    items = set(data.service_item_ids)
    if items and ServiceItem.objects.filter(pk__in=items).count() != len(items):
        raise ActionRefused(_("所选事项不存在。"), code="invalid_item", field="service_item_ids")
    windows = set(data.window_ids) | set(data.standby_window_ids)
    if windows and Window.objects.filter(pk__in=windows, site=site).count() != len(windows):
        raise ActionRefused(_("所选窗口不属于本场所。"), code="invalid_window", field="window_ids")
    if set(data.window_ids) & set(data.standby_window_ids):
        raise ActionRefused(
            _("同一窗口不能既叫号又备用。"), code="invalid_window", field="standby_window_ids"
        )
    return data


def save_category(actor: User, site: Site, data: CategoryData, existing: Category | None = None) -> Category:
    """Create or change a queue category with its items and windows (MANAGE_QUEUEING)."""
    require_capability(actor, Capability.MANAGE_QUEUEING)
    require_in_scope(actor, site)
    if existing is not None and existing.site_id != site.pk:
        raise NotFound()
    data = _clean_category(site, data, existing)
    try:
        with transaction.atomic():
            category = (
                Category.objects.select_for_update().get(pk=existing.pk) if existing else Category(site=site)
            )
            before = snapshot(category, CATEGORY_AUDITED_FIELDS) if existing else None
            for name in CATEGORY_AUDITED_FIELDS:
                setattr(category, name, getattr(data, name))
            category.save()
            category.service_items.set(data.service_item_ids)
            wanted = dict.fromkeys(data.window_ids, False) | dict.fromkeys(data.standby_window_ids, True)
            CategoryWindow.objects.filter(category=category).exclude(window_id__in=wanted).delete()
            for window_id, standby in wanted.items():
                CategoryWindow.objects.update_or_create(
                    category=category, window_id=window_id, defaults={"site": site, "is_standby": standby}
                )
            after = snapshot(category, CATEGORY_AUDITED_FIELDS) | {
                "service_item_ids": sorted(data.service_item_ids),
                "window_ids": sorted(data.window_ids),
                "standby_window_ids": sorted(data.standby_window_ids),
            }
            record(
                "queueing.category_changed" if existing else "queueing.category_created",
                actor=actor,
                target=category,
                before=before,
                after=after,
            )
    except IntegrityError as error:
        raise ActionRefused(
            _("本场所已有前缀为 %(prefix)s 的业务。") % {"prefix": data.prefix}, code="prefix_taken"
        ) from error
    _category_labels.pop(category.pk, None)
    forget_call_rules()
    return category


# ---------------------------------------------------------------------------------------------
# Appointments (预约)


@dataclass(frozen=True)
class Slot:
    starts_at: dt.time
    ends_at: dt.time
    capacity: int
    booked: int

    @property
    def available(self) -> int:
        return max(0, self.capacity - self.booked)


def slot_capacity(category: Category, window_count: int) -> int:
    """Visitors a slot can take by appointment: the category's windows, the slot length over the
    average service time, times the share of capacity kept for appointments."""
    per_window = category.appointment_slot_minutes // max(1, category.average_service_minutes)
    return window_count * per_window * category.appointment_share_percent // 100


def available_slots(category: Category, day: dt.date) -> list[Slot]:
    """The slots of a day from the site's opening periods; a holiday (or a closed day) has none."""
    window_count = CategoryWindow.objects.filter(
        category=category, is_standby=False, window__is_active=True
    ).count()
    capacity = slot_capacity(category, window_count)
    if capacity <= 0 or not category.is_active:
        return []
    booked = dict(
        AppointmentSlot.objects.filter(category=category, service_date=day).values_list(
            "slot_start", "booked"
        )
    )
    step = dt.timedelta(minutes=category.appointment_slot_minutes)
    slots = []
    for period in opening.day_periods(category.site, day):
        start = dt.datetime.combine(day, period.starts_at)
        end_of_period = dt.datetime.combine(day, period.ends_at)
        while start + step <= end_of_period:
            slots.append(Slot(start.time(), (start + step).time(), capacity, booked.get(start.time(), 0)))
            start += step
    return slots


def _new_reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


def _reserve(category: Category, day: dt.date, slot_start: dt.time, moment: dt.datetime) -> Slot:
    if day < timezone.localtime(moment).date():
        raise ActionRefused(_("不能预约已经过去的日期。"), code="slot_in_past", field="service_date")
    slot = next((slot for slot in available_slots(category, day) if slot.starts_at == slot_start), None)
    if slot is None:
        raise ActionRefused(
            _("所选时段不可预约（可能是节假日或不在办公时间）。"), code="no_such_slot", field="slot_start"
        )
    if timezone.make_aware(dt.datetime.combine(day, slot.starts_at)) <= moment:
        raise ActionRefused(_("该时段已开始，请选择之后的时段。"), code="slot_in_past", field="slot_start")
    AppointmentSlot.objects.get_or_create(
        category=category, service_date=day, slot_start=slot_start, defaults={"site_id": category.site_id}
    )
    counted = AppointmentSlot.objects.filter(
        category=category, service_date=day, slot_start=slot_start, booked__lt=slot.capacity
    ).update(booked=F("booked") + 1)
    if not counted:
        raise Conflict(_("该时段已约满，请选择其他时段。"), code="slot_full")
    return slot


def _release(appointment: Appointment) -> None:
    AppointmentSlot.objects.filter(
        category_id=appointment.category_id,
        service_date=appointment.service_date,
        slot_start=appointment.slot_start,
        booked__gt=0,
    ).update(booked=F("booked") - 1)


def _require_appointment_transition(appointment: Appointment, to_status: str) -> None:
    if (appointment.status, to_status) not in APPOINTMENT_TRANSITIONS:
        raise Conflict(
            _("预约当前状态为“%(status)s”，不能再操作。")
            % {"status": AppointmentStatus(appointment.status).label},
            code="invalid_transition",
        )


def book_appointment(
    category: Category, day: dt.date, slot_start: dt.time, phone: str, *, now: dt.datetime | None = None
) -> Appointment:
    """预约 a slot (public). Capacity is enforced by a conditional UPDATE on the slot's row."""
    phone = clean_phone(phone, required=True)
    moment = _now(now)
    if not category.is_active or not category.site.is_active:
        raise ActionRefused(_("该业务暂不接受预约。"), code="category_inactive")
    with transaction.atomic():
        slot = _reserve(category, day, slot_start, moment)
        appointment = Appointment.objects.create(
            site_id=category.site_id,
            category=category,
            service_date=day,
            slot_start=slot.starts_at,
            slot_end=slot.ends_at,
            phone=phone,
            reference=_new_reference(),
            booked_at=moment,
        )
    return appointment


def find_appointment(reference: Any, phone: Any) -> Appointment:
    """The appointment for a reference and the phone it was booked with; anything else is not found."""
    if not isinstance(reference, str) or not re.fullmatch(r"[A-Za-z0-9]{8}", reference.strip()):
        raise NotFound(_("未找到该预约，请核对预约码和手机号。"))
    try:
        phone = clean_phone(phone, required=True)
    except ActionRefused:
        raise NotFound(_("未找到该预约，请核对预约码和手机号。")) from None
    appointment = (
        Appointment.objects.filter(reference=reference.strip().upper(), phone=phone)
        .select_related("category__site")
        .first()
    )
    if appointment is None:
        raise NotFound(_("未找到该预约，请核对预约码和手机号。"))
    return appointment


# 改约: how far ahead a booking may move (the booking page offers the same days), and until when.
APPOINTMENT_DAYS_AHEAD = 7
DEFAULT_APPOINTMENT_CHANGE_MINUTES = 30


def appointment_change_minutes() -> int:
    """改约截止: a booking may be moved until this many minutes before its slot starts
    (``SERVICEHALL_APPOINTMENT_CHANGE_MINUTES``, default 30); later, only cancelling is left."""
    value = getattr(settings, "SERVICEHALL_APPOINTMENT_CHANGE_MINUTES", DEFAULT_APPOINTMENT_CHANGE_MINUTES)
    return max(0, int(value))


def appointment_change_deadline(appointment: Appointment) -> dt.datetime:
    slot_start = timezone.make_aware(dt.datetime.combine(appointment.service_date, appointment.slot_start))
    return slot_start - dt.timedelta(minutes=appointment_change_minutes())


def _lock_slot_rows(category: Category, keys: list[tuple[dt.date, dt.time]]) -> None:
    """Both slots' counter rows, locked in one order, so two bookings swapping slots cannot deadlock."""
    wanted = Q()
    for day, slot_start in keys:
        wanted |= Q(service_date=day, slot_start=slot_start)
    list(
        AppointmentSlot.objects.select_for_update()
        .filter(wanted, category=category)
        .order_by("service_date", "slot_start")
        .values_list("pk", flat=True)
    )


def _appointment_picture(appointment: Appointment) -> dict[str, Any]:
    return {
        "category": appointment.category_id,
        "service_date": appointment.service_date.isoformat(),
        "slot_start": f"{appointment.slot_start:%H:%M}",
        "status": appointment.status,
    }


def change_appointment(
    appointment: Appointment, day: dt.date, slot_start: dt.time, *, now: dt.datetime | None = None
) -> Appointment:
    """改约 (public, after ``find_appointment``): the same category, another free slot of a working day
    within ``APPOINTMENT_DAYS_AHEAD`` days, no later than ``appointment_change_minutes`` before the
    booked slot starts. The new slot is counted and the old one freed in one transaction, so a
    refusal (full, holiday, too late) leaves the booking and both slots as they were."""
    moment = _now(now)
    today = timezone.localtime(moment).date()
    with transaction.atomic():
        locked = (
            Appointment.objects.select_for_update().select_related("category__site").get(pk=appointment.pk)
        )
        _require_appointment_transition(locked, AppointmentStatus.BOOKED)
        category = locked.category
        if not category.is_active or not category.site.is_active:
            raise ActionRefused(_("该业务暂不接受预约。"), code="category_inactive")
        if moment > appointment_change_deadline(locked):
            raise ActionRefused(
                _("原预约时段开始前 %(minutes)d 分钟内不能再改约；如不能前来，请取消预约。")
                % {"minutes": appointment_change_minutes()},
                code="change_too_late",
            )
        if (locked.service_date, locked.slot_start) == (day, slot_start):
            raise ActionRefused(_("所选时段与原预约相同。"), code="same_slot", field="slot_start")
        if day < today or day > today + dt.timedelta(days=APPOINTMENT_DAYS_AHEAD):
            raise ActionRefused(
                _("只能改约到今天起 %(days)d 天内的日期。") % {"days": APPOINTMENT_DAYS_AHEAD},
                code="slot_out_of_range",
                field="service_date",
            )
        if opening.is_holiday(day):
            raise ActionRefused(
                _("%(date)s 是法定节假日，不办公，请选择其他工作日。") % {"date": day.isoformat()},
                code="holiday",
                field="service_date",
            )
        if any(slot.starts_at == slot_start for slot in available_slots(category, day)):
            AppointmentSlot.objects.get_or_create(
                category=category,
                service_date=day,
                slot_start=slot_start,
                defaults={"site_id": category.site_id},
            )
            _lock_slot_rows(category, [(locked.service_date, locked.slot_start), (day, slot_start)])
        before = _appointment_picture(locked)
        slot = _reserve(category, day, slot_start, moment)
        _release(locked)
        locked.service_date = day
        locked.slot_start = slot.starts_at
        locked.slot_end = slot.ends_at
        locked.changed_at = moment
        locked.save(update_fields=["service_date", "slot_start", "slot_end", "changed_at"])
        record(
            "queueing.appointment_changed",
            target=locked,
            object_label=_("预约 #%(id)s") % {"id": locked.pk},
            before=before,
            after=_appointment_picture(locked),
        )
    return locked


def cancel_appointment(appointment: Appointment, *, now: dt.datetime | None = None) -> Appointment:
    """取消预约 (public, after ``find_appointment``): frees the slot; allowed while the booking stands."""
    moment = _now(now)
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        _require_appointment_transition(locked, AppointmentStatus.CANCELLED)
        before = _appointment_picture(locked)
        locked.status = AppointmentStatus.CANCELLED
        locked.cancelled_at = moment
        locked.save(update_fields=["status", "cancelled_at"])
        _release(locked)
        record(
            "queueing.appointment_cancelled",
            target=locked,
            object_label=_("预约 #%(id)s") % {"id": locked.pk},
            before=before,
            after=_appointment_picture(locked),
        )
    return locked


def check_in(appointment: Appointment, *, now: dt.datetime | None = None) -> Ticket:
    """签到 at the kiosk within [slot − early, slot + late]: an appointment-lane ticket (priority)."""
    moment = _now(now)
    local_moment = timezone.localtime(moment)
    with transaction.atomic():
        locked = (
            Appointment.objects.select_for_update().select_related("category__site").get(pk=appointment.pk)
        )
        _require_appointment_transition(locked, AppointmentStatus.CHECKED_IN)
        category = locked.category
        if locked.service_date != local_moment.date():
            raise ActionRefused(
                _("您的预约日期是 %(date)s，请在当天签到。") % {"date": locked.service_date.isoformat()},
                code="check_in_wrong_day",
            )
        slot_start = timezone.make_aware(dt.datetime.combine(locked.service_date, locked.slot_start))
        if moment < slot_start - dt.timedelta(minutes=category.check_in_early_minutes):
            raise ActionRefused(
                _("签到时间未到：最早可在 %(time)s 签到。")
                % {
                    "time": f"{timezone.localtime(slot_start - dt.timedelta(minutes=category.check_in_early_minutes)):%H:%M}"
                },
                code="check_in_too_early",
            )
        if moment > slot_start + dt.timedelta(minutes=category.check_in_late_minutes):
            raise ActionRefused(
                _("已超过预约签到时间，请取普通号办理。"),
                code="check_in_too_late",
            )
        _require_open(category.site, local_moment)
        locked.status = AppointmentStatus.CHECKED_IN
        locked.checked_in_at = moment
        locked.save(update_fields=["status", "checked_in_at"])
        ticket = _issue(
            category,
            local_moment.date(),
            moment,
            channel=TicketChannel.APPOINTMENT,
            lane=Lane.APPOINTMENT,
            phone=locked.phone,
            appointment=locked,
        )
    return ticket


def _sweep_appointment_no_shows(moment: dt.datetime) -> int:
    marked = 0
    today = timezone.localtime(moment).date()
    candidates = Appointment.objects.filter(
        status=AppointmentStatus.BOOKED, service_date__lte=today
    ).select_related("category")
    for appointment in candidates[:5000]:
        deadline = timezone.make_aware(
            dt.datetime.combine(appointment.service_date, appointment.slot_start)
        ) + dt.timedelta(minutes=appointment.category.check_in_late_minutes)
        if deadline >= moment:
            continue
        marked += Appointment.objects.filter(pk=appointment.pk, status=AppointmentStatus.BOOKED).update(
            status=AppointmentStatus.NO_SHOW, no_show_at=moment
        )
    return marked


# ---------------------------------------------------------------------------------------------
# Taking a ticket by phone (手机扫码取号): the entrance poster's QR code opens the mobile page

OPEN_TICKET_STATUSES = (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING)


def _lock_daily_counter(category: Category, service_date: dt.date) -> None:
    """Hold the category's counter row of the day (created if need be) until the caller commits."""
    counter = DailyCounter.objects.select_for_update().filter(category=category, service_date=service_date)
    if counter.exists():
        return
    try:
        with transaction.atomic():
            DailyCounter.objects.create(
                site_id=category.site_id, category=category, service_date=service_date, last_sequence=0
            )
    except IntegrityError:
        pass  # another issuer created it first
    list(counter)


def issue_mobile_ticket(
    category: Category,
    *,
    phone: str = "",
    service_item: ServiceItem | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """手机扫码取号: the kiosk's rules (closed site, opening hours, daily numbers), channel ``mobile``, and
    one open ticket per phone number per category and day: a phone cannot hold several places in one
    queue. The check runs under the lock of the category's day counter, which every issuer of the
    queue takes, so two simultaneous requests with one phone cannot both pass it."""
    moment = _now(now)
    clean = clean_phone(phone)
    service_date = timezone.localtime(moment).date()
    with transaction.atomic():
        if clean:
            _lock_daily_counter(category, service_date)
            existing = (
                Ticket.objects.filter(
                    category=category, service_date=service_date, phone=clean, status__in=OPEN_TICKET_STATUSES
                )
                .values_list("number", flat=True)
                .first()
            )
            if existing is not None:
                raise Conflict(
                    _("该手机号今天已在“%(category)s”排队（%(number)s），请勿重复取号。")
                    % {"category": category.name, "number": existing},
                    code="duplicate_mobile_ticket",
                )
        return issue_ticket(
            None, category, channel=TicketChannel.MOBILE, phone=clean, service_item=service_item, now=moment
        )
