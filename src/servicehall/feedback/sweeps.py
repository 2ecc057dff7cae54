"""The overdue sweep of 差评整改: tasks whose current deadline passed are claimed once and recorded.

The board already paints a task red from ``due_on`` alone; the sweep makes the lapse a fact with a date
(``overdue_at``) and an audit record, so 整改率 reports can say which tasks ran late and when. The claim
is a conditional UPDATE in the style of the electronic supervision sweep (cases.supervise), shared with
the complaint sweep in supervision.sweeps: the inner SELECT finds candidates by the indexed ``due_on``,
the outer WHERE is checked again on each locked row, so two workers never claim the same task and a
second run claims nothing. A task that moves on to its next stage gets a new ``due_on`` and is claimed
again only if that deadline passes too.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from servicehall.feedback.models import Rectification, RectificationStatus
from servicehall.supervision.sweeps import OverdueSweep, sweep_overdue


def mark_overdue_rectifications(
    *, today: dt.date | None = None, now: dt.datetime | None = None
) -> OverdueSweep:
    """Claim every open rectification task whose current deadline (核实, 整改 or 回访) has passed."""
    moment = now or timezone.now()
    day = today or timezone.localdate(moment)
    return sweep_overdue(
        table=Rectification._meta.db_table,
        deadline_column="due_on",
        marker_column="overdue_due_on",
        open_condition=f"status <> '{RectificationStatus.CLOSED.value}'",
        audit=(
            "feedback.rectifications_overdue",
            "feedback.rectification",
            "差评整改逾期 / rectifications overdue",
        ),
        today=day,
        now=moment,
    )


def sweep() -> OverdueSweep:
    """Entry point for the periodic sweeps (operations.sweeps.SWEEPS)."""
    return mark_overdue_rectifications()
