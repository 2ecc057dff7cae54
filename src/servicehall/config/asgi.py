"""ASGI entry point: uvicorn serves the project, live event streams and ordinary pages alike (ADR 0008).

Only the live streams (the calling displays' Server-Sent Events) are async views; they go to Django's
ASGI handler so one process holds hundreds of open streams. Every other request is synchronous code,
and Django's ASGI handler would cross between the event loop and threads several times for it (once
per middleware that can run either way); such requests go to Django's WSGI handler on a pool of
threads instead, as a WSGI server would run them: a rating through HTTP costs about half the CPU.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from functools import lru_cache
from typing import Any

from asgiref.sync import iscoroutinefunction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehall.config.settings")

from a2wsgi import WSGIMiddleware  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402

from servicehall.config.environment import env_int  # noqa: E402

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

asgi_application = get_asgi_application()
wsgi_application = WSGIMiddleware(
    get_wsgi_application(), workers=env_int("SERVICEHALL_REQUEST_THREADS", 10, minimum=1)
)


@lru_cache(maxsize=4096)
def is_async_view(path: str) -> bool:
    """Whether the URL's view is a coroutine function (a live stream); unknown paths are not."""
    try:
        return iscoroutinefunction(resolve(path).func)
    except Resolver404:
        return False


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http" and not is_async_view(scope["path"]):
        await wsgi_application(scope, receive, send)
    else:
        await asgi_application(scope, receive, send)
