"""Compile the translation catalogues (.po -> .mo) with polib, so no system gettext is needed.

`python -m servicehall.operations.messages compile` compiles every catalogue under
src/servicehall/locale; `check` exits 1 listing any message without an English translation.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALE_DIRECTORY = Path(__file__).resolve().parent.parent / "locale"


def catalogues() -> list[Path]:
    return sorted(LOCALE_DIRECTORY.glob("*/LC_MESSAGES/*.po"))


def compile_all() -> int:
    for path in catalogues():
        target = path.with_suffix(".mo")
        if not target.exists() or target.stat().st_mtime < path.stat().st_mtime:
            polib.pofile(str(path)).save_as_mofile(str(target))
    return 0


def untranslated(path: Path) -> list[str]:
    catalogue = polib.pofile(str(path))
    return [
        entry.msgid for entry in catalogue if not entry.obsolete and (not entry.translated() or entry.fuzzy)
    ]


def check_all() -> int:
    missing = {str(path): untranslated(path) for path in catalogues()}
    missing = {path: entries for path, entries in missing.items() if entries}
    for path, entries in missing.items():
        print(f"{path}: {len(entries)} untranslated", file=sys.stderr)
        for entry in entries[:20]:
            print(f"  {entry}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "compile"
    sys.exit({"compile": compile_all, "check": check_all}.get(command, lambda: 2)())
