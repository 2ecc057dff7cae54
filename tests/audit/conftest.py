"""A migrated SQLite file for tests that run `servicehall` or worker threads in separate processes.

Migrating takes seconds, so it is done once per session and each test gets its own copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.audit.processes import operator_environment, servicehall


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("servicehall-template")
    migrated = servicehall(
        "migrate", "--verbosity", "0", environment=operator_environment(SERVICEHALL_VAR_DIR=str(directory))
    )
    assert migrated.returncode == 0, migrated.stderr
    return directory


@pytest.fixture
def sqlite_var_directory(migrated_sqlite_template: Path, tmp_path: Path) -> Path:
    """A var directory of its own (database file and secret key), freshly migrated and empty."""
    directory = tmp_path / "var"
    shutil.copytree(migrated_sqlite_template, directory)
    return directory
