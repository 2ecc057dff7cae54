"""Where the browser tests find Chromium, and what they do when it is not there.

The tests drive Debian's `chromium` package through Playwright; they never download a browser.
Without it they skip with one reason, unless SERVICEHALL_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGUMENTS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_executable() -> str | None:
    """SERVICEHALL_CHROMIUM if set (and nothing else), else Debian's /usr/bin/chromium, else PATH."""
    chosen = os.environ.get("SERVICEHALL_CHROMIUM")
    if chosen:
        return chosen if _executable(Path(chosen)) else None
    if _executable(SYSTEM_CHROMIUM):
        return str(SYSTEM_CHROMIUM)
    return shutil.which("chromium")


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def browser_required() -> bool:
    return os.environ.get("SERVICEHALL_REQUIRE_BROWSER", "0") == "1"


def unavailable_reason() -> str | None:
    if chromium_executable() is None:
        where = os.environ.get("SERVICEHALL_CHROMIUM") or str(SYSTEM_CHROMIUM)
        return f"headless Chromium not found ({where}): install Debian's chromium package"
    if importlib.util.find_spec("playwright") is None:
        return "the Python playwright package is not installed: run `make install`"
    return None


def skip_module_unless_browser_available() -> None:
    """Call at the top of a browser test module: one skip line for the module, or a loud failure in CI."""
    reason = unavailable_reason()
    if reason is None:
        return
    if browser_required():
        pytest.fail(f"SERVICEHALL_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}", allow_module_level=True)
