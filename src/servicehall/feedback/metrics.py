"""Figures of 好差评 derived from the ratings and rectifications themselves, so they can be recomputed.

Held ratings (awaiting review) and excluded ones (upheld appeal, rejected on review) do not count.
回访率 = 实名差评 called back / 实名差评 that needed it; 整改率 = justified 差评 rectified / justified 差评.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from servicehall.feedback.models import Grade, Rating, Rectification, RectificationStatus


@dataclass(frozen=True)
class Figures:
    ratings: int
    good: int
    neutral: int
    bad: int
    held: int
    excluded: int
    callbacks_needed: int
    callbacks_done: int
    justified: int
    rectified: int
    overdue: int

    @staticmethod
    def _percent(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def good_rate(self) -> float | None:
        return self._percent(self.good, self.ratings)

    @property
    def bad_rate(self) -> float | None:
        return self._percent(self.bad, self.ratings)

    @property
    def callback_rate(self) -> float | None:
        return self._percent(self.callbacks_done, self.callbacks_needed)

    @property
    def rectification_rate(self) -> float | None:
        return self._percent(self.rectified, self.justified)


def figures(ratings: QuerySet[Rating], tasks: QuerySet[Rectification], *, today: dt.date) -> Figures:
    counted = Q(held_for_review=False, excluded_at__isnull=True)
    totals: dict[str, Any] = ratings.aggregate(
        ratings=Count("pk", filter=counted),
        good=Count("pk", filter=counted & Q(grade=Grade.GOOD)),
        neutral=Count("pk", filter=counted & Q(grade=Grade.NEUTRAL)),
        bad=Count("pk", filter=counted & Q(grade=Grade.BAD)),
        held=Count("pk", filter=Q(held_for_review=True)),
        excluded=Count("pk", filter=Q(excluded_at__isnull=False)),
    )
    live = tasks.filter(rating__excluded_at__isnull=True, rating__held_for_review=False)
    real_name = Q(rating__contact_phone__gt="")
    task_totals: dict[str, Any] = live.aggregate(
        callbacks_needed=Count("pk", filter=real_name),
        callbacks_done=Count("pk", filter=real_name & Q(called_back_at__isnull=False)),
        justified=Count("pk", filter=Q(is_justified=True)),
        rectified=Count("pk", filter=Q(is_justified=True, rectified_at__isnull=False)),
        overdue=Count("pk", filter=~Q(status=RectificationStatus.CLOSED) & Q(due_on__lt=today)),
    )
    return Figures(**totals, **task_totals)
