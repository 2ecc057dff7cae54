"""The overdue sweep of complaints: a complaint still open (受理, 调查, 处置) after its handling deadline
(default 10 working days) is claimed once, with a line in its timeline and one audit record per site.

The claim (shared with feedback.sweeps, which imports it: feedback depends on supervision, not the
reverse) is a conditional UPDATE on the indexed ``deadline``, re-checked per locked
row, so several workers or a second run record nothing new; an extended deadline is claimed again only
when it passes too. The list and the detail page already show 已超期 from the deadline itself.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehall.audit.actions import record
from servicehall.sites.models import Site
from servicehall.supervision.models import COMPLAINT_OPEN_STATUSES, Complaint, ComplaintEvent

CLAIM_BATCH = 5_000
AUDITED_IDENTIFIERS_MAX = 200


@dataclass
class OverdueSweep:
    """What one run claimed: how many rows, per site."""

    claimed: int = 0
    by_site: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def claim_overdue(
    table: str,
    deadline_column: str,
    marker_column: str,
    open_condition: str,
    today: dt.date,
    now: dt.datetime,
) -> list[tuple[Any, ...]]:
    """Stamp ``marker_column`` = ``deadline_column`` on up to CLAIM_BATCH open rows whose deadline passed
    and is not yet stamped; returns (id, site_id) of the rows claimed. Names are the callers' literals."""
    quoted = connection.ops.quote_name(table)
    deadline = connection.ops.quote_name(deadline_column)
    marker = connection.ops.quote_name(marker_column)
    condition = f"{open_condition} AND {deadline} < %s AND ({marker} IS NULL OR {marker} <> {deadline})"
    sql = (
        f"UPDATE {quoted} SET {marker} = {deadline}, overdue_at = %s "  # noqa: S608 (names are ours)
        f"WHERE id IN (SELECT id FROM {quoted} WHERE {condition} LIMIT {CLAIM_BATCH}) AND {condition} "
        "RETURNING id, site_id"
    )
    day = connection.ops.adapt_datefield_value(today)
    moment = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [moment, day, day])
        return list(cursor.fetchall())


def audit_claims(
    action: str, object_type: str, label: str, rows: list[tuple[Any, ...]], today: dt.date
) -> dict[int, int]:
    by_site: dict[int, list[int]] = defaultdict(list)
    for identifier, site_id in rows:
        by_site[site_id].append(identifier)
    sites = Site.objects.in_bulk(list(by_site))
    for site_id, identifiers in sorted(by_site.items()):
        record(
            action,
            site=sites[site_id],
            object_type=object_type,
            object_label=label,
            after={
                "count": len(identifiers),
                "as_of": today.isoformat(),
                "ids": sorted(identifiers)[:AUDITED_IDENTIFIERS_MAX],
            },
        )
    return {site_id: len(identifiers) for site_id, identifiers in by_site.items()}


OPEN_CONDITION = "status IN ({})".format(
    ", ".join(f"'{status.value}'" for status in sorted(COMPLAINT_OPEN_STATUSES))
)


def sweep_overdue(
    *,
    table: str,
    deadline_column: str,
    marker_column: str,
    open_condition: str,
    audit: tuple[str, str, str],
    today: dt.date,
    now: dt.datetime,
    on_claimed: Callable[[list[tuple[Any, ...]]], None] | None = None,
) -> OverdueSweep:
    """Claim overdue rows batch by batch, each batch in one transaction with its audit records (``audit``
    is action, object type, label) and whatever ``on_claimed`` writes for the rows it claimed."""
    result = OverdueSweep()
    while True:
        with transaction.atomic():
            rows = claim_overdue(table, deadline_column, marker_column, open_condition, today, now)
            if on_claimed is not None and rows:
                on_claimed(rows)
            counts = audit_claims(*audit, rows, today)
        result.claimed += len(rows)
        for site_id, count in counts.items():
            result.by_site[site_id] = result.by_site.get(site_id, 0) + count
        if len(rows) < CLAIM_BATCH:
            return result


def mark_overdue_complaints(*, today: dt.date | None = None, now: dt.datetime | None = None) -> OverdueSweep:
    moment = now or timezone.now()
    day = today or timezone.localdate(moment)

    def write_timeline(rows: list[tuple[Any, ...]]) -> None:
        claimed = Complaint.objects.filter(pk__in=[identifier for identifier, _site in rows]).only(
            "pk", "site_id", "status", "deadline"
        )
        ComplaintEvent.objects.bulk_create(
            [
                ComplaintEvent(
                    site_id=complaint.site_id,
                    complaint_id=complaint.pk,
                    action="overdue",
                    from_status=complaint.status,
                    to_status=complaint.status,
                    note=_("超过办理期限 %(date)s") % {"date": f"{complaint.deadline:%Y-%m-%d}"},
                    at=moment,
                )
                for complaint in claimed
            ]
        )

    return sweep_overdue(
        table=Complaint._meta.db_table,
        deadline_column="deadline",
        marker_column="overdue_deadline",
        open_condition=OPEN_CONDITION,
        audit=("supervision.complaints_overdue", "supervision.complaint", "投诉超期 / complaints overdue"),
        today=day,
        now=moment,
        on_claimed=write_timeline,
    )


def sweep() -> OverdueSweep:
    """Entry point for the periodic sweeps (operations.sweeps.SWEEPS)."""
    return mark_overdue_complaints()
