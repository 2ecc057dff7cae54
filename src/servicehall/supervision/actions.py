"""Recording violations. Other apps call ``record_violation``; it is idempotent per source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from servicehall.audit.actions import record
from servicehall.sites.models import Site
from servicehall.supervision.models import KIND_TIER, Violation, ViolationKind


def record_violation(
    *,
    site: Any,
    kind: ViolationKind | str,
    source: str,
    source_reference: str,
    description: str,
    staff: Any | None = None,
    department: Any | None = None,
    points: int = 1,
    occurred_at: Any | None = None,
    recorded_by: Any | None = None,
) -> tuple[Violation, bool]:
    """The violation for this source, created once; returns (violation, created)."""
    if staff is None and department is None:
        raise ValueError("a violation needs a responsible staff member or department")
    lookup = {
        "kind": str(kind),
        "source": source,
        "source_reference": source_reference[:80],
        "staff": staff,
        "department": department,
    }
    existing = Violation.objects.filter(**lookup).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            violation = Violation.objects.create(
                site=site,
                tier=KIND_TIER[ViolationKind(kind)],
                points=points,
                description=description[:500],
                occurred_at=occurred_at or timezone.now(),
                recorded_by=recorded_by,
                **lookup,
            )
            record(
                "supervision.violation_recorded",
                actor=recorded_by,
                site=site,
                target=violation,
                after={
                    "kind": violation.kind,
                    "tier": violation.tier,
                    "source": source,
                    "source_reference": violation.source_reference,
                    "staff_id": getattr(staff, "pk", None),
                    "department_id": getattr(department, "pk", None),
                },
            )
    except IntegrityError:
        return Violation.objects.get(**lookup), False
    return violation, True


@dataclass(frozen=True)
class ViolationEntry:
    """One violation for ``record_violations``; the same identity rules as ``record_violation``."""

    site_id: int
    kind: str
    source: str
    source_reference: str
    description: str
    staff_id: int | None = None
    department_id: int | None = None
    points: int = 1
    occurred_at: Any | None = None


def record_violations(entries: list[ViolationEntry], *, batch_size: int = 2000) -> int:
    """Many violations at once, for sweeps (e.g. red cards over a million cases); idempotent per source.

    Rows that already exist are skipped by the unique constraint. One audit record per site lists the
    sources, instead of one per violation, so a large sweep does not queue on the audit chain.
    Returns the number of entries offered whose violation did not exist before.
    """
    if not entries:
        return 0
    now = timezone.now()
    by_site: dict[int, list[ViolationEntry]] = {}
    for entry in entries:
        if entry.staff_id is None and entry.department_id is None:
            raise ValueError("a violation needs a responsible staff member or department")
        by_site.setdefault(entry.site_id, []).append(entry)
    created_total = 0
    with transaction.atomic():
        for site_id, site_entries in by_site.items():
            before = Violation.objects.filter(site_id=site_id).count()
            Violation.objects.bulk_create(
                [
                    Violation(
                        site_id=entry.site_id,
                        kind=str(entry.kind),
                        tier=KIND_TIER[ViolationKind(entry.kind)],
                        points=entry.points,
                        source=entry.source,
                        source_reference=entry.source_reference[:80],
                        description=entry.description[:500],
                        staff_id=entry.staff_id,
                        department_id=entry.department_id,
                        occurred_at=entry.occurred_at or now,
                        recorded_at=now,
                    )
                    for entry in site_entries
                ],
                batch_size=batch_size,
                ignore_conflicts=True,
            )
            created = Violation.objects.filter(site_id=site_id).count() - before
            created_total += created
            if created:
                record(
                    "supervision.violations_recorded",
                    site=Site.objects.get(pk=site_id),
                    object_type="supervision.violation",
                    object_label="批量登记违规 / violations recorded in bulk",
                    after={
                        "count": created,
                        "kinds": sorted({str(entry.kind) for entry in site_entries}),
                        "sources": sorted({entry.source for entry in site_entries}),
                        "references": [entry.source_reference for entry in site_entries[:50]],
                    },
                )
    return created_total
