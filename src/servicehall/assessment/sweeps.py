"""The assessment part of `servicehall sweep`: keep the daily figures of recent days current.

Today and yesterday are rebuilt when their figures are more than ``RECENT_EVERY`` old, the other
unsettled days (ratings may still arrive, appeals be decided) when more than ``UNSETTLED_EVERY`` old,
so a sweep every minute costs a few site-days, not the whole history. Rebuilding a day is idempotent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from servicehall.assessment import rollup
from servicehall.assessment.models import RollupDay
from servicehall.sites.models import Site

# Ratings may be given up to 7 days after a service and appeals decided later still: a day keeps being
# rebuilt for this many days after it.
SETTLING_DAYS = 10
RECENT_EVERY = dt.timedelta(minutes=5)
UNSETTLED_EVERY = dt.timedelta(hours=6)


@dataclass(frozen=True)
class SweepResult:
    rebuilt_days: int

    def as_dict(self) -> dict[str, int]:
        return {"rebuilt_days": self.rebuilt_days}


def sweep(now: dt.datetime | None = None) -> SweepResult:
    moment = now or timezone.now()
    today = timezone.localdate(moment)
    first = today - dt.timedelta(days=SETTLING_DAYS)
    computed = {
        (site_id, day): at
        for site_id, day, at in RollupDay.objects.filter(date__gte=first).values_list(
            "site_id", "date", "computed_at"
        )
    }
    rebuilt = 0
    for site_id in Site.objects.values_list("pk", flat=True):
        day = first
        while day <= today:
            every = RECENT_EVERY if day >= today - dt.timedelta(days=1) else UNSETTLED_EVERY
            at = computed.get((site_id, day))
            if at is None or moment - at >= every:
                rollup.rebuild_day(site_id, day)
                rebuilt += 1
            day += dt.timedelta(days=1)
    return SweepResult(rebuilt)
