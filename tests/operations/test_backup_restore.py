"""`servicehall backup` and `restore`: backup, change, restore brings the data back with an intact audit chain.

Each test drives the real console entry point in a subprocess against a throwaway database: a SQLite file
under a temporary SERVICEHALL_VAR_DIR, or a PostgreSQL database created and dropped around the test.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from psycopg import sql

PROJECT = Path(__file__).resolve().parents[2]
DEFAULT_POSTGRESQL_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def servicehall(*arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servicehall.cli", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        cwd=PROJECT,
        timeout=300,
    )


def base_environment(var_directory: Path) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SERVICEHALL_") and key not in {"DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    environment.update(SERVICEHALL_DEPLOYMENT="local", SERVICEHALL_VAR_DIR=str(var_directory))
    return environment


def succeeded(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


# --- SQLite ---------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_demo(tmp_path: Path) -> dict[str, str]:
    environment = base_environment(tmp_path / "var")
    succeeded(servicehall("demo", environment=environment))
    return environment


def live_sqlite(environment: dict[str, str]) -> sqlite3.Connection:
    return sqlite3.connect(Path(environment["SERVICEHALL_VAR_DIR"]) / "servicehall.sqlite3")


def city_name_sqlite(environment: dict[str, str]) -> str:
    with live_sqlite(environment) as database:
        return database.execute("SELECT name FROM sites_site WHERE code = 'ZS-CITY'").fetchone()[0]


def rename_city_sqlite(environment: dict[str, str], name: str) -> None:
    database = live_sqlite(environment)
    with database:
        database.execute("UPDATE sites_site SET name = ? WHERE code = 'ZS-CITY'", [name])
    database.close()


def audit_actions_sqlite(environment: dict[str, str]) -> list[str]:
    with live_sqlite(environment) as database:
        rows = database.execute("SELECT action FROM audit_auditrecord ORDER BY chain, sequence").fetchall()
    return [action for (action,) in rows]


def test_sqlite_backup_then_restore_brings_the_data_back(sqlite_demo: dict[str, str], tmp_path: Path) -> None:
    # Given a demo database and a backup of it
    backup_file = tmp_path / "backup.sqlite3"
    backup = succeeded(servicehall("backup", "--output", str(backup_file), environment=sqlite_demo))
    assert f"备份完成 / backup written: {backup_file}" in backup.stdout
    assert f"{backup_file.stat().st_size} bytes" in backup.stdout
    assert backup_file.stat().st_mode & 0o777 == 0o600
    demo_actions = audit_actions_sqlite(sqlite_demo)
    assert demo_actions[0] == "operations.demo_loaded"
    assert demo_actions.count("operations.backup_created") == 1
    # When the data changes and the backup is restored
    rename_city_sqlite(sqlite_demo, "被改动的名称")
    restore = succeeded(servicehall("restore", "--input", str(backup_file), "--yes", environment=sqlite_demo))
    # Then the data is back, the restore is the newest record of the restored chain, and it verifies
    assert city_name_sqlite(sqlite_demo) == "中山市政务服务中心"
    # (the backup was taken before its own backup_created record, so the restored trail has the
    # demo's records and the restore itself)
    expected = sorted([action for action in demo_actions if action != "operations.backup_created"])
    restored = audit_actions_sqlite(sqlite_demo)
    assert sorted(restored) == sorted([*expected, "operations.database_restored"])
    assert "审计链完整 / audit trail intact: " in restore.stdout
    assert f"{len(expected)} records" in restore.stdout
    assert (
        f"{len(restored)} records"
        in succeeded(servicehall("audit", "verify", environment=sqlite_demo)).stdout
    )
    with live_sqlite(sqlite_demo) as database:
        assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_backup_goes_to_var_backups_by_default(sqlite_demo: dict[str, str]) -> None:
    result = succeeded(servicehall("backup", environment=sqlite_demo))
    backups = list((Path(sqlite_demo["SERVICEHALL_VAR_DIR"]) / "backups").iterdir())
    assert len(backups) == 1
    assert backups[0].name.startswith("servicehall-")
    assert backups[0].suffix == ".sqlite3"
    assert str(backups[0]) in result.stdout
    with sqlite3.connect(backups[0]) as copy:
        assert copy.execute("SELECT count(*) FROM accounts_user").fetchone()[0] == 39


def test_restore_without_yes_exits_2_and_changes_nothing(sqlite_demo: dict[str, str], tmp_path: Path) -> None:
    backup_file = tmp_path / "backup.sqlite3"
    succeeded(servicehall("backup", "--output", str(backup_file), environment=sqlite_demo))
    rename_city_sqlite(sqlite_demo, "被改动的名称")
    before = audit_actions_sqlite(sqlite_demo)
    result = servicehall("restore", "--input", str(backup_file), environment=sqlite_demo)
    assert result.returncode == 2
    assert "恢复会用备份替换整个数据库" in result.stderr
    assert "--yes" in result.stderr
    assert city_name_sqlite(sqlite_demo) == "被改动的名称"
    assert audit_actions_sqlite(sqlite_demo) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a database\n", "该文件不是 SQLite 数据库备份"),
        (None, "该数据库不是 servicehall 的备份（缺少数据表 audit_auditrecord, django_migrations）"),
    ],
)
def test_restore_of_a_file_that_is_no_servicehall_backup_fails_cleanly(
    sqlite_demo: dict[str, str], tmp_path: Path, content: bytes | None, message: str
) -> None:
    # Given a text file, or a SQLite database that is not a servicehall backup
    impostor = tmp_path / "impostor.sqlite3"
    if content is None:
        with sqlite3.connect(impostor) as database:
            database.execute("CREATE TABLE notes (text TEXT)")
    else:
        impostor.write_bytes(content)
    before = audit_actions_sqlite(sqlite_demo)
    # When it is restored
    result = servicehall("restore", "--input", str(impostor), "--yes", environment=sqlite_demo)
    # Then the restore fails with a clear message and the database is as it was
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert city_name_sqlite(sqlite_demo) == "中山市政务服务中心"
    assert audit_actions_sqlite(sqlite_demo) == before


def test_restore_of_a_missing_file_fails_cleanly(sqlite_demo: dict[str, str], tmp_path: Path) -> None:
    result = servicehall(
        "restore", "--input", str(tmp_path / "missing.sqlite3"), "--yes", environment=sqlite_demo
    )
    assert result.returncode == 1
    assert "备份文件不存在 / backup file not found" in result.stderr


# --- PostgreSQL -----------------------------------------------------------------------------------


def postgresql_server_url() -> str:
    configured = os.environ.get("DATABASE_URL", "")
    return configured if configured.startswith(("postgres://", "postgresql://")) else DEFAULT_POSTGRESQL_URL


def connect_postgresql(url: str, database_name: str) -> psycopg.Connection:
    parsed = dj_database_url.parse(url)
    return psycopg.connect(
        host=parsed.get("HOST") or None,
        port=parsed.get("PORT") or None,
        user=parsed.get("USER") or None,
        password=parsed.get("PASSWORD") or None,
        dbname=database_name,
        connect_timeout=3,
        autocommit=True,
    )


@pytest.fixture
def postgresql_demo(tmp_path: Path) -> Iterator[dict[str, str]]:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not installed")
    server_url = postgresql_server_url()
    try:
        administration = connect_postgresql(server_url, "postgres")
    except psycopg.Error:
        pytest.skip("PostgreSQL not reachable")
    database_name = f"servicehall_restore_test_{os.getpid()}"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database_name))
    administration.execute(drop)
    administration.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database_name)))
    environment = base_environment(tmp_path / "var")
    parsed = dj_database_url.parse(server_url)
    credentials = parsed["USER"] + (f":{parsed['PASSWORD']}" if parsed.get("PASSWORD") else "")
    environment["DATABASE_URL"] = (
        f"postgres://{credentials}@{parsed['HOST']}:{parsed.get('PORT') or 5432}/{database_name}"
    )
    try:
        succeeded(servicehall("demo", environment=environment))
        yield environment
    finally:
        administration.execute(drop)
        administration.close()


def query_postgresql(environment: dict[str, str], statement: str) -> list[tuple]:
    database_name = dj_database_url.parse(environment["DATABASE_URL"])["NAME"]
    with connect_postgresql(postgresql_server_url(), database_name) as database:
        cursor = database.execute(statement)
        return cursor.fetchall() if cursor.description else []


def test_postgresql_backup_then_restore_brings_the_data_back(
    postgresql_demo: dict[str, str], tmp_path: Path
) -> None:
    # Given a demo database on PostgreSQL and a pg_dump backup of it
    backup_file = tmp_path / "backup.dump"
    backup = succeeded(servicehall("backup", "--output", str(backup_file), environment=postgresql_demo))
    assert f"备份完成 / backup written: {backup_file}" in backup.stdout
    assert backup_file.read_bytes()[:5] == b"PGDMP"
    demo_actions = [
        action for (action,) in query_postgresql(postgresql_demo, "SELECT action FROM audit_auditrecord")
    ]
    expected = sorted([action for action in demo_actions if action != "operations.backup_created"])
    # When the data changes and the backup is restored
    query_postgresql(postgresql_demo, "UPDATE sites_site SET name = '被改动的名称' WHERE code = 'ZS-CITY'")
    query_postgresql(postgresql_demo, "DELETE FROM accounts_rolegrant WHERE role = 'window_clerk'")
    restore = succeeded(
        servicehall("restore", "--input", str(backup_file), "--yes", environment=postgresql_demo)
    )
    # Then the data is back and the audit chain, ending with the restore, verifies
    assert query_postgresql(postgresql_demo, "SELECT name FROM sites_site WHERE code = 'ZS-CITY'") == [
        ("中山市政务服务中心",)
    ]
    assert query_postgresql(
        postgresql_demo, "SELECT count(*) FROM accounts_rolegrant WHERE role = 'window_clerk'"
    ) == [(20,)]
    restored = [
        action for (action,) in query_postgresql(postgresql_demo, "SELECT action FROM audit_auditrecord")
    ]
    assert sorted(restored) == sorted([*expected, "operations.database_restored"])
    assert "审计链完整 / audit trail intact: " in restore.stdout
    assert f"{len(expected)} records" in restore.stdout
    assert (
        f"{len(restored)} records"
        in succeeded(servicehall("audit", "verify", environment=postgresql_demo)).stdout
    )
    # And the append-only guard came back with the restore
    with pytest.raises(psycopg.errors.RaiseException):
        query_postgresql(postgresql_demo, "UPDATE audit_auditrecord SET actor_label = 'x'")


def test_postgresql_restore_of_a_non_dump_fails_cleanly(
    postgresql_demo: dict[str, str], tmp_path: Path
) -> None:
    impostor = tmp_path / "impostor.dump"
    impostor.write_bytes(b"PGDMP but truncated")
    result = servicehall("restore", "--input", str(impostor), "--yes", environment=postgresql_demo)
    assert result.returncode == 1
    assert "pg_restore 执行失败" in result.stderr
    assert "Traceback" not in result.stderr
    assert query_postgresql(postgresql_demo, "SELECT count(*) FROM accounts_user") == [(39,)]


def test_postgresql_backup_without_pg_dump_fails_cleanly(tmp_path: Path) -> None:
    # Given a PostgreSQL deployment on a host without the client tools (no server needed to find that out)
    environment = base_environment(tmp_path / "var")
    environment["DATABASE_URL"] = "postgres://postgres@127.0.0.1:9/servicehall_absent"
    environment["PATH"] = str(tmp_path / "empty")
    result = servicehall("backup", environment=environment)
    assert result.returncode == 1
    assert "未找到 pg_dump，请安装 PostgreSQL 客户端" in result.stderr
    assert not (tmp_path / "var" / "backups").exists() or not any((tmp_path / "var" / "backups").iterdir())


def test_postgresql_restore_of_a_text_file_is_refused_before_touching_the_database(tmp_path: Path) -> None:
    environment = base_environment(tmp_path / "var")
    environment["DATABASE_URL"] = "postgres://postgres@127.0.0.1:9/servicehall_absent"
    impostor = tmp_path / "notes.txt"
    impostor.write_text("not a dump")
    result = servicehall("restore", "--input", str(impostor), "--yes", environment=environment)
    assert result.returncode == 1
    assert "该文件不是 pg_dump 自定义格式的备份" in result.stderr
