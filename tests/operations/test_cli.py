"""The `servicehall` console script: one entry point for the operator's commands."""

from __future__ import annotations

import pytest

from servicehall.cli import main


def test_help_lists_the_operator_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    assert {"demo", "audit", "backup", "restore", "demo-otp"} <= set(listed)


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert capsys.readouterr().err.startswith("未知命令 / unknown command: frobnicate")


@pytest.mark.parametrize(
    ("command", "expected"),
    [("audit", "verify"), ("backup", "--output"), ("restore", "--yes"), ("demo-otp", "username")],
)
def test_command_help_works(command: str, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    assert expected in capsys.readouterr().out
