"""Escalation rules of seed 000 责任追究制, explicit and configurable; the system proposes, a person decides.

- REPEATED_TIER_ONE: a tier-1 (批评教育) kind that happens again within the window (default 12 months)
  proposes tier 2 (二2③ 不执行有关制度，经批评教育仍未改正).
- REPEATED_COMPLAINTS: three upheld complaints within the window propose tier 3 (二3③ 多次受到投诉).

Dismissed violations never count, nor does the catch-all kind 其他违纪违规 for the repeat rule: two unlike
breaches filed under it are not "the same thing again". After an accepted proposal the count starts again after its trigger, so the
same repeat is not proposed twice; after a rejected one the next repeat asks again. One pending proposal per
staff member, rule and kind (a unique constraint), so concurrent recordings cannot propose twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from servicehall.audit.actions import record
from servicehall.supervision.models import (
    EscalationRule,
    ProposalStatus,
    Tier,
    TierProposal,
    Violation,
    ViolationKind,
    ViolationSource,
    ViolationStatus,
)

CHUNK = 500


def window_days() -> int:
    return int(getattr(settings, "SERVICEHALL_ESCALATION_WINDOW_DAYS", 365))


def repeat_count() -> int:
    """How many tier-1 violations of one kind within the window make a repeat (2: the first and one more)."""
    return int(getattr(settings, "SERVICEHALL_ESCALATION_REPEAT_COUNT", 2))


def complaint_count() -> int:
    return int(getattr(settings, "SERVICEHALL_ESCALATION_COMPLAINT_COUNT", 3))


def _counting(staff_id: int, rule: str, kind: str, since: dt.datetime) -> list[Violation]:
    queryset = Violation.objects.filter(staff_id=staff_id, occurred_at__gte=since).exclude(
        status=ViolationStatus.DISMISSED
    )
    if rule == EscalationRule.REPEATED_TIER_ONE:
        queryset = queryset.filter(kind=kind, tier=Tier.CRITICISM)
    else:
        queryset = queryset.filter(source=ViolationSource.COMPLAINT)
    last_accepted = (
        TierProposal.objects.filter(staff_id=staff_id, rule=rule, kind=kind, status=ProposalStatus.ACCEPTED)
        .select_related("trigger")
        .order_by("-trigger__occurred_at")
        .first()
    )
    if last_accepted is not None:
        queryset = queryset.filter(occurred_at__gt=last_accepted.trigger.occurred_at)
    return list(queryset.order_by("occurred_at", "pk"))


def _propose(
    staff_id: int, rule: str, kind: str, tier: Tier, threshold: int, since: dt.datetime
) -> TierProposal | None:
    if TierProposal.objects.filter(
        staff_id=staff_id, rule=rule, kind=kind, status=ProposalStatus.PENDING
    ).exists():
        return None
    evidence = _counting(staff_id, rule, kind, since)
    if len(evidence) < threshold:
        return None
    trigger = evidence[-1]
    try:
        with transaction.atomic():
            proposal = TierProposal.objects.create(
                site_id=trigger.site_id,
                staff_id=staff_id,
                rule=rule,
                kind=kind,
                proposed_tier=tier,
                trigger=trigger,
            )
            proposal.evidence.set(evidence)
            record(
                "supervision.escalation_proposed",
                target=proposal,
                site=trigger.site,
                after={
                    "rule": rule,
                    "kind": kind,
                    "proposed_tier": int(tier),
                    "staff_id": staff_id,
                    "evidence": [violation.pk for violation in evidence],
                },
            )
    except IntegrityError:
        return None
    return proposal


def propose_escalations(staff_ids: Iterable[int], now: dt.datetime | None = None) -> list[TierProposal]:
    """Apply both rules to these staff members; returns the proposals created (idempotent)."""
    identifiers = sorted({identifier for identifier in staff_ids if identifier is not None})
    if not identifiers:
        return []
    since = (now or timezone.now()) - dt.timedelta(days=window_days())
    created: list[TierProposal] = []
    for start in range(0, len(identifiers), CHUNK):
        chunk = identifiers[start : start + CHUNK]
        live = Violation.objects.filter(staff_id__in=chunk, occurred_at__gte=since).exclude(
            status=ViolationStatus.DISMISSED
        )
        repeats = (
            live.filter(tier=Tier.CRITICISM)
            .exclude(kind=ViolationKind.OTHER)
            .values("staff_id", "kind")
            .annotate(total=Count("pk"))
            .filter(total__gte=repeat_count())
        )
        for row in repeats:
            proposal = _propose(
                row["staff_id"],
                EscalationRule.REPEATED_TIER_ONE,
                row["kind"],
                Tier.PUBLIC_CRITICISM,
                repeat_count(),
                since,
            )
            if proposal is not None:
                created.append(proposal)
        complained = (
            live.filter(source=ViolationSource.COMPLAINT)
            .values("staff_id")
            .annotate(total=Count("pk"))
            .filter(total__gte=complaint_count())
        )
        for row in complained:
            proposal = _propose(
                row["staff_id"],
                EscalationRule.REPEATED_COMPLAINTS,
                "",
                Tier.DISCIPLINARY,
                complaint_count(),
                since,
            )
            if proposal is not None:
                created.append(proposal)
    return created
