"""Input that no database column can hold is refused at the door with a clear 400."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from servicehall.web.responses import refusal_page

NUL_MESSAGE = "输入包含无效的控制字符（NUL） / The input contains an invalid NUL character."


class RejectNullCharactersMiddleware:
    """PostgreSQL text cannot store NUL; SQLite would silently match it. Neither is ever meaningful."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any("\x00" in value for value in request.GET.values()):
            return refusal_page(request, 400, NUL_MESSAGE)
        if request.method in {"POST", "PUT", "PATCH"} and self._body_has_nul(request):
            return refusal_page(request, 400, NUL_MESSAGE)
        return self.get_response(request)

    @staticmethod
    def _body_has_nul(request: HttpRequest) -> bool:
        content_type = request.content_type or ""
        if content_type == "application/json":
            return b"\\u0000" in request.body or b"\x00" in request.body
        if content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            return any("\x00" in value for key in request.POST for value in request.POST.getlist(key))
        return False
