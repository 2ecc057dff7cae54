"""How fast are the assessment pages with 1 million cases, 10 million queue events and 5 million ratings?

Run from the project directory: `.venv/bin/python bench/assessment.py` (PostgreSQL on 127.0.0.1). It creates
a scratch database, migrates it, creates 21 sites (a city centre and 20 towns, 20 clerks and 12 windows
each) and fills a quarter of working days (September to November 2025, so 国庆 and its 调休 Saturdays are
in it) in SQL, server side (INSERT … SELECT over generate_series):

- 4,000,000 tickets and visits; 10,000,000 queue events (every ticket issued and called, a quarter of
  them also started and finished);
- 1,000,000 completed cases, each with its 办结 CaseEvent (5% late);
- 5,000,000 ratings with their single-use tokens (one per ticket and one per case; 85% 非常满意 …).

Then, side by side in the same run:
- the rollup: rebuilding every site-day of the quarter from that history (`refresh_figures`);
- a month's scores for all staff, windows, departments and sites from the rollups (`compute_period`),
  and the period page listing all staff — against the baseline without rollups: rebuilding the month
  from the raw history first, which is what every request would cost without them;
- the centre dashboard and the trends page (today = Friday 28 November 2025, 15:00);
- the monthly centre report as PDF for November (today = 5 December 2025).
Five timed repetitions each after one warm-up; medians are reported. The scratch database is dropped at
the end. Targets (issue 9): dashboard and a month's scores < 1 s, the PDF < 10 s. The last line printed
is one JSON object with the figures and the targets.

BENCH_SCALE=0.1 runs a tenth of the volume (for a quick look); the targets are for BENCH_SCALE=1.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

from support import create_database, drop_database, insert_columns

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
TICKETS = int(4_000_000 * SCALE)
SERVED_SHARE = 4  # one ticket in four is also started and finished
CASES = int(1_000_000 * SCALE)
TOWNS = 20
CLERKS_PER_SITE = 20
WINDOWS_PER_SITE = 12
REPETITIONS = 5
DATABASE = "servicehall_bench_assessment"
SHANGHAI = ZoneInfo("Asia/Shanghai")
QUARTER_START, QUARTER_END = dt.date(2025, 9, 1), dt.date(2025, 11, 30)
DASHBOARD_NOW = dt.datetime(2025, 11, 28, 15, 0, tzinfo=SHANGHAI)
REPORT_NOW = dt.datetime(2025, 12, 5, 10, 0, tzinfo=SHANGHAI)
TARGETS = {"dashboard_seconds": 1.0, "month_scores_seconds": 1.0, "pdf_seconds": 10.0}


def prepare_environment() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "servicehall.config.settings"
    os.environ["SERVICEHALL_DEPLOYMENT"] = "local"
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    source = Path(__file__).resolve().parent.parent / "src"
    if str(source) not in sys.path:
        sys.path.insert(0, str(source))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def insert_select(model: type, varying: dict[str, str], source: str, parameters: list[Any]) -> int:
    """INSERT every column of ``model``: the given SQL expressions, the field default for the others."""
    from django.db import connection

    columns, expressions = insert_columns(model, varying)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608 (our own SQL)
            f"SELECT {', '.join(expressions)} {source}".replace("%s", str(int(parameters[0]))),
        )
        return cursor.rowcount


def array(values: list[int]) -> str:
    return "ARRAY[" + ",".join(str(int(value)) for value in values) + "]::bigint[]"


def seed() -> dict[str, Any]:
    from django.db import connection

    from servicehall.accounts.models import RoleGrant, User
    from servicehall.accounts.roles import Role
    from servicehall.cases.models import Case, CaseEvent
    from servicehall.catalog.models import ItemType, ServiceItem
    from servicehall.feedback.models import Rating, RatingToken
    from servicehall.queueing.models import Category, CategoryWindow, Ticket, Visit, VisitEvent
    from servicehall.sites.models import Department, Site, SiteLevel, Window
    from servicehall.workdays import service as workdays

    city = Site.objects.create(code="B-CITY", name="基准市政务服务中心", level=SiteLevel.CITY)
    sites = [city] + [
        Site.objects.create(
            code=f"B-T{n:02d}", name=f"基准镇{n}便民服务中心", level=SiteLevel.TOWN, parent=city
        )
        for n in range(TOWNS)
    ]
    departments, categories, clerks, windows = [], [], [], []
    for site in sites:
        department = Department.objects.create(site=site, code="RS", name="人社")
        departments.append(department.pk)
        category = Category.objects.create(site=site, prefix="A", name="综合业务", position=1)
        categories.append(category.pk)
        site_windows = [
            Window.objects.create(site=site, number=n + 1, name=f"综合窗口{n + 1}", department=department)
            for n in range(WINDOWS_PER_SITE)
        ]
        for window in site_windows:
            CategoryWindow.objects.create(site=site, category=category, window=window)
        windows += [window.pk for window in site_windows]
        for n in range(CLERKS_PER_SITE):
            clerk = User.objects.create(
                username=f"clerk-{site.code}-{n}",
                full_name=f"受理员{site.pk}-{n}",
                staff_number=f"C{site.pk:03d}{n:03d}",
                site=site,
                department=department,
                password="!",
            )
            RoleGrant.objects.create(site=site, user=clerk, role=Role.WINDOW_CLERK)
            clerks.append(clerk.pk)
    from django.utils import timezone

    # A fresh password, so the 90-day expiry does not send the benchmark to the password page.
    administrator = User.objects.create(
        username="bench-admin",
        full_name="中心管理员",
        staff_number="ADM001",
        site=city,
        password="!",
        password_changed_at=timezone.now(),
    )
    RoleGrant.objects.create(site=city, user=administrator, role=Role.CENTRE_ADMINISTRATOR)
    item = ServiceItem.objects.create(
        site=city,
        department_id=departments[0],
        code="B-001",
        name="基准事项",
        item_type=ItemType.COMMITTED,
        statutory_limit_days=20,
        committed_limit_days=10,
    )
    days = []
    day = QUARTER_START
    while day <= QUARTER_END:
        if workdays.is_working_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    site_count = len(sites)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_day (n int PRIMARY KEY, day date)")
        cursor.executemany("INSERT INTO bench_day VALUES (%s, %s)", list(enumerate(days)))
    day_count = len(days)
    site_ids = array([site.pk for site in sites])
    # Row i: site i mod 21, working day (i / 21) mod D, one of the site's clerks and windows, 9:00–16:59.
    site_of = f"({site_ids})[1 + i % {site_count}]"
    clerk_slot = f"((i / {site_count}) / {day_count}) % {CLERKS_PER_SITE}"
    clerk_of = f"({array(clerks)})[1 + (i % {site_count}) * {CLERKS_PER_SITE} + {clerk_slot}]"
    window_of = (
        f"({array(windows)})[1 + (i % {site_count}) * {WINDOWS_PER_SITE} + {clerk_slot} % {WINDOWS_PER_SITE}]"
    )
    issued = (
        "((d.day + time '09:00' + ((i * 7919) % 480) * interval '1 minute') AT TIME ZONE 'Asia/Shanghai')"
    )
    called = f"({issued} + (60 + (i * 31) % 1200) * interval '1 second')"
    joined = (
        f"FROM generate_series(1::bigint, %s) AS i JOIN bench_day d ON d.n = (i / {site_count}) % {day_count}"
    )
    counts: dict[str, int] = {}
    started = time.perf_counter()
    counts["visits"] = insert_select(
        Visit,
        {
            "id": "i",
            "site_id": site_of,
            "service_date": "d.day",
            "token": "md5('v' || i)",
            "created_at": issued,
        },
        joined,
        [TICKETS],
    )
    counts["tickets"] = insert_select(
        Ticket,
        {
            "id": "i",
            "site_id": site_of,
            "visit_id": "i",
            "category_id": f"({array(categories)})[1 + i % {site_count}]",
            "service_date": "d.day",
            "sequence": "i",
            "number": "'A' || i",
            "channel": "'kiosk'",
            "status": f"CASE WHEN i % {SERVED_SHARE} = 0 THEN 'finished' ELSE 'called' END",
            "issued_at": issued,
            "queued_at": issued,
            "called_at": called,
            "call_count": "1",
            "window_id": window_of,
            "clerk_id": clerk_of,
        },
        joined,
        [TICKETS],
    )
    event_kinds = [("issued", issued, "true"), ("called", called, "true")]
    event_kinds += [
        ("started", f"({called} + interval '30 second')", f"i % {SERVED_SHARE} = 0"),
        ("finished", f"({called} + (150 + (i * 17) % 600) * interval '1 second')", f"i % {SERVED_SHARE} = 0"),
    ]
    counts["visit_events"] = 0
    for kind, moment, condition in event_kinds:
        counts["visit_events"] += insert_select(
            VisitEvent,
            {
                "site_id": site_of,
                "kind": f"'{kind}'",
                "at": moment,
                "visit_id": "i",
                "ticket_id": "i",
                "category_id": f"({array(categories)})[1 + i % {site_count}]",
                "lane": "'ordinary'",
                "window_id": window_of if kind != "issued" else "NULL",
                "clerk_id": clerk_of if kind != "issued" else "NULL",
                "detail": "'{}'::jsonb",
            },
            f"{joined} WHERE {condition}",
            [TICKETS],
        )
    completed = "((d.day + time '15:00' + (i % 120) * interval '1 minute') AT TIME ZONE 'Asia/Shanghai')"
    counts["cases"] = insert_select(
        Case,
        {
            "id": "i",
            "site_id": site_of,
            "item_id": str(item.pk),
            "department_id": f"({array(departments)})[1 + i % {site_count}]",
            "first_handler_id": clerk_of,
            "number": "'B' || lpad(i::text, 12, '0')",
            "state": "'completed'",
            "applicant_kind": "'person'",
            "applicant_name": "'基准申请人'",
            "applicant_id_number": "'44200019900307001X'",
            "applicant_phone": "'13800000000'",
            "statutory_limit_days": "20",
            "committed_limit_days": "10",
            "completed_on_time": "(i % 20 <> 0)",
            "working_days_taken": "3",
            "completed_at": completed,
            "created_at": completed,
            "updated_at": completed,
        },
        joined,
        [CASES],
    )
    counts["case_events"] = insert_select(
        CaseEvent,
        {
            "site_id": site_of,
            "case_id": "i",
            "action": "'complete'",
            "occurred_at": completed,
            "from_state": "'decided'",
            "to_state": "'completed'",
            "after": "jsonb_build_object('on_time', i % 20 <> 0, 'working_days', 3)",
        },
        joined,
        [CASES],
    )
    level = "CASE WHEN (i * 13) % 100 < 85 THEN 5 WHEN (i * 13) % 100 < 93 THEN 4 WHEN (i * 13) % 100 < 97 THEN 3 ELSE 2 END"
    grade = "CASE WHEN (i * 13) % 100 < 93 THEN 'good' WHEN (i * 13) % 100 < 97 THEN 'neutral' ELSE 'bad' END"
    rated = f"({called} + interval '20 minute')"
    counts["rating_tokens"] = insert_select(
        RatingToken,
        {
            "id": "i",
            "site_id": site_of,
            "service_kind": "'visit'",
            "ticket_id": "i",
            "staff_id": clerk_of,
            "window_id": window_of,
            "key": "md5('t' || i)",
            "issued_at": called,
            "expires_at": f"({called} + interval '7 day')",
            "used_at": rated,
        },
        joined,
        [TICKETS],
    )
    counts["rating_tokens"] += insert_select(
        RatingToken,
        {
            "id": f"{TICKETS} + i",
            "site_id": site_of,
            "service_kind": "'case'",
            "case_id": "i",
            "staff_id": clerk_of,
            "key": "md5('c' || i)",
            "issued_at": completed,
            "expires_at": f"({completed} + interval '7 day')",
            "used_at": completed,
        },
        joined,
        [CASES],
    )
    counts["ratings"] = insert_select(
        Rating,
        {
            "site_id": site_of,
            "token_id": "i",
            "service_kind": "'visit'",
            "staff_id": clerk_of,
            "window_id": window_of,
            "level": level,
            "grade": grade,
            "reasons": "'[]'::jsonb",
            "channel": "'evaluator'",
            "rated_at": rated,
        },
        joined,
        [TICKETS],
    )
    counts["ratings"] += insert_select(
        Rating,
        {
            "site_id": site_of,
            "token_id": f"{TICKETS} + i",
            "service_kind": "'case'",
            "staff_id": clerk_of,
            "level": level,
            "grade": grade,
            "reasons": "'[]'::jsonb",
            "channel": "'online'",
            "rated_at": f"({completed} + interval '1 hour')",
        },
        joined,
        [CASES],
    )
    with connection.cursor() as cursor:
        for model in (Visit, Ticket, Case, RatingToken):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")
    seconds = time.perf_counter() - started
    rows = sum(counts.values())
    return {
        "counts": counts,
        "rows": rows,
        "seed_seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds),
        "administrator": administrator,
        "city": city,
        "days": day_count,
        "sites": site_count,
    }


def timed(action: Callable[[], Any], repetitions: int = REPETITIONS) -> tuple[float, list[float]]:
    action()
    samples = []
    for _ in range(repetitions):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), samples


def get(client: Any, path: str, moment: dt.datetime) -> Callable[[], Any]:
    def request() -> Any:
        with mock.patch("django.utils.timezone.now", return_value=moment.astimezone(dt.UTC)):
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]!r}")
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        return response

    return request


def main() -> int:
    create_database(DATABASE)
    try:
        prepare_environment()
        from django.test import Client
        from django.urls import reverse

        from servicehall.assessment import actions
        from servicehall.assessment.models import DailyFigures

        print(f"正在生成 / seeding: scale {SCALE} …")
        seeded = seed()
        counts = seeded["counts"]
        print(
            f"seeded {counts['cases']:,} cases, {counts['visit_events']:,} queue events, {counts['ratings']:,} ratings "
            f"({seeded['rows']:,} rows in all) over {seeded['sites']} sites × {seeded['days']} working days "
            f"in {seeded['seed_seconds']} s ({seeded['rows_per_second']:,} rows/s, server-side SQL)"
        )
        administrator, city = seeded["administrator"], seeded["city"]

        started = time.perf_counter()
        with mock.patch("django.utils.timezone.now", return_value=REPORT_NOW.astimezone(dt.UTC)):
            site_days = actions.refresh_figures(QUARTER_START, QUARTER_END)
        rollup_seconds = time.perf_counter() - started
        history_rows = counts["visit_events"] + counts["case_events"] + counts["ratings"]
        print(
            f"rollup: {site_days} site-days rebuilt in {rollup_seconds:.1f} s "
            f"({history_rows / rollup_seconds:,.0f} history rows/s); {DailyFigures.objects.count():,} daily rows"
        )

        def month_scores() -> Any:
            with mock.patch("django.utils.timezone.now", return_value=REPORT_NOW.astimezone(dt.UTC)):
                return actions.compute_period(administrator, "month", 2025, 11, rebuild=False)

        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(month_scores)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        scores_median, scores_samples = timed(month_scores)
        period = month_scores()
        staff_scores = period.scores.filter(subject_kind="staff").count()
        print(
            f"month scores from rollups ({staff_scores} staff, {period.scores.count()} subjects): median {scores_median * 1000:.0f} ms"
        )

        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(administrator)
        period_page = reverse("assessment:period", args=[period.pk]) + "?kind=staff"
        page_median, _page_samples = timed(get(client, period_page, REPORT_NOW))
        print(f"period page, all {staff_scores} staff ranked: median {page_median * 1000:.0f} ms")

        def without_rollups() -> Any:
            with mock.patch("django.utils.timezone.now", return_value=REPORT_NOW.astimezone(dt.UTC)):
                actions.refresh_figures(dt.date(2025, 11, 1), dt.date(2025, 11, 30))
                return actions.compute_period(administrator, "month", 2025, 11, rebuild=False)

        baseline_median, _baseline_samples = timed(without_rollups, repetitions=1)
        print(
            f"baseline without rollups (the month rebuilt from history first): {baseline_median:.1f} s — "
            f"rollups are {baseline_median / scores_median:,.0f}× faster"
        )

        dashboard_path = reverse("assessment:dashboard") + f"?site={city.pk}"
        dashboard_median, _ = timed(get(client, dashboard_path, DASHBOARD_NOW))
        print(f"centre dashboard (today, live tables): median {dashboard_median * 1000:.0f} ms")
        trends_path = reverse("assessment:trends") + f"?site={city.pk}"
        trends_median, _ = timed(get(client, trends_path, DASHBOARD_NOW))
        print(f"trends (12 weeks, 12 months): median {trends_median * 1000:.0f} ms")

        # A fresh login: the idle-session timeout would end a session whose clock jumped a week.
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(administrator)
        pdf_path = reverse("assessment:centre_report") + f"?period=2025-11&format=pdf&site={city.pk}"
        pdf_median, _ = timed(get(client, pdf_path, REPORT_NOW), repetitions=3)
        print(f"monthly centre report PDF: median {pdf_median:.2f} s")

        figures = {
            "dashboard_seconds": round(dashboard_median, 3),
            "trends_seconds": round(trends_median, 3),
            "month_scores_seconds": round(scores_median, 3),
            "period_page_seconds": round(page_median, 3),
            "pdf_seconds": round(pdf_median, 3),
        }
        met = {name: figures[name] < target for name, target in TARGETS.items()}
        met["period_page_seconds"] = figures["period_page_seconds"] < TARGETS["month_scores_seconds"]
        print("targets: " + ", ".join(f"{name} {'met' if ok else 'NOT met'}" for name, ok in met.items()))
        print(
            json.dumps(
                {
                    "benchmark": "assessment",
                    "scale": SCALE,
                    **counts,
                    "seed_rows_per_second": seeded["rows_per_second"],
                    "rollup_seconds": round(rollup_seconds, 1),
                    "rollup_history_rows_per_second": round(history_rows / rollup_seconds),
                    **figures,
                    "scores_samples": [round(value, 3) for value in scores_samples],
                    "baseline_without_rollups_seconds": round(baseline_median, 2),
                    "speedup_vs_baseline": round(baseline_median / scores_median, 1),
                    "targets": TARGETS,
                    "met": met,
                },
                ensure_ascii=False,
            )
        )
        return 0 if all(met.values()) else 1
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DATABASE)


if __name__ == "__main__":
    sys.exit(main())
