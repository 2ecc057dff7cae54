"""The API object, its authentication, and how refusals become 4xx JSON answers."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import SessionAuth

from servicehall.lib.errors import ActionRefused


class StaffSessionAuth(SessionAuth):
    """The staff member's session (with CSRF); the security middleware has already enforced 2FA."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


api = NinjaAPI(
    title="servicehall API",
    version="1",
    description="政务服务窗口服务规范管理平台 — JSON API. 所有错误以 {code, detail} 返回，detail 中文在前。",
    auth=StaffSessionAuth(),
    openapi_url="/openapi.json",
    docs_url="/docs",
    urls_namespace="api",
)


@api.exception_handler(ActionRefused)
def action_refused(request: HttpRequest, refusal: ActionRefused) -> HttpResponse:
    body: dict[str, Any] = {"code": refusal.code, "detail": refusal.message}
    if refusal.field:
        body["field"] = refusal.field
    return api.create_response(request, body, status=refusal.status)


@api.exception_handler(ValidationError)
def validation_failed(request: HttpRequest, error: ValidationError) -> HttpResponse:
    fields = []
    for problem in error.errors:
        location = ".".join(
            str(part) for part in problem.get("loc", []) if part not in ("body", "query", "path")
        )
        fields.append({"field": location, "message": problem.get("msg", "")})
    return api.create_response(
        request,
        {"code": "invalid_input", "detail": "输入格式不正确 / Invalid input.", "errors": fields},
        status=400,
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return api.create_response(
        request, {"code": "not_found", "detail": "未找到该对象 / Not found."}, status=404
    )


@api.exception_handler(AuthenticationError)
def not_authenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"code": "not_authenticated", "detail": "请先登录 / Please log in."}, status=401
    )


from servicehall.api import (  # noqa: E402,F401  (registers the routes on `api`)
    cases_endpoints,
    catalog_endpoints,
    conduct_endpoints,
    duty_endpoints,
    endpoints,
    feedback_endpoints,
    queueing_endpoints,
    sites_endpoints,
)
