"""Capability checks shared by actions, views and the API; every refusal is audited."""

from __future__ import annotations

from typing import Any

from django.db import models

from servicehall.accounts.roles import Capability
from servicehall.audit.actions import record
from servicehall.audit.models import AuditOutcome
from servicehall.lib.errors import NotFound, PermissionRefused


def audit_refusal(
    actor: Any, reason: str, *, capability: str = "", target: models.Model | None = None, path: str = ""
) -> None:
    site = None
    if target is not None:
        site = target if target._meta.label_lower == "sites.site" else getattr(target, "site", None)
    elif actor is not None and getattr(actor, "is_authenticated", False):
        site = actor.site
    record(
        "access.denied",
        outcome=AuditOutcome.DENIED,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        site=site,
        target=target,
        object_type="" if target is not None else "path",
        object_id="" if target is not None else path[:64],
        after={"reason": reason, "capability": capability, "path": path},
    )


def require_capability(actor: Any, capability: Capability, *, path: str = "") -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.has_capability(capability):
        audit_refusal(actor, "missing_capability", capability=str(capability), path=path)
        raise PermissionRefused()


def require_in_scope(actor: Any, target: models.Model, *, path: str = "") -> None:
    """The target must belong to a site the actor may see; otherwise it does not exist for them."""
    site_id = target.pk if target._meta.label_lower == "sites.site" else target.site_id
    if site_id not in actor.accessible_site_ids():
        audit_refusal(actor, "out_of_scope", target=target, path=path)
        raise NotFound()
