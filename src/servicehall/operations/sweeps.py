"""Every periodic sweep of the platform in one place, so a deployment (and `make run`) runs one process.

Each app keeps its own idempotent sweep (claims by conditional UPDATE, violations unique per source);
this module only names them and runs them in turn. One failing sweep is reported and does not stop
the others: a broken duty sweep must not leave red cards unrecorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from servicehall.audit.context import acting

logger = logging.getLogger(__name__)

# (name, "module:function"); the order is the order of dependence: the hall closes past days before
# duty judges attendance, and electronic supervision runs before the feedback deadlines.
SWEEPS: list[tuple[str, str]] = [
    ("queueing", "servicehall.queueing.actions:sweep"),
    ("duty", "servicehall.duty.actions:sweep"),
    ("supervise", "servicehall.cases.supervise:supervise"),
    ("complaints", "servicehall.supervision.sweeps:sweep"),
    ("rectifications", "servicehall.feedback.sweeps:sweep"),
    # Last: the figures then include what the other sweeps recorded this round.
    ("assessment", "servicehall.assessment.sweeps:sweep"),
]


@dataclass
class SweepRound:
    """What one round of every sweep did: each sweep's own result, or the error that stopped it."""

    results: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures


def _resolve(target: str) -> Callable[[], object]:
    module_name, function_name = target.split(":")
    return getattr(import_module(module_name), function_name)


def run_all(sweeps: list[tuple[str, str]] | None = None) -> SweepRound:
    """Run every sweep once, in order, each in its own transactions (the sweeps open their own)."""
    started = time.perf_counter()
    outcome = SweepRound()
    for name, target in SWEEPS if sweeps is None else sweeps:
        try:
            with acting(None, channel="cli"):
                result = _resolve(target)()
        except Exception as error:  # noqa: BLE001 - one broken sweep must not stop the others
            logger.exception("sweep %s failed", name)
            outcome.failures[name] = f"{type(error).__name__}: {error}"
            continue
        outcome.results[name] = str(result.as_dict() if hasattr(result, "as_dict") else result)
    outcome.seconds = time.perf_counter() - started
    return outcome
