"""Response and request shapes of the API. Personal data leaves only masked."""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from ninja import Schema


class Problem(Schema):
    code: str
    detail: str


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    staff_number: str
    site_id: int
    department_id: int | None
    roles: list[str]
    capabilities: list[str]
    language: str


class OpeningPeriodOut(Schema):
    weekday: int
    starts_at: time
    ends_at: time
    note: str


class DepartmentOut(Schema):
    id: int
    code: str
    name: str


class WindowOut(Schema):
    id: int
    number: int
    name: str
    department_id: int | None
    is_supervisor_window: bool
    is_active: bool
    posts: list[str]


class SiteOut(Schema):
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    supervision_phone: str
    is_active: bool


class SiteDetailOut(SiteOut):
    address: str
    service_phone: str
    departments: list[DepartmentOut]
    windows: list[WindowOut]
    opening_periods: list[OpeningPeriodOut]


class StaffOut(Schema):
    id: int
    username: str
    full_name: str
    staff_number: str
    site_id: int
    department_id: int | None
    roles: list[str]
    mobile_phone_masked: str
    resident_id_masked: str
    is_active: bool


class RevealIn(Schema):
    field: Literal["mobile_phone", "resident_id"]


class RevealOut(Schema):
    field: str
    value: str


class AuditRecordOut(Schema):
    id: int
    chain: int
    sequence: int
    occurred_at: datetime
    actor_label: str
    site_id: int | None
    action: str
    outcome: str
    object_type: str
    object_id: str
    object_label: str
    record_hash: str


class VerifyOut(Schema):
    intact: bool
    records_checked: int
    chains_checked: int
    first_break: str | None
