"""How fast does the history simulator load rows into PostgreSQL, against one ORM .save() per row?

Run from the project directory: `.venv/bin/python bench/simulate.py [--days 30 --scale 2]`.
PostgreSQL at 127.0.0.1:5432, user postgres; the database servicehall_bench_simulate is created and
dropped. The demo centre and its queues are loaded, then `simulate` runs without the rollup rebuild
(rows/s counts the inserted history only). The baseline saves a sample of tickets one by one with
``Model.save()``. The last line is one JSON object with the figures and the 50,000 rows/s target.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

import support  # bench/support.py

PROJECT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "servicehall_bench_simulate"
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"
os.environ["SERVICEHALL_DEPLOYMENT"] = "local"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehall.config.settings")
os.environ.pop("REDIS_URL", None)
sys.path.insert(0, str(PROJECT / "src"))
TARGET_ROWS_PER_SECOND = 50_000
BASELINE_SAMPLE = 2_000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scale", type=float, default=2.0)
    arguments = parser.parse_args()
    support.create_database(DATABASE_NAME)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from servicehall.assessment.simulation import simulate
        from servicehall.cases import demo as cases_demo
        from servicehall.operations.demo import load_demo_centre
        from servicehall.queueing import demo as queueing_demo
        from servicehall.queueing.models import Ticket, Visit

        call_command("migrate", verbosity=0)
        load_demo_centre()
        queueing_demo.load_demo(io.StringIO())
        # The published items the simulated cases are filed under (without them the run has no cases).
        cases_demo.load_demo(io.StringIO())
        result = simulate(arguments.days, None, 1, arguments.scale, io.StringIO(), rollup=False)
        rate = result.total_rows / result.seconds
        print(f"simulator: {result.total_rows:,} rows in {result.seconds:.1f} s = {rate:,.0f} rows/s")
        print("  " + ", ".join(f"{name} {count:,}" for name, count in sorted(result.rows.items())))
        sample = list(Ticket.objects.order_by("pk")[:BASELINE_SAMPLE])
        started = time.perf_counter()
        for index, ticket in enumerate(sample):
            visit = Visit(
                site_id=ticket.site_id, service_date=ticket.service_date, created_at=ticket.issued_at
            )
            visit.save()
            ticket.pk = None
            ticket.visit = visit
            ticket.sequence = 100_000 + index
            ticket.number = f"Z{index:06d}"
            ticket.save()
        baseline_seconds = time.perf_counter() - started
        baseline = 2 * len(sample) / baseline_seconds
        print(
            f"baseline (ORM .save() per row): {2 * len(sample):,} rows in {baseline_seconds:.1f} s = {baseline:,.0f} rows/s"
        )
        print(
            f"speed-up: {rate / baseline:.1f}x; target {TARGET_ROWS_PER_SECOND:,} rows/s: "
            + ("met" if rate >= TARGET_ROWS_PER_SECOND else "NOT met")
        )
        print(
            json.dumps(
                {
                    "rows": result.total_rows,
                    "seconds": round(result.seconds, 2),
                    "rows_per_second": round(rate),
                    "baseline_rows_per_second": round(baseline),
                    "target_rows_per_second": TARGET_ROWS_PER_SECOND,
                    "met": rate >= TARGET_ROWS_PER_SECOND,
                }
            )
        )
    finally:
        from django.db import connections

        connections.close_all()
        support.drop_database(DATABASE_NAME)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
