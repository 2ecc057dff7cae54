"""Write endpoints for sites, departments, windows and opening hours: shape checks, then sites.actions."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema

from servicehall.accounts.permissions import require_capability, require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.api.api import api
from servicehall.api.schemas import DepartmentOut, OpeningPeriodOut, Problem, SiteOut, WindowOut
from servicehall.lib.errors import ActionRefused, NotFound
from servicehall.sites import actions
from servicehall.sites.models import Department, OpeningPeriod, Site, Window

ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem}
PERIODS_IN_ONE_REQUEST_MAX = 64


class SiteWrittenOut(SiteOut):
    address: str
    service_phone: str


class SiteIn(Schema):
    code: str
    name: str
    level: str
    parent_id: int | None = None
    address: str = ""
    service_phone: str = ""
    supervision_phone: str = ""
    is_active: bool = True


class SitePatch(Schema):
    """Only the fields sent are changed; ``parent_id: null`` means "no parent" (a city centre)."""

    code: str | None = None
    name: str | None = None
    level: str | None = None
    parent_id: int | None = None
    address: str | None = None
    service_phone: str | None = None
    supervision_phone: str | None = None
    is_active: bool | None = None


class DepartmentIn(Schema):
    code: str
    name: str
    is_active: bool = True


class DepartmentPatch(Schema):
    code: str | None = None
    name: str | None = None
    is_active: bool | None = None


class WindowIn(Schema):
    number: int
    name: str
    department_id: int | None = None
    posts: list[str] = Field(default_factory=list, max_length=32)
    is_supervisor_window: bool = False
    is_active: bool = True


class WindowPatch(Schema):
    """Only the fields sent are changed; ``posts`` replaces the whole set; ``department_id: null`` clears it."""

    number: int | None = None
    name: str | None = None
    department_id: int | None = None
    posts: list[str] | None = Field(default=None, max_length=32)
    is_supervisor_window: bool | None = None
    is_active: bool | None = None


class OpeningPeriodIn(Schema):
    weekday: int
    starts_at: time
    ends_at: time
    note: str = ""


class OpeningHoursIn(Schema):
    periods: list[OpeningPeriodIn] = Field(max_length=PERIODS_IN_ONE_REQUEST_MAX)


def _find(request: HttpRequest, model: type[Site | Department | Window], identifier: int) -> Any:
    """The object if it exists and is in the caller's scope; otherwise, to them, it does not exist."""
    queryset = model.objects.all() if model is Site else model.objects.select_related("site")
    found = queryset.filter(pk=identifier).first()
    if found is None:
        raise NotFound()
    require_in_scope(request.user, found, path=request.path)
    return found


def _sent(sent: dict[str, Any], name: str, current: Any) -> Any:
    """A PATCH field: the value sent, or the current one when it was left out or sent as null."""
    value = sent.get(name)
    return current if value is None else value


def _parent(parent_id: int | None) -> Site | None:
    if parent_id is None:
        return None
    parent = Site.objects.filter(pk=parent_id).first()
    if parent is None:
        raise NotFound(_("上级场所不存在。"))
    return parent


def _department_of(site: Site, department_id: int | None) -> Department | None:
    if department_id is None:
        return None
    # Looked up within the site only, so the answer reveals nothing about other sites' departments.
    department = site.departments.filter(pk=department_id).first()
    if department is None:
        raise ActionRefused(_("部门不属于该服务场所。"), code="invalid_window", field="department_id")
    return department


def _site_out(site: Site) -> dict[str, Any]:
    return {
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
    }


def _window_out(window: Window) -> dict[str, Any]:
    return {
        "id": window.pk,
        "number": window.number,
        "name": window.name,
        "department_id": window.department_id,
        "is_supervisor_window": window.is_supervisor_window,
        "is_active": window.is_active,
        "posts": sorted(window.posts.values_list("kind", flat=True)),
    }


@api.post("/sites", response={201: SiteWrittenOut, **ERRORS}, tags=["sites"], summary="新建服务场所")
def create_site(request: HttpRequest, body: SiteIn) -> tuple[int, dict[str, Any]]:
    require_capability(request.user, Capability.MANAGE_SITES, path=request.path)
    data = actions.SiteData(
        code=body.code,
        name=body.name,
        level=body.level,
        parent=_parent(body.parent_id),
        address=body.address,
        service_phone=body.service_phone,
        supervision_phone=body.supervision_phone,
        is_active=body.is_active,
    )
    site = actions.create_site(request.user, data)
    return 201, _site_out(site)


