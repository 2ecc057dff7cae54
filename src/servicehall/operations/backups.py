"""Consistent online backup and whole-database restore of the database in use (SQLite or PostgreSQL).

SQLite goes through the online backup API, so a backup taken while the hall is serving is a consistent
snapshot, and a restore replaces the live file page by page under SQLite's own locks, so connections
that stay open see either the old or the new database, never a mixture. PostgreSQL uses pg_dump's
custom format and pg_restore; the password reaches them through PGPASSWORD, never the command line
(where `ps` would show it).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from servicehall.audit.actions import VerificationResult, record, verify
from servicehall.lib.redaction import redact_personal_data

SQLITE_HEADER = b"SQLite format 3\x00"
POSTGRESQL_CUSTOM_HEADER = b"PGDMP"
REQUIRED_TABLES = frozenset({"django_migrations", "audit_auditrecord"})
EXTENSIONS = {"sqlite": ".sqlite3", "postgresql": ".dump"}
# libpq reads these from the environment; the connection OPTIONS may carry them for TLS.
LIBPQ_ENVIRONMENT = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
}


class BackupError(Exception):
    """A backup or restore could not be done; ``message`` is Chinese first and free of personal data."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    engine: str


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    engine: str
    verification: VerificationResult
    unapplied_migrations: int


def database_engine() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith(("postgresql", "postgis")):
        return "postgresql"
    raise BackupError(f"不支持备份该数据库引擎 / unsupported database engine: {engine}")


def default_backup_path(engine: str) -> Path:
    directory = Path(settings.VAR_DIRECTORY) / "backups"
    stem = f"servicehall-{timezone.localtime():%Y%m%d-%H%M%S}"
    candidate = directory / f"{stem}{EXTENSIONS[engine]}"
    counter = 1
    while candidate.exists():
        candidate = directory / f"{stem}-{counter}{EXTENSIONS[engine]}"
        counter += 1
    return candidate


def human_size(size_bytes: int) -> str:
    size = float(size_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size_bytes} B"


def create_backup(output: Path | None = None) -> BackupResult:
    """Write a consistent copy of the database in use; record operations.backup_created."""
    engine = database_engine()
    destination = (output or default_backup_path(engine)).expanduser().resolve()
    if destination.exists():
        raise BackupError(f"目标文件已存在，请换一个路径 / the output file already exists: {destination}")
    if not destination.parent.exists():
        destination.parent.mkdir(parents=True, mode=0o700)
    # Written under a temporary name and renamed at the end, so a half-written file never looks like a backup.
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if engine == "sqlite":
            _backup_sqlite(partial)
        else:
            _backup_postgresql(partial)
        # Backups hold everyone's personal data: readable by the operator account only.
        partial.chmod(0o600)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    result = BackupResult(destination, destination.stat().st_size, engine)
    record(
        "operations.backup_created",
        object_type="operations.backup",
        object_label=destination.name,
        after={"engine": engine, "file": str(destination), "size_bytes": result.size_bytes},
    )
    return result


def _backup_sqlite(destination: Path) -> None:
    connection.ensure_connection()
    target = sqlite3.connect(destination)
    try:
        connection.connection.backup(target)
        # The live database is in WAL mode; a backup should be one self-contained file.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()


def _backup_postgresql(destination: Path) -> None:
    arguments = [_executable("pg_dump"), "--format=custom", f"--file={destination}", *_connection_arguments()]
    _run(arguments, "pg_dump")


def restore_backup(source: Path) -> RestoreResult:
    """Replace the whole database with a backup, verify the audit chain, record operations.database_restored."""
    engine = database_engine()
    source = source.expanduser().resolve()
    if not source.is_file():
        raise BackupError(f"备份文件不存在 / backup file not found: {source}")
    if engine == "sqlite":
        _check_sqlite_backup(source)
        _restore_sqlite(source)
    else:
        _check_postgresql_backup(source)
        _restore_postgresql(source)
    verification = verify()
    unapplied = len(_unapplied_migrations())
    record(
        "operations.database_restored",
        object_type="operations.backup",
        object_label=source.name,
        after={
            "engine": engine,
            "file": str(source),
            "audit_intact": verification.intact,
            "audit_records_checked": verification.records_checked,
        },
    )
    return RestoreResult(source, engine, verification, unapplied)


def _check_sqlite_backup(source: Path) -> None:
    with source.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise BackupError(f"该文件不是 SQLite 数据库备份 / not a SQLite database backup: {source}")
    try:
        backup = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in backup.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            integrity = backup.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            backup.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"无法读取该 SQLite 备份 / cannot read the SQLite backup: {error}") from None
    missing = sorted(REQUIRED_TABLES - tables)
    if missing:
        raise BackupError(
            f"该数据库不是 servicehall 的备份（缺少数据表 {', '.join(missing)}） / "
            f"not a servicehall backup (missing tables: {', '.join(missing)})"
        )
    if integrity != "ok":
        raise BackupError(
            "该 SQLite 备份已损坏（完整性检查未通过） / the SQLite backup is corrupt (quick_check failed)"
        )


def _restore_sqlite(source: Path) -> None:
    connection.ensure_connection()
    backup = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
    try:
        backup.backup(connection.connection)
    except sqlite3.Error as error:
        raise BackupError(f"恢复失败，数据库未改变 / restore failed, database unchanged: {error}") from None
    finally:
        backup.close()


def _check_postgresql_backup(source: Path) -> None:
    with source.open("rb") as handle:
        header = handle.read(len(POSTGRESQL_CUSTOM_HEADER))
    if header != POSTGRESQL_CUSTOM_HEADER:
        raise BackupError(
            f"该文件不是 pg_dump 自定义格式的备份 / not a pg_dump custom-format backup: {source}"
        )


def _restore_postgresql(source: Path) -> None:
    arguments = [
        _executable("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        # All or nothing: a restore that fails half-way leaves the database as it was.
        "--single-transaction",
        *_connection_arguments(),
        str(source),
    ]
    # Our own session must not hold anything the restore drops.
    connection.close()
    _run(arguments, "pg_restore")


def _unapplied_migrations() -> list[Any]:
    executor = MigrationExecutor(connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def _executable(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"未找到 {name}，请安装 PostgreSQL 客户端（如 apt-get install postgresql-client） / "
            f"{name} not found: install the PostgreSQL client tools"
        )
    return path


def _connection_arguments() -> list[str]:
    database = settings.DATABASES["default"]
    arguments = ["--no-password"]
    if database.get("HOST"):
        arguments.append(f"--host={database['HOST']}")
    if database.get("PORT"):
        arguments.append(f"--port={database['PORT']}")
    if database.get("USER"):
        arguments.append(f"--username={database['USER']}")
    arguments.append(f"--dbname={database['NAME']}")
    return arguments


def _libpq_environment() -> dict[str, str]:
    database = settings.DATABASES["default"]
    environment = dict(os.environ)
    if database.get("PASSWORD"):
        environment["PGPASSWORD"] = str(database["PASSWORD"])
    for option, variable in LIBPQ_ENVIRONMENT.items():
        value = database.get("OPTIONS", {}).get(option)
        if value:
            environment[variable] = str(value)
    return environment


def _run(arguments: list[str], name: str) -> None:
    completed = subprocess.run(  # noqa: S603  (fixed executable, arguments built from settings, no shell)
        arguments, env=_libpq_environment(), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        details = redact_personal_data(completed.stderr.strip())[-2000:]
        raise BackupError(f"{name} 执行失败（退出码 {completed.returncode}） / {name} failed: {details}")
