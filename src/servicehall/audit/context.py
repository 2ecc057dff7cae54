"""Who is acting and from where, carried from the request to the audit record without passing it around."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    actor: Any | None
    remote_address: str
    channel: str  # "web", "api", "cli", "system"


_current: ContextVar[RequestContext | None] = ContextVar("servicehall_audit_context", default=None)


def current_context() -> RequestContext | None:
    return _current.get()


@contextmanager
def acting(actor: Any | None, remote_address: str = "", channel: str = "cli") -> Iterator[RequestContext]:
    context = RequestContext(actor=actor, remote_address=remote_address, channel=channel)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
