"""The English translation is complete: every message the code and templates mark has an English text.

The catalogue is re-extracted from a copy of the package with Django's makemessages (GNU xgettext), so a
string added without its translation fails here, not in front of an English-speaking user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

import servicehall

PACKAGE = Path(servicehall.__file__).resolve().parent


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="xgettext (Debian package gettext) is not installed"
)
@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="independent of the database: run once, on SQLite"
)
def test_every_marked_message_has_an_english_translation(tmp_path: Path) -> None:
    # Given a copy of the package with the committed catalogue
    copy = tmp_path / "servicehall"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "vendor"))
    environment = {**os.environ, "PYTHONPATH": str(tmp_path), "SERVICEHALL_DEPLOYMENT": "local"}
    environment.pop("DATABASE_URL", None)
    # When the messages are extracted again from the code and templates
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "en", "--no-obsolete"],
        cwd=copy,
        env={**environment, "DJANGO_SETTINGS_MODULE": "servicehall.config.settings"},
        check=True,
        capture_output=True,
        timeout=300,
    )
    # Then none is new, untranslated or fuzzy
    catalogue = polib.pofile(str(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    missing = [entry.msgid for entry in catalogue if not entry.translated() or entry.fuzzy]
    assert missing == [], f"{len(missing)} messages without an English translation, e.g. {missing[:10]}"
    assert len(catalogue) > 2000
