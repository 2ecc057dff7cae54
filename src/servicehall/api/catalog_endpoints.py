"""Catalogue endpoints (事项库): read items in scope, create and update them through catalog.actions.

Like the rest of the API these need a staff session; the public reads the 办事指南 pages instead.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Schema

from servicehall.accounts.permissions import require_capability, require_in_scope
from servicehall.accounts.roles import Capability
from servicehall.api.api import api
from servicehall.api.schemas import Problem
from servicehall.catalog import actions
from servicehall.catalog.models import ItemType, ItemWindow, Material, ServiceItem
from servicehall.lib.errors import NotFound

ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem}
ITEMS_PER_PAGE_MAX = 200


class MaterialIn(Schema):
    name: str
    form: str = "original"
    copies: int = 1
    is_mandatory: bool = True
    is_deferrable: bool = False
    notes: str = ""


class FeeIn(Schema):
    name: str
    amount: Decimal
    legal_basis: str


class StepIn(Schema):
    name: str
    description: str = ""


class ItemIn(Schema):
    """A whole item; the nested lists replace what the item had, in the order given (序号 1..n)."""

    code: str
    name: str
    department_id: int
    item_type: str
    statutory_limit_days: int
    committed_limit_days: int
    deemed_approval_on_timeout: bool = False
    conditions: str = ""
    legal_basis: str = ""
    is_free: bool = True
    delivery_at_window: bool = True
    delivery_by_post: bool = False
    delivery_by_cabinet: bool = False
    keywords: str = ""
    is_published: bool = True
    materials: list[MaterialIn] = Field(default_factory=list, max_length=actions.MATERIALS_MAX)
    fees: list[FeeIn] = Field(default_factory=list, max_length=actions.FEES_MAX)
    steps: list[StepIn] = Field(default_factory=list, max_length=actions.STEPS_MAX)
    window_ids: list[int] = Field(default_factory=list, max_length=actions.WINDOWS_MAX)
    # 协办部门 of a 联办件 (besides department_id, the 牵头部门); other item types leave it empty.
    joint_department_ids: list[int] = Field(default_factory=list, max_length=actions.JOINT_DEPARTMENTS_MAX)


class PublishIn(Schema):
    is_published: bool


class MaterialOut(Schema):
    position: int
    name: str
    form: str
    copies: int
    is_mandatory: bool
    is_deferrable: bool
    notes: str
    has_sample: bool


class FeeOut(Schema):
    name: str
    amount: str
    legal_basis: str


class StepOut(Schema):
    position: int
    name: str
    description: str


class WindowRef(Schema):
    id: int
    site_id: int
    number: int
    name: str


class ItemSummaryOut(Schema):
    id: int
    code: str
    name: str
    site_id: int
    department_id: int
    item_type: str
    statutory_limit_days: int
    committed_limit_days: int
    is_published: bool


class ItemOut(ItemSummaryOut):
    deemed_approval_on_timeout: bool
    conditions: str
    legal_basis: str
    is_free: bool
    delivery_at_window: bool
    delivery_by_post: bool
    delivery_by_cabinet: bool
    keywords: str
    materials: list[MaterialOut]
    fees: list[FeeOut]
    steps: list[StepOut]
    windows: list[WindowRef]
    joint_department_ids: list[int]


class ItemPage(Schema):
    count: int
    items: list[ItemSummaryOut]


class ItemFilters(Schema):
    q: str = Field(default="", max_length=100)
    department_id: int | None = None
    item_type: str | None = None
    is_published: bool | None = None
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=50, ge=1, le=ITEMS_PER_PAGE_MAX)


def _summary(item: ServiceItem) -> dict[str, Any]:
    return {
        name: getattr(item, name)
        for name in (
            "id",
            "code",
            "name",
            "site_id",
            "department_id",
            "item_type",
            "statutory_limit_days",
            "committed_limit_days",
            "is_published",
        )
    }


def _item_out(item: ServiceItem) -> dict[str, Any]:
    body = _summary(item)
    for name in (
        "deemed_approval_on_timeout",
        "conditions",
        "legal_basis",
        "is_free",
        "delivery_at_window",
        "delivery_by_post",
        "delivery_by_cabinet",
        "keywords",
    ):
        body[name] = getattr(item, name)
    body["materials"] = [
        {
            "position": material.position,
            "name": material.name,
            "form": material.form,
            "copies": material.copies,
            "is_mandatory": material.is_mandatory,
            "is_deferrable": material.is_deferrable,
            "notes": material.notes,
            "has_sample": bool(material.sample_file),
        }
        for material in item.materials.order_by("position")
    ]
    body["fees"] = [
        {"name": fee.name, "amount": str(fee.amount), "legal_basis": fee.legal_basis}
        for fee in item.fees.order_by("id")
    ]
    body["steps"] = [
        {"position": step.position, "name": step.name, "description": step.description}
        for step in item.steps.order_by("position")
    ]
    body["joint_department_ids"] = list(
        item.joint_departments.order_by("position").values_list("department_id", flat=True)
    )
    body["windows"] = [
        {
            "id": link.window.pk,
            "site_id": link.window.site_id,
            "number": link.window.number,
            "name": link.window.name,
        }
        for link in ItemWindow.objects.filter(item=item)
        .select_related("window")
        .order_by("window__site_id", "window__number")
    ]
    return body


def _item_data(body: ItemIn) -> actions.ItemData:
    return actions.ItemData(
        code=body.code,
        name=body.name,
        department_id=body.department_id,
        item_type=body.item_type,
        statutory_limit_days=body.statutory_limit_days,
        committed_limit_days=body.committed_limit_days,
        deemed_approval_on_timeout=body.deemed_approval_on_timeout,
        conditions=body.conditions,
        legal_basis=body.legal_basis,
        is_free=body.is_free,
        delivery_at_window=body.delivery_at_window,
        delivery_by_post=body.delivery_by_post,
        delivery_by_cabinet=body.delivery_by_cabinet,
        keywords=body.keywords,
        is_published=body.is_published,
        materials=[actions.MaterialData(**material.model_dump()) for material in body.materials],
        fees=[actions.FeeData(**fee.model_dump()) for fee in body.fees],
        steps=[actions.StepData(**step.model_dump()) for step in body.steps],
        window_ids=list(body.window_ids),
        joint_department_ids=list(body.joint_department_ids),
    )


def _find(request: HttpRequest, code: str) -> ServiceItem:
    """The item if it exists and is in the caller's scope; otherwise, to them, it does not exist."""
    require_capability(request.user, Capability.MANAGE_CATALOG, path=request.path)
    if len(code) > actions.CODE_MAX_LENGTH or not actions.CODE_PATTERN.fullmatch(code):
        raise NotFound()
    item = ServiceItem.objects.filter(code=code).first()
    if item is None:
        raise NotFound()
    require_in_scope(request.user, item, path=request.path)
    return item


