"""How fast and how safe is calling (叫号) with 50 windows against PostgreSQL?

Run from the project directory: `.venv/bin/python bench/queueing.py` (PostgreSQL at 127.0.0.1:5432,
user postgres; the database servicehall_bench_queueing is created and dropped). All traffic stays on
127.0.0.1 and every loop is bounded.

1. Closed loop: 20,000 tickets issued through the service layer by 8 threads, then 50 windows (one
   thread and one connection each) call next as fast as they can until none is left. Checked: no
   ticket called twice, none lost, numbers unique and gapless per category and day.
2. Side by side on 1, 8 and 50 connections (3,000 tickets each run): the raw-psycopg floor
   (SELECT … FOR UPDATE SKIP LOCKED, the UPDATE, the event INSERT, one transaction per call), the
   service layer (``queueing.actions.call_next``) and HTTP (uvicorn on 127.0.0.1, keep-alive clients;
   the server uses bench/queueing_settings.py: Django's psycopg connection pool when psycopg_pool is
   installed, since under ASGI a persistent connection is otherwise opened for every request; two
   uvicorn processes, one per core as ADR 0008 deploys it, sharing live events through Redis at
   127.0.0.1:6379, ``--http-workers 1`` for one process without Redis). Beside
   them, the service layer's own statements through bare psycopg ("same SQL"): a call also locks the
   window's state, records the unanswered previous call as 过号 and writes the window's new state, so
   this line shows how much of the gap to the floor is that work and how much is the layer.
3. Open loop: 100 calls/s offered across the 50 windows for a minute (``--open-loop-seconds``),
   latency p50/p99 from the scheduled moment, through the service layer and through HTTP.
4. Display latency: 200 SSE connections to the calling display, 20 calls/s over HTTP; p99 from
   the call's request to the frame's arrival.

The machine has 2 cores shared with the client threads, so figures are medians of short runs and the
comparison is by ratio; the hot tables are vacuumed before every run, so no run pays for another's
dead rows or autovacuum. The last line is one JSON object with the figures, the targets and the verdicts.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import support  # bench/support.py: the script's own folder is first on sys.path

PROJECT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "servicehall_bench_queueing"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"
WINDOW_COUNT = 50
PREFIXES = ["A", "B", "C", "D"]
CLOSED_LOOP_TICKETS = 20_000
ISSUE_THREADS = 8
COMPARE_TICKETS = 3_000
CONNECTION_COUNTS = [1, 8, 50]
OPEN_LOOP_RATE = 100
OPEN_LOOP_SECONDS = 60
DISPLAY_CONNECTIONS = 200
DISPLAY_RATE = 20
DISPLAY_SECONDS = 10
HTTP_PORT = 8765
# One uvicorn process per core, as ADR 0008 has a deployment run it; with more than one, the live
# events go through Redis (the displays connect to any of them).
HTTP_WORKERS = 2
REDIS_URL = "redis://127.0.0.1:6379/15"
TARGET_SERVICE_RATIO = 0.70
TARGET_HTTP_RATIO = 0.40
TARGET_SERVICE_P99_MS = 50.0
TARGET_HTTP_P99_MS = 100.0
TARGET_DISPLAY_P99_MS = 200.0
RUN_TIMEOUT_SECONDS = 240

os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["SERVICEHALL_DEPLOYMENT"] = "local"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehall.config.settings")
os.environ.pop("REDIS_URL", None)
sys.path.insert(0, str(PROJECT / "src"))


def create_database() -> None:
    support.create_database(DATABASE_NAME)


def drop_database() -> None:
    support.drop_database(DATABASE_NAME)


percentile = support.percentile


# ---------------------------------------------------------------------------------------------
# The hall


class Hall:
    def __init__(self) -> None:
        import datetime as dt

        from django.utils import timezone

        from servicehall.accounts.models import RoleGrant, User
        from servicehall.queueing import actions
        from servicehall.queueing.models import Category, CategoryWindow
        from servicehall.sites.models import OpeningPeriod, Site, SiteLevel, Window
        from servicehall.workdays import service
        from servicehall.workdays.models import CalendarOverride

        self.today = timezone.localdate()
        if not service.is_working_day(self.today):
            # The bench needs an open hall whatever day it runs on.
            CalendarOverride.objects.create(date=self.today, is_working_day=True, name="基准测试")
            service.invalidate()
        self.site = Site.objects.create(code="BENCH", name="基准测试中心", level=SiteLevel.CITY)
        OpeningPeriod.objects.bulk_create(
            OpeningPeriod(
                site=self.site, weekday=weekday, starts_at=dt.time(0, 0), ends_at=dt.time(23, 59, 59)
            )
            for weekday in range(1, 8)
        )
        self.windows = [
            Window.objects.create(site=self.site, number=number, name=f"窗口{number}")
            for number in range(1, WINDOW_COUNT + 1)
        ]
        self.categories = []
        for position, prefix in enumerate(PREFIXES, start=1):
            category = Category.objects.create(
                site=self.site, prefix=prefix, name=f"业务{prefix}", position=position
            )
            CategoryWindow.objects.bulk_create(
                CategoryWindow(site=self.site, category=category, window=window) for window in self.windows
            )
            self.categories.append(category)
        self.clerks = []
        for number in range(1, WINDOW_COUNT + 1):
            clerk = User.objects.create_user(
                f"bench{number}",
                "Bench#Hall2026",
                full_name=f"基准{number}",
                staff_number=f"B{number:04d}",
                site=self.site,
            )
            RoleGrant.objects.create(site=self.site, user=clerk, role="window_clerk")
            clerk.forget_cached_roles()
            self.clerks.append(clerk)
        for clerk, window in zip(self.clerks, self.windows, strict=True):
            actions.sign_in(clerk, window)

    def reset_windows(self) -> None:
        from servicehall.queueing.models import WindowState

        WindowState.objects.filter(site=self.site).update(
            current_ticket=None, status="idle", priority_streak=0
        )

    def add_waiting_tickets(self, count: int) -> None:
        """Waiting tickets straight into the tables (the comparison runs measure calling, not issuing)."""
        from django.db import connection, transaction
        from django.utils import timezone

        from servicehall.queueing.models import DailyCounter, Ticket, Visit

        now = timezone.now()
        with transaction.atomic():
            visits = Visit.objects.bulk_create(
                Visit(site=self.site, service_date=self.today, created_at=now) for _ in range(count)
            )
            tickets = []
            for index, visit in enumerate(visits):
                category = self.categories[index % len(self.categories)]
                counter, _ = DailyCounter.objects.get_or_create(
                    category=category, service_date=self.today, defaults={"site": self.site}
                )
                counter.last_sequence += 1
                counter.save(update_fields=["last_sequence"])
                tickets.append(
                    Ticket(
                        site=self.site,
                        visit=visit,
                        category=category,
                        service_date=self.today,
                        sequence=counter.last_sequence,
                        number=f"{category.prefix}{counter.last_sequence:03d}",
                        channel="kiosk",
                        issued_at=now,
                        queued_at=now,
                    )
                )
            Ticket.objects.bulk_create(tickets, batch_size=1000)
        connection.close()

    def settle(self) -> None:
        """VACUUM the hot tables, so no run pays for an earlier run's dead rows or its autovacuum."""
        import psycopg

        with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
            for table in ("queueing_ticket", "queueing_visitevent", "queueing_windowstate", "queueing_visit"):
                connection.execute(f"VACUUM (ANALYZE) {table}")

    def waiting(self) -> int:
        from servicehall.queueing.models import Ticket

        return Ticket.objects.filter(site=self.site, status="waiting").count()


