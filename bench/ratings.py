"""Can 好差评 take 200 ratings a second through HTTP for a minute, with none lost or duplicated?

Run from the project directory: `.venv/bin/python bench/ratings.py` (`--seconds 10` for a smoke run).
PostgreSQL at 127.0.0.1:5432, user postgres; the database servicehall_bench_ratings is created and
dropped. All traffic stays on 127.0.0.1 and every loop is bounded.

1. Seed: five sites (a city centre and four towns, as the demo centre), a window and a clerk each, and
   finished services with their rating tokens created in bulk (12,000 for the open loop, plus those
   of the side-by-side runs), spread over the sites.
2. Side by side, closed loop, 8 connections, 2,000 ratings each: the raw-psycopg floor (lock the
   token, mark it used, insert the rating, one transaction), the service layer
   (``feedback.actions.rate``) and HTTP (``POST /api/feedback/public/ratings`` on uvicorn; the server
   uses bench/queueing_settings.py for Django's connection pool).
3. Open loop through HTTP: 200 POSTs/s offered for 60 s, latency p50/p99 from each request's
   scheduled moment. About 2% of the offers replay a key already accepted (with another level and
   comment) and 1% carry a forged key; these must be refused (409 and 404). Each request carries an
   X-Forwarded-For address (uvicorn --proxy-headers), 2,000 addresses for the citizens' phones, so
   the burst hold sees a realistic spread; one address sends a burst, whose ratings are accepted and
   held for review, not refused.
4. Checked in the database afterwards: ratings == accepted answers, every accepted key used once, no
   token with two ratings, every replayed rating still carries its first level and comment and its
   token's first use time, one ``feedback.rated`` audit record per rating, and the audit chains verify.

The machine has 2 cores shared with the client threads and other work, so the comparison is by ratio.
The last line is one JSON object with the figures, the targets and whether they are met.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import support  # bench/support.py: the script's own folder is first on sys.path

PROJECT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "servicehall_bench_ratings"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"
HTTP_PORT = 8766
# Django runs the synchronous views of an ASGI server in one thread per process, so under ASGI a
# rating's database waits never overlap; uvicorn's WSGI interface runs each request in a pool of ten
# threads, which lets them overlap. Processes: one per core.
SERVER_WORKERS = 2
SERVER_INTERFACE = "asgi"
SITE_COUNT = 5
OFFERED_RATE = 200
DURATION_SECONDS = 60
OPEN_LOOP_TOKENS = 12_000
COMPARE_RATINGS = 2_000
COMPARE_CONNECTIONS = 8
CLIENT_THREADS = 64
REPLAY_SHARE = 0.02
FORGED_SHARE = 0.01
ADDRESSES = 2_000
BURST_REQUESTS = 20
TARGET_P99_MS = 500.0
RUN_TIMEOUT_SECONDS = 300
PATH = "/api/feedback/public/ratings"

os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["SERVICEHALL_DEPLOYMENT"] = "local"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehall.config.settings")
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("LOG_LEVEL", "WARNING")
sys.path.insert(0, str(PROJECT / "src"))


def create_database() -> None:
    support.create_database(DATABASE_NAME)


def drop_database() -> None:
    support.drop_database(DATABASE_NAME)


percentile = support.percentile


# ---------------------------------------------------------------------------------------------
# Seed: sites, windows, clerks, finished services with tokens


class Hall:
    def __init__(self) -> None:
        from django.utils import timezone

        from servicehall.accounts.models import User
        from servicehall.queueing.models import Category
        from servicehall.sites.models import Site, SiteLevel, Window

        self.today = timezone.localdate()
        city = Site.objects.create(code="BENCH-CITY", name="基准测试市中心", level=SiteLevel.CITY)
        self.sites = [city] + [
            Site.objects.create(
                code=f"BENCH-TOWN{number}", name=f"基准测试镇{number}", level=SiteLevel.TOWN, parent=city
            )
            for number in range(1, SITE_COUNT)
        ]
        self.windows = [Window.objects.create(site=site, number=1, name="1号窗口") for site in self.sites]
        self.categories = [
            Category.objects.create(site=site, prefix="A", name="综合业务", position=1) for site in self.sites
        ]
        self.clerks = [
            User.objects.create_user(
                f"clerk{index}",
                "Bench#Hall2026",
                full_name=f"基准{index}",
                staff_number=f"R{index:04d}",
                site=site,
            )
            for index, site in enumerate(self.sites)
        ]
        self.sequence = 0

    def tokens(self, count: int) -> list[str]:
        """Finished services with their tokens, straight into the tables (this bench measures rating)."""
        import datetime as dt

        from django.db import connection, transaction
        from django.utils import timezone

        from servicehall.feedback.models import RatingToken, ServiceKind
        from servicehall.queueing.models import Ticket, TicketStatus, Visit

        now = timezone.now()
        keys: list[str] = []
        with transaction.atomic():
            visits = []
            for index in range(count):
                visits.append(
                    Visit(site=self.sites[index % SITE_COUNT], service_date=self.today, created_at=now)
                )
            visits = Visit.objects.bulk_create(visits, batch_size=2000)
            tickets = []
            for index, visit in enumerate(visits):
                place = index % SITE_COUNT
                self.sequence += 1
                tickets.append(
                    Ticket(
                        site=self.sites[place],
                        visit=visit,
                        category=self.categories[place],
                        service_date=self.today,
                        sequence=self.sequence,
                        number=f"A{self.sequence:05d}",
                        channel="kiosk",
                        status=TicketStatus.FINISHED,
                        issued_at=now,
                        queued_at=now,
                        called_at=now,
                        started_at=now,
                        finished_at=now,
                        window=self.windows[place],
                        clerk=self.clerks[place],
                    )
                )
            tickets = Ticket.objects.bulk_create(tickets, batch_size=2000)
            tokens = []
            for ticket in tickets:
                key = secrets.token_urlsafe(32)
                keys.append(key)
                tokens.append(
                    RatingToken(
                        site_id=ticket.site_id,
                        service_kind=ServiceKind.VISIT,
                        ticket=ticket,
                        staff_id=ticket.clerk_id,
                        window_id=ticket.window_id,
                        key=key,
                        issued_at=now,
                        expires_at=now + dt.timedelta(days=7),
                    )
                )
            RatingToken.objects.bulk_create(tokens, batch_size=2000)
        connection.close()
        return keys


def settle() -> None:
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        for table in (
            "feedback_ratingtoken",
            "feedback_rating",
            "feedback_rectification",
            "audit_auditrecord",
        ):
            connection.execute(f"VACUUM (ANALYZE) {table}")


def submission(index: int) -> dict[str, Any]:
    """What a citizen sends: mostly 好评, some 中评, about one in twelve a 差评 with a reason."""
    level = (5, 5, 5, 4, 5, 4, 5, 3, 5, 4, 5, 2)[index % 12]
    body: dict[str, Any] = {"level": level}
    if level <= 2:
        body["reasons"] = ["efficiency"]
        body["comment"] = "等候时间较长"
    return body


# ---------------------------------------------------------------------------------------------
# Side by side: floor, service layer, HTTP


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


FLOOR_LOCK = (
    "SELECT id, site_id, staff_id, window_id, used_at FROM feedback_ratingtoken WHERE key = %s FOR UPDATE"
)
FLOOR_USE = "UPDATE feedback_ratingtoken SET used_at = now() WHERE id = %s"
FLOOR_INSERT = (
    "INSERT INTO feedback_rating (site_id, token_id, service_kind, staff_id, window_id, level, grade, reasons, "
    "comment, channel, contact_name, contact_phone, source_fingerprint, held_for_review, rated_at) "
    "VALUES (%s, %s, 'visit', %s, %s, %s, 'good', '[]', '', 'qr_code', '', '', '', false, now())"
)


def floor_closed_loop(keys: list[str]) -> tuple[int, float]:
    import psycopg

    def work(thread_index: int) -> int:
        done = 0
        with psycopg.connect(DATABASE_URL) as connection:
            for key in keys[thread_index::COMPARE_CONNECTIONS]:
                with connection.transaction(), connection.cursor() as cursor:
                    cursor.execute(FLOOR_LOCK, [key])
                    token_id, site_id, staff_id, window_id, used_at = cursor.fetchone()
                    if used_at is not None:
                        raise RuntimeError("floor: token used twice")
                    cursor.execute(FLOOR_USE, [token_id])
                    cursor.execute(FLOOR_INSERT, [site_id, token_id, staff_id, window_id, 5])
                done += 1
        return done

    return run_threads(COMPARE_CONNECTIONS, work)


def service_closed_loop(keys: list[str]) -> tuple[int, float]:
    from django.db import connection

    from servicehall.feedback import actions

    def work(thread_index: int) -> int:
        done = 0
        try:
            for position, key in enumerate(keys[thread_index::COMPARE_CONNECTIONS]):
                body = submission(position)
                actions.rate(
                    key,
                    level=body["level"],
                    channel="qr_code",
                    reasons=body.get("reasons", []),
                    comment=body.get("comment", ""),
                    source=actions.fingerprint("address", f"10.0.{thread_index}.{position % 250}"),
                )
                done += 1
        finally:
            connection.close()
        return done

    return run_threads(COMPARE_CONNECTIONS, work)


class HttpServer:
    def __init__(self, workers: int, interface: str) -> None:
        self.workers = workers
        self.interface = interface
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> HttpServer:
        environment = dict(
            os.environ,
            DATABASE_URL=DATABASE_URL,
            SERVICEHALL_DEPLOYMENT="local",
            DJANGO_SETTINGS_MODULE="queueing_settings",
            PYTHONPATH=os.pathsep.join([str(PROJECT / "bench"), str(PROJECT / "src")]),
        )
        self.process = subprocess.Popen(
            [
                str(PROJECT / ".venv" / "bin" / "uvicorn"),
                f"servicehall.config.{self.interface}:application",
                "--interface",
                # uvicorn names the module's protocol: Django's ASGI application speaks ASGI 3.
                {"asgi": "asgi3", "wsgi": "wsgi"}[self.interface],
                "--host",
                "127.0.0.1",
                "--port",
                str(HTTP_PORT),
                "--no-access-log",
                "--log-level",
                "warning",
                "--timeout-keep-alive",
                "30",
                "--proxy-headers",
                "--forwarded-allow-ips",
                "127.0.0.1",
                "--workers",
                str(self.workers),
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


class HttpRater:
    """One keep-alive connection posting ratings."""

    def __init__(self) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=30)

    def post(self, body: dict[str, Any], address: str) -> tuple[int, dict[str, Any]]:
        payload = json.dumps(body)
        headers = {"Content-Type": "application/json", "X-Forwarded-For": address}
        for attempt in range(2):
            try:
                self.connection.request("POST", PATH, body=payload, headers=headers)
                response = self.connection.getresponse()
                return response.status, json.loads(response.read() or b"{}")
            except (http.client.HTTPException, ConnectionError):
                # Only a dropped keep-alive connection before any answer is retried; the server
                # refuses a second use of the key anyway, and the check below would count it.
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


def address_of(index: int) -> str:
    return f"10.{index // 62500 % 250}.{index // 250 % 250}.{index % 250 + 1}"


def http_closed_loop(keys: list[str]) -> tuple[int, float]:
    def work(thread_index: int) -> int:
        rater = HttpRater()
        done = 0
        try:
            for position, key in enumerate(keys[thread_index::COMPARE_CONNECTIONS]):
                status, answer = rater.post(
                    {"key": key, **submission(position)}, address_of(thread_index * 1000 + position)
                )
                if status != 201:
                    raise RuntimeError(f"HTTP {status}: {answer}")
                done += 1
        finally:
            rater.close()
        return done

    return run_threads(COMPARE_CONNECTIONS, work)


# ---------------------------------------------------------------------------------------------
# Open loop


class Offer:
    __slots__ = ("index", "kind", "key", "body", "address", "scheduled", "status", "code", "latency_ms")

    def __init__(self, index: int, kind: str, key: str, body: dict[str, Any], address: str) -> None:
        self.index = index
        self.kind = kind
        self.key = key
        self.body = body
        self.address = address
        self.scheduled = 0.0
        self.status = 0
        self.code = ""
        self.latency_ms = 0.0


def plan(keys: list[str], total: int, seed: int = 2026) -> list[Offer]:
    """The offers in order: genuine ratings, replays of an earlier genuine key (at least 2 s later, so
    the first has been answered), forged keys, and one address's burst."""
    generator = random.Random(seed)
    offers: list[Offer] = []
    genuine: list[tuple[int, str]] = []
    answered = 0
    next_key = 0
    burst_start = total // 2
    for index in range(total):
        draw = generator.random()
        while answered < len(genuine) and genuine[answered][0] < index - 2 * OFFERED_RATE:
            answered += 1
        if draw < REPLAY_SHARE and answered:
            key = genuine[generator.randrange(answered)][1]
            offers.append(
                Offer(index, "replay", key, {"key": key, "level": 1, "comment": "重放"}, address_of(index))
            )
        elif draw < REPLAY_SHARE + FORGED_SHARE:
            key = secrets.token_urlsafe(32)
            offers.append(Offer(index, "forged", key, {"key": key, "level": 5}, address_of(index)))
        else:
            key = keys[next_key]
            next_key += 1
            genuine.append((index, key))
            in_burst = burst_start <= index < burst_start + BURST_REQUESTS
            address = "10.250.250.250" if in_burst else address_of(generator.randrange(ADDRESSES))
            offers.append(Offer(index, "genuine", key, {"key": key, **submission(index)}, address))
    return offers


