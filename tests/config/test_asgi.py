"""The ASGI entry point: live streams to Django's ASGI handler, everything else to the WSGI handler."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator

from servicehall.config import asgi


def test_only_the_live_stream_is_routed_as_an_async_view() -> None:
    assert asgi.is_async_view("/hall/events/TOWN/") is True
    assert asgi.is_async_view("/api/feedback/public/ratings") is False
    assert asgi.is_async_view("/accounts/login/") is False
    assert asgi.is_async_view("/no/such/page/") is False


def _get(path: str) -> tuple[int, dict[bytes, bytes], bytes]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"accept-language", b"zh-CN")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def exchange() -> tuple[int, dict[bytes, bytes], bytes]:
        communicator = ApplicationCommunicator(asgi.application, scope)
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await communicator.receive_output(10)
        body = b""
        while True:
            message = await communicator.receive_output(10)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await communicator.wait(10)
        return start["status"], dict(start["headers"]), body

    return asyncio.run(exchange())


@pytest.mark.django_db(transaction=True)
def test_an_ordinary_page_is_served_through_the_wsgi_handler_with_the_whole_middleware() -> None:
    # When the sign-in page is requested through the ASGI entry point
    status, headers, body = _get("/accounts/login/")
    # Then it is the full page, with the middleware's headers (clickjacking, language)
    assert status == 200
    assert headers[b"content-type"].startswith(b"text/html")
    assert headers[b"x-frame-options"] == b"DENY"
    assert "登录".encode() in body


@pytest.mark.django_db(transaction=True)
def test_an_unknown_path_is_a_404_page_not_an_error() -> None:
    status, _headers, _body = _get("/no/such/page/")
    assert status == 404
