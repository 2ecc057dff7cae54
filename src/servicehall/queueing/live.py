"""Live events for the displays: one subscription per process, fanned out to every open connection.

Actions call ``publish`` after their transaction commits. Without ``settings.REDIS_URL`` the message
goes straight to the connections of this process (the embedded default, one uvicorn process). With
it, the message goes to a Redis pub/sub channel, and each process's hub holds exactly one
subscription to that channel and fans what arrives out to its own connections, so several app
processes share every call.

Every message about a visit carries the ``VisitEvent`` id as its sequence number; a display that
reconnects sends it back as Last-Event-ID and catches up from the events table (``views.events``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

CHANNEL = "servicehall:queueing:events"
# A connection that falls this far behind is dropped; its display reconnects and catches up.
CONNECTION_BACKLOG = 256


@dataclass(eq=False)
class Subscription:
    site_id: int
    queue: asyncio.Queue[dict[str, Any] | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=CONNECTION_BACKLOG)
    )

    async def messages(self, heartbeat_seconds: float) -> AsyncIterator[dict[str, Any] | None]:
        """Messages as they come; ``None`` after ``heartbeat_seconds`` of silence (send a ping)."""
        while True:
            try:
                message = await asyncio.wait_for(self.queue.get(), heartbeat_seconds)
            except TimeoutError:
                yield None
                continue
            if message is None:  # overflowed: end the stream so the display reconnects and catches up
                return
            yield message


class Hub:
    """The per-process fan-out: publish from any thread, subscribe from the event loop."""

    def __init__(self, redis_url: str = "") -> None:
        self.redis_url = redis_url
        self._subscriptions: dict[int, set[Subscription]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task[None] | None = None
        self._lock = threading.Lock()
        self._redis_client: Any = None
        self.received = 0

    # -- publishing (any thread) ------------------------------------------------------------

    def publish(self, message: dict[str, Any]) -> None:
        if self.redis_url:
            try:
                self._sync_redis().publish(CHANNEL, json.dumps(message, ensure_ascii=False))
            except Exception:  # a display update must never fail the action that already committed
                logger.exception("queueing: publishing to Redis failed")
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._fan_out, message)

    def _sync_redis(self) -> Any:
        if self._redis_client is None:
            with self._lock:
                if self._redis_client is None:
                    import redis

                    self._redis_client = redis.Redis.from_url(self.redis_url, socket_timeout=2)
        return self._redis_client

    # -- subscribing (event loop) -----------------------------------------------------------

    async def subscribe(self, site_id: int) -> Subscription:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # A new event loop (a restarted server, another test): connections of the old one are gone.
            self._loop = loop
            self._subscriptions = {}
            self._listener = None
        if self.redis_url and (self._listener is None or self._listener.done()):
            ready = asyncio.Event()
            self._listener = loop.create_task(self._listen(ready))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), 5)
        subscription = Subscription(site_id)
        self._subscriptions.setdefault(site_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscriptions.get(subscription.site_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                self._subscriptions.pop(subscription.site_id, None)

    def connection_count(self) -> int:
        return sum(len(subscribers) for subscribers in self._subscriptions.values())

    def _fan_out(self, message: dict[str, Any]) -> None:
        self.received += 1
        for subscription in list(self._subscriptions.get(message.get("site", -1), ())):
            try:
                subscription.queue.put_nowait(message)
            except asyncio.QueueFull:
                # Drop what it has not read and end its stream; it reconnects and catches up by id.
                self.unsubscribe(subscription)
                while not subscription.queue.empty():
                    subscription.queue.get_nowait()
                subscription.queue.put_nowait(None)

    async def _listen(self, ready: asyncio.Event) -> None:
        """The one Redis subscription of this process; reconnects with a pause if Redis goes away."""
        import redis.asyncio as redis_asyncio

        while True:
            client = redis_asyncio.Redis.from_url(self.redis_url)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                ready.set()
                async for item in pubsub.listen():
                    if item.get("type") != "message":
                        continue
                    try:
                        message = json.loads(item["data"])
                    except (TypeError, ValueError):
                        continue
                    self._fan_out(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("queueing: Redis subscription lost; retrying in 1 s")
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                    await client.aclose()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(BaseException):
                await self._listener
            self._listener = None


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub() -> Hub:
    global _hub
    redis_url = getattr(settings, "REDIS_URL", "") or ""
    if _hub is None or _hub.redis_url != redis_url:
        with _hub_lock:
            if _hub is None or _hub.redis_url != redis_url:
                _hub = Hub(redis_url)
    return _hub


def publish(message: dict[str, Any]) -> None:
    hub().publish(message)


def sse_frame(message: dict[str, Any]) -> str:
    """One Server-Sent Events frame; messages with a sequence number carry it as the event id."""
    lines = []
    if message.get("id") is not None:
        lines.append(f"id: {message['id']}")
    lines.append(f"event: {message.get('kind', 'message')}")
    lines.append("data: " + json.dumps(message, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"