def open_loop(offers: list[Offer], rate: int) -> float:
    """Offer the requests at ``rate``/s from CLIENT_THREADS keep-alive connections; returns the seconds."""
    inbox: queue.Queue[Offer | None] = queue.Queue()

    def worker() -> None:
        rater = HttpRater()
        try:
            while True:
                offer = inbox.get()
                if offer is None:
                    break
                delay = offer.scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                try:
                    offer.status, answer = rater.post(offer.body, offer.address)
                    offer.code = str(answer.get("code", ""))
                except (http.client.HTTPException, OSError) as error:
                    offer.status, offer.code = -1, type(error).__name__
                offer.latency_ms = (time.perf_counter() - offer.scheduled) * 1000
        finally:
            rater.close()

    threads = [threading.Thread(target=worker) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    start = time.perf_counter() + 0.5
    for offer in offers:
        offer.scheduled = start + offer.index / rate
    # Feed the queue as time passes, so a worker never sleeps on an offer far ahead of the others.
    for offer in offers:
        lead = offer.scheduled - 0.05 - time.perf_counter()
        if lead > 0:
            time.sleep(lead)
        inbox.put(offer)
    for _ in threads:
        inbox.put(None)
    for thread in threads:
        thread.join(RUN_TIMEOUT_SECONDS)
    return max(offer.scheduled + offer.latency_ms / 1000 for offer in offers) - start


def database_checks(offers: list[Offer], compare_accepted: int) -> dict[str, Any]:
    from django.db import connection

    from servicehall.audit.actions import verify

    accepted = [offer for offer in offers if offer.kind == "genuine" and offer.status == 201]
    replays = [offer for offer in offers if offer.kind == "replay"]
    first_of: dict[str, Offer] = {offer.key: offer for offer in accepted}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM feedback_rating")
        ratings = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM feedback_ratingtoken WHERE used_at IS NOT NULL")
        used_tokens = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM (SELECT token_id FROM feedback_rating GROUP BY token_id HAVING count(*) > 1) t"
        )
        duplicated = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM feedback_rating r JOIN feedback_ratingtoken t ON t.id = r.token_id "
            "WHERE t.used_at IS DISTINCT FROM r.rated_at"
        )
        use_time_mismatch = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM audit_auditrecord WHERE action = 'feedback.rated'")
        rated_audits = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM feedback_rating WHERE held_for_review")
        held = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM feedback_rectification")
        rectifications = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM feedback_rating WHERE grade = 'bad'")
        bad = cursor.fetchone()[0]
        replayed_keys = sorted({offer.key for offer in replays})
        cursor.execute(
            "SELECT t.key, r.level, r.comment FROM feedback_rating r JOIN feedback_ratingtoken t "
            "ON t.id = r.token_id WHERE t.key = ANY(%s)",
            [replayed_keys],
        )
        stored = {key: (level, comment) for key, level, comment in cursor.fetchall()}
    replay_changed = sum(
        1
        for key in replayed_keys
        if stored.get(key)
        != ((first_of[key].body["level"], first_of[key].body.get("comment", "")) if key in first_of else None)
    )
    expected = len(accepted) + compare_accepted
    # The floor writes no audit record; the service layer and HTTP write one per rating.
    expected_audits = expected - COMPARE_RATINGS
    chains = verify()
    return {
        "ratings": ratings,
        "accepted": expected,
        "lost": max(0, expected - ratings),
        "extra": max(0, ratings - expected),
        "tokens_used": used_tokens,
        "duplicated": duplicated,
        "use_time_mismatch": use_time_mismatch,
        "replayed_keys": len(replayed_keys),
        "replays_that_changed_something": replay_changed,
        "rated_audit_records": rated_audits,
        "held_for_review": held,
        "bad": bad,
        "rectifications": rectifications,
        "audit_chains_ok": chains.intact,
        "ok": ratings == expected == used_tokens
        and rated_audits == expected_audits
        and duplicated == 0
        and use_time_mismatch == 0
        and replay_changed == 0
        and rectifications == bad
        and chains.intact,
    }


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=int, default=DURATION_SECONDS, help="open-loop duration (default 60)"
    )
    parser.add_argument(
        "--rate", type=int, default=OFFERED_RATE, help="offered ratings per second (default 200)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=SERVER_WORKERS,
        help="uvicorn worker processes (default 2, one per core)",
    )
    parser.add_argument(
        "--interface",
        choices=["wsgi", "asgi"],
        default=SERVER_INTERFACE,
        help="serve config.asgi (as `make run`, default) or config.wsgi (a pool of ten threads)",
    )
    arguments = parser.parse_args()
    if not (1 <= arguments.seconds <= 600 and 1 <= arguments.rate <= 2000 and 1 <= arguments.workers <= 8):
        parser.error("--seconds must be 1–600, --rate 1–2000 and --workers 1–8")
    create_database()
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return run(arguments.seconds, arguments.rate, arguments.workers, arguments.interface)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database()


