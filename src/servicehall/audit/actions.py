"""Writing and verifying the audit trail. Every app records its state changes through ``record``."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from servicehall.audit.chain import GENESIS_HASH, json_safe, without_nul
from servicehall.audit.context import current_context
from servicehall.audit.models import AuditChainHead, AuditOutcome, AuditRecord

CENTRE_CHAIN = 0


def _fitted(text: str, length: int) -> str:
    """Text as the column will hold it on every database: PostgreSQL refuses NUL and over-long values."""
    return without_nul(str(text))[:length]


def actor_label_for(actor: Any | None) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "系统"
    full_name = getattr(actor, "full_name", "")
    return f"{actor.get_username()}（{full_name}）" if full_name else actor.get_username()


def record(
    action: str,
    *,
    target: models.Model | None = None,
    site: Any | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    outcome: str = AuditOutcome.SUCCESS,
    actor: Any | None = None,
    actor_label: str | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
    site_id: int | None = None,
) -> AuditRecord:
    """Append one record to the chain of ``site`` (inside the caller's transaction, if any).

    The chain head is locked for the rest of the caller's transaction, so records of one site are
    appended strictly one after another; other sites' chains are not blocked. ``site_id`` stands for
    ``site`` where the caller has only the key.
    """
    context = current_context()
    if actor is None and context is not None:
        actor = context.actor
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if site is None and site_id is None and target is not None:
        site = getattr(target, "site", None) if not _is_site(target) else target
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
        object_label = object_label or str(target)
    if site is not None:
        site_id = site.pk
    chain = site_id if site_id is not None else CENTRE_CHAIN
    # Inside the caller's transaction no savepoint is taken: a failed record must undo the whole
    # action anyway, and two fewer round trips matter on the rating path (issue 7).
    with transaction.atomic(savepoint=False):
        last_sequence, last_hash = _locked_head(chain)
        audit_record = AuditRecord(
            chain=chain,
            sequence=last_sequence + 1,
            occurred_at=timezone.now(),
            actor=actor,
            actor_label=_fitted(actor_label or actor_label_for(actor), 150),
            site_id=site_id,
            action=_fitted(action, 64),
            outcome=outcome,
            object_type=_fitted(object_type, 64),
            object_id=_fitted(object_id, 64),
            object_label=_fitted(object_label, 200),
            before=json_safe(before) if before is not None else None,
            after=json_safe(after) if after is not None else None,
            remote_address=_fitted(context.remote_address, 45) if context else "",
            channel=_fitted(context.channel, 16) if context else "system",
            previous_hash=last_hash,
        )
        audit_record.record_hash = audit_record.computed_hash()
        audit_record.save()
        with connection.cursor() as cursor:
            cursor.execute(HEAD_WRITE_SQL, [audit_record.sequence, audit_record.record_hash, chain])
    return audit_record


def _is_site(target: models.Model) -> bool:
    return target._meta.label_lower == "sites.site"


# Every state change in every app writes a record, so the head's read and write are plain SQL: the
# ORM's query building was a tenth of a rating's CPU through HTTP (issue 7).
HEAD_READ_SQL = "SELECT last_sequence, last_hash FROM audit_auditchainhead WHERE chain = %s"
HEAD_WRITE_SQL = "UPDATE audit_auditchainhead SET last_sequence = %s, last_hash = %s WHERE chain = %s"


def _read_head(chain: int) -> tuple[int, str] | None:
    # SQLite has no row locks; its writers are serialised by the database lock instead.
    statement = HEAD_READ_SQL + " FOR UPDATE" if connection.features.has_select_for_update else HEAD_READ_SQL
    with connection.cursor() as cursor:
        cursor.execute(statement, [chain])
        row = cursor.fetchone()
    return (int(row[0]), str(row[1])) if row is not None else None


def _locked_head(chain: int) -> tuple[int, str]:
    """The chain's last sequence and hash, its row locked until the transaction ends; created on the
    chain's first record."""
    head = _read_head(chain)
    if head is not None:
        return head
    try:
        with transaction.atomic():
            AuditChainHead.objects.create(chain=chain, last_sequence=0, last_hash=GENESIS_HASH)
    except IntegrityError:
        pass  # another writer created it first; its row lock now orders us after it
    head = _read_head(chain)
    if head is None:
        raise RuntimeError(f"audit chain head {chain} vanished")
    return head


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The before/after picture of the named fields (foreign keys by id), for ``record``."""
    picture: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if field.many_to_many:
            picture[name] = sorted(str(item) for item in getattr(instance, name).all())
        elif field.is_relation:
            picture[name] = getattr(instance, field.attname)
        else:
            picture[name] = getattr(instance, name)
    return json_safe(picture)


@dataclass(frozen=True)
class ChainBreak:
    chain: int
    sequence: int
    record_id: int | None
    reason: str

    def describe(self) -> str:
        return f"链 {self.chain} 第 {self.sequence} 条（记录 id={self.record_id}）：{self.reason}"


@dataclass(frozen=True)
class VerificationResult:
    records_checked: int
    chains_checked: int
    first_break: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


def verify(batch_size: int = 5000, chains: Collection[int] | None = None) -> VerificationResult:
    """Recompute every chain (or only ``chains``); name the first record whose hash, link or position
    does not hold."""
    checked = 0
    head_rows = AuditChainHead.objects.all()
    chain_rows = AuditRecord.objects.all()
    if chains is not None:
        head_rows = head_rows.filter(chain__in=chains)
        chain_rows = chain_rows.filter(chain__in=chains)
    heads = {head.chain: head for head in head_rows}
    chains = set(heads) | set(chain_rows.order_by().values_list("chain", flat=True).distinct())
    for chain in sorted(chains):
        expected_previous = GENESIS_HASH
        expected_sequence = 1
        last_record_id = None
        for audit_record in _iterate_chain(chain, batch_size):
            checked += 1
            problem = None
            if audit_record.sequence != expected_sequence:
                problem = f"序号应为 {expected_sequence}，实为 {audit_record.sequence}（记录被删除或重排）"
            elif audit_record.previous_hash != expected_previous:
                problem = "前一条记录的哈希不符（记录被删除、插入或重排）"
            elif audit_record.computed_hash() != audit_record.record_hash:
                problem = "内容与哈希不符（记录被篡改）"
            if problem:
                return VerificationResult(
                    checked, len(chains), ChainBreak(chain, expected_sequence, audit_record.pk, problem)
                )
            expected_previous = audit_record.record_hash
            expected_sequence += 1
            last_record_id = audit_record.pk
        head = heads.get(chain)
        last_sequence = expected_sequence - 1
        problem = None
        if head is None:
            problem = ChainBreak(chain, last_sequence, last_record_id, "链头缺失（链头被删除）")
        elif head.last_sequence > last_sequence:
            problem = ChainBreak(chain, last_sequence + 1, None, "链尾记录缺失（最新记录被删除）")
        elif head.last_sequence != last_sequence or head.last_hash != expected_previous:
            problem = ChainBreak(chain, last_sequence, last_record_id, "链头与最后一条记录不符（链头被改动）")
        if problem:
            return VerificationResult(checked, len(chains), problem)
    return VerificationResult(checked, len(chains), None)


def _iterate_chain(chain: int, batch_size: int) -> Iterator[AuditRecord]:
    last_sequence = 0
    while True:
        batch = list(
            AuditRecord.objects.filter(chain=chain, sequence__gt=last_sequence).order_by("sequence")[
                :batch_size
            ]
        )
        if not batch:
            return
        yield from batch
        last_sequence = batch[-1].sequence


def records_visible_to(user: Any) -> QuerySet[AuditRecord]:
    """Site chains in the auditor's scope; the centre-wide chain only for a city-level auditor."""
    return AuditRecord.objects.filter(chain__in=chains_visible_to(user))


def chains_visible_to(user: Any) -> set[int]:
    """A site's chain holds exactly the records of that site, so scope by chain is scope by site."""
    chains = set(user.accessible_site_ids())
    if user.site.parent_id is None:
        chains.add(CENTRE_CHAIN)
    return chains


def _require_capability(actor: Any, capability: str, path: str) -> None:
    # accounts.permissions imports this module (to audit refusals), hence the late import.
    from servicehall.accounts.permissions import require_capability
    from servicehall.accounts.roles import Capability

    require_capability(actor, Capability(capability), path=path)


def verify_trail(actor: Any, *, path: str = "") -> VerificationResult:
    """An auditor's integrity check of the chains in their scope; the check itself is audited."""
    _require_capability(actor, "audit.verify", path)
    result = verify(chains=chains_visible_to(actor))
    record(
        "audit.verified",
        actor=actor,
        site=actor.site,
        outcome=AuditOutcome.SUCCESS if result.intact else AuditOutcome.FAILED,
        after={
            "records_checked": result.records_checked,
            "chains_checked": result.chains_checked,
            "intact": result.intact,
            "first_break": result.first_break.describe() if result.first_break else None,
        },
    )
    return result


def record_export(actor: Any, *, filters: dict[str, Any], row_count: int, path: str = "") -> AuditRecord:
    """Exporting the trail takes a copy out of the system, so who exported what is itself audited."""
    _require_capability(actor, "audit.view", path)
    return record(
        "audit.exported",
        actor=actor,
        site=actor.site,
        object_type="audit.auditrecord",
        object_label="审计日志导出",
        after={"filters": filters, "row_count": row_count},
    )
