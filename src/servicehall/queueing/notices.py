"""SMS-style notices (短信通知) to the phone a visitor gave when taking a ticket, through an outbox.

There is no SMS gateway in the project: every notice is written to ``SmsNotice`` (the outbox) and
handed to a pluggable sender, chosen by the setting ``SERVICEHALL_SMS_SENDER`` (a dotted path to a
class with ``name`` and ``send(phone, text)``; ``send`` raises on failure). The default,
``OutboxOnlySender``, sends nothing anywhere: it marks the notice sent, so the outbox is the record
of what a gateway would have delivered, and it logs the notice's id and kind, never the phone.

When notices are made (``on_issue`` and ``on_call`` are called by ``queueing.actions`` inside the
ticket's transaction and run after it commits):
- at issue, with the number, people ahead, estimated wait and the link to the live status page;
- when the turn is near: after a call of the category leaves ``SERVICEHALL_SMS_NEAR_AHEAD`` (default
  3) or fewer people ahead of the ticket; not again if the issue notice already said so;
- when the ticket is called, with the window.

A notice never blocks or fails the action: it is made after the commit, every error is caught and
logged (without the phone), and a sender's failure marks the notice failed. A call with no phone
ticket of its category waiting costs at most one query every two seconds per category and process
(on an index that holds only such tickets; see ``QUIET_SECONDS``).
``SERVICEHALL_PUBLIC_URL`` (e.g. ``https://hall.example.gov.cn``) makes the status link absolute.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from servicehall.queueing.models import NoticeKind, NoticeStatus, SmsNotice, Ticket, TicketStatus

logger = logging.getLogger(__name__)

DEFAULT_SENDER = "servicehall.queueing.notices.OutboxOnlySender"
DEFAULT_NEAR_AHEAD = 3
ERROR_MAX_LENGTH = 200

# (category id, day) → until when this process knows the category has no ticket waiting for a notice:
# most calls then cost no query at all. A notice made in this process clears its entry at once; one
# made in another process is seen within QUIET_SECONDS (as the calling rules are, actions.RULES_CACHE).
QUIET_SECONDS = 2.0
QUIET_KEYS_MAX = 10_000
_quiet: dict[tuple[int, dt.date], float] = {}


class Sender(Protocol):
    name: str

    def send(self, phone: str, text: str) -> None: ...


class OutboxOnlySender:
    """The default: no gateway; the outbox row is the delivery. Logs the notice, never the phone."""

    name = "outbox"

    def send(self, phone: str, text: str) -> None:
        return None


def near_ahead() -> int:
    return max(0, int(getattr(settings, "SERVICEHALL_SMS_NEAR_AHEAD", DEFAULT_NEAR_AHEAD)))


@lru_cache(maxsize=4)
def _sender_for(path: str) -> Sender:
    return import_string(path)()


def sender() -> Sender:
    return _sender_for(getattr(settings, "SERVICEHALL_SMS_SENDER", "") or DEFAULT_SENDER)


def status_link(token: str) -> str:
    path = reverse("queueing:ticket_status", args=[token])
    base = (getattr(settings, "SERVICEHALL_PUBLIC_URL", "") or "").rstrip("/")
    return f"{base}{path}"


# ---------------------------------------------------------------------------------------------
# Hooks for the actions: registered inside the transaction, run after it commits


def on_issue(ticket: Ticket) -> None:
    """A ticket with a phone was issued: its issue notice after the commit."""
    if not ticket.phone:
        return
    ticket_id = ticket.pk
    transaction.on_commit(lambda: _safely(ticket_issued, ticket_id))


def on_call(ticket: Ticket, window_number: int) -> None:
    """A ticket of the category was called: its own notice, and the near notices it brings due."""
    ticket_id, category_id, service_date = ticket.pk, ticket.category_id, ticket.service_date
    transaction.on_commit(lambda: _safely(ticket_called, ticket_id, category_id, service_date, window_number))


def _safely(function: Any, *args: Any) -> None:
    try:
        function(*args)
    except Exception:  # a notice must never fail the call that already committed
        logger.exception("queueing: SMS notice for ticket %s could not be made", args[0])


# ---------------------------------------------------------------------------------------------
# Making and sending notices


def ticket_issued(ticket_id: int, *, now: dt.datetime | None = None) -> SmsNotice | None:
    from servicehall.queueing import selectors

    ticket = Ticket.objects.select_related("site", "category", "visit").filter(pk=ticket_id).first()
    if ticket is None or not ticket.phone:
        return None
    ahead = selectors.people_ahead(ticket)
    minutes = selectors.estimated_wait_minutes(ticket.category, ahead, ticket.service_date)
    text = _(
        "【%(site)s】您已取号 %(number)s（%(category)s），前面还有 %(ahead)d 人，预计等候约 %(minutes)d 分钟。"
        "查看进度：%(link)s"
    ) % {
        "site": ticket.site.name,
        "number": ticket.number,
        "category": ticket.category.name,
        "ahead": ahead,
        "minutes": minutes,
        "link": status_link(ticket.visit.token),
    }
    follow_up = NoticeKind.NEAR if ahead > near_ahead() else NoticeKind.CALLED
    notice = _make(ticket, NoticeKind.ISSUED, text, now=now, next_notice=follow_up)
    _quiet.pop((ticket.category_id, ticket.service_date), None)
    return notice


def ticket_called(
    ticket_id: int,
    category_id: int,
    service_date: dt.date,
    window_number: int,
    *,
    now: dt.datetime | None = None,
) -> list[SmsNotice]:
    """After a call: the called ticket's notice, then the near notices of the category."""
    key = (category_id, service_date)
    if _quiet.get(key, 0.0) > time.monotonic():
        return []
    watching = list(
        SmsNotice.objects.filter(category_id=category_id, service_date=service_date)
        .exclude(next_notice="")
        .order_by()
        .values_list("pk", "ticket_id", "next_notice")
    )
    if not watching:
        if len(_quiet) > QUIET_KEYS_MAX:
            _quiet.clear()
        _quiet[key] = time.monotonic() + QUIET_SECONDS
        return []
    made: list[SmsNotice] = []
    near_watches = []
    for watch_id, watched_ticket_id, next_notice in watching:
        if watched_ticket_id == ticket_id:
            # Claimed by a conditional update, so two racing calls never send it twice.
            if SmsNotice.objects.filter(pk=watch_id).exclude(next_notice="").update(next_notice="") == 1:
                made.append(_called_notice(ticket_id, window_number, now=now))
        elif next_notice == NoticeKind.NEAR:
            near_watches.append((watch_id, watched_ticket_id))
    if near_watches:
        limit = near_ahead()
        order = list(
            Ticket.objects.filter(
                category_id=category_id, service_date=service_date, status=TicketStatus.WAITING
            )
            .order_by("lane_rank", "queued_at", "id")
            .values_list("pk", flat=True)[: limit + 1]
        )
        for watch_id, watched_ticket_id in near_watches:
            if watched_ticket_id not in order:
                continue
            claimed = SmsNotice.objects.filter(pk=watch_id, next_notice=NoticeKind.NEAR).update(
                next_notice=NoticeKind.CALLED
            )
            if claimed == 1:
                made.append(_near_notice(watched_ticket_id, order.index(watched_ticket_id), now=now))
    return made


