"""API routes. Each checks the capability, scopes by site, and calls the app's actions."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Schema

from servicehall.accounts import actions as account_actions
from servicehall.accounts.models import User
from servicehall.accounts.permissions import require_capability, require_in_scope
from servicehall.accounts.roles import Capability, capabilities_of
from servicehall.api.api import api
from servicehall.api.schemas import (
    AuditRecordOut,
    MeOut,
    Problem,
    RevealIn,
    RevealOut,
    SiteDetailOut,
    SiteOut,
    StaffOut,
    VerifyOut,
)
from servicehall.audit.actions import records_visible_to, verify_trail
from servicehall.lib.errors import NotFound
from servicehall.sites.models import Site

ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem}


@api.get("/me", response={200: MeOut, **ERRORS}, tags=["accounts"], summary="当前登录人员")
def me(request: HttpRequest) -> dict:
    user = request.user
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.full_name,
        "staff_number": user.staff_number,
        "site_id": user.site_id,
        "department_id": user.department_id,
        "roles": sorted(user.role_codes),
        "capabilities": sorted(str(capability) for capability in capabilities_of(user.role_codes)),
        "language": user.language,
    }


@api.get("/sites", response={200: list[SiteOut], **ERRORS}, tags=["sites"], summary="可见的服务场所")
def list_sites(request: HttpRequest) -> list[Site]:
    require_capability(request.user, Capability.VIEW_SITES, path=request.path)
    return list(Site.objects.restrict(request.user).order_by("code"))


@api.get("/sites/{site_id}", response={200: SiteDetailOut, **ERRORS}, tags=["sites"], summary="服务场所详情")
def site_detail(request: HttpRequest, site_id: int) -> dict:
    require_capability(request.user, Capability.VIEW_SITES, path=request.path)
    site = get_object_or_404(Site, pk=site_id)
    require_in_scope(request.user, site, path=request.path)
    windows = site.windows.prefetch_related("posts").order_by("number")
    return {
        **{
            field: getattr(site, field)
            for field in (
                "id",
                "code",
                "name",
                "level",
                "parent_id",
                "supervision_phone",
                "is_active",
                "address",
                "service_phone",
            )
        },
        "departments": list(site.departments.order_by("code")),
        "windows": [
            {
                "id": window.pk,
                "number": window.number,
                "name": window.name,
                "department_id": window.department_id,
                "is_supervisor_window": window.is_supervisor_window,
                "is_active": window.is_active,
                "posts": sorted(post.kind for post in window.posts.all()),
            }
            for window in windows
        ],
        "opening_periods": list(site.opening_periods.order_by("weekday", "starts_at")),
    }


class StaffFilter(Schema):
    site_id: int | None = None
    query: str | None = None


def _staff_out(person: User) -> dict:
    return {
        "id": person.pk,
        "username": person.username,
        "full_name": person.full_name,
        "staff_number": person.staff_number,
        "site_id": person.site_id,
        "department_id": person.department_id,
        "roles": sorted(grant.role for grant in person.role_grants.all()),
        "mobile_phone_masked": person.masked_mobile_phone,
        "resident_id_masked": person.masked_resident_id,
        "is_active": person.is_active,
    }


@api.get("/staff", response={200: list[StaffOut], **ERRORS}, tags=["accounts"], summary="工作人员（脱敏）")
def list_staff(request: HttpRequest, filters: Query[StaffFilter]) -> list[dict]:
    require_capability(request.user, Capability.VIEW_STAFF_DIRECTORY, path=request.path)
    staff = User.objects.restrict(request.user).prefetch_related("role_grants").order_by("staff_number")
    if filters.site_id is not None:
        staff = staff.filter(site_id=filters.site_id)
    if filters.query:
        staff = staff.filter(full_name__icontains=filters.query[:50])
    return [_staff_out(person) for person in staff[:500]]


@api.post(
    "/staff/{staff_id}/reveal",
    response={200: RevealOut, **ERRORS},
    tags=["accounts"],
    summary="查看完整个人信息（留痕）",
)
def reveal(request: HttpRequest, staff_id: int, body: RevealIn) -> dict:
    # The capability comes first, so that a clerk cannot probe which staff ids exist.
    require_capability(request.user, Capability.REVEAL_PERSONAL_DATA, path=request.path)
    staff = User.objects.filter(pk=staff_id).first()
    if staff is None:
        raise NotFound()
    value = account_actions.reveal_personal_data(request.user, staff, body.field)
    return {"field": body.field, "value": value}


class AuditFilter(Schema):
    action: str | None = None
    since: datetime | None = None
    limit: int = 100


@api.get("/audit", response={200: list[AuditRecordOut], **ERRORS}, tags=["audit"], summary="审计记录")
def list_audit(request: HttpRequest, filters: Query[AuditFilter]) -> list:
    require_capability(request.user, Capability.VIEW_AUDIT, path=request.path)
    records = records_visible_to(request.user)
    if filters.action:
        records = records.filter(action__startswith=filters.action[:64])
    if filters.since:
        records = records.filter(occurred_at__gte=filters.since)
    limit = max(1, min(filters.limit, 1000))
    return list(records.order_by("-occurred_at", "-id")[:limit])


@api.post("/audit/verify", response={200: VerifyOut, **ERRORS}, tags=["audit"], summary="校验审计链")
def verify_audit(request: HttpRequest) -> dict:
    result = verify_trail(request.user, path=request.path)
    return {
        "intact": result.intact,
        "records_checked": result.records_checked,
        "chains_checked": result.chains_checked,
        "first_break": result.first_break.describe() if result.first_break else None,
    }