def invariants(hall: Hall) -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT ticket_id FROM queueing_visitevent WHERE kind = 'called' "
            "GROUP BY ticket_id HAVING count(*) > 1) AS twice"
        )
        called_twice = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM queueing_ticket WHERE status = 'waiting'")
        still_waiting = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM queueing_ticket t WHERE NOT EXISTS "
            "(SELECT 1 FROM queueing_visitevent e WHERE e.ticket_id = t.id AND e.kind = 'called')"
        )
        never_called = cursor.fetchone()[0]
        cursor.execute(
            "SELECT category_id, service_date, count(*), count(DISTINCT sequence), min(sequence), max(sequence) "
            "FROM queueing_ticket GROUP BY category_id, service_date"
        )
        gapless = all(row[2] == row[3] == row[5] and row[4] == 1 for row in cursor.fetchall())
        cursor.execute(
            "SELECT count(*) FROM (SELECT site_id, service_date, number FROM queueing_ticket "
            "GROUP BY site_id, service_date, number HAVING count(*) > 1) AS duplicates"
        )
        duplicate_numbers = cursor.fetchone()[0]
    return {
        "called_twice": called_twice,
        "still_waiting": still_waiting,
        "never_called": never_called,
        "sequences_gapless": gapless,
        "duplicate_numbers": duplicate_numbers,
        "ok": called_twice == 0
        and still_waiting == 0
        and never_called == 0
        and gapless
        and duplicate_numbers == 0,
    }


