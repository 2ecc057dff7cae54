"""Every audit action code the code records has a readable label, so no one reads raw codes."""

from __future__ import annotations

import ast
import pathlib
import re

from servicehall.audit.labels import ACTION_LABELS, action_label
from servicehall.cases.states import CaseAction

SOURCE = pathlib.Path(__file__).resolve().parents[2] / "src" / "servicehall"
CODE = re.compile(r"^[a-z_]+\.[a-z_]+$")


def recorded_literal_codes() -> set[tuple[str, str]]:
    """(file, code) for each ``record("app.code", …)`` call with a literal code."""
    found: set[tuple[str, str]] = set()
    for path in SOURCE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first = node.args[0]
            if (
                name == "record"
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and CODE.match(first.value)
            ):
                found.add((str(path.relative_to(SOURCE)), first.value))
    return found


def test_every_literal_audit_code_has_a_label() -> None:
    codes = recorded_literal_codes()
    assert len(codes) > 60  # the scan itself works
    missing = sorted((path, code) for path, code in codes if code not in ACTION_LABELS)
    assert missing == []


def test_every_case_action_code_has_a_label() -> None:
    assert all(f"cases.{action.value}" in ACTION_LABELS for action in CaseAction)
    assert action_label("cases.accept_with_deferred") == "容缺受理"


def test_an_unknown_code_shows_as_itself() -> None:
    assert action_label("nowhere.nothing") == "nowhere.nothing"
