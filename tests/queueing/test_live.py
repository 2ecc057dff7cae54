"""Live updates: the per-process hub, the Redis path shared by processes, and the SSE stream with catch-up."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from servicehall.queueing import actions, live
from servicehall.queueing.models import VisitEvent
from tests.queueing.conftest import at, issue

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def test_in_process_hub_fans_one_publish_out_to_every_connection_of_the_site() -> None:
    async def scenario() -> tuple[list[Any], int]:
        hub = live.Hub()
        displays = [await hub.subscribe(7) for _ in range(3)]
        elsewhere = await hub.subscribe(8)
        # When an action commits in another thread
        thread = threading.Thread(
            target=hub.publish, args=({"id": 41, "site": 7, "kind": "called", "number": "A001"},)
        )
        thread.start()
        thread.join()
        received = [await asyncio.wait_for(display.queue.get(), 2) for display in displays]
        return received, elsewhere.queue.qsize()

    received, other_site = asyncio.run(scenario())
    # Then every display of site 7 got it once and site 8 got nothing
    assert [message["number"] for message in received] == ["A001", "A001", "A001"]
    assert other_site == 0


def test_a_display_that_falls_behind_is_dropped_to_reconnect() -> None:
    async def scenario() -> list[Any]:
        hub = live.Hub()
        display = await hub.subscribe(1)
        for number in range(live.CONNECTION_BACKLOG + 5):
            hub._fan_out({"id": number, "site": 1, "kind": "called"})
        return [message async for message in display.messages(0.1)]

    messages = asyncio.run(scenario())
    assert messages == []  # the stream ends at once; the browser reconnects with Last-Event-ID


@pytest.mark.skipif(not redis_reachable(), reason="no Redis at 127.0.0.1:6379")
def test_redis_path_shares_events_between_processes() -> None:
    async def scenario() -> tuple[list[Any], list[Any]]:
        first_process, second_process = live.Hub(REDIS_URL), live.Hub(REDIS_URL)
        first_display = await first_process.subscribe(5)
        second_display = await second_process.subscribe(5)
        # When the first process publishes (from an action's thread)
        await asyncio.to_thread(
            first_process.publish, {"id": 9, "site": 5, "kind": "called", "number": "B007"}
        )
        received = [
            await asyncio.wait_for(first_display.queue.get(), 5),
            await asyncio.wait_for(second_display.queue.get(), 5),
        ]
        await first_process.close()
        await second_process.close()
        return received, [first_process.connection_count(), second_process.connection_count()]

    received, connections = asyncio.run(scenario())
    # Then both processes' displays got it through their single subscription
    assert [message["number"] for message in received] == ["B007", "B007"]
    assert connections == [1, 1]


def test_sse_frame_carries_the_sequence_id() -> None:
    frame = live.sse_frame({"id": 12, "site": 1, "kind": "called", "text": "请 A001 号到 3 号窗口办理"})
    assert frame == (
        'id: 12\nevent: called\ndata: {"id":12,"site":1,"kind":"called","text":"请 A001 号到 3 号窗口办理"}\n\n'
    )


async def _read_until(iterator: Any, needle: str, limit: int = 20) -> str:
    text = ""
    for _ in range(limit):
        chunk = await asyncio.wait_for(iterator.__anext__(), 5)
        text += chunk.decode() if isinstance(chunk, bytes) else chunk
        if needle in text:
            return text
    raise AssertionError(f"{needle!r} not in {text!r}")


@pytest.mark.django_db(transaction=True)
def test_stream_delivers_a_call_and_catches_up_after_a_reconnect(
    clerk, at_window, social_security, town_site, frozen_now
) -> None:
    first = issue(social_security, 1)
    issue(social_security, 2)

    async def scenario() -> tuple[str, str]:
        client = AsyncClient()
        response = await client.get(f"/hall/events/{town_site.code}/")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/event-stream")
        stream = response.streaming_content.__aiter__()
        await _read_until(stream, "retry: 2000")
        # When the window calls (an action in a worker thread, published on commit)
        await sync_to_async(actions.call_next)(clerk, at_window, now=at(9, 45))
        live_text = await _read_until(stream, "event: called")
        await stream.aclose()
        # And a display that saw nothing since the first event reconnects with Last-Event-ID
        first_event = await sync_to_async(
            lambda: VisitEvent.objects.filter(ticket=first).order_by("id").first().pk
        )()
        await sync_to_async(actions.call_next)(clerk, at_window, expected_current_id=first.pk, now=at(9, 46))
        reconnect = await client.get(
            f"/hall/events/{town_site.code}/", headers={"Last-Event-ID": str(first_event)}
        )
        caught_up_stream = reconnect.streaming_content.__aiter__()
        caught_up = await _read_until(caught_up_stream, "A002")
        await caught_up_stream.aclose()
        await sync_to_async(connections.close_all)()  # the worker thread's connection, before teardown
        return live_text, caught_up

    live_text, caught_up = asyncio.run(scenario())
    data = json.loads(next(line for line in live_text.splitlines() if line.startswith("data: "))[6:])
    assert (data["kind"], data["number"], data["window"], data["text"]) == (
        "called",
        "A001",
        3,
        "请 A001 号到 3 号窗口办理",
    )
    assert "phone" not in data
    # Then the catch-up replays the first call, the pass-over and the second call, in order
    kinds = [line[7:] for line in caught_up.splitlines() if line.startswith("event: ")]
    assert kinds[:3] == ["called", "no_show", "called"]