# ---------------------------------------------------------------------------------------------
# Callers: each returns a function that calls once for a window and tells whether it got a ticket


def run_threads(thread_count: int, work: Callable[[int], int]) -> tuple[int, float]:
    results = [0] * thread_count
    errors: list[BaseException] = []

    def runner(index: int) -> None:
        try:
            results[index] = work(index)
        except BaseException as error:  # reported after the run
            errors.append(error)

    threads = [threading.Thread(target=runner, args=(index,)) for index in range(thread_count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RUN_TIMEOUT_SECONDS)
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return sum(results), elapsed


def windows_of(thread_index: int, thread_count: int) -> list[int]:
    return list(range(thread_index, WINDOW_COUNT, thread_count))


def service_closed_loop(hall: Hall, thread_count: int) -> tuple[int, float]:
    from django.db import connection

    from servicehall.lib.errors import ActionRefused
    from servicehall.queueing import actions

    def work(thread_index: int) -> int:
        mine = windows_of(thread_index, thread_count)
        last: dict[int, int | None] = dict.fromkeys(mine)
        calls = 0
        active = list(mine)
        try:
            while active:
                for index in list(active):
                    try:
                        ticket = actions.call_next(
                            hall.clerks[index], hall.windows[index], expected_current_id=last[index]
                        )
                    except ActionRefused as refusal:
                        if refusal.code != "queue_empty":
                            raise
                        active.remove(index)
                        continue
                    last[index] = ticket.pk
                    calls += 1
        finally:
            connection.close()
        return calls

    return run_threads(thread_count, work)


FLOOR_SELECT = (
    "SELECT id, category_id, visit_id, lane FROM queueing_ticket WHERE site_id = %s AND service_date = %s "
    "AND status = 'waiting' AND category_id = ANY(%s) AND (target_window_id IS NULL OR target_window_id = %s) "
    "ORDER BY lane_rank, queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
)
FLOOR_UPDATE = (
    "UPDATE queueing_ticket SET status = 'called', called_at = now(), window_id = %s, clerk_id = %s, "
    "call_count = call_count + 1 WHERE id = %s"
)
FLOOR_INSERT = (
    "INSERT INTO queueing_visitevent (site_id, kind, at, visit_id, ticket_id, category_id, lane, window_id, "
    "clerk_id, detail) VALUES (%s, 'called', now(), %s, %s, %s, %s, %s, %s, '{}')"
)


def floor_closed_loop(hall: Hall, thread_count: int) -> tuple[int, float]:
    import psycopg

    site_id = hall.site.pk
    category_ids = [category.pk for category in hall.categories]
    window_ids = [window.pk for window in hall.windows]
    clerk_ids = [clerk.pk for clerk in hall.clerks]

    def work(thread_index: int) -> int:
        mine = windows_of(thread_index, thread_count)
        calls = 0
        active = list(mine)
        with psycopg.connect(DATABASE_URL) as connection:
            while active:
                for index in list(active):
                    with connection.transaction(), connection.cursor() as cursor:
                        cursor.execute(FLOOR_SELECT, [site_id, hall.today, category_ids, window_ids[index]])
                        row = cursor.fetchone()
                        if row is None:
                            active.remove(index)
                            continue
                        cursor.execute(FLOOR_UPDATE, [window_ids[index], clerk_ids[index], row[0]])
                        cursor.execute(
                            FLOOR_INSERT,
                            [site_id, row[2], row[0], row[1], row[3], window_ids[index], clerk_ids[index]],
                        )
                    calls += 1
        return calls

    return run_threads(thread_count, work)


def same_sql_closed_loop(hall: Hall, thread_count: int) -> tuple[int, float]:
    """The service layer's own statements through bare psycopg: what the domain's writes cost without Django.

    A call by the service layer does more than the floor: it locks the window's state, records the
    unanswered previous call as 过号 (its ticket UPDATE and its event), calls the next ticket, and writes
    the window's new state with the call's event. Run here as the same SQL text (the lock, then the one
    statement that chooses, calls and records), one transaction per call.
    """
    import datetime as dt

    import psycopg

    from servicehall.queueing import actions

    site_id = hall.site.pk
    category_ids = [category.pk for category in hall.categories]
    window_ids = [window.pk for window in hall.windows]
    clerk_ids = [clerk.pk for clerk in hall.clerks]

    def work(thread_index: int) -> int:
        mine = windows_of(thread_index, thread_count)
        last: dict[int, int | None] = dict.fromkeys(mine)
        active = list(mine)
        calls = 0
        with psycopg.connect(DATABASE_URL) as connection:
            while active:
                for index in list(active):
                    window_id, clerk_id = window_ids[index], clerk_ids[index]
                    called = None
                    with connection.transaction(), connection.cursor() as cursor:
                        moment = dt.datetime.now(dt.UTC)
                        parameters = {
                            "window": window_id,
                            "at": moment,
                            "expected": last[index],
                            "clerk": clerk_id,
                        }
                        cursor.execute(actions._LOCK_AND_PASS_OVER_POSTGRESQL, parameters, prepare=True)
                        state = cursor.fetchone()
                        values = {
                            "at": moment,
                            "previous": state[11],
                            "previous_site": state[10],
                            "previous_visit": state[7],
                            "previous_category": state[8],
                            "previous_lane": state[9],
                            "state": state[0],
                            "streak": state[4],
                            "window": window_id,
                            "clerk": clerk_id,
                            "site": site_id,
                            "date": hall.today,
                            "categories": category_ids,
                            "cutoff": moment - dt.timedelta(minutes=30),
                        }
                        statement = actions._CALL_AND_RECORD_STATEMENTS[(False, state[11] is not None)]
                        cursor.execute(statement, values, prepare=True)
                        called = cursor.fetchone()
                        if called is None:
                            raise psycopg.Rollback()
                    if called is None:
                        active.remove(index)
                        continue
                    last[index] = called[0]
                    calls += 1
        return calls

    return run_threads(thread_count, work)


class HttpServer:
    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> HttpServer:
        environment = dict(
            os.environ,
            DATABASE_URL=DATABASE_URL,
            SERVICEHALL_DEPLOYMENT="local",
            DJANGO_SETTINGS_MODULE="queueing_settings",
            PYTHONPATH=os.pathsep.join([str(PROJECT / "bench"), str(PROJECT / "src")]),
        )
        if HTTP_WORKERS > 1:
            environment["REDIS_URL"] = REDIS_URL
        self.process = subprocess.Popen(
            [
                str(PROJECT / ".venv" / "bin" / "uvicorn"),
                "servicehall.config.asgi:application",
                "--workers",
                str(HTTP_WORKERS),
                "--host",
                "127.0.0.1",
                "--port",
                str(HTTP_PORT),
                "--no-access-log",
                "--log-level",
                "warning",
                "--timeout-keep-alive",
                "30",
            ],
            cwd=PROJECT,
            env=environment,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("uvicorn did not start")

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def http_pooled() -> bool:
    try:
        import psycopg_pool  # noqa: F401
    except ImportError:
        return False
    return True


def session_headers(hall: Hall) -> list[dict[str, str]]:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.crypto import get_random_string

    headers = []
    for clerk in hall.clerks:
        session = SessionStore()
        session[SESSION_KEY] = str(clerk.pk)
        session[BACKEND_SESSION_KEY] = "servicehall.accounts.backends.StaffAuthenticationBackend"
        session[HASH_SESSION_KEY] = clerk.get_session_auth_hash()
        session.create()
        token = get_random_string(32)
        headers.append(
            {
                "Cookie": f"sessionid={session.session_key}; csrftoken={token}",
                "X-CSRFToken": token,
                "Content-Type": "application/json",
            }
        )
    return headers


class HttpCaller:
    """One keep-alive connection; calls next for windows over HTTP."""

    def __init__(self, hall: Hall, headers: list[dict[str, str]]) -> None:
        self.hall = hall
        self.headers = headers
        self.connection = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=30)

    def call(self, index: int, expected: int | None) -> tuple[int, dict[str, Any]]:
        body = json.dumps({"expected_current_id": expected})
        path = f"/api/queueing/windows/{self.hall.windows[index].pk}/call-next"
        for attempt in range(2):
            try:
                self.connection.request("POST", path, body=body, headers=self.headers[index])
                response = self.connection.getresponse()
                return response.status, json.loads(response.read() or b"{}")
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


def http_closed_loop(hall: Hall, headers: list[dict[str, str]], thread_count: int) -> tuple[int, float]:
    def work(thread_index: int) -> int:
        caller = HttpCaller(hall, headers)
        mine = windows_of(thread_index, thread_count)
        last: dict[int, int | None] = dict.fromkeys(mine)
        active = list(mine)
        calls = 0
        try:
            while active:
                for index in list(active):
                    status, body = caller.call(index, last[index])
                    if status == 200:
                        last[index] = body["id"]
                        calls += 1
                    elif body.get("code") == "queue_empty":
                        active.remove(index)
                    else:
                        raise RuntimeError(f"HTTP {status}: {body}")
        finally:
            caller.close()
        return calls

    return run_threads(thread_count, work)


def current_tickets(hall: Hall) -> dict[int, int | None]:
    from servicehall.queueing.models import WindowState

    states = dict(WindowState.objects.filter(site=hall.site).values_list("window_id", "current_ticket_id"))
    return {index: states.get(window.pk) for index, window in enumerate(hall.windows)}


def open_loop(
    hall: Hall, call: Callable[[int, int | None], int | None], make_worker_state: Callable[[], Any]
) -> list[float]:
    """Offer OPEN_LOOP_RATE calls/s round-robin over the windows; latency from each call's scheduled time."""
    last = current_tickets(hall)
    inboxes: list[queue.Queue[float | None]] = [queue.Queue() for _ in range(WINDOW_COUNT)]
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        state = make_worker_state()
        while True:
            scheduled = inboxes[index].get()
            if scheduled is None:
                break
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            last[index] = call(index, last[index]) if state is None else state(index, last[index])
            elapsed = (time.perf_counter() - scheduled) * 1000
            with lock:
                latencies.append(elapsed)
        if state is not None and hasattr(state, "close"):
            state.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(WINDOW_COUNT)]
    for thread in threads:
        thread.start()
    start = time.perf_counter() + 0.5
    total = OPEN_LOOP_RATE * OPEN_LOOP_SECONDS
    for number in range(total):
        inboxes[number % WINDOW_COUNT].put(start + number / OPEN_LOOP_RATE)
    for inbox in inboxes:
        inbox.put(None)
    for thread in threads:
        thread.join(OPEN_LOOP_SECONDS + RUN_TIMEOUT_SECONDS)
    return latencies


