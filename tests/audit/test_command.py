"""`servicehall audit verify` as an operator runs it: a separate process, exit status 0 or 1.

One test runs against a temporary SQLite file (whatever database the suite uses); the other, on
PostgreSQL runs only, against the test database itself with committed data (transactional_db).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from servicehall.audit.actions import record
from servicehall.audit.models import AuditRecord
from tests.audit.helpers import raw_update
from tests.audit.processes import operator_environment, python, servicehall
from tests.factories import SiteFactory

WRITE_TRAIL = """
from servicehall.audit.actions import record
from tests.factories import SiteFactory
site = SiteFactory(code="CITY", name="中山市政务服务中心")
for number in range(4):
    record("test.step", site=site, after={"number": number})
record("test.centre")
print(site.pk)
"""

TAMPER_SECOND = """
from servicehall.audit.models import AuditRecord
from tests.audit.helpers import raw_update
target = AuditRecord.objects.get(chain={chain}, sequence=2)
raw_update(target.pk, action="test.harmless")
print(target.pk)
"""


def test_the_command_exits_zero_then_one_naming_the_edited_record_on_an_sqlite_file(
    sqlite_var_directory: Path,
) -> None:
    # Given a migrated SQLite database in a fresh var directory, with five audit records
    environment = operator_environment(SERVICEHALL_VAR_DIR=str(sqlite_var_directory))
    written = python(WRITE_TRAIL, environment)
    assert written.returncode == 0, written.stderr
    chain = int(written.stdout.strip())
    # When the operator verifies the intact trail
    intact = servicehall("audit", "verify", environment=environment)
    # Then the exit status is 0 with a summary
    assert (intact.returncode, intact.stdout) == (0, "审计链完整 / audit trail intact: 2 chains, 5 records\n")
    # When record 2 of the site chain is edited behind the application's back, and verify runs again
    tampered = python(TAMPER_SECOND.format(chain=chain), environment)
    assert tampered.returncode == 0, tampered.stderr
    record_id = int(tampered.stdout.strip())
    broken = servicehall("audit", "verify", environment=environment)
    # Then the exit status is 1 and the broken record is named
    assert broken.returncode == 1
    assert broken.stdout == ""
    assert (
        f"审计链已被破坏 / audit trail broken: 链 {chain} 第 2 条（记录 id={record_id}）：内容与哈希不符（记录被篡改）"
        in broken.stderr
    )


@pytest.mark.postgresql_only
def test_the_command_exits_zero_then_one_on_the_postgresql_test_database(transactional_db) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("runs against the PostgreSQL test database; this run is on SQLite")
    # Given committed audit records in the test database
    site = SiteFactory(code="CITY", name="中山市政务服务中心")
    for number in range(3):
        record("test.step", site=site, after={"number": number})
    settings = connection.settings_dict
    url = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**settings)
    if settings.get("PASSWORD"):
        url = "postgres://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(**settings)
    environment = operator_environment(DATABASE_URL=url)
    # When the operator verifies the intact trail, then it exits 0 with a summary
    intact = servicehall("audit", "verify", environment=environment)
    assert (intact.returncode, intact.stdout, intact.stderr) == (
        0,
        "审计链完整 / audit trail intact: 1 chains, 3 records\n",
        "",
    )
    # When record 3 is edited, then it exits 1 naming it
    target = AuditRecord.objects.get(chain=site.pk, sequence=3)
    raw_update(target.pk, after='{"number": 99}')
    broken = servicehall("audit", "verify", environment=environment)
    assert broken.returncode == 1
    assert f"链 {site.pk} 第 3 条（记录 id={target.pk}）：内容与哈希不符（记录被篡改）" in broken.stderr
