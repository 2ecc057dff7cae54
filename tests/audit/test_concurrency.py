"""Concurrent writers to one chain queue on its head row: sequences stay 1..n without gaps or duplicates.

PostgreSQL: threads in this process against the test database (row locks, transactional_db).
SQLite: the in-memory test database uses shared-cache table locks, which the busy timeout does not
cover, so the SQLite run uses threads in a separate process on a real database file with the
deployment's settings (WAL, IMMEDIATE transactions, busy timeout).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from django.db import connection

from servicehall.audit.actions import record, verify
from servicehall.audit.models import AuditChainHead, AuditRecord
from tests.audit.processes import operator_environment, python
from tests.factories import SiteFactory, TownSiteFactory

THREADS = 8
RECORDS_PER_THREAD = 25


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
def test_eight_threads_appending_to_one_chain_leave_sequences_one_to_two_hundred() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL; SQLite is covered by the process test below")
    # Given a site whose chain does not exist yet (so the threads also race to create its head)
    site = TownSiteFactory(parent=SiteFactory(code="CITY"))
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            start.wait(timeout=30)
            for number in range(RECORDS_PER_THREAD):
                record("test.concurrent", site=site, after={"worker": worker, "number": number})
        except BaseException as error:  # reported by the assertion below
            failures.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=append, args=(worker,)) for worker in range(THREADS)]
    # When 8 threads each append 25 records at once
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    # Then none failed, the chain is numbered exactly 1..200, and it verifies intact
    assert failures == []
    sequences = list(
        AuditRecord.objects.filter(chain=site.pk).order_by("sequence").values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, THREADS * RECORDS_PER_THREAD + 1))
    assert AuditChainHead.objects.get(chain=site.pk).last_sequence == THREADS * RECORDS_PER_THREAD
    written = AuditRecord.objects.filter(chain=site.pk).values_list("after", flat=True)
    assert sorted((entry["worker"], entry["number"]) for entry in written) == [
        (worker, number) for worker in range(THREADS) for number in range(RECORDS_PER_THREAD)
    ]
    result = verify()
    assert (result.intact, result.records_checked) == (True, THREADS * RECORDS_PER_THREAD)


SQLITE_WRITERS = """
import json, threading
from django.db import connection
from servicehall.audit.actions import record, verify
from servicehall.audit.models import AuditRecord
from tests.factories import SiteFactory

THREADS, PER_THREAD = {threads}, {per_thread}
site = SiteFactory(code="CITY")
start = threading.Barrier(THREADS)
failures = []

def append(worker):
    try:
        start.wait(timeout=30)
        for number in range(PER_THREAD):
            record("test.concurrent", site=site, after={{"worker": worker, "number": number}})
    except BaseException as error:
        failures.append(repr(error))
    finally:
        connection.close()

workers = [threading.Thread(target=append, args=(worker,)) for worker in range(THREADS)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join(timeout=120)
result = verify()
print(json.dumps({{
    "failures": failures,
    "sequences": list(AuditRecord.objects.filter(chain=site.pk).order_by("sequence").values_list("sequence", flat=True)),
    "intact": result.intact,
    "checked": result.records_checked,
}}))
"""


def test_threads_appending_to_one_chain_on_an_sqlite_file_wait_rather_than_fail(
    sqlite_var_directory: Path,
) -> None:
    # Given the deployment's SQLite settings on a real database file
    environment = operator_environment(SERVICEHALL_VAR_DIR=str(sqlite_var_directory))
    # When 8 threads each append 25 records to one chain at once
    finished = python(SQLITE_WRITERS.format(threads=THREADS, per_thread=RECORDS_PER_THREAD), environment)
    assert finished.returncode == 0, finished.stderr
    outcome = json.loads(finished.stdout.strip().splitlines()[-1])
    # Then no writer failed with "database is locked", and the chain is 1..200 and intact
    assert outcome == {"failures": [], "sequences": list(range(1, 201)), "intact": True, "checked": 200}
