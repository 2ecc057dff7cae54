"""Demo history and scores for `make run`, idempotent.

30 past days at a small scale (see assessment.simulation; days already holding tickets are skipped), the
default index system, last month's scores published and this month's as a draft. A second `make run`
adds nothing: periods that exist are left as they are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from servicehall.assessment import actions
from servicehall.assessment.models import AssessmentPeriod, PeriodKind
from servicehall.assessment.simulation import simulate

DEMO_DAYS = 30
DEMO_SCALE = 0.25
DEMO_SEED = 2026


def load_demo(stdout: Any) -> None:
    simulate(DEMO_DAYS, None, DEMO_SEED, DEMO_SCALE, stdout)
    actions.install_default_system()
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    for first, publish in ((last_month, True), (this_month, False)):
        if AssessmentPeriod.objects.filter(kind=PeriodKind.MONTH, starts_on=first).exists():
            continue
        period = actions.score_period(PeriodKind.MONTH, first.year, first.month)
        if publish:
            actions.freeze_period(period)
        stdout.write(f"考核 / assessment {period.label}: {period.scores.count()} 项得分 / scores")
