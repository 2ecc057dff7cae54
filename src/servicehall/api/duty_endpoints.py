"""Duty endpoints: the clock-in terminal, the coverage of a site, asking for and deciding leave.

Each checks the shape of the input and calls servicehall.duty; capability and scope are checked there
(and here for reads), refusals come back as {code, detail} with a 4xx status.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Schema

from servicehall.accounts.models import User
from servicehall.accounts.permissions import require_capability, require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.api.api import api
from servicehall.api.schemas import Problem
from servicehall.duty import actions
from servicehall.duty.coverage import DEFAULT_DAYS, MAX_DAYS, coverage
from servicehall.duty.models import CheckIn, CheckInSource, Leave
from servicehall.lib.errors import ActionRefused
from servicehall.sites.models import Site

ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem}


class CheckInIn(Schema):
    slot: str


class CheckInOut(Schema):
    id: int
    staff_id: int
    date: dt.date
    slot: str
    at: dt.datetime | None
    status: str
    source: str


class CoverageFilter(Schema):
    site_id: int | None = None
    start: dt.date | None = None
    days: int = DEFAULT_DAYS


class CoverageCellOut(Schema):
    day: dt.date
    period: str
    starts_at: dt.time
    ends_at: dt.time
    post_id: int | None
    post: str
    staff_ids: list[int]
    staff: list[str]
    basis: str
    gap: bool
    gap_reason: str
    description: str


class CoverageOut(Schema):
    site_id: int
    start: dt.date
    days: int
    gap_count: int
    provisional: bool
    cells: list[CoverageCellOut]


class LeaveIn(Schema):
    starts_on: dt.date
    ends_on: dt.date
    kind: str
    reason: str
    substitute_id: int | None = None
    handover_note: str = ""
    handover_items: list[str] = []


class ApproveIn(Schema):
    substitute_id: int | None = None
    note: str = ""


class RejectIn(Schema):
    reason: str


class LeaveOut(Schema):
    id: int
    staff_id: int
    starts_on: dt.date
    ends_on: dt.date
    kind: str
    status: str
    reason: str
    substitute_id: int | None
    approved_by_id: int | None
    approved_at: dt.datetime | None


def _check_in_out(entry: CheckIn) -> dict:
    return {
        "id": entry.pk,
        "staff_id": entry.staff_id,
        "date": entry.date,
        "slot": entry.slot,
        "at": entry.at,
        "status": entry.status,
        "source": entry.source,
    }


def _substitute(identifier: int | None) -> User | None:
    if identifier is None:
        return None
    substitute = User.objects.filter(pk=identifier).first()
    if substitute is None:
        raise ActionRefused(
            "替岗人员不存在。 / No such substitute.", code="substitute_unknown", field="substitute_id"
        )
    return substitute


@api.post(
    "/duty/check-ins",
    response={201: CheckInOut, **ERRORS},
    tags=["duty"],
    summary="打卡（考勤终端，本人登录）",
)
def create_check_in(request: HttpRequest, body: CheckInIn) -> tuple[int, dict]:
    entry = actions.check_in(request.user, body.slot, source=CheckInSource.TERMINAL)
    return 201, _check_in_out(entry)


@api.get("/duty/coverage", response={200: CoverageOut, **ERRORS}, tags=["duty"], summary="岗位覆盖与空岗")
def site_coverage(request: HttpRequest, filters: Query[CoverageFilter]) -> dict:
    require_capability(request.user, Capability.MANAGE_DUTY, path=request.path)
    site = request.user.site if filters.site_id is None else get_object_or_404(Site, pk=filters.site_id)
    require_in_scope(request.user, site, path=request.path)
    if not 1 <= filters.days <= MAX_DAYS:
        raise ActionRefused(
            f"days 须为 1–{MAX_DAYS} / days must be 1–{MAX_DAYS}.", code="invalid_days", field="days"
        )
    report = coverage(site, filters.start or timezone.localdate(), filters.days)
    return {
        "site_id": site.pk,
        "start": report.start,
        "days": report.days,
        "gap_count": len(report.gaps),
        "provisional": report.provisional,
        "cells": [
            {
                "day": cell.day,
                "period": cell.period.kind,
                "starts_at": cell.period.starts_at,
                "ends_at": cell.period.ends_at,
                "post_id": cell.post_id,
                "post": report.post_label(cell.post_id),
                "staff_ids": list(cell.staff_ids),
                "staff": [report.name(staff_id) for staff_id in cell.staff_ids],
                "basis": cell.basis,
                "gap": cell.is_gap,
                "gap_reason": cell.gap_reason,
                "description": report.describe(cell),
            }
            for cell in report.cells
        ],
    }


@api.post("/duty/leaves", response={201: LeaveOut, **ERRORS}, tags=["duty"], summary="申请请假")
def request_leave(request: HttpRequest, body: LeaveIn) -> tuple[int, Leave]:
    leave = actions.request_leave(
        request.user,
        actions.LeaveData(
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            kind=body.kind,
            reason=body.reason,
            substitute=_substitute(body.substitute_id),
            handover_note=body.handover_note,
            handover_items=body.handover_items,
        ),
    )
    return 201, leave


@api.post(
    "/duty/leaves/{leave_id}/approve", response={200: LeaveOut, **ERRORS}, tags=["duty"], summary="批准请假"
)
def approve_leave(request: HttpRequest, leave_id: int, body: ApproveIn) -> Leave:
    leave = get_object_or_404(Leave, pk=leave_id)
    return actions.approve_leave(request.user, leave, _substitute(body.substitute_id), body.note)


@api.post(
    "/duty/leaves/{leave_id}/reject", response={200: LeaveOut, **ERRORS}, tags=["duty"], summary="驳回请假"
)
def reject_leave(request: HttpRequest, leave_id: int, body: RejectIn) -> Leave:
    leave = get_object_or_404(Leave, pk=leave_id)
    return actions.reject_leave(request.user, leave, body.reason)
