"""`servicehall sweep`: every app's periodic sweep in one process, as `make run` starts it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from servicehall.cli import OPERATOR_COMMANDS
from servicehall.operations import sweeps

pytestmark = pytest.mark.django_db

CALLS: list[str] = []


def record_first() -> str:
    CALLS.append("first")
    return "first done"


def broken() -> str:
    CALLS.append("broken")
    raise RuntimeError("database went away")


SWEEP_NAMES = ["queueing", "duty", "supervise", "complaints", "rectifications", "assessment"]


def record_last() -> str:
    CALLS.append("last")
    return "last done"


def test_every_named_sweep_resolves_to_a_function() -> None:
    for name, target in sweeps.SWEEPS:
        assert callable(sweeps._resolve(target)), name
    assert [name for name, _ in sweeps.SWEEPS] == SWEEP_NAMES


def test_a_broken_sweep_is_reported_and_the_others_still_run() -> None:
    # Given three sweeps, the middle one failing
    CALLS.clear()
    plan = [
        ("first", f"{__name__}:record_first"),
        ("broken", f"{__name__}:broken"),
        ("last", f"{__name__}:record_last"),
    ]
    # When one round runs
    outcome = sweeps.run_all(plan)
    # Then all three ran in order and only the broken one failed
    assert CALLS == ["first", "broken", "last"]
    assert outcome.results == {"first": "first done", "last": "last done"}
    assert outcome.failures == {"broken": "RuntimeError: database went away"}
    assert outcome.ok is False


def test_one_round_of_the_real_sweeps_on_an_empty_centre(capsys: pytest.CaptureFixture[str]) -> None:
    # Given an empty database, when the command runs once, then each sweep reports and none fails
    call_command("sweep")
    out = capsys.readouterr().out
    assert [line.split("]")[0] + "]" for line in out.splitlines()] == [f"[{name}]" for name in SWEEP_NAMES]


def test_a_failing_round_exits_with_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweeps, "SWEEPS", [("broken", f"{__name__}:broken")])
    with pytest.raises(CommandError, match="1 项巡查失败"):
        call_command("sweep")


@pytest.mark.parametrize("every", ["-1", "3"])
def test_a_too_short_interval_is_refused(every: str) -> None:
    with pytest.raises(CommandError, match="--every 须为 0"):
        call_command("sweep", "--every", every)


def test_the_operator_cli_lists_the_sweeps() -> None:
    # In-process `main()` would run django.setup() again and bind the log handlers to a captured stream.
    assert "sweep" in OPERATOR_COMMANDS
    output = StringIO()
    call_command("sweep", "--list", stdout=output)
    assert [line.split("\t")[0] for line in output.getvalue().splitlines()] == SWEEP_NAMES