def _near_notice(ticket_id: int, ahead: int, *, now: dt.datetime | None) -> SmsNotice:
    ticket = Ticket.objects.select_related("site", "visit").get(pk=ticket_id)
    text = _("【%(site)s】%(number)s 号前面还有 %(ahead)d 人，即将叫号，请留意叫号屏。查看进度：%(link)s") % {
        "site": ticket.site.name,
        "number": ticket.number,
        "ahead": ahead,
        "link": status_link(ticket.visit.token),
    }
    return _make(ticket, NoticeKind.NEAR, text, now=now)


def _called_notice(ticket_id: int, window_number: int, *, now: dt.datetime | None) -> SmsNotice:
    ticket = Ticket.objects.select_related("site").get(pk=ticket_id)
    text = _("【%(site)s】请 %(number)s 号到 %(window)s 号窗口办理。") % {
        "site": ticket.site.name,
        "number": ticket.number,
        "window": window_number,
    }
    return _make(ticket, NoticeKind.CALLED, text, now=now)


def _make(
    ticket: Ticket, kind: str, text: str, *, now: dt.datetime | None, next_notice: str = ""
) -> SmsNotice:
    notice = SmsNotice.objects.create(
        site_id=ticket.site_id,
        ticket=ticket,
        category_id=ticket.category_id,
        service_date=ticket.service_date,
        kind=kind,
        phone=ticket.phone,
        text=text[:300],
        next_notice=next_notice,
        created_at=now or timezone.now(),
    )
    deliver(notice, now=now)
    return notice


def deliver(notice: SmsNotice, *, now: dt.datetime | None = None) -> SmsNotice:
    """Hand the notice to the configured sender; record sent or failed (the reason without the phone)."""
    chosen = None
    try:
        chosen = sender()
        chosen.send(notice.phone, notice.text)
    except Exception as error:
        notice.status = NoticeStatus.FAILED
        notice.error = f"{type(error).__name__}"[:ERROR_MAX_LENGTH]
        logger.warning(
            "queueing: SMS notice %s (%s) failed: %s", notice.pk, notice.kind, type(error).__name__
        )
    else:
        notice.status = NoticeStatus.SENT
        notice.sent_at = now or timezone.now()
        logger.info("queueing: SMS notice %s (%s) sent by %s", notice.pk, notice.kind, chosen.name)
    notice.sender = str(getattr(chosen, "name", "") or "")[:100]
    notice.save(update_fields=["status", "error", "sent_at", "sender"])
    return notice