def run(seconds: int, rate: int, workers: int, interface: str) -> int:
    total = rate * seconds
    started = time.perf_counter()
    hall = Hall()
    open_keys = hall.tokens(max(OPEN_LOOP_TOKENS, total))
    floor_keys = hall.tokens(COMPARE_RATINGS)
    service_keys = hall.tokens(COMPARE_RATINGS)
    http_keys = hall.tokens(COMPARE_RATINGS)
    settle()
    print(
        f"凭证 / tokens: {len(open_keys) + 3 * COMPARE_RATINGS} finished services over {SITE_COUNT} sites, "
        f"seeded in {time.perf_counter() - started:.1f} s"
    )

    results: dict[str, Any] = {}
    done, elapsed = floor_closed_loop(floor_keys)
    floor_rate = done / elapsed
    done, elapsed = service_closed_loop(service_keys)
    service_rate = done / elapsed
    with HttpServer(workers, interface):
        done, elapsed = http_closed_loop(http_keys)
        http_rate = done / elapsed
        results["closed_loop"] = {
            "server_workers": workers,
            "server_interface": interface,
            "connections": COMPARE_CONNECTIONS,
            "ratings_each": COMPARE_RATINGS,
            "floor_per_second": round(floor_rate, 1),
            "service_per_second": round(service_rate, 1),
            "http_per_second": round(http_rate, 1),
            "service_ratio": round(service_rate / floor_rate, 3),
            "http_ratio": round(http_rate / floor_rate, 3),
        }
        print(
            f"闭环 / closed loop, {COMPARE_CONNECTIONS} connections, {COMPARE_RATINGS} ratings each: "
            f"floor {floor_rate:.0f}/s, service {service_rate:.0f}/s ({service_rate / floor_rate:.0%}), "
            f"HTTP {http_rate:.0f}/s ({http_rate / floor_rate:.0%})"
        )
        settle()

        offers = plan(open_keys, total)
        took = open_loop(offers, rate)

    genuine = [offer for offer in offers if offer.kind == "genuine"]
    accepted = [offer for offer in genuine if offer.status == 201]
    failed = [offer for offer in genuine if offer.status != 201]
    replays = [offer for offer in offers if offer.kind == "replay"]
    forged = [offer for offer in offers if offer.kind == "forged"]
    latencies = [offer.latency_ms for offer in offers]
    achieved = len(offers) / took
    wrong_replays = [offer for offer in replays if (offer.status, offer.code) != (409, "already_rated")]
    wrong_forged = [offer for offer in forged if (offer.status, offer.code) != (404, "invalid_token")]
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(
        f"开环 / open loop {rate}/s × {seconds} s: {len(offers)} offered, answered in {took:.1f} s "
        f"= {achieved:.1f}/s; p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    print(
        f"  genuine {len(genuine)}: accepted {len(accepted)}, failed {len(failed)}"
        + (f" {sorted({(offer.status, offer.code) for offer in failed})}" if failed else "")
    )
    print(
        f"  replays {len(replays)} refused 409: {len(replays) - len(wrong_replays)}; "
        f"forged {len(forged)} refused 404: {len(forged) - len(wrong_forged)}"
    )
    checks = database_checks(offers, 3 * COMPARE_RATINGS)
    print(f"数据库核对 / database checks {'OK' if checks['ok'] else 'BROKEN'}: {checks}")
    print(
        f"对比 / versus baseline: open-loop HTTP {achieved:.0f}/s is {achieved / floor_rate:.0%} of the floor's "
        f"closed-loop capacity ({floor_rate:.0f}/s) and {achieved / service_rate:.0%} of the service layer's "
        f"({service_rate:.0f}/s)"
    )
    lost = checks["lost"] + len(failed)
    duplicated = checks["duplicated"] + checks["extra"]
    met = (
        lost == 0
        and duplicated == 0
        and not wrong_replays
        and not wrong_forged
        and checks["ok"]
        and achieved >= 0.98 * rate
        and p99 <= TARGET_P99_MS
        and seconds >= DURATION_SECONDS
        and rate >= OFFERED_RATE
    )
    results["open_loop"] = {
        "offered": len(offers),
        "genuine": len(genuine),
        "accepted": len(accepted),
        "replays": len(replays),
        "replays_refused": len(replays) - len(wrong_replays),
        "forged": len(forged),
        "forged_refused": len(forged) - len(wrong_forged),
        "achieved_rate": round(achieved, 1),
        "p50_ms": round(p50, 1),
        "p99_ms": round(p99, 1),
        "ratio_to_floor": round(achieved / floor_rate, 3),
        "ratio_to_service": round(achieved / service_rate, 3),
    }
    results["database"] = checks
    print(
        json.dumps(
            {
                "bench": "ratings",
                "offered_rate": rate,
                "duration": seconds,
                "achieved_rate": round(achieved, 1),
                "p50_ms": round(p50, 1),
                "p99_ms": round(p99, 1),
                "lost": lost,
                "duplicated": duplicated,
                **results,
                "targets": {
                    "offered_rate": OFFERED_RATE,
                    "duration": DURATION_SECONDS,
                    "lost": 0,
                    "duplicated": 0,
                    "achieved_rate_min": round(0.98 * OFFERED_RATE, 1),
                    "p99_ms": TARGET_P99_MS,
                },
                "met": met,
            },
            ensure_ascii=False,
        )
    )
    return 0 if checks["ok"] and lost == 0 and duplicated == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
