"""How long does one electronic-supervision sweep (`servicehall supervise`) take over a million open cases?

Run from the project directory: `.venv/bin/python bench/cases_supervise.py` (PostgreSQL on 127.0.0.1;
override with BENCH_POSTGRES_URL=postgres://user@host:port). It creates a seed database
servicehall_bench_cases_seed, migrates it, and fills it in SQL (INSERT … SELECT over generate_series) with
1,000,000 open cases spread over 21 sites, on a fixed day (Wednesday 2025-11-12):

- 2% newly overdue (half of them already had their yellow card), 3% newly within the yellow threshold,
  9% already carded (skipped), the rest green;
- 10% in parallel approval with one pending task each; 2,000 of those tasks are overdue, 500 of them on
  an item with 超时默认 (deemed approved one by one, with the case history and a department violation).

Each run copies the seed (CREATE DATABASE … TEMPLATE), times the sweep, then times a second sweep and
checks it recorded nothing. Three runs; medians are reported. Everything it created is dropped at the
end. The last line printed is one JSON object with the figures and the target (< 30 s).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

from support import insert_columns

CASE_COUNT = int(os.environ.get("BENCH_CASES", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TOWN_COUNT = 20
CLERKS_PER_SITE = 20
APPROVERS_PER_DEPARTMENT = 2
OVERDUE_TASKS = 2_000
DEEMED_TASKS = 500
TARGET_SECONDS = 30.0
TODAY = dt.date(2025, 11, 12)
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
SEED_DATABASE = "servicehall_bench_cases_seed"
RUN_DATABASE = "servicehall_bench_cases"

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "src"))
os.environ["DJANGO_SETTINGS_MODULE"] = "servicehall.config.settings"
os.environ["SERVICEHALL_DEPLOYMENT"] = "local"
os.environ["DATABASE_URL"] = f"{SERVER}/{SEED_DATABASE}"
os.environ.setdefault("LOG_LEVEL", "WARNING")


def admin_execute(*statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def drop(name: str) -> None:
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def use_database(name: str) -> None:
    from django.db import connections

    connections["default"].close()
    connections["default"].settings_dict["NAME"] = name


def working_days_around(today: dt.date, before: int, after: int) -> tuple[list[dt.date], list[dt.date]]:
    from servicehall.workdays import service as workdays

    past, future = [], []
    day = today
    while len(past) < before:
        day -= dt.timedelta(days=1)
        if workdays.is_working_day(day):
            past.append(day)
    day = today
    while len(future) < after:
        day += dt.timedelta(days=1)
        if workdays.is_working_day(day):
            future.append(day)
    return past, future


def seed() -> dict[str, int]:
    from django.core.management import call_command
    from django.db import connection

    from servicehall.accounts.models import RoleGrant, User
    from servicehall.accounts.roles import Role
    from servicehall.cases import clock
    from servicehall.cases.models import Case
    from servicehall.catalog.models import ItemType, ServiceItem
    from servicehall.sites.models import Department, Site, SiteLevel

    call_command("migrate", verbosity=0)
    city = Site.objects.create(code="B-CITY", name="基准市中心", level=SiteLevel.CITY)
    sites = [city] + [
        Site.objects.create(code=f"B-T{index:02d}", name=f"基准镇{index}", level=SiteLevel.TOWN, parent=city)
        for index in range(TOWN_COUNT)
    ]
    departments = [Department.objects.create(site=site, code="RS", name="人社") for site in sites]
    clerk_ids: list[int] = []
    for site in sites:
        supervisor = User.objects.create(
            username=f"sup-{site.code}",
            full_name="负责人",
            staff_number=f"S{site.pk:05d}",
            site=site,
            password="!",
        )
        RoleGrant.objects.create(site=site, user=supervisor, role=Role.WINDOW_SUPERVISOR)
        for index in range(CLERKS_PER_SITE):
            clerk = User.objects.create(
                username=f"clerk-{site.code}-{index}",
                full_name=f"受理员{index}",
                staff_number=f"C{site.pk:03d}{index:03d}",
                site=site,
                password="!",
            )
            RoleGrant.objects.create(site=site, user=clerk, role=Role.WINDOW_CLERK)
            clerk_ids.append(clerk.pk)
    for department in departments:
        for index in range(APPROVERS_PER_DEPARTMENT):
            approver = User.objects.create(
                username=f"appr-{department.pk}-{index}",
                full_name="审批员",
                staff_number=f"A{department.pk:03d}{index:03d}",
                site=department.site,
                department=department,
                password="!",
            )
            RoleGrant.objects.create(site=department.site, user=approver, role=Role.BACK_OFFICE_APPROVER)
    item = ServiceItem.objects.create(
        site=city,
        department=departments[0],
        code="B-001",
        name="基准事项",
        item_type=ItemType.COMMITTED,
        statutory_limit_days=20,
        committed_limit_days=10,
    )

    # Profiles by slot (i % 1000): due dates and card levels relative to TODAY.
    past, future = working_days_around(TODAY, 15, 45)
    threshold = clock.yellow_threshold(10)

    def profile(due: dt.date, card_level: int, accepted: dt.date) -> tuple:
        statutory = (
            future[min(len(future) - 1, future.index(due) + 10)]
            if due in future
            else due + dt.timedelta(days=14)
        )
        return (due, statutory, clock.yellow_from(due, threshold), card_level, accepted)

    slots: list[tuple] = []
    for slot in range(1000):
        if slot < 10:  # 1% newly red, never warned
            slots.append(profile(past[slot % 5], 0, past[14]))
        elif slot < 20:  # 1% newly red, yellow card already issued
            slots.append(profile(past[slot % 5], 1, past[14]))
        elif slot < 50:  # 3% newly yellow: due within two working days
            slots.append(profile(future[slot % 2], 0, past[8]))
        elif slot < 100:  # 5% red cards already issued
            slots.append(profile(past[slot % 10], 2, past[14]))
        elif slot < 140:  # 4% yellow cards already issued
            slots.append(profile(future[slot % 2], 1, past[8]))
        else:  # green: 3..45 working days left
            slots.append(profile(future[2 + slot % 43], 0, past[slot % 5]))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_profile (slot int PRIMARY KEY, committed_due date, statutory_due date,"
            " yellow_from date, card_level smallint, accepted_on date)"
        )
        cursor.executemany(
            "INSERT INTO bench_profile VALUES (%s, %s, %s, %s, %s, %s)",
            [(slot, *values) for slot, values in enumerate(slots)],
        )
        columns, expressions = case_columns(
            Case,
            site_ids=[site.pk for site in sites],
            department_ids=[department.pk for department in departments],
            clerk_ids=clerk_ids,
            item_id=item.pk,
        )
        cursor.execute(
            f"INSERT INTO cases_case ({', '.join(columns)}) "  # noqa: S608 (bench SQL, our own integers)
            f"SELECT {', '.join(expressions)} FROM generate_series(1, %s) AS i "
            "JOIN bench_profile p ON p.slot = i %% 1000",
            [CASE_COUNT],
        )
        # 10% of the cases (slots 500..599, all green) are in parallel approval with one pending task.
        cursor.execute("UPDATE cases_case SET state = 'in_approval' WHERE id % 1000 BETWEEN 500 AND 599")
        future_due = future[5]
        cursor.execute(
            "INSERT INTO cases_approvaltask (site_id, case_id, department_id, position, mode, limit_days, status,"
            " deemed_approval_on_timeout, activated_on, due_date, card_level, opinion, created_at, version)"
            " SELECT site_id, id, department_id, 1, 'parallel', 5, 'pending', false, %s, %s, 0, '', now(), 1"
            " FROM cases_case WHERE state = 'in_approval'",
            [past[3], future_due],
        )
        # The first OVERDUE_TASKS of them are overdue; DEEMED_TASKS of those allow 超时默认.
        cursor.execute(
            "UPDATE cases_approvaltask SET due_date = %s, deemed_approval_on_timeout = (rank <= %s)"
            " FROM (SELECT id AS task_id, row_number() OVER (ORDER BY id) AS rank FROM cases_approvaltask"
            " ORDER BY id LIMIT %s) AS chosen WHERE id = chosen.task_id",
            [past[1], DEEMED_TASKS, OVERDUE_TASKS],
        )
        cursor.execute("SELECT count(*) FROM cases_approvaltask")
        task_count = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"tasks": task_count, "sites": len(sites), "clerks": len(clerk_ids)}


def case_columns(
    model: type, *, site_ids: list[int], department_ids: list[int], clerk_ids: list[int], item_id: int
) -> tuple[list[str], list[str]]:
    """Every column of cases_case with its SQL expression for row i; defaults for everything else.

    Row i belongs to site i mod 21 and to one of that site's clerks, as the sweep would meet them.
    """

    def array(values: list[int]) -> str:
        return "ARRAY[" + ",".join(str(int(value)) for value in values) + "]::bigint[]"

    site_count = len(site_ids)
    varying = {
        "site_id": f"({array(site_ids)})[1 + i %% {site_count}]",
        "department_id": f"({array(department_ids)})[1 + i %% {site_count}]",
        "first_handler_id": (
            f"({array(clerk_ids)})[1 + (i %% {site_count}) * {CLERKS_PER_SITE} + (i / {site_count}) %% {CLERKS_PER_SITE}]"
        ),
        "item_id": str(item_id),
        "number": "'B' || lpad(i::text, 12, '0')",
        "state": "'accepted'",
        "applicant_kind": "'person'",
        "applicant_name": "'基准申请人'",
        "applicant_id_number": "'44200019900307001X'",
        "applicant_phone": "'13800000000'",
        "statutory_limit_days": "20",
        "committed_limit_days": "10",
        "accepted_on": "p.accepted_on",
        "clock_running": "true",
        "segment_started_on": "p.accepted_on",
        "statutory_due": "p.statutory_due",
        "committed_due": "p.committed_due",
        "yellow_from": "p.yellow_from",
        "card_level": "p.card_level",
        "created_at": "now()",
        "updated_at": "now()",
        "accepted_at": "now()",
    }
    return insert_columns(model, varying)


def run_once() -> dict[str, float | int | bool]:
    from django.db import connection

    from servicehall.cases import clock
    from servicehall.cases.supervise import supervise

    moment = dt.datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0)
    with clock.frozen(moment):
        started = time.perf_counter()
        first = supervise()
        first_seconds = time.perf_counter() - started
        started = time.perf_counter()
        second = supervise()
        second_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_supervisioncard")
        cards = cursor.fetchone()[0]
    return {
        "first_seconds": first_seconds,
        "second_seconds": second_seconds,
        "second_recorded_nothing": not second.recorded_anything,
        "phases": {phase: round(seconds, 2) for phase, seconds in first.seconds.items()},
        "cards": cards,
        **{f"first_{key}": value for key, value in first.as_dict().items()},
    }


def main() -> int:
    import django

    drop(RUN_DATABASE)
    drop(SEED_DATABASE)
    admin_execute(f'CREATE DATABASE "{SEED_DATABASE}"')
    django.setup()
    try:
        started = time.perf_counter()
        seeded = seed()
        seed_seconds = time.perf_counter() - started
        print(
            f"seeded {CASE_COUNT:,} open cases, {seeded['tasks']:,} approval tasks over {seeded['sites']} sites in {seed_seconds:.1f} s"
        )
        use_database("postgres")
        runs = []
        for number in range(1, RUNS + 1):
            drop(RUN_DATABASE)
            admin_execute(f'CREATE DATABASE "{RUN_DATABASE}" TEMPLATE "{SEED_DATABASE}"')
            use_database(RUN_DATABASE)
            result = run_once()
            use_database("postgres")
            drop(RUN_DATABASE)
            runs.append(result)
            print(
                f"run {number}: first sweep {result['first_seconds']:.2f} s "
                f"(yellow {result['first_yellow_cards']:,}, red {result['first_red_cards']:,}, "
                f"overdue tasks {result['first_task_red_cards']:,}, deemed {result['first_tasks_deemed_approved']:,}, "
                f"notifications {result['first_notifications']:,}, violations {result['first_violations']:,}); "
                f"second sweep {result['second_seconds']:.2f} s, recorded nothing: {result['second_recorded_nothing']}"
            )
            print(f"  phases (s): {result['phases']}")
    finally:
        from django.db import connections

        connections.close_all()
        drop(RUN_DATABASE)
        drop(SEED_DATABASE)
    median_first = statistics.median(run["first_seconds"] for run in runs)
    median_second = statistics.median(run["second_seconds"] for run in runs)
    last = runs[-1]
    figures = {
        "benchmark": "cases_supervise",
        "open_cases": CASE_COUNT,
        "approval_tasks": seeded["tasks"],
        "runs": len(runs),
        "seed_seconds": round(seed_seconds, 1),
        "first_sweep_seconds_median": round(median_first, 2),
        "first_sweep_seconds_all": [round(run["first_seconds"], 2) for run in runs],
        "second_sweep_seconds_median": round(median_second, 3),
        "yellow_cards": last["first_yellow_cards"],
        "red_cards": last["first_red_cards"],
        "task_red_cards": last["first_task_red_cards"],
        "tasks_deemed_approved": last["first_tasks_deemed_approved"],
        "notifications": last["first_notifications"],
        "violations": last["first_violations"],
        "second_run_recorded_nothing": all(run["second_recorded_nothing"] for run in runs),
        "phases_last_run_seconds": last["phases"],
        "target_seconds": TARGET_SECONDS,
        "meets_target": median_first < TARGET_SECONDS,
        "ratio_to_target": round(median_first / TARGET_SECONDS, 3),
    }
    print(
        f"median first sweep {median_first:.2f} s for {CASE_COUNT:,} open cases "
        f"(target < {TARGET_SECONDS:.0f} s: {'met' if figures['meets_target'] else 'NOT met'}); "
        f"second sweep median {median_second:.3f} s, recorded nothing: {figures['second_run_recorded_nothing']}"
    )
    print(json.dumps(figures, ensure_ascii=False))
    return 0 if figures["meets_target"] and figures["second_run_recorded_nothing"] else 1


if __name__ == "__main__":
    sys.exit(main())
