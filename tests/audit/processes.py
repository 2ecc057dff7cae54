"""Running `servicehall` and Python snippets as separate processes, the way an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SERVICEHALL = Path(sys.executable).parent / "servicehall"


def operator_environment(**variables: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SERVICEHALL_", "DATABASE_URL"))
    }
    environment.update(SERVICEHALL_DEPLOYMENT="local", PYTHONDONTWRITEBYTECODE="1", **variables)
    return environment


def servicehall(*arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SERVICEHALL), *arguments],
        capture_output=True,
        text=True,
        env=environment,
        cwd=PROJECT,
        timeout=300,
    )


def python(code: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with Django set up, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-c", "import django\ndjango.setup()\n" + code],
        capture_output=True,
        text=True,
        env={**environment, "DJANGO_SETTINGS_MODULE": "servicehall.config.settings"},
        cwd=PROJECT,
        timeout=300,
    )
