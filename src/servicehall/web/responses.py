"""Turning refusals into pages, htmx fragments or JSON with the right 4xx status."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from servicehall.lib.errors import ActionRefused


def refusal_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"code": str(status), "detail": message}, status=status)
    if request.headers.get("HX-Request"):
        return HttpResponse(
            render_to_string("includes/alert.html", {"level": "error", "message": message}, request=request),
            status=status,
        )
    try:
        body = render_to_string("web/error.html", {"status": status, "message": message}, request=request)
    except Exception:  # the error page must render even when the template layer is what failed
        body = f"<!doctype html><meta charset=utf-8><title>{status}</title><p>{message}</p>"
    return HttpResponse(body, status=status)


def refusal_response(request: HttpRequest, refusal: ActionRefused) -> HttpResponse:
    return refusal_page(request, refusal.status, refusal.message)