def service_open_loop(hall: Hall) -> list[float]:
    from django.db import connection

    from servicehall.queueing import actions

    class Caller:
        def __call__(self, index: int, expected: int | None) -> int | None:
            return actions.call_next(hall.clerks[index], hall.windows[index], expected_current_id=expected).pk

        def close(self) -> None:
            connection.close()

    return open_loop(hall, lambda index, expected: None, Caller)


def http_open_loop(hall: Hall, headers: list[dict[str, str]]) -> list[float]:
    class Caller:
        def __init__(self) -> None:
            self.http = HttpCaller(hall, headers)

        def __call__(self, index: int, expected: int | None) -> int | None:
            status, body = self.http.call(index, expected)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {body}")
            return body["id"]

        def close(self) -> None:
            self.http.close()

    return open_loop(hall, lambda index, expected: None, Caller)


# ---------------------------------------------------------------------------------------------
# Display latency: 200 SSE connections, calls over HTTP


def display_latency(hall: Hall, headers: list[dict[str, str]]) -> dict[str, Any]:
    sent: dict[str, float] = {}
    received: list[tuple[str, float]] = []
    connected = threading.Event()
    stop = threading.Event()
    frames = {"count": 0}

    async def listen(ready: list[int]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", HTTP_PORT)
        writer.write(
            f"GET /hall/events/{hall.site.code}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
        ready.append(1)
        if len(ready) == DISPLAY_CONNECTIONS:
            connected.set()
        buffer = b""
        try:
            while not stop.is_set():
                try:
                    chunk = await asyncio.wait_for(reader.read(65536), 0.5)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                now = time.perf_counter()
                buffer += chunk
                while b"\n\n" in buffer:
                    frame, buffer = buffer.split(b"\n\n", 1)
                    for line in frame.split(b"\n"):
                        if line.startswith(b"data: ") and b'"kind":"called"' in line:
                            # The frame often arrives before the caller has read its HTTP answer.
                            received.append((json.loads(line[6:])["number"], now))
                            frames["count"] += 1
        finally:
            writer.close()

    async def all_listeners() -> None:
        ready: list[int] = []
        await asyncio.gather(*(listen(ready) for _ in range(DISPLAY_CONNECTIONS)), return_exceptions=True)

    listener_thread = threading.Thread(target=lambda: asyncio.run(all_listeners()))
    listener_thread.start()
    if not connected.wait(60):
        stop.set()
        listener_thread.join(10)
        return {"error": "display connections did not open"}
    caller = HttpCaller(hall, headers)
    last = current_tickets(hall)
    total = DISPLAY_RATE * DISPLAY_SECONDS
    start = time.perf_counter()
    for number in range(total):
        scheduled = start + number / DISPLAY_RATE
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        index = number % WINDOW_COUNT
        request_started = time.perf_counter()
        status, body = caller.call(index, last[index])
        if status != 200:
            break
        sent[body["number"]] = request_started
        last[index] = body["id"]
    caller.close()
    time.sleep(2)
    stop.set()
    listener_thread.join(30)
    arrivals = [(arrived - sent[number]) * 1000 for number, arrived in received if number in sent]
    return {
        "connections": DISPLAY_CONNECTIONS,
        "calls": len(sent),
        "frames": frames["count"],
        "expected_frames": len(sent) * DISPLAY_CONNECTIONS,
        "p50_ms": round(percentile(arrivals, 0.5), 1),
        "p99_ms": round(percentile(arrivals, 0.99), 1),
    }


# ---------------------------------------------------------------------------------------------


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def parse_arguments(argv: list[str]) -> None:
    global OPEN_LOOP_SECONDS, HTTP_WORKERS
    parser = argparse.ArgumentParser(description="叫号基准 / calling benchmark (50 windows, PostgreSQL)")
    parser.add_argument(
        "--open-loop-seconds",
        type=int,
        default=OPEN_LOOP_SECONDS,
        help="开环时长（秒）/ how long the 100 calls/s open loop runs, per layer (default 60)",
    )
    parser.add_argument(
        "--http-workers",
        type=int,
        default=HTTP_WORKERS,
        help="uvicorn 进程数 / uvicorn processes serving HTTP (default 2, one per core; more than one needs Redis)",
    )
    arguments = parser.parse_args(argv)
    if not 5 <= arguments.open_loop_seconds <= 600:
        parser.error("--open-loop-seconds 须在 5 到 600 之间 / must be between 5 and 600")
    if not 1 <= arguments.http_workers <= 8:
        parser.error("--http-workers 须在 1 到 8 之间 / must be between 1 and 8")
    OPEN_LOOP_SECONDS = arguments.open_loop_seconds
    HTTP_WORKERS = arguments.http_workers
    if HTTP_WORKERS > 1 and not redis_reachable():
        print("Redis (127.0.0.1:6379) 不可用，HTTP 只用 1 个进程 / Redis unreachable: one HTTP process")
        HTTP_WORKERS = 1


def main() -> int:
    parse_arguments(sys.argv[1:])
    create_database()
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        hall = Hall()
        return run(hall)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database()


def run(hall: Hall) -> int:
    from django.db import connection

    from servicehall.queueing import actions

    results: dict[str, Any] = {}
    print(
        f"大厅：{WINDOW_COUNT} 个窗口，{len(PREFIXES)} 类业务 / hall: {WINDOW_COUNT} windows, {len(PREFIXES)} categories; "
        f"HTTP: {HTTP_WORKERS} uvicorn process(es), live events {'through Redis' if HTTP_WORKERS > 1 else 'in-process'}"
    )

    # 1. Issue 20,000 tickets through the service layer, concurrently
    def issue(thread_index: int) -> int:
        issued = 0
        try:
            for number in range(thread_index, CLOSED_LOOP_TICKETS, ISSUE_THREADS):
                actions.issue_ticket(None, hall.categories[number % len(hall.categories)])
                issued += 1
        finally:
            connection.close()
        return issued

    issued, elapsed = run_threads(ISSUE_THREADS, issue)
    results["issue"] = {"tickets": issued, "per_second": round(issued / elapsed, 1)}
    print(f"取号 / issued {issued} tickets with {ISSUE_THREADS} threads: {issued / elapsed:.0f}/s")

    hall.settle()
    calls, elapsed = service_closed_loop(hall, WINDOW_COUNT)
    checks = invariants(hall)
    results["closed_loop"] = {
        "tickets": CLOSED_LOOP_TICKETS,
        "calls": calls,
        "per_second": round(calls / elapsed, 1),
        **checks,
    }
    print(
        f"闭环 / closed loop, 50 windows, service layer: {calls} calls in {elapsed:.1f} s = {calls / elapsed:.0f}/s; "
        f"invariants {'OK' if checks['ok'] else 'BROKEN'} {checks}"
    )

    # 2. Floor, service and HTTP on 1, 8 and 50 connections
    comparison: dict[str, dict[str, float]] = {}
    headers = session_headers(hall)
    with HttpServer():
        for connections_count in CONNECTION_COUNTS:
            row: dict[str, float] = {}
            for mode in ("floor", "same_sql", "service", "http"):
                hall.reset_windows()
                hall.add_waiting_tickets(COMPARE_TICKETS)
                hall.settle()
                if mode == "floor":
                    calls, elapsed = floor_closed_loop(hall, connections_count)
                elif mode == "same_sql":
                    calls, elapsed = same_sql_closed_loop(hall, connections_count)
                elif mode == "service":
                    calls, elapsed = service_closed_loop(hall, connections_count)
                else:
                    calls, elapsed = http_closed_loop(hall, headers, connections_count)
                if hall.waiting():
                    raise RuntimeError(f"{mode} left tickets waiting")
                row[mode] = round(calls / elapsed, 1)
            row["service_ratio"] = round(row["service"] / row["floor"], 3)
            row["http_ratio"] = round(row["http"] / row["floor"], 3)
            row["same_sql_ratio"] = round(row["same_sql"] / row["floor"], 3)
            row["service_of_same_sql"] = round(row["service"] / row["same_sql"], 3)
            comparison[str(connections_count)] = row
            print(
                f"{connections_count:>2} 连接 / connections: floor {row['floor']:.0f}/s, service {row['service']:.0f}/s "
                f"({row['service_ratio']:.0%}), HTTP {row['http']:.0f}/s ({row['http_ratio']:.0%}); "
                f"the service's own SQL without Django {row['same_sql']:.0f}/s ({row['same_sql_ratio']:.0%} of the floor; "
                f"the service layer reaches {row['service_of_same_sql']:.0%} of it)"
            )
        results["comparison"] = comparison
        results["checks_after_comparison"] = invariants(hall)

        # 3. Open loop
        hall.reset_windows()
        hall.add_waiting_tickets(OPEN_LOOP_RATE * OPEN_LOOP_SECONDS * 2 + 500)
        hall.settle()
        service_latencies = service_open_loop(hall)
        http_latencies = http_open_loop(hall, headers)
        results["open_loop"] = {
            "rate": OPEN_LOOP_RATE,
            "seconds": OPEN_LOOP_SECONDS,
            "service_p50_ms": round(percentile(service_latencies, 0.5), 2),
            "service_p99_ms": round(percentile(service_latencies, 0.99), 2),
            "http_p50_ms": round(percentile(http_latencies, 0.5), 2),
            "http_p99_ms": round(percentile(http_latencies, 0.99), 2),
        }
        print(
            f"开环 / open loop {OPEN_LOOP_RATE}/s × {OPEN_LOOP_SECONDS} s: service p50 "
            f"{results['open_loop']['service_p50_ms']} ms p99 {results['open_loop']['service_p99_ms']} ms; HTTP p50 "
            f"{results['open_loop']['http_p50_ms']} ms p99 {results['open_loop']['http_p99_ms']} ms"
        )

        # 4. Display latency
        hall.add_waiting_tickets(DISPLAY_RATE * DISPLAY_SECONDS + 100)
        results["display"] = display_latency(hall, headers)
        print(f"叫号屏 / display latency with {DISPLAY_CONNECTIONS} SSE connections: {results['display']}")

    results["http_server"] = {
        "pooled_connections": http_pooled(),
        "uvicorn_workers": HTTP_WORKERS,
        "live_events": "redis" if HTTP_WORKERS > 1 else "in-process",
    }
    medians = {
        "service_ratio": statistics.median(row["service_ratio"] for row in comparison.values()),
        "http_ratio": statistics.median(row["http_ratio"] for row in comparison.values()),
    }
    targets = {
        "service_ratio": TARGET_SERVICE_RATIO,
        "http_ratio": TARGET_HTTP_RATIO,
        "service_p99_ms": TARGET_SERVICE_P99_MS,
        "http_p99_ms": TARGET_HTTP_P99_MS,
        "display_p99_ms": TARGET_DISPLAY_P99_MS,
    }
    met = {
        "invariants": results["closed_loop"]["ok"],
        "service_ratio_each": all(
            row["service_ratio"] >= TARGET_SERVICE_RATIO for row in comparison.values()
        ),
        "http_ratio_each": all(row["http_ratio"] >= TARGET_HTTP_RATIO for row in comparison.values()),
        "service_p99": results["open_loop"]["service_p99_ms"] <= TARGET_SERVICE_P99_MS,
        "http_p99": results["open_loop"]["http_p99_ms"] <= TARGET_HTTP_P99_MS,
        "display_p99": results["display"].get("p99_ms", float("inf")) <= TARGET_DISPLAY_P99_MS,
    }
    print(
        json.dumps(
            {"bench": "queueing", **results, "medians": medians, "targets": targets, "met": met},
            ensure_ascii=False,
        )
    )
    return 0 if met["invariants"] else 1


if __name__ == "__main__":
    sys.exit(main())