@api.patch(
    "/sites/{site_id}", response={200: SiteWrittenOut, **ERRORS}, tags=["sites"], summary="修改服务场所"
)
def update_site(request: HttpRequest, site_id: int, body: SitePatch) -> dict[str, Any]:
    require_capability(request.user, Capability.MANAGE_SITES, path=request.path)
    site = _find(request, Site, site_id)
    sent = body.model_dump(exclude_unset=True)
    data = actions.SiteData(
        code=_sent(sent, "code", site.code),
        name=_sent(sent, "name", site.name),
        level=_sent(sent, "level", site.level),
        parent=_parent(sent["parent_id"]) if "parent_id" in sent else site.parent,
        address=_sent(sent, "address", site.address),
        service_phone=_sent(sent, "service_phone", site.service_phone),
        supervision_phone=_sent(sent, "supervision_phone", site.supervision_phone),
        is_active=_sent(sent, "is_active", site.is_active),
    )
    return _site_out(actions.update_site(request.user, site, data))


@api.post(
    "/sites/{site_id}/departments",
    response={201: DepartmentOut, **ERRORS},
    tags=["sites"],
    summary="新增进驻部门",
)
def create_department(request: HttpRequest, site_id: int, body: DepartmentIn) -> tuple[int, Department]:
    require_capability(request.user, Capability.MANAGE_SITES, path=request.path)
    site = _find(request, Site, site_id)
    data = actions.DepartmentData(code=body.code, name=body.name, is_active=body.is_active)
    return 201, actions.create_department(request.user, site, data)


@api.patch(
    "/departments/{department_id}",
    response={200: DepartmentOut, **ERRORS},
    tags=["sites"],
    summary="修改进驻部门",
)
def update_department(request: HttpRequest, department_id: int, body: DepartmentPatch) -> Department:
    require_capability(request.user, Capability.MANAGE_SITES, path=request.path)
    department = _find(request, Department, department_id)
    sent = body.model_dump(exclude_unset=True)
    data = actions.DepartmentData(
        code=_sent(sent, "code", department.code),
        name=_sent(sent, "name", department.name),
        is_active=_sent(sent, "is_active", department.is_active),
    )
    return actions.update_department(request.user, department, data)


@api.post("/sites/{site_id}/windows", response={201: WindowOut, **ERRORS}, tags=["sites"], summary="新增窗口")
def create_window(request: HttpRequest, site_id: int, body: WindowIn) -> tuple[int, dict[str, Any]]:
    require_capability(request.user, Capability.MANAGE_SITES, path=request.path)
    site = _find(request, Site, site_id)
    data = actions.WindowData(
        number=body.number,
        name=body.name,
        department=_department_of(site, body.department_id),
        posts=body.posts,
        is_supervisor_window=body.is_supervisor_window,
        is_active=body.is_active,
    )
    return 201, _window_out(actions.create_window(request.user, site, data))


@api.patch("/windows/{window_id}", response={200: WindowOut, **ERRORS}, tags=["sites"], summary="修改窗口")
def update_window(request: HttpRequest, window_id: int, body: WindowPatch) -> dict[str, Any]:
    require_capability(request.user, Capability.MANAGE_SITES, path=request.path)
    window = _find(request, Window, window_id)
    sent = body.model_dump(exclude_unset=True)
    data = actions.WindowData(
        number=_sent(sent, "number", window.number),
        name=_sent(sent, "name", window.name),
        department=_department_of(window.site, sent["department_id"])
        if "department_id" in sent
        else window.department,
        posts=_sent(sent, "posts", list(window.posts.values_list("kind", flat=True))),
        is_supervisor_window=_sent(sent, "is_supervisor_window", window.is_supervisor_window),
        is_active=_sent(sent, "is_active", window.is_active),
    )
    return _window_out(actions.update_window(request.user, window, data))


@api.put(
    "/sites/{site_id}/opening-hours",
    response={200: list[OpeningPeriodOut], **ERRORS},
    tags=["sites"],
    summary="整体替换办公时间",
)
def replace_opening_hours(request: HttpRequest, site_id: int, body: OpeningHoursIn) -> list[OpeningPeriod]:
    require_capability(request.user, Capability.MANAGE_SITES, path=request.path)
    site = _find(request, Site, site_id)
    periods = [
        actions.PeriodData(
            weekday=period.weekday, starts_at=period.starts_at, ends_at=period.ends_at, note=period.note
        )
        for period in body.periods
    ]
    return actions.replace_opening_hours(request.user, site, periods)