def _refused_in_detail(request: HttpRequest, refusal: actions.CatalogInputRefused) -> HttpResponse:
    """Every broken rule at once, each with its field, so a client can mark them all."""
    body = {
        "code": refusal.code,
        "detail": refusal.message,
        "field": refusal.field,
        "errors": [
            {"field": key, "message": actions.describe_error(key, message)}
            for key, message in refusal.errors.items()
        ],
    }
    return api.create_response(request, body, status=400)


@api.get(
    "/catalog/items", response={200: ItemPage, **ERRORS}, tags=["catalog"], summary="事项列表（管理范围内）"
)
def list_items(request: HttpRequest, filters: Query[ItemFilters]) -> dict[str, Any]:
    require_capability(request.user, Capability.MANAGE_CATALOG, path=request.path)
    items = ServiceItem.objects.restrict(request.user, Capability.MANAGE_CATALOG)
    query = actions.search_text(filters.q)
    if query:
        items = items.filter(
            Q(name__icontains=query) | Q(code__icontains=query) | Q(keywords__icontains=query)
        )
    if filters.department_id is not None:
        items = items.filter(department_id=filters.department_id)
    if filters.item_type in ItemType.values:
        items = items.filter(item_type=filters.item_type)
    if filters.is_published is not None:
        items = items.filter(is_published=filters.is_published)
    items = items.order_by("code")
    window = items[filters.offset : filters.offset + filters.limit]
    return {"count": items.count(), "items": [_summary(item) for item in window]}


@api.get("/catalog/items/{code}", response={200: ItemOut, **ERRORS}, tags=["catalog"], summary="事项详情")
def get_item(request: HttpRequest, code: str) -> dict[str, Any]:
    item = _find(request, code)
    item = (
        ServiceItem.objects.filter(pk=item.pk)
        .prefetch_related(Prefetch("materials", queryset=Material.objects.order_by("position")))
        .get()
    )
    return _item_out(item)


@api.post("/catalog/items", response={201: ItemOut, **ERRORS}, tags=["catalog"], summary="新增事项")
def create_item(request: HttpRequest, body: ItemIn) -> Any:
    require_capability(request.user, Capability.MANAGE_CATALOG, path=request.path)
    try:
        item = actions.create_item(request.user, _item_data(body))
    except actions.CatalogInputRefused as refusal:
        return _refused_in_detail(request, refusal)
    return 201, _item_out(item)


@api.put(
    "/catalog/items/{code}",
    response={200: ItemOut, **ERRORS},
    tags=["catalog"],
    summary="修改事项（整体替换）",
)
def update_item(request: HttpRequest, code: str, body: ItemIn) -> Any:
    item = _find(request, code)
    try:
        item = actions.update_item(request.user, item, _item_data(body))
    except actions.CatalogInputRefused as refusal:
        return _refused_in_detail(request, refusal)
    return _item_out(item)


@api.post(
    "/catalog/items/{code}/publish",
    response={200: ItemOut, **ERRORS},
    tags=["catalog"],
    summary="公开或撤下事项",
)
def publish_item(request: HttpRequest, code: str, body: PublishIn) -> dict[str, Any]:
    item = _find(request, code)
    return _item_out(actions.set_item_published(request.user, item, body.is_published))
