"""Audit records (审计记录) and the head of each hash chain."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from servicehall.audit.chain import record_hash, timestamp_text


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", _("成功")
    DENIED = "denied", _("拒绝")
    FAILED = "failed", _("失败")


class AuditRecordQuerySet(models.QuerySet["AuditRecord"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("审计记录只能追加 / audit records are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计记录不得删除 / audit records cannot be deleted")


class AuditRecord(models.Model):
    """审计记录 — one append-only, hash-chained record of a state change, refusal or failed login.

    Serves seed 000 计算机使用和网络安全管理制度 2 (不得擅自更改系统数据; 不得擅自使用他人帐号),
    the 服务日志台账 of seeds 001/004, and 网络安全法 §21 (logs kept at least six months).
    Records are chained per site (``chain`` is the site id, 0 for centre-wide actions) so chains can
    be partitioned with the data; ``sequence`` numbers each chain from 1 without gaps.
    """

    chain = models.BigIntegerField(_("链"))
    sequence = models.BigIntegerField(_("序号"))
    occurred_at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人"), max_length=150)
    site = models.ForeignKey(
        "sites.Site",
        verbose_name=_("服务场所"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    outcome = models.CharField(
        _("结果"), max_length=16, choices=AuditOutcome.choices, default=AuditOutcome.SUCCESS
    )
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_label = models.CharField(_("对象"), max_length=200, blank=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    remote_address = models.CharField(_("来源地址"), max_length=45, blank=True)
    channel = models.CharField(_("渠道"), max_length=16, blank=True)
    previous_hash = models.CharField(max_length=64)
    record_hash = models.CharField(max_length=64, unique=True)

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "sequence"], name="audit_chain_sequence_unique")
        ]
        indexes = [
            models.Index(fields=["site", "occurred_at"], name="audit_site_time"),
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"#{self.chain}-{self.sequence} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("审计记录只能追加 / audit records are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计记录不得删除 / audit records cannot be deleted")

    def hashed_fields(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "sequence": self.sequence,
            "occurred_at": timestamp_text(self.occurred_at),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "site_id": self.site_id,
            "action": self.action,
            "outcome": self.outcome,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_label": self.object_label,
            "before": self.before,
            "after": self.after,
            "remote_address": self.remote_address,
            "channel": self.channel,
        }

    def computed_hash(self) -> str:
        return record_hash(self.hashed_fields(), self.previous_hash)


class AuditChainHead(models.Model):
    """审计链头 — the last sequence and hash of one chain; its row lock serialises appends to that chain.

    It also detects a truncated tail: deleting the newest records leaves the head pointing past them.
    Serves seed 003 第六章工作纪律 4 (不得捏造、隐瞒或篡改信息) and the 服务日志台账 of seeds 001/004,
    whose records must not silently disappear.
    """

    chain = models.BigIntegerField(primary_key=True)
    last_sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"chain {self.chain} @ {self.last_sequence}"
