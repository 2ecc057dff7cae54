"""How fast is the four-week coverage board (岗位覆盖) of a site with 60 posts?

Run from the project directory: `.venv/bin/python bench/duty_coverage.py`. It creates a throw-away
PostgreSQL database (servicehall_bench_duty, dropped afterwards; the server is taken from DATABASE_URL
or postgres://postgres@127.0.0.1:5432), loads one site open Monday–Saturday with lunch duty, 60 window
posts with an A角 and two B角 each, qualifications, a roster (lunch, Saturday, a weekday rotation) and
approved leave (some with a substitute, some leaving gaps), then times 20 renders of the board through
Django's test client as the logged-in supervisor, and 20 calls of coverage() alone. The last line is one
JSON object with the figures, the target and whether it is met.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

POSTS = 60
FLOATERS = 30
DAYS = 28
RENDERS = 20
WARM_UP = 3
TARGET_MS = 300.0
BENCH_DATABASE = "servicehall_bench_duty"
START = dt.date(2026, 3, 2)


def server_url() -> str:
    given = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(given)
    return urlunsplit((parts.scheme, parts.netloc, "/{database}", "", ""))


def recreate_database(url_template: str) -> str:
    import psycopg

    with psycopg.connect(url_template.format(database="postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}"')
        connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
        # A signed-in page renews the session row once a minute (servicehall.accounts.sessions), a commit
        # that waits for the shared disk's fsync; that wait is the disk's, not the board's, so the bench
        # database skips it.
        connection.execute(f'ALTER DATABASE "{BENCH_DATABASE}" SET synchronous_commit = off')
    return url_template.format(database=BENCH_DATABASE)


def drop_database(url_template: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(url_template.format(database="postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}"')


def prepare_environment(var_directory: str, database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "servicehall.config.settings"
    os.environ["SERVICEHALL_DEPLOYMENT"] = "local"
    os.environ["SERVICEHALL_VAR_DIR"] = var_directory
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    source = Path(__file__).resolve().parent.parent / "src"
    if str(source) not in sys.path:
        sys.path.insert(0, str(source))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed() -> tuple[object, object]:
    """The site, its hours, windows, posts, staff, qualifications, roles, roster and leave."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from servicehall.accounts.models import RoleGrant, User
    from servicehall.accounts.roles import Role
    from servicehall.duty.models import (
        Assignment,
        AssignmentRole,
        Leave,
        LeaveKind,
        LeaveStatus,
        PeriodKind,
        Post,
        Qualification,
        QualificationSource,
        RosterPattern,
    )
    from servicehall.sites.models import OpeningPeriod, PostKind, Site, SiteLevel, Window

    site = Site.objects.create(code="BENCH", name="基准政务服务中心", level=SiteLevel.CITY)
    hours = [(dt.time(9), dt.time(12)), (dt.time(12), dt.time(13, 30)), (dt.time(13, 30), dt.time(17, 30))]
    OpeningPeriod.objects.bulk_create(
        [
            OpeningPeriod(site=site, weekday=day, starts_at=start, ends_at=end)
            for day in range(1, 6)
            for start, end in hours
        ]
        + [OpeningPeriod(site=site, weekday=6, starts_at=dt.time(9), ends_at=dt.time(12))]
    )
    windows = Window.objects.bulk_create(
        [Window(site=site, number=number, name=f"综合窗口{number}") for number in range(1, POSTS + 1)]
    )
    posts = Post.objects.bulk_create(
        [
            Post(
                site=site,
                window=window,
                kind=PostKind.RECEPTION,
                name=f"{window.number}号窗口受理岗",
                required_qualification=PostKind.RECEPTION,
            )
            for window in windows
        ]
    )
    password = make_password(None)
    now = timezone.now()
    people = User.objects.bulk_create(
        [
            User(
                username=f"bench{index:03d}",
                full_name=f"工作人员{index:03d}",
                staff_number=f"B{index:04d}",
                site=site,
                password=password,
                password_changed_at=now,
            )
            for index in range(POSTS + FLOATERS)
        ]
    )
    RoleGrant.objects.bulk_create(
        [RoleGrant(site=site, user=person, role=Role.WINDOW_CLERK) for person in people]
    )
    Qualification.objects.bulk_create(
        [
            Qualification(
                site=site,
                staff=person,
                post_kind=PostKind.RECEPTION,
                valid_from=dt.date(2026, 1, 1),
                # A few qualifications run out during the four weeks
                valid_until=dt.date(2026, 3, 20) if index % 17 == 0 else dt.date(2026, 12, 31),
                source=QualificationSource.ENTERED,
                note="基准",
            )
            for index, person in enumerate(people)
        ]
    )
    assignments = []
    for index, post in enumerate(posts):
        assignments.append(
            Assignment(
                site=site,
                post=post,
                staff=people[index],
                role=AssignmentRole.A,
                valid_from=dt.date(2026, 1, 1),
            )
        )
        for offset in (0, 1):
            bee = (
                people[POSTS + (index + offset * 7) % FLOATERS]
                if offset == 0
                else people[(index + 1) % POSTS]
            )
            assignments.append(
                Assignment(
                    site=site, post=post, staff=bee, role=AssignmentRole.B, valid_from=dt.date(2026, 1, 1)
                )
            )
    Assignment.objects.bulk_create(assignments)
    patterns = []
    for index in range(10):
        patterns.append(
            RosterPattern(
                site=site,
                post=posts[index],
                staff=people[POSTS + index],
                weekday=1 + index % 5,
                period=PeriodKind.LUNCH,
                valid_from=START,
            )
        )
        patterns.append(
            RosterPattern(
                site=site,
                post=posts[10 + index],
                staff=people[POSTS + 10 + index],
                weekday=6,
                period=PeriodKind.SATURDAY,
                valid_from=START,
            )
        )
        patterns.append(
            RosterPattern(
                site=site,
                post=posts[20 + index],
                staff=people[POSTS + 20 + index],
                weekday=2,
                period=PeriodKind.MORNING,
                valid_from=START,
            )
        )
    RosterPattern.objects.bulk_create(patterns)
    leaves = []
    for index in range(24):
        first = START + dt.timedelta(days=index)
        person = people[(index * 5) % POSTS]
        substitute = people[POSTS + FLOATERS - 1 - index % 6] if index % 3 else None
        leaves.append(
            Leave(
                site=site,
                staff=person,
                starts_on=first,
                ends_on=first + dt.timedelta(days=index % 3),
                kind=LeaveKind.PERSONAL,
                reason="基准请假",
                status=LeaveStatus.APPROVED,
                substitute=substitute,
                handover_note="已交接",
            )
        )
        if index % 4 == 0:  # the B角 is away too: some of these become gaps
            leaves.append(
                Leave(
                    site=site,
                    staff=people[POSTS + ((index * 5) % POSTS) % FLOATERS],
                    starts_on=first,
                    ends_on=first,
                    kind=LeaveKind.SICK,
                    reason="基准病假",
                    status=LeaveStatus.APPROVED,
                    handover_note="已交接",
                )
            )
    Leave.objects.bulk_create(leaves)
    supervisor = User.objects.create_user(
        username="bench_supervisor", password=None, full_name="基准负责人", staff_number="B9999", site=site
    )
    RoleGrant.objects.create(site=site, user=supervisor, role=Role.WINDOW_SUPERVISOR)
    return site, supervisor


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def timed(function: object, repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per call; on a shared machine the gap between them is waiting."""
    wall, cpu = [], []
    for index in range(WARM_UP + repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        function()  # type: ignore[operator]
        elapsed, elapsed_cpu = (
            (time.perf_counter() - started) * 1000,
            (time.process_time() - started_cpu) * 1000,
        )
        if index >= WARM_UP:
            wall.append(elapsed)
            cpu.append(elapsed_cpu)
    return wall, cpu


def main() -> None:
    url_template = server_url()
    database_url = recreate_database(url_template)
    try:
        with tempfile.TemporaryDirectory(prefix="servicehall-bench-duty-") as var_directory:
            prepare_environment(var_directory, database_url)
            from django.db import connection
            from django.test import Client
            from django.test.utils import CaptureQueriesContext

            from servicehall.duty.coverage import coverage

            print(
                f"正在准备 1 个场所、{POSTS} 个岗位（每岗 A角 1 名、B角 2 名）、{POSTS + FLOATERS} 名工作人员、{DAYS} 天…"
            )
            site, supervisor = seed()
            client = Client(HTTP_HOST="127.0.0.1")
            client.force_login(supervisor)
            path = f"/duty/board/?site={site.pk}&start={START.isoformat()}"

            def render() -> None:
                response = client.get(path)
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}")

            report = coverage(site, START, DAYS)
            cells, gaps = len(report.cells), len(report.gaps)
            # Counted at once: the log is cleared by the next request.
            with CaptureQueriesContext(connection) as captured:
                render()
            page_queries = len(captured)
            with CaptureQueriesContext(connection) as captured:
                coverage(site, START, DAYS)
            coverage_queries = len(captured)
            # The seed and the loaded code are long-lived, as in a worker after start-up: keep the
            # collector from rescanning them in the middle of a timed render.
            gc.collect()
            gc.freeze()
            page, page_cpu = timed(render, RENDERS)
            alone, alone_cpu = timed(lambda: coverage(site, START, DAYS), RENDERS)
            page_median, page_p95 = statistics.median(page), percentile(page, 0.95)
            alone_median, alone_p95 = statistics.median(alone), percentile(alone, 0.95)
            print(f"  覆盖格数 / cells: {cells}，空岗 / gaps: {gaps}")
            print(
                f"  页面渲染 / board page ({RENDERS} 次): 中位数 {page_median:.1f} ms，p95 {page_p95:.1f} ms（目标 < {TARGET_MS:.0f} ms）"
            )
            print(
                f"  其中 CPU 时间 / of which CPU: 中位数 {statistics.median(page_cpu):.1f} ms"
                "（其余为等待共享 CPU / the rest is waiting for the shared CPU）"
            )
            print(
                f"  coverage() 单独 / alone ({RENDERS} 次): 中位数 {alone_median:.1f} ms，p95 {alone_p95:.1f} ms"
            )
            print(
                f"  页面查询数 / page queries: {page_queries}；coverage() 查询数 / queries: {coverage_queries}"
            )
            print(
                f"  模板与响应占比 / share outside coverage(): {(page_median - alone_median) / page_median:.0%}"
            )
            figures = {
                "posts": POSTS,
                "days": DAYS,
                "cells": cells,
                "gaps": gaps,
                "page_median_ms": round(page_median, 1),
                "page_p95_ms": round(page_p95, 1),
                "page_cpu_median_ms": round(statistics.median(page_cpu), 1),
                "coverage_median_ms": round(alone_median, 1),
                "coverage_cpu_median_ms": round(statistics.median(alone_cpu), 1),
                "coverage_p95_ms": round(alone_p95, 1),
                "page_queries": page_queries,
                "coverage_queries": coverage_queries,
                "target_ms": TARGET_MS,
                "met": page_p95 < TARGET_MS,
            }
    finally:
        drop_database(url_template)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
